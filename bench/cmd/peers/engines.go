package main

// Engine is one inference engine under test, loaded with one model and
// ready to run it on fixed inputs.
type Engine interface {
	// Run runs the model once on the inputs given to the constructor.
	Run() error
	// Outputs returns the outputs of the last Run (every output the engine
	// computes, by name); the slices may be the engine's own buffers, valid
	// until the next Run.
	Outputs() []Output
	Close()
}

// elemKind is how the bench holds a tensor's elements: floating types as
// float32 (F), integer and boolean types as int64 (I, bool as 0/1).
type elemKind int

const (
	kindFloat elemKind = iota
	kindInt
)

// ONNX TensorProto.DataType numbers the bench knows.
const (
	onnxFloat   = 1
	onnxUint8   = 2
	onnxInt8    = 3
	onnxUint16  = 4
	onnxInt16   = 5
	onnxInt32   = 6
	onnxInt64   = 7
	onnxBool    = 9
	onnxFloat16 = 10
	onnxDouble  = 11
	onnxUint32  = 12
	onnxUint64  = 13
)

var onnxTypeNames = map[int]string{
	onnxFloat: "float32", onnxUint8: "uint8", onnxInt8: "int8", onnxUint16: "uint16", onnxInt16: "int16",
	onnxInt32: "int32", onnxInt64: "int64", onnxBool: "bool", onnxFloat16: "float16", onnxDouble: "float64",
	onnxUint32: "uint32", onnxUint64: "uint64",
}

func kindOf(onnxType int) elemKind {
	switch onnxType {
	case onnxFloat, onnxFloat16, onnxDouble:
		return kindFloat
	}
	return kindInt
}

// inputSpec is one graph input of a model with the data the bench feeds it:
// F for floating types, I for integer and boolean ones.
type inputSpec struct {
	Name  string
	Type  int // ONNX data type
	Shape []int
	F     []float32
	I     []int64
}

// Output is one output of a Run: F for floating types, I for integer and
// boolean ones.
type Output struct {
	Name  string
	Shape []int
	F     []float32
	I     []int64
}

// engineFactory builds an engine for a model, given its bytes, its inputs
// (in ORT's order, with their data) and the thread count. Each engine
// copies the input data at every Run as its own API requires, so that copy
// is part of what is timed.
type engineFactory func(model []byte, ins []inputSpec, threads int) (Engine, error)
