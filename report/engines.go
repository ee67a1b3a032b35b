package report

import (
	"os"
	"strings"
)

// The engines section of EVALUATION.md (kagen, onnx-go, GoMLX and ONNX
// Runtime side by side) lies between these markers. tools/engines-table.sh
// writes it (bench/cmd/engines-table); a full report keeps the one the
// previous EVALUATION.md holds, at the end.
const (
	EnginesBegin = "<!-- engines:begin (tools/engines-table.sh) -->"
	EnginesEnd   = "<!-- engines:end -->"
)

// keepEnginesSection appends to doc the engines section of the
// EVALUATION.md at path, if it has one.
func keepEnginesSection(doc, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return doc
	}
	prev := string(b)
	i := strings.Index(prev, EnginesBegin)
	if i < 0 {
		return doc
	}
	j := strings.Index(prev[i:], EnginesEnd)
	if j < 0 {
		return doc
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + prev[i:i+j+len(EnginesEnd)] + "\n"
}
