package engine

import (
	"fmt"
	"math"
)

// Model-level checks of what a model file claims, made at load: the
// opset, attributes that are flags, and the values of initializers.

// minOpset is the oldest ai.onnx opset the engine reads; some operators
// need a newer one (opSince).
const minOpset = 1

// checkOpset refuses an opset outside minOpset..maxOpset, naming the
// range.
func checkOpset(opset int64) error {
	if opset < minOpset || opset > maxOpset {
		return &UnsupportedError{Op: "opset", What: fmt.Sprintf("%d: the engine implements ai.onnx opsets %d to %d (export the model with an opset in that range)", opset, minOpset, maxOpset)}
	}
	return nil
}

// opSince is, for the operators whose older forms the engine does not
// implement, the oldest opset whose form it does: before opset 7 the
// arithmetic, comparison and logic operators and Gemm broadcast by
// "broadcast" and "axis" attributes (numpy broadcasting came with 7).
// Operators not listed are implemented in the form of every opset from
// minOpset (older forms are handled where they differ).
var opSince = map[string]int64{
	"Add": 7, "Sub": 7, "Mul": 7, "Div": 7, "Pow": 7,
	"And": 7, "Or": 7, "Xor": 7, "Equal": 7, "Greater": 7, "Less": 7,
	"Gemm": 7,
}

// checkOpSince refuses a node whose operator's form at the model's opset
// the engine does not implement, naming the oldest it does.
func checkOpSince(n *node) error {
	if since, ok := opSince[n.op]; ok && n.opset < since {
		return n.unsupported("opset %d form: the engine implements %s from opset %d (numpy broadcasting); export the model with opset %d or newer", n.opset, n.op, since, since)
	}
	return nil
}

// flagAttr reads an integer attribute that is a flag: 0 or 1 (def when
// absent); any other value is refused, naming the attribute.
func (n *node) flagAttr(name string, def int64) (bool, error) {
	v, err := n.attrInt(name, def)
	if err != nil {
		return false, err
	}
	if v != 0 && v != 1 {
		return false, n.errorf("attribute %s=%d, expected 0 or 1", name, v)
	}
	return v == 1, nil
}

// nonFinite returns a warning if the float initializer t holds NaN or
// infinite values: the model loads, but its outputs may be NaN.
func nonFinite(name string, t *Tensor) string {
	nan, inf, first := 0, 0, -1
	for i, v := range t.F {
		switch {
		case v != v:
			nan++
		case math.IsInf(float64(v), 0):
			inf++
		default:
			continue
		}
		if first < 0 {
			first = i
		}
	}
	if first < 0 {
		return ""
	}
	return fmt.Sprintf("initializer %q holds %d NaN and %d infinite values of %d (the first at index %d): the model's outputs may not be numbers",
		name, nan, inf, len(t.F), first)
}

// duplicateOutput is the error of node n writing the value v that
// another node, an initializer or a graph input already defines: ONNX
// values have one producer.
func duplicateOutput(n *node, v *value) error {
	what := "a graph input"
	switch {
	case v.producer != nil:
		what = fmt.Sprintf("the output of node %q (%s)", v.producer.name, v.producer.op)
	case v.constant != nil:
		what = "an initializer"
	}
	return n.errorf("duplicate output name %q, already %s: every value must have one producer", v.name, what)
}
