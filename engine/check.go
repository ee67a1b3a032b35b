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

// legacyBroadcast holds the operators that before opset 7 broadcast by
// "broadcast" and "axis" attributes instead of numpy's rules. The engine
// computes them with numpy's rules, which give the same result whenever
// the second operand is aligned with the first one's trailing axes (the
// attribute form's default, and what the ONNX backend tests of opset 6
// use: they pass); an "axis" attribute can align it elsewhere, and that
// form is refused.
var legacyBroadcast = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true,
	"And": true, "Or": true, "Xor": true, "Equal": true, "Greater": true, "Less": true,
}

// checkLegacyAxis refuses, for an operator of legacyBroadcast below
// opset 7, an "axis" attribute that aligns the second operand (shape b)
// elsewhere than with the trailing axes of the first (shape a): numpy's
// rules, which the engine computes, would align it differently.
func checkLegacyAxis(n *node, a, b []int) error {
	if n.opset >= 7 || !legacyBroadcast[n.op] {
		return nil
	}
	at, ok := n.attrs["axis"]
	if !ok {
		return nil
	}
	axis := at.I
	if axis < 0 {
		axis += int64(len(a))
	}
	if axis != int64(len(a)-len(b)) {
		return n.unsupported("opset %d form aligned by axis=%d (shapes %v and %v): the engine broadcasts %s by numpy's rules, over the trailing axes as from opset 7; export the model with opset 7 or newer", n.opset, at.I, a, b, n.op)
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
