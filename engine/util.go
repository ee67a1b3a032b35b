package engine

import "sort"

func sortStrings(s []string) { sort.Strings(s) }

// strides returns row-major strides for shape.
func stridesOf(shape []int, dst []int) []int {
	dst = dst[:len(shape)]
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		dst[i] = s
		s *= shape[i]
	}
	return dst
}

func equalShapes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// allocTensor allocates a tensor for a value with its inferred type.
func allocTensor(v *value) *Tensor {
	t := &Tensor{DType: v.dtype, Shape: append([]int(nil), v.shape...)}
	if v.dtype.IsInt() {
		t.I = make([]int64, v.numel())
	} else {
		t.F = make([]float32, v.numel())
	}
	return t
}

// wrapInt applies the wrap-around of an integer type's width.
func wrapInt(d DType, x int64) int64 {
	switch d {
	case Uint8:
		return int64(uint8(x))
	case Int8:
		return int64(int8(x))
	case Uint16:
		return int64(uint16(x))
	case Int16:
		return int64(int16(x))
	case Int32:
		return int64(int32(x))
	case Uint32:
		return int64(uint32(x))
	case Bool:
		if x != 0 {
			return 1
		}
		return 0
	}
	return x
}
