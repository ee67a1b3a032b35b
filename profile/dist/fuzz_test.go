package dist

import (
	"context"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/profile"
)

// FuzzDecodeTrial feeds the trial decoder arbitrary bytes: it must never
// panic, and a trial it accepts must encode, decode to the same trial and
// run (or fail cleanly) on the tiny model.
func FuzzDecodeTrial(f *testing.F) {
	fx := tinyFixture(f)
	var b profile.Batch
	shard := b.AddShard(&dataset.Dataset{Shape: fx.tune.Shape, X: fx.tune.X[:2], Y: fx.tune.Y[:2], Files: fx.tune.Files[:2]})
	sha := fx.a.Model().SHA256()
	dev := device.Class(device.This())
	for _, t := range []profile.Trial{
		{Kind: profile.TrialExactLatency, Model: sha, Shard: shard, Repeats: 1, Device: dev},
		{Kind: profile.TrialPairLatency, Model: sha, Shard: shard, Step: 0, Node: "Conv_0", Knob: "fp16", Repeats: 1, Device: dev},
		{Kind: profile.TrialOutputs, Model: sha, Shard: shard, Config: "exact"},
		{Kind: profile.TrialOutputs, Model: sha, Shard: shard, Step: 3, Knob: "int8"},
		{Kind: profile.TrialConfigTime, Model: sha, Shard: shard, Config: "Conv_0=perf-row:2:0", Repeats: 1, Device: dev},
		{Kind: profile.TrialNoop, Config: "x"},
	} {
		body, err := EncodeTrial(&t)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "")
		f.Add(body, trialSubject(&t, t.ID()))
	}
	f.Add([]byte(`{"kind":"outputs","model":"`+strings.Repeat("0", 64)+`","shard":"`+strings.Repeat("0", 64)+`","step":99999,"knob":"samp:9:9"}`), "")
	f.Add([]byte(`{"kind":"outputs","model":"`+sha+`","shard":"`+shard+`","config":"/etc/passwd"}`), "")
	f.Add([]byte(`{}`), "kagen.trials.any.x")
	f.Add([]byte(`[`), "")
	runner := profile.NewTrialRunner(fx.a, 1)
	runner.Latency = fx.latency
	data := b.Shards[shard].Data
	f.Fuzz(func(t *testing.T, body []byte, subject string) {
		tr, err := DecodeTrial(body, subject)
		if err != nil {
			return
		}
		again, err := EncodeTrial(tr)
		if err != nil {
			t.Fatalf("a decoded trial does not encode: %v", err)
		}
		tr2, err := DecodeTrial(again, trialSubject(tr, tr.ID()))
		if err != nil || tr2.ID() != tr.ID() {
			t.Fatalf("round trip: %v, id %s vs %s", err, tr.ID(), tr2.ID())
		}
		// Run it on the model: an error is fine, a panic is not (Run
		// turns the engine's into errors, so check none escapes).
		res, err := runner.RunTrial(context.Background(), tr, data)
		if err == nil && res.ID != tr.ID() {
			t.Fatalf("result of %s has ID %s", tr.ID(), res.ID)
		}
		if err != nil && strings.Contains(err.Error(), "panicked") {
			t.Fatalf("the engine panicked on a trial that passed the decoder: %v", err)
		}
	})
}

// FuzzDecodeResult feeds the result decoder arbitrary bytes.
func FuzzDecodeResult(f *testing.F) {
	for _, r := range []profile.TrialResult{
		{ID: "abc", Outputs: []float32{1, 2, 3}, Classes: 3},
		{ID: "def", Error: "boom", Worker: "w"},
		{ID: "ghi", ModelUS: 12, StepUS: []float64{1, 2}},
	} {
		body, err := EncodeResult(&r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "kagen.results.none."+r.ID)
	}
	f.Add([]byte(`{"id":"x","outputs":"AAA"}`), "")
	f.Fuzz(func(t *testing.T, body []byte, subject string) {
		r, err := DecodeResult(body, subject)
		if err != nil {
			return
		}
		again, err := EncodeResult(r)
		if err != nil {
			t.Fatalf("a decoded result does not encode: %v", err)
		}
		if _, err := DecodeResult(again, ""); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
