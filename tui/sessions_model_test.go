package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/sessions"
)

// Issue #19 item 8: kagen open M2 --session s1, where s1 was saved with
// another model, is refused naming both models, and the saved session is
// left as it was; the session's own model (by checksum, or by path when
// it was saved without one) continues it.
func TestOpenSessionWithAnotherModel(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m1, m2 := write("m1.onnx", "model one"), write("m2.onnx", "model two")
	sha1, _ := sessions.FileSHA256(m1)
	store, err := sessions.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ss := range []*sessions.Session{
		{Name: "s1", ModelPath: m1, ModelSHA256: sha1, Traces: []string{"t.csv"}, Config: "conv1=int8"},
		{Name: "nosum", ModelPath: m1, Traces: []string{"t.csv"}, Config: "conv1=int8"},
		{Name: "demo", ModelPath: demoPrefix + "har", Traces: []string{"har"}, Config: "conv1=int8"},
	} {
		if err := store.Save(ss); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	for _, tc := range []struct {
		session, model string
		want           []string // parts of the error; none: opened
	}{
		{"s1", m2, []string{`session "s1"`, m1, m2, "kagen open --session s1", "kagen sessions rm s1"}},
		{"s1", m1, nil},
		{"nosum", m2, []string{m1, m2}},
		{"nosum", m1, nil},
		{"demo", m1, []string{"the built-in demo har", m1}},
		{"s1", filepath.Join(dir, "missing.onnx"), []string{"missing.onnx"}},
		{"new", m2, nil}, // a new session
	} {
		src := FileSource(tc.model, []string{"t.csv"})
		opts := Options{}
		done, err := OpenSession(tc.session, filepath.Join(dir, "store"), false, &src, &opts)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s with %s: %v", tc.session, tc.model, err)
			} else {
				done()
			}
			continue
		}
		if err == nil {
			done()
			t.Errorf("%s with %s was opened", tc.session, tc.model)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s with %s: %v, want it to say %q", tc.session, tc.model, err, w)
			}
		}
	}
	store, err = sessions.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if ss, err := store.Load("s1"); err != nil || ss.ModelPath != m1 || ss.Config != "conv1=int8" {
		t.Errorf("session s1 after the refusals: %+v, %v", ss, err)
	}
}
