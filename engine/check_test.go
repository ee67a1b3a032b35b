package engine

import (
	"math"
	"strings"
	"testing"
)

// TestModelChecks is the regression test of #19 item 20 (opset 1, Gemm
// transB=5 and NaN/Inf weights were accepted) and item 24's duplicate
// node outputs (reported as a cycle).
func TestModelChecks(t *testing.T) {
	gemm := func(opset int64, transB int, w []float32) *builder {
		b := newBuilder(opset).input("x", 1, 2).init("w", w, 2, 2)
		if transB >= 0 {
			return b.node("Gemm", []string{"x", "w"}, []string{"y"}, attrInt("transB", transB)).output("y")
		}
		return b.node("Gemm", []string{"x", "w"}, []string{"y"}).output("y")
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	dup := newBuilder(13).input("x", 1, 2).
		node("Relu", []string{"x"}, []string{"y"}).
		node("Neg", []string{"x"}, []string{"y"}).output("y")
	shadow := newBuilder(13).input("x", 1, 2).node("Relu", []string{"x"}, []string{"x"}).output("x")
	tests := []struct {
		name    string
		b       *builder
		err     string // "" loads
		warning string // a warning's text, "" none
	}{
		{"opset 0", gemm(0, -1, []float32{1, 0, 0, 1}), "no ai.onnx opset_import", ""},
		{"Gemm at opset 1", gemm(1, -1, []float32{1, 0, 0, 1}), "", ""},
		{"Gemm at opset 6", gemm(6, -1, []float32{1, 0, 0, 1}), "", ""},
		{"Add at opset 1", newBuilder(1).input("x", 1, 2).node("Add", []string{"x", "x"}, []string{"y"}).output("y"), "", ""},
		{"Add at opset 6 aligned by axis", newBuilder(6).input("x", 3, 3).input("z", 3).node("Add", []string{"x", "z"}, []string{"y"}, attrInt("broadcast", 1), attrInt("axis", 0)).output("y"), "opset 6 form aligned by axis=0", ""},
		{"Relu at opset 1", newBuilder(1).input("x", 1, 2).node("Relu", []string{"x"}, []string{"y"}).output("y"), "", ""},
		{"opset 7", gemm(7, -1, []float32{1, 0, 0, 1}), "", ""},
		{"opset 22", gemm(22, -1, []float32{1, 0, 0, 1}), "unsupported opset/22: the engine implements ai.onnx opsets 1 to 21", ""},
		{"transB=5", gemm(13, 5, []float32{1, 0, 0, 1}), "attribute transB=5, expected 0 or 1", ""},
		{"transB=-1", gemm(13, -1, []float32{1, 0, 0, 1}), "", ""},
		{"transB=1", gemm(13, 1, []float32{1, 0, 0, 1}), "", ""},
		{"NaN weight", gemm(13, 0, []float32{1, nan, 0, 1}), "", `initializer "w" holds 1 NaN and 0 infinite values of 4 (the first at index 1)`},
		{"Inf weights", gemm(13, 0, []float32{inf, 0, 0, -inf}), "", `initializer "w" holds 0 NaN and 2 infinite values of 4 (the first at index 0)`},
		{"duplicate output", dup, `duplicate output name "y", already the output of node "y_node" (Relu)`, ""},
		{"output shadows an input", shadow, `duplicate output name "x", already a graph input`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := loadDecoded(tc.b.m, "test", Options{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "cycle") {
					t.Errorf("reported as a cycle: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := m.Warnings()
			if tc.warning == "" && len(w) != 0 || tc.warning != "" && (len(w) != 1 || !strings.Contains(w[0], tc.warning)) {
				t.Errorf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}
