package engine

import (
	"math"

	"github.com/kagen-ai/kagen/engine/onnx"
)

func (n *node) attr(name string, want onnx.AttrType) (*onnx.Attribute, error) {
	a, ok := n.attrs[name]
	if !ok {
		return nil, nil
	}
	if a.Type != want && a.Type != 0 {
		return nil, n.errorf("attribute %q has type %d, expected %d", name, a.Type, want)
	}
	return a, nil
}

// attrInt returns an integer attribute or def when absent.
func (n *node) attrInt(name string, def int64) (int64, error) {
	a, err := n.attr(name, onnx.AttrType(2))
	if a == nil || err != nil {
		return def, err
	}
	return a.I, nil
}

// attrFloat returns a float attribute or def when absent.
func (n *node) attrFloat(name string, def float32) (float32, error) {
	a, err := n.attr(name, onnx.AttrType(1))
	if a == nil || err != nil {
		return def, err
	}
	return a.F, nil
}

// attrString returns a string attribute or def when absent.
func (n *node) attrString(name, def string) (string, error) {
	a, err := n.attr(name, onnx.AttrType(3))
	if a == nil || err != nil {
		return def, err
	}
	return string(a.S), nil
}

// attrInts returns an integer list attribute; ok is false when absent.
func (n *node) attrInts(name string) (v []int64, ok bool, err error) {
	a, err := n.attr(name, onnx.AttrType(7))
	if a == nil || err != nil {
		return nil, false, err
	}
	return a.Ints, true, nil
}

// attrFloats returns a float list attribute; ok is false when absent.
func (n *node) attrFloats(name string) (v []float32, ok bool, err error) {
	a, err := n.attr(name, onnx.AttrType(6))
	if a == nil || err != nil {
		return nil, false, err
	}
	return a.Floats, true, nil
}

// ints converts int64s to ints, rejecting values that do not fit in an int32.
func (n *node) ints(field string, v []int64) ([]int, error) {
	out := make([]int, len(v))
	for i, x := range v {
		if x > math.MaxInt32 || x < math.MinInt32 {
			return nil, n.errorf("%s[%d] = %d is out of range", field, i, x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// constInts reads input i as a list of integers; it must be a constant.
func (n *node) constInts(i int, field string) ([]int64, error) {
	v := n.input(i)
	if v == nil {
		return nil, nil
	}
	if v.constant == nil {
		return nil, n.needConstant(v)
	}
	if !v.dtype.IsInt() {
		return nil, n.errorf("input %s %q has type %v, expected an integer type", field, v.name, v.dtype)
	}
	return v.constant.I, nil
}

// normAxis maps a possibly negative axis into [0, rank).
func (n *node) normAxis(axis int64, rank int, field string) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, n.errorf("%s %d is out of range for rank %d", field, axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}
