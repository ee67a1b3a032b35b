package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

var ortInit struct {
	once    sync.Once
	err     error
	version string
}

// initORT loads the ONNX Runtime shared library (once).
func initORT(libPath string) error {
	ortInit.once.Do(func() {
		if libPath == "" {
			ortInit.err = fmt.Errorf("no ONNX Runtime library given (--ort-lib or ORT_LIB; run bench/fetch_ort.sh)")
			return
		}
		if _, err := os.Stat(libPath); err != nil {
			ortInit.err = err
			return
		}
		abs, _ := filepath.Abs(libPath)
		ort.SetSharedLibraryPath(abs)
		if err := ort.InitializeEnvironment(ort.WithLogLevelWarning()); err != nil {
			ortInit.err = fmt.Errorf("initialising ONNX Runtime from %s: %w", abs, err)
			return
		}
		ortInit.version = ort.GetVersion()
	})
	return ortInit.err
}

// ortOptLevel is the graph optimisation level (--ort-opt); all by default.
var ortOptLevel ort.GraphOptimizationLevel = ort.GraphOptimizationLevelEnableAll

func parseORTOpt(s string) error {
	levels := map[string]ort.GraphOptimizationLevel{
		"all": ort.GraphOptimizationLevelEnableAll, "extended": ort.GraphOptimizationLevelEnableExtended,
		"basic": ort.GraphOptimizationLevelEnableBasic, "none": ort.GraphOptimizationLevelDisableAll,
	}
	l, ok := levels[s]
	if !ok {
		return fmt.Errorf("unknown --ort-opt %q (all, extended, basic, none)", s)
	}
	ortOptLevel = l
	return nil
}

// ortSpin is whether ORT's intra-op threads spin while they wait for work
// (--ort-spin; ORT's default). Spinning threads go on spinning after a
// run returns, on the cores the next engine of the rotation runs on; with
// false they park, as kagen's workers park after 30 µs of spinning.
var ortSpin = true

// ortProfile, when set (--ort-profile PREFIX), makes ORT write its per-node
// profile (a Chrome-trace JSON named PREFIX_<date>.json) when a session is
// destroyed, to compare with kagen bench --per-node node by node.
var ortProfile string

// ortSessionOptions: threads intra-op threads, 1 inter-op thread,
// sequential execution, all graph optimisations (unless --ort-opt), intra-op
// spinning unless --ort-spin=false.
func ortSessionOptions(threads int) (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	for _, f := range []func() error{
		func() error { return o.SetIntraOpNumThreads(threads) },
		func() error { return o.SetInterOpNumThreads(1) },
		func() error { return o.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return o.SetGraphOptimizationLevel(ortOptLevel) },
		func() error {
			if ortProfile == "" {
				return nil
			}
			return o.EnableProfiling(ortProfile)
		},
		func() error {
			if ortSpin {
				return nil
			}
			return o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
		},
	} {
		if err := f(); err != nil {
			o.Destroy()
			return nil, err
		}
	}
	return o, nil
}

// ortModelIO reads a model's input and output names and static shapes with
// ONNX Runtime (used as the reference description of every model).
func ortModelIO(model []byte) (ins, outs []ort.InputOutputInfo, err error) {
	return ort.GetInputOutputInfoWithONNXData(model)
}

func staticShape(s ort.Shape) []int {
	out := make([]int, len(s))
	for i, d := range s {
		if d <= 0 {
			d = 1 // a dynamic dimension: use 1 (batch size 1)
		}
		out[i] = int(d)
	}
	return out
}

// ortEngine runs a model through an AdvancedSession bound to pre-allocated
// input and output tensors (ONNX Runtime's cheapest call path). Every output
// of the model is bound.
type ortEngine struct {
	sess  *ort.AdvancedSession
	ins   []ort.Value
	fills []func() // copy the bench's data into ins[i]
	outs  []ort.Value
	names []string // of outs
	// fixedInputs: the data was copied into the input tensors once at load
	// (used by the SGEMM comparison, which times the MatMul alone).
	fixedInputs bool
}

func newORT(model []byte, ins []inputSpec, threads int) (Engine, error) {
	return newORTEngine(model, ins, threads)
}

// newORTMulti is newORT for a model with float inputs only, fed from data
// in the model's input order.
func newORTMulti(model []byte, data [][]float32, threads int) (*ortEngine, error) {
	insInfo, _, err := ortModelIO(model)
	if err != nil {
		return nil, err
	}
	if len(insInfo) != len(data) {
		return nil, fmt.Errorf("model has %d inputs, got %d", len(insInfo), len(data))
	}
	ins := make([]inputSpec, len(data))
	for i, info := range insInfo {
		if info.DataType != ort.TensorElementDataTypeFloat {
			return nil, fmt.Errorf("input %q is %v, only float inputs are supported", info.Name, info.DataType)
		}
		ins[i] = inputSpec{Name: info.Name, Type: onnxFloat, Shape: staticShape(info.Dimensions), F: data[i]}
	}
	return newORTEngine(model, ins, threads)
}

func newORTEngine(model []byte, ins []inputSpec, threads int) (*ortEngine, error) {
	_, outsInfo, err := ortModelIO(model)
	if err != nil {
		return nil, err
	}
	e := &ortEngine{}
	var inNames []string
	for i := range ins {
		v, fill, err := newORTInput(&ins[i])
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("input %q: %w", ins[i].Name, err)
		}
		e.ins = append(e.ins, v)
		e.fills = append(e.fills, fill)
		inNames = append(inNames, ins[i].Name)
	}
	opts, err := ortSessionOptions(threads)
	if err != nil {
		e.Close()
		return nil, err
	}
	defer opts.Destroy()

	// Outputs: pre-allocated from the declared shapes when they are all
	// static; otherwise (dynamic dimensions) ORT allocates them in one run
	// of a throwaway dynamic session, and those tensors are bound.
	static := true
	for _, o := range outsInfo {
		e.names = append(e.names, o.Name)
		for _, d := range o.Dimensions {
			static = static && d > 0
		}
	}
	if static {
		for _, o := range outsInfo {
			v, err := newORTOutput(o.DataType, ort.NewShape(o.Dimensions...))
			if err != nil {
				e.Close()
				return nil, fmt.Errorf("output %q: %w", o.Name, err)
			}
			e.outs = append(e.outs, v)
		}
	} else {
		dyn, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inNames, e.names, opts)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.fillInputs()
		e.outs = make([]ort.Value, len(e.names))
		err = dyn.Run(e.ins, e.outs)
		dyn.Destroy()
		if err != nil {
			e.Close()
			return nil, err
		}
	}
	e.sess, err = ort.NewAdvancedSessionWithONNXData(model, inNames, e.names, e.ins, e.outs, opts)
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *ortEngine) fillInputs() {
	for _, f := range e.fills {
		f()
	}
}

func (e *ortEngine) Run() error {
	if !e.fixedInputs {
		e.fillInputs()
	}
	return e.sess.Run()
}

func (e *ortEngine) Outputs() []Output {
	outs := make([]Output, len(e.outs))
	for i, v := range e.outs {
		outs[i] = readORT(e.names[i], v)
	}
	return outs
}

// firstOutput is the first output's float data (the SGEMM comparison).
func (e *ortEngine) firstOutput() []float32 { return readORT(e.names[0], e.outs[0]).F }

func (e *ortEngine) Close() {
	if e.sess != nil {
		e.sess.Destroy()
	}
	for _, v := range e.ins {
		if v != nil {
			v.Destroy()
		}
	}
	for _, v := range e.outs {
		if v != nil {
			v.Destroy()
		}
	}
}

// newORTInput allocates the ORT tensor of an input and returns it with the
// function that copies the input's data into it (converting to its type).
func newORTInput(in *inputSpec) (ort.Value, func(), error) {
	if len(in.Shape) == 0 {
		return newORTScalarInput(in)
	}
	shape := ort.NewShape(toInt64(in.Shape)...)
	switch in.Type {
	case onnxFloat:
		return ortIn(shape, func(d []float32) { copy(d, in.F) })
	case onnxDouble:
		return ortIn(shape, func(d []float64) { convert(d, in.F) })
	case onnxInt64:
		return ortIn(shape, func(d []int64) { copy(d, in.I) })
	case onnxInt32:
		return ortIn(shape, func(d []int32) { convert(d, in.I) })
	case onnxInt16:
		return ortIn(shape, func(d []int16) { convert(d, in.I) })
	case onnxInt8:
		return ortIn(shape, func(d []int8) { convert(d, in.I) })
	case onnxUint8:
		return ortIn(shape, func(d []uint8) { convert(d, in.I) })
	case onnxUint16:
		return ortIn(shape, func(d []uint16) { convert(d, in.I) })
	case onnxUint32:
		return ortIn(shape, func(d []uint32) { convert(d, in.I) })
	case onnxUint64:
		return ortIn(shape, func(d []uint64) { convert(d, in.I) })
	case onnxBool:
		return ortIn(shape, func(d []bool) {
			for i, v := range in.I {
				d[i] = v != 0
			}
		})
	}
	return nil, nil, fmt.Errorf("type %s is not supported by the bench", typeName(in.Type))
}

// newORTScalarInput makes a rank-0 input, which onnxruntime_go holds as a
// Scalar (a Tensor refuses an empty shape). Scalar.Set does not reach the
// value ORT reads (it replaces the Go slice, not the memory the OrtValue
// points to), so the value is given at creation and the fill does nothing:
// the bench's inputs never change.
func newORTScalarInput(in *inputSpec) (ort.Value, func(), error) {
	var f float32
	var i int64
	if len(in.F) > 0 {
		f = in.F[0]
	}
	if len(in.I) > 0 {
		i = in.I[0]
	}
	var v ort.Value
	var err error
	switch in.Type {
	case onnxFloat:
		v, err = ort.NewScalar(f)
	case onnxDouble:
		v, err = ort.NewScalar(float64(f))
	case onnxInt64:
		v, err = ort.NewScalar(i)
	case onnxInt32:
		v, err = ort.NewScalar(int32(i))
	case onnxBool:
		v, err = ort.NewScalar(i != 0)
	default:
		return nil, nil, fmt.Errorf("scalar of type %s is not supported by the bench", typeName(in.Type))
	}
	if err != nil {
		return nil, nil, err
	}
	return v, func() {}, nil
}

func ortIn[T ort.TensorData](shape ort.Shape, fill func([]T)) (ort.Value, func(), error) {
	t, err := ort.NewEmptyTensor[T](shape)
	if err != nil {
		return nil, nil, err
	}
	d := t.GetData()
	return t, func() { fill(d) }, nil
}

func convert[D, S int8 | uint8 | int16 | uint16 | int32 | uint32 | int64 | uint64 | float32 | float64](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}

func newORTOutput(dt ort.TensorElementDataType, shape ort.Shape) (ort.Value, error) {
	if len(shape) == 0 {
		switch dt {
		case ort.TensorElementDataTypeFloat:
			return ort.NewEmptyScalar[float32]()
		case ort.TensorElementDataTypeInt64:
			return ort.NewEmptyScalar[int64]()
		case ort.TensorElementDataTypeInt32:
			return ort.NewEmptyScalar[int32]()
		case ort.TensorElementDataTypeBool:
			return ort.NewEmptyScalar[bool]()
		}
		return nil, fmt.Errorf("scalar of type %v is not supported by the bench", dt)
	}
	switch dt {
	case ort.TensorElementDataTypeFloat:
		return ort.NewEmptyTensor[float32](shape)
	case ort.TensorElementDataTypeDouble:
		return ort.NewEmptyTensor[float64](shape)
	case ort.TensorElementDataTypeInt64:
		return ort.NewEmptyTensor[int64](shape)
	case ort.TensorElementDataTypeInt32:
		return ort.NewEmptyTensor[int32](shape)
	case ort.TensorElementDataTypeInt16:
		return ort.NewEmptyTensor[int16](shape)
	case ort.TensorElementDataTypeInt8:
		return ort.NewEmptyTensor[int8](shape)
	case ort.TensorElementDataTypeUint8:
		return ort.NewEmptyTensor[uint8](shape)
	case ort.TensorElementDataTypeUint16:
		return ort.NewEmptyTensor[uint16](shape)
	case ort.TensorElementDataTypeUint32:
		return ort.NewEmptyTensor[uint32](shape)
	case ort.TensorElementDataTypeUint64:
		return ort.NewEmptyTensor[uint64](shape)
	case ort.TensorElementDataTypeBool:
		return ort.NewEmptyTensor[bool](shape)
	}
	return nil, fmt.Errorf("type %v is not supported by the bench", dt)
}

// readORT converts an ORT output to the bench's form (float32 data in place).
func readORT(name string, v ort.Value) Output {
	o := Output{Name: name}
	for _, d := range v.GetShape() {
		o.Shape = append(o.Shape, int(d))
	}
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		o.F = t.GetData()
	case *ort.Tensor[float64]:
		o.F = make([]float32, len(t.GetData()))
		convert(o.F, t.GetData())
	case *ort.Tensor[int64]:
		o.I = t.GetData()
	case *ort.Tensor[int32]:
		o.I = toI(t.GetData())
	case *ort.Tensor[int16]:
		o.I = toI(t.GetData())
	case *ort.Tensor[int8]:
		o.I = toI(t.GetData())
	case *ort.Tensor[uint8]:
		o.I = toI(t.GetData())
	case *ort.Tensor[uint16]:
		o.I = toI(t.GetData())
	case *ort.Tensor[uint32]:
		o.I = toI(t.GetData())
	case *ort.Tensor[uint64]:
		o.I = toI(t.GetData())
	case *ort.Tensor[bool]:
		for _, b := range t.GetData() {
			o.I = append(o.I, map[bool]int64{false: 0, true: 1}[b])
		}
	case *ort.Scalar[float32]:
		o.F = []float32{t.GetData()}
	case *ort.Scalar[int64]:
		o.I = []int64{t.GetData()}
	case *ort.Scalar[int32]:
		o.I = []int64{int64(t.GetData())}
	case *ort.Scalar[bool]:
		o.I = []int64{map[bool]int64{false: 0, true: 1}[t.GetData()]}
	}
	return o
}

func toI[S int8 | uint8 | int16 | uint16 | int32 | uint32 | uint64](s []S) []int64 {
	d := make([]int64, len(s))
	convert(d, s)
	return d
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func insInfoOf(infos []ort.InputOutputInfo) []ioInfo {
	out := make([]ioInfo, len(infos))
	for i, info := range infos {
		out[i] = ioInfo{name: info.Name, typ: int(info.DataType), shape: staticShape(info.Dimensions)}
	}
	return out
}
