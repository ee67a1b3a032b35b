package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/profile"
)

func TestWorkerUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"worker"}, &out, &errb); code != 2 {
		t.Fatalf("kagen worker without --nats exited %d: %s", code, errb.String())
	}
	if code := run([]string{"worker", "--nats", "nats://127.0.0.1:1", "--device-profile", "no-such-device"}, &out, &errb); code != 1 {
		t.Fatalf("an unknown device profile exited %d", code)
	}
}

// TestTuneEmbeddedMatchesLocal runs kagen tune through the embedded NATS
// server (the default) and without NATS (--workers 0): the profiles agree
// on everything that does not depend on timing.
func TestTuneEmbeddedMatchesLocal(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	labels := []string{"SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"}
	for f := 0; f < 2; f++ {
		if err := os.WriteFile(filepath.Join(data, "t"+strconv.Itoa(f)+".csv"), []byte(synth.SineIMU(3000, f, 600, labels)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tune := func(name string, extra ...string) (*profile.Profile, map[string]any) {
		out := filepath.Join(dir, name+".json")
		args := append([]string{"tune", "replay/testdata/tiny_har.onnx", "--data", data, "--max-loss", "100", "--budget", "200ms", "-o", out, "--json"}, extra...)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("kagen %v exited %d: %s", args, code, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var summary map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out + ".profile.json")
		if err != nil {
			t.Fatal(err)
		}
		var p profile.Profile
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return &p, summary
	}
	local, ls := tune("local", "--workers", "0")
	embedded, es := tune("embedded")
	if ls["trials"] != nil || es["trials"] == nil {
		t.Fatalf("trial counts: local %v, embedded %v", ls["trials"], es["trials"])
	}
	if !reflect.DeepEqual(local.ExactOutputs, embedded.ExactOutputs) || local.ExactAccuracy != embedded.ExactAccuracy || len(local.Pairs) != len(embedded.Pairs) {
		t.Fatal("the embedded run's exact figures or pairs differ from the local run's")
	}
	for i, p := range local.Pairs {
		q := embedded.Pairs[i]
		if p.Node != q.Node || p.Knob != q.Knob {
			t.Fatalf("pair %d: %s %s vs %s %s", i, p.Node, p.Knob, q.Node, q.Knob)
		}
		if !p.Pruned && !q.Pruned && (p.Accuracy != q.Accuracy || !reflect.DeepEqual(p.Delta, q.Delta)) {
			t.Errorf("pair %s %s: QoS differs", p.Node, p.Knob)
		}
	}
	if embedded.Device.CPU != device.This().CPU {
		t.Errorf("embedded profile measured on %s", embedded.Device)
	}
}
