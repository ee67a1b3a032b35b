package replay

import (
	"os"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// TestNewSpec: a task's default with the options applied, validated.
func TestNewSpec(t *testing.T) {
	for _, c := range []struct {
		name    string
		o       SpecOptions
		summary string // "" : an error containing err
		err     string
	}{
		{"har default", SpecOptions{Task: TaskHAR}, "task har, input [1 6 128], 5 classes, no norm", ""},
		{"har shorter window", SpecOptions{Task: TaskHAR, Window: 64, Hop: 32}, "task har, input [1 6 64], 5 classes, no norm", ""},
		{"har three classes", SpecOptions{Task: TaskHAR, Classes: []string{"a", "b", "c"}}, "task har, input [1 6 128], 3 classes, no norm", ""},
		{"unknown task", SpecOptions{Task: "robot"}, "", `task "robot"`},
		{"bad hop", SpecOptions{Task: TaskHAR, Hop: -1}, "", "hop"},
	} {
		s, err := NewSpec(c.o)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err %v, want one with %q", c.name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == "" && s.Summary() != c.summary:
			t.Errorf("%s: %q, want %q", c.name, s.Summary(), c.summary)
		}
	}
}

// TestAttachToModel: a spec that fits is stored and read back; one that
// does not is refused; nil strips.
func TestAttachToModel(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny_har.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.LoadBytes(data, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := AttachToModel(data, m, nil, "stripped")
	if err != nil {
		t.Fatal(err)
	}
	bare, err := engine.LoadBytes(stripped, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SpecFromModel(bare); err == nil {
		t.Fatal("the stripped model still has a spec")
	}
	back, err := AttachToModel(stripped, bare, spec, "back")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := engine.LoadBytes(back, engine.Options{})
	if got, err := SpecFromModel(mb); err != nil || got.Summary() != spec.Summary() {
		t.Fatalf("attached spec read back: %v, %v; want %q", got, err, spec.Summary())
	}
	long := *spec
	long.Window *= 2
	long.Shape = long.InputShape()
	if _, err := AttachToModel(stripped, bare, &long, "long"); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("a spec of twice the window: %v, want refused", err)
	}
}
