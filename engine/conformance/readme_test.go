package conformance

import (
	"os"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// readmeOps returns the operator names listed in the README: the fenced
// block after the line that starts with "Supported operators".
func readmeOps(t *testing.T) []string {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "Supported operators") {
		i++
	}
	for i < len(lines) && !strings.HasPrefix(lines[i], "```") {
		i++
	}
	if i == len(lines) {
		t.Fatal(`README.md has no "Supported operators" paragraph followed by a fenced block`)
	}
	var ops []string
	for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		ops = append(ops, strings.Fields(lines[i])...)
	}
	return ops
}

// TestReadmeOps checks that the README's operator list is the engine's.
func TestReadmeOps(t *testing.T) {
	listed := map[string]bool{}
	for _, op := range readmeOps(t) {
		if listed[op] {
			t.Errorf("README lists %s twice", op)
		}
		listed[op] = true
	}
	ops := engine.SupportedOps()
	for _, op := range ops {
		if !listed[op] {
			t.Errorf("README does not list %s, which the engine supports", op)
		}
		delete(listed, op)
	}
	for op := range listed {
		t.Errorf("README lists %s, which the engine does not support", op)
	}
	if t.Failed() {
		t.Logf("the list as it should read (README.md, the fenced block after \"Supported operators\"):\n%s", wrapWords(ops, 72))
	}
}

// wrapWords joins words into lines of at most width characters.
func wrapWords(words []string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range words {
		if n > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		}
		if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
