package profile

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/dataset"
)

func TestShardRoundTrip(t *testing.T) {
	d := &dataset.Dataset{Shape: []int{1, 2, 3}, Files: []string{"a", "b"}}
	d.X = [][]float32{{1, 2, 3, 4, 5, 6}, {float32(math.Inf(1)), float32(math.NaN()), -0, 1e-30, 7, 8}}
	d.Y = []int{4, 0}
	blob := EncodeShard(d)
	got, err := DecodeShard(blob)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Shape, d.Shape) || !reflect.DeepEqual(got.Y, d.Y) || len(got.X) != 2 || got.X[0][5] != 6 || !math.IsNaN(float64(got.X[1][1])) {
		t.Fatalf("round trip: %+v", got)
	}
	if ShardKey(blob) != ShardKey(EncodeShard(got)) {
		t.Fatal("a decoded shard encodes differently")
	}
	for _, bad := range [][]byte{nil, []byte("KGS1"), blob[:len(blob)-1], append(append([]byte(nil), blob...), 0)} {
		if _, err := DecodeShard(bad); err == nil {
			t.Errorf("a bad shard of %d bytes decoded", len(bad))
		}
	}
}

func TestTrialIDAndValidate(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	a := Trial{Kind: TrialPairLatency, Model: sha, Shard: sha, Step: 3, Node: "n", Knob: "fp16", Repeats: 9, Device: "d"}
	b := a
	b.Node = "another name" // names are for messages, not identity
	if a.ID() != b.ID() || len(a.ID()) != 40 {
		t.Fatalf("ids %s %s", a.ID(), b.ID())
	}
	for _, change := range []func(*Trial){
		func(t *Trial) { t.Step = 4 }, func(t *Trial) { t.Knob = "int8" }, func(t *Trial) { t.Repeats = 3 },
		func(t *Trial) { t.Device = "e" }, func(t *Trial) { t.Shard = strings.Repeat("cd", 32) }, func(t *Trial) { t.Kind = TrialOutputs },
	} {
		c := a
		change(&c)
		if c.ID() == a.ID() {
			t.Errorf("%+v has the ID of %+v", c, a)
		}
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Trial{
		{Kind: "sleep", Model: sha, Shard: sha},
		{Kind: TrialOutputs, Model: "x", Shard: sha, Config: "exact"},
		{Kind: TrialOutputs, Model: sha, Shard: sha, Config: "/etc/passwd"},
		{Kind: TrialOutputs, Model: sha, Shard: sha, Config: "exact", Knob: "fp16"},
		{Kind: TrialOutputs, Model: sha, Shard: sha, Step: -1, Knob: "fp16"},
		{Kind: TrialPairLatency, Model: sha, Shard: sha, Knob: "fp16"},
		{Kind: TrialPairLatency, Model: sha, Shard: sha, Knob: "warp:9", Repeats: 1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v passed", bad)
		}
	}
}

func TestTrialResultJSON(t *testing.T) {
	r := TrialResult{ID: "x", Outputs: []float32{1, float32(math.Inf(-1)), float32(math.NaN())}, Classes: 3, ModelUS: 2}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got TrialResult
	if err := got.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if got.ID != "x" || got.Classes != 3 || got.ModelUS != 2 || len(got.Outputs) != 3 || !math.IsInf(float64(got.Outputs[1]), -1) || !math.IsNaN(float64(got.Outputs[2])) {
		t.Fatalf("round trip %s -> %+v", b, got)
	}
}

// FuzzDecodeShard feeds the shard decoder arbitrary bytes: it must never
// panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeShard(f *testing.F) {
	f.Add(EncodeShard(&dataset.Dataset{Shape: []int{2}, X: [][]float32{{1, 2}}, Y: []int{1}}))
	f.Add([]byte("KGS1\x01\x00\x00\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeShard(b)
		if err != nil {
			return
		}
		if got := EncodeShard(d); string(got) != string(b) {
			t.Fatalf("re-encoded %d bytes as %d", len(b), len(got))
		}
	})
}
