package engine

import (
	"fmt"
	"strings"
)

// DType is an element type, numbered as in ONNX's TensorProto.DataType.
type DType int32

// Element types the engine knows by name. At run time every floating-point
// tensor (FLOAT16, BFLOAT16 and DOUBLE included) is held as float32 and every
// integer or boolean tensor as int64, with the wrap-around of its declared
// width applied after arithmetic. DOUBLE arithmetic is therefore done in
// single precision.
const (
	Undefined DType = 0
	Float32   DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Uint16    DType = 4
	Int16     DType = 5
	Int32     DType = 6
	Int64     DType = 7
	String    DType = 8
	Bool      DType = 9
	Float16   DType = 10
	Float64   DType = 11
	Uint32    DType = 12
	Uint64    DType = 13
	BFloat16  DType = 16
)

var dtypeNames = map[DType]string{
	Undefined: "UNDEFINED", Float32: "FLOAT", Uint8: "UINT8", Int8: "INT8",
	Uint16: "UINT16", Int16: "INT16", Int32: "INT32", Int64: "INT64",
	String: "STRING", Bool: "BOOL", Float16: "FLOAT16", Float64: "DOUBLE",
	Uint32: "UINT32", Uint64: "UINT64", BFloat16: "BFLOAT16",
}

// String returns the ONNX name of the type.
func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DTYPE(%d)", int32(d))
}

// IsFloat reports whether values of this type are held as float32.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float16 || d == BFloat16 || d == Float64
}

// IsInt reports whether values of this type are held as int64.
func (d DType) IsInt() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Uint32:
		return true
	}
	return false
}

// Supported reports whether the engine can hold tensors of this type.
func (d DType) Supported() bool { return d.IsFloat() || d.IsInt() }

// Tensor is a dense row-major tensor. Exactly one of F (floating types) and
// I (integer and boolean types) holds the elements.
type Tensor struct {
	DType DType
	Shape []int
	F     []float32
	I     []int64
}

// NewFloat returns a float32 tensor of the given shape over data (which is
// allocated when nil).
func NewFloat(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if data == nil {
		data = make([]float32, n)
	}
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F: data}
}

// NewInt returns an int64 tensor of the given shape over data (which is
// allocated when nil).
func NewInt(data []int64, shape ...int) *Tensor {
	n := numel(shape)
	if data == nil {
		data = make([]int64, n)
	}
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I: data}
}

// Len returns the number of elements given by the shape.
func (t *Tensor) Len() int { return numel(t.Shape) }

func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%v", t.DType, t.Shape)
	return b.String()
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
