package main

// The other peers of bench/peers.sh on the same tests: GoMLX (simplego,
// through onnx-gomlx) and ONNX Runtime (through onnxruntime_go), fed the
// inputs kagen's decoder reads. What the adapters here cannot hand over
// (float16 and bfloat16 tensors, which kagen holds as float32) counts as
// unsupported with the category "adapter: TYPE", apart from the engine's own.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
	"github.com/kagen-ai/kagen/engine"
	konnx "github.com/kagen-ai/kagen/engine/onnx"
	ort "github.com/yalue/onnxruntime_go"
)

// adapterError is a type the adapter cannot hand to the engine: what is
// its category (the type), detail where it is.
type adapterError struct{ what, detail string }

func (e *adapterError) Error() string {
	if e.detail != "" {
		return "adapter: " + e.what + " (" + e.detail + ")"
	}
	return "adapter: " + e.what
}

// readInputs reads a data set's inputs with kagen's decoder.
func readInputs(set string, n int) ([]*engine.Tensor, error) {
	out := make([]*engine.Tensor, n)
	for i := range out {
		path := filepath.Join(set, fmt.Sprintf("input_%d.pb", i))
		b, err := readFile(path)
		if err != nil {
			return nil, err
		}
		t, err := konnx.DecodeTensor(b, konnx.Limits{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		if out[i], err = engine.FromONNX(t); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
	}
	return out, nil
}

// goSlice is a tensor's elements as a slice of its own Go type.
func goSlice(t *engine.Tensor) (any, error) {
	ints := func(conv func(int64) any) any {
		v := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(conv(0))), len(t.I), len(t.I))
		for i, x := range t.I {
			v.Index(i).Set(reflect.ValueOf(conv(x)))
		}
		return v.Interface()
	}
	switch t.DType {
	case engine.Float32:
		return append([]float32{}, t.F...), nil
	case engine.Float64:
		f := make([]float64, len(t.F))
		for i, x := range t.F {
			f[i] = float64(x)
		}
		return f, nil
	case engine.Int64:
		return append([]int64{}, t.I...), nil
	case engine.Int32:
		return ints(func(x int64) any { return int32(x) }), nil
	case engine.Int16:
		return ints(func(x int64) any { return int16(x) }), nil
	case engine.Int8:
		return ints(func(x int64) any { return int8(x) }), nil
	case engine.Uint8:
		return ints(func(x int64) any { return uint8(x) }), nil
	case engine.Uint16:
		return ints(func(x int64) any { return uint16(x) }), nil
	case engine.Uint32:
		return ints(func(x int64) any { return uint32(x) }), nil
	case engine.Uint64:
		return ints(func(x int64) any { return uint64(x) }), nil
	case engine.Bool:
		return ints(func(x int64) any { return x != 0 }), nil
	}
	return nil, &adapterError{what: t.DType.String()}
}

// fromSlice is the inverse of goSlice: a flat Go slice (or a scalar) and
// a shape as kagen's tensor (floats in F, integers and booleans in I).
func fromSlice(flat any, shape []int) (*engine.Tensor, error) {
	v := reflect.ValueOf(flat)
	if v.Kind() != reflect.Slice {
		s := reflect.MakeSlice(reflect.SliceOf(v.Type()), 1, 1)
		s.Index(0).Set(v)
		v = s
	}
	out := &engine.Tensor{Shape: append([]int{}, shape...)}
	n := v.Len()
	switch v.Type().Elem().Kind() {
	case reflect.Float32, reflect.Float64:
		out.DType, out.F = engine.Float32, make([]float32, n)
		for i := range out.F {
			out.F[i] = float32(v.Index(i).Float())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out.DType, out.I = engine.Int64, make([]int64, n)
		for i := range out.I {
			out.I[i] = v.Index(i).Int()
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out.DType, out.I = engine.Int64, make([]int64, n)
		for i := range out.I {
			out.I[i] = int64(v.Index(i).Uint())
		}
	case reflect.Bool:
		out.DType, out.I = engine.Bool, make([]int64, n)
		for i := range out.I {
			if v.Index(i).Bool() {
				out.I[i] = 1
			}
		}
	default:
		return nil, &adapterError{what: "output elements " + v.Type().Elem().String()}
	}
	if numel(shape) != n {
		return nil, fmt.Errorf("shape %v with %d elements", shape, n)
	}
	return out, nil
}

// GoMLX on its pure-Go simplego backend, one operation at a time.
var gomlxRunner = engineRunner{load: loadGoMLX, judged: judgedBy("unimplemented ONNX op", "not supported", "unsupported")}

var gomlxBackend backends.Backend

func loadGoMLX(model []byte, _ *konnx.Model, inputNames []string) (run func(string) ([]*engine.Tensor, error), done func(), err error) {
	defer func() {
		if p := recover(); p != nil {
			run, done, err = nil, nil, fmt.Errorf("gomlx: %v", p)
		}
	}()
	if gomlxBackend == nil {
		stdout := os.Stdout // simplego.New prints on stdout, the results' channel
		os.Stdout = os.Stderr
		gomlxBackend, err = simplego.New("parallelism=1,ops_sequential")
		os.Stdout = stdout
		if err != nil {
			return nil, nil, err
		}
	}
	m, err := gonnx.Parse(model)
	if err != nil {
		return nil, nil, err
	}
	ctx := context.New()
	if err := m.VariablesToContext(ctx); err != nil {
		return nil, nil, err
	}
	names := m.OutputsNames
	var exec *context.Exec
	run = func(set string) (outs []*engine.Tensor, err error) {
		defer func() {
			if p := recover(); p != nil {
				outs, err = nil, fmt.Errorf("gomlx: %v", p)
			}
		}()
		ins, err := readInputs(set, len(inputNames))
		if err != nil {
			return nil, err
		}
		args := make([]any, len(ins))
		for i, t := range ins {
			if args[i], err = gomlxTensor(t); err != nil {
				return nil, err
			}
		}
		if exec == nil {
			exec, err = context.NewExec(gomlxBackend, ctx, func(ctx *context.Context, xs []*Node) []*Node {
				byName := map[string]*Node{}
				for i, n := range inputNames {
					byName[n] = xs[i]
				}
				return m.CallGraph(ctx, xs[0].Graph(), byName, names...)
			})
			if err != nil {
				return nil, err
			}
		}
		res, err := exec.Exec(args...)
		for _, a := range args {
			a.(*tensors.Tensor).FinalizeAll()
		}
		if err != nil {
			return nil, err
		}
		for _, o := range res {
			var t *engine.Tensor
			var cerr error
			if err := o.ConstFlatData(func(flat any) { t, cerr = fromSlice(flat, o.Shape().Dimensions) }); err != nil {
				return nil, err
			}
			o.FinalizeAll()
			if cerr != nil {
				return nil, cerr
			}
			outs = append(outs, t)
		}
		return outs, nil
	}
	if len(inputNames) == 0 {
		return nil, nil, &adapterError{what: "a model without inputs"}
	}
	return run, func() {
		if exec != nil {
			exec.Finalize()
		}
	}, nil
}

func gomlxTensor(t *engine.Tensor) (*tensors.Tensor, error) {
	flat, err := goSlice(t)
	if err != nil {
		return nil, err
	}
	switch f := flat.(type) {
	case []float32:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []float64:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []int64:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []int32:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []int16:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []int8:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []uint8:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []uint16:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []uint32:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []uint64:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	case []bool:
		return tensors.FromFlatDataAndDimensions(f, t.Shape...), nil
	}
	return nil, &adapterError{what: t.DType.String()}
}

// ONNX Runtime with one thread, its outputs allocated by it.
var ortRunner = engineRunner{load: loadORT, judged: judgedBy("NOT_IMPLEMENTED", "not implemented", "Could not find an implementation", "are not supported")}

// ortTypes are the ONNX element types the ORT adapter hands over: float,
// double, the integers and bool.
var ortTypes = map[int32]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 9: true, 11: true, 12: true, 13: true}

// ortLib is the ONNX Runtime library (-ort-lib).
var ortLib string

var ortReady bool

func loadORT(model []byte, pm *konnx.Model, inputNames []string) (func(string) ([]*engine.Tensor, error), func(), error) {
	if !ortReady {
		if ortLib == "" {
			return nil, nil, errors.New("no ONNX Runtime library given (-ort-lib or ORT_LIB; bench/fetch_ort.sh fetches one)")
		}
		ort.SetSharedLibraryPath(ortLib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return nil, nil, fmt.Errorf("initialising ONNX Runtime from %s: %w", ortLib, err)
		}
		ortReady = true
	}
	// onnxruntime_go allocates and reads the numeric and boolean tensor
	// types only (float16 and bfloat16 outputs fail in its tensor code).
	for _, list := range [][]*konnx.ValueInfo{pm.Graph.Inputs, pm.Graph.Outputs} {
		for _, vi := range list {
			if vi.IsTensor && !ortTypes[vi.ElemType] {
				return nil, nil, &adapterError{engine.DType(vi.ElemType).String(), fmt.Sprintf("tensor %q", vi.Name)}
			}
		}
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, nil, err
	}
	defer opts.Destroy()
	opts.SetIntraOpNumThreads(1)
	opts.SetInterOpNumThreads(1)
	var outNames []string
	for _, vi := range pm.Graph.Outputs {
		outNames = append(outNames, vi.Name)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputNames, outNames, opts)
	if err != nil {
		return nil, nil, err
	}
	run := func(set string) ([]*engine.Tensor, error) {
		ins, err := readInputs(set, len(inputNames))
		if err != nil {
			return nil, err
		}
		vals := make([]ort.Value, len(ins))
		defer func() {
			for _, v := range vals {
				if v != nil {
					v.Destroy()
				}
			}
		}()
		for i, t := range ins {
			if vals[i], err = ortTensor(t); err != nil {
				return nil, err
			}
		}
		// ORT allocates the outputs, except those declared of rank 0:
		// onnxruntime_go cannot wrap a rank-0 tensor ORT allocated, so
		// those are bound to scalars of the declared type.
		outs := make([]ort.Value, len(outNames))
		for i, vi := range pm.Graph.Outputs {
			if vi.IsTensor && vi.HasShape && len(vi.Dims) == 0 {
				if outs[i], err = emptyScalar(vi.ElemType); err != nil {
					return nil, err
				}
			}
		}
		if err := s.Run(vals, outs); err != nil {
			return nil, err
		}
		defer func() {
			for _, v := range outs {
				if v != nil {
					v.Destroy()
				}
			}
		}()
		res := make([]*engine.Tensor, len(outs))
		for i, o := range outs {
			if res[i], err = fromORT(o); err != nil {
				return nil, fmt.Errorf("output %q: %w", outNames[i], err)
			}
		}
		return res, nil
	}
	return run, func() { s.Destroy() }, nil
}

func ortTensor(t *engine.Tensor) (ort.Value, error) {
	flat, err := goSlice(t)
	if err != nil {
		return nil, err
	}
	switch f := flat.(type) {
	case []float32:
		return newORTValue(t.Shape, f)
	case []float64:
		return newORTValue(t.Shape, f)
	case []int64:
		return newORTValue(t.Shape, f)
	case []int32:
		return newORTValue(t.Shape, f)
	case []int16:
		return newORTValue(t.Shape, f)
	case []int8:
		return newORTValue(t.Shape, f)
	case []uint8:
		return newORTValue(t.Shape, f)
	case []uint16:
		return newORTValue(t.Shape, f)
	case []uint32:
		return newORTValue(t.Shape, f)
	case []uint64:
		return newORTValue(t.Shape, f)
	case []bool:
		return newORTValue(t.Shape, f)
	}
	return nil, &adapterError{what: t.DType.String()}
}

// emptyScalar is an ORT scalar of an ONNX element type.
func emptyScalar(elem int32) (ort.Value, error) {
	wrap := func(v ort.Value, err error) (ort.Value, error) {
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	switch elem {
	case 1:
		return wrap(ort.NewEmptyScalar[float32]())
	case 2:
		return wrap(ort.NewEmptyScalar[uint8]())
	case 3:
		return wrap(ort.NewEmptyScalar[int8]())
	case 4:
		return wrap(ort.NewEmptyScalar[uint16]())
	case 5:
		return wrap(ort.NewEmptyScalar[int16]())
	case 6:
		return wrap(ort.NewEmptyScalar[int32]())
	case 7:
		return wrap(ort.NewEmptyScalar[int64]())
	case 9:
		return wrap(ort.NewEmptyScalar[bool]())
	case 11:
		return wrap(ort.NewEmptyScalar[float64]())
	case 12:
		return wrap(ort.NewEmptyScalar[uint32]())
	case 13:
		return wrap(ort.NewEmptyScalar[uint64]())
	}
	return nil, &adapterError{what: engine.DType(elem).String()}
}

// newORTValue is a tensor, or a scalar for an empty shape (onnxruntime_go's
// tensors need a dimension). It returns a nil interface on error, never a
// nil pointer in one.
func newORTValue[T ort.TensorData](shape []int, data []T) (ort.Value, error) {
	if len(shape) == 0 && len(data) == 1 {
		s, err := ort.NewScalar(data[0])
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	t, err := ort.NewTensor(ort.NewShape(toInt64(shape)...), data)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// fromORT reads an output ORT allocated: a tensor or a scalar of a
// numeric or boolean type (their GetData gives a slice or a value).
func fromORT(v ort.Value) (*engine.Tensor, error) {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return nil, errors.New("no value")
	}
	shape := make([]int, len(v.GetShape()))
	for i, d := range v.GetShape() {
		shape[i] = int(d)
	}
	get := reflect.ValueOf(v).MethodByName("GetData")
	if !get.IsValid() || get.Type().NumIn() != 0 || get.Type().NumOut() != 1 {
		return nil, &adapterError{what: fmt.Sprintf("output of ONNX type %v", v.GetONNXType())}
	}
	return fromSlice(get.Call(nil)[0].Interface(), shape)
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// judgedBy classifies an engine's errors: an adapter limitation or an
// error containing one of marks (the engine saying it lacks something) is
// UNSUPPORTED, anything else FAIL.
func judgedBy(marks ...string) func(result, error) result {
	return func(r result, err error) result {
		msg := oneLine(err.Error())
		var ae *adapterError
		if errors.As(err, &ae) {
			r.Status, r.Category, r.Reason = "UNSUPPORTED", "adapter: "+ae.what, msg
			return r
		}
		for _, m := range marks {
			if strings.Contains(msg, m) {
				r.Status, r.Category, r.Reason = "UNSUPPORTED", "not implemented", msg
				if i := strings.Index(msg, "ONNX op \""); i >= 0 {
					if j := strings.IndexByte(msg[i+9:], '"'); j > 0 {
						r.Category = "not implemented: " + msg[i+9:i+9+j]
					}
				}
				return r
			}
		}
		r.Status, r.Reason = "FAIL", msg
		return r
	}
}
