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

// ortSessionOptions: threads intra-op threads, 1 inter-op thread,
// sequential execution, all graph optimisations (unless --ort-opt).
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
// input and output tensors (ONNX Runtime's cheapest call path).
type ortEngine struct {
	sess *ort.AdvancedSession
	ins  []*ort.Tensor[float32]
	data [][]float32 // copied into ins at every Run unless fixedInputs
	out  *ort.Tensor[float32]
	// fixedInputs: data was copied into the input tensors once at load
	// (used by the SGEMM comparison, which times the MatMul alone).
	fixedInputs bool
	vals        []ort.Value
}

func newORT(model []byte, in inputSpec, data []float32, threads int) (Engine, error) {
	return newORTMulti(model, [][]float32{data}, threads)
}

// newORTMulti is newORT for a model with several float inputs, fed from data
// in the model's input order.
func newORTMulti(model []byte, data [][]float32, threads int) (*ortEngine, error) {
	insInfo, outsInfo, err := ortModelIO(model)
	if err != nil {
		return nil, err
	}
	if len(insInfo) != len(data) {
		return nil, fmt.Errorf("model has %d inputs, got %d", len(insInfo), len(data))
	}
	e := &ortEngine{data: data}
	var inNames, outNames []string
	for _, info := range insInfo {
		if info.DataType != ort.TensorElementDataTypeFloat {
			e.Close()
			return nil, fmt.Errorf("input %q is %v, only float inputs are supported", info.Name, info.DataType)
		}
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(toInt64(staticShape(info.Dimensions))...))
		if err != nil {
			e.Close()
			return nil, err
		}
		e.ins = append(e.ins, t)
		e.vals = append(e.vals, t)
		inNames = append(inNames, info.Name)
	}
	// Only the first output is bound (and compared); the others are left to ORT.
	out := outsInfo[0]
	if out.DataType != ort.TensorElementDataTypeFloat {
		e.Close()
		return nil, fmt.Errorf("output %q is %v, only float outputs are supported", out.Name, out.DataType)
	}
	e.out, err = ort.NewEmptyTensor[float32](ort.NewShape(toInt64(staticShape(out.Dimensions))...))
	if err != nil {
		e.Close()
		return nil, err
	}
	e.vals = append(e.vals, e.out)
	outNames = append(outNames, out.Name)

	opts, err := ortSessionOptions(threads)
	if err != nil {
		e.Close()
		return nil, err
	}
	defer opts.Destroy()
	e.sess, err = ort.NewAdvancedSessionWithONNXData(model, inNames, outNames,
		e.vals[:len(e.ins)], []ort.Value{e.out}, opts)
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *ortEngine) Run() error {
	if e.fixedInputs {
		return e.sess.Run()
	}
	for i, t := range e.ins {
		copy(t.GetData(), e.data[i])
	}
	return e.sess.Run()
}

func (e *ortEngine) Output() []float32 { return e.out.GetData() }

func (e *ortEngine) Close() {
	if e.sess != nil {
		e.sess.Destroy()
	}
	for _, t := range e.ins {
		t.Destroy()
	}
	if e.out != nil {
		e.out.Destroy()
	}
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
