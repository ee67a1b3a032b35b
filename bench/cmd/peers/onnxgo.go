package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// onnx-go v0.5.0 (github.com/owulveryck/onnx-go, archived) with its Gorgonia
// backend (backend/x/gorgonnx): the ONNX package the project's design first
// named. The model is decoded into a gonum graph, turned into a Gorgonia
// expression graph at the first Run and executed by Gorgonia's tape machine,
// one operation after another on the calling goroutine: the thread count
// does not apply (GOMAXPROCS bounds it, and its garbage collector, like the
// other Go engines).
//
// onnx-go panics on some models (index out of range while building the
// graph, nil nodes); the adapter recovers those and reports them as the
// engine's error.

type onnxgoEngine struct {
	model   *onnx.Model
	backend *gorgonnx.Graph
	ins     []inputSpec
	names   []string // graph output names, in onnx-go's order
	outs    []Output
}

func newOnnxGo(model []byte, ins []inputSpec, threads int) (e Engine, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	for _, in := range ins {
		if in.Type != onnxFloat && in.Type != onnxDouble && in.Type != onnxInt64 && in.Type != onnxInt32 && in.Type != onnxBool {
			return nil, fmt.Errorf("onnxgo adapter: input %q is %s (float32, float64, int32, int64 and bool only)", in.Name, typeName(in.Type))
		}
	}
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(model); err != nil {
		return nil, err
	}
	g := &onnxgoEngine{model: m, backend: backend, ins: ins}
	for _, id := range m.Output {
		n, ok := backend.Node(id).(*gorgonnx.Node)
		if !ok {
			return nil, fmt.Errorf("onnx-go: output node %d is not a tensor node", id)
		}
		g.names = append(g.names, n.GetName())
	}
	// Build Gorgonia's expression graph for these inputs (Run would do it
	// at the first call): where onnx-go lacks an operator or a form of one,
	// this is where it says so. The graph is not run here: onnx-go's
	// Gemm writes its result into its C input when C already has the
	// output's size (batch 1), so the bias initializer changes at every
	// run; the bench's check after its first run and again after the
	// timed ones shows that as a mismatch.
	if err := g.setInputs(); err != nil {
		return nil, err
	}
	if err := backend.PopulateExprgraph(); err != nil {
		return nil, err
	}
	return g, nil
}

// setInputs hands the bench's inputs to onnx-go as new tensors (a copy, as
// onnx-go's API takes ownership of the backing slice).
func (g *onnxgoEngine) setInputs() error {

	for _, in := range g.ins {
		node, ok := g.model.GetNodeByName(in.Name)
		if !ok {
			return fmt.Errorf("onnx-go: the model has no input %q", in.Name)
		}
		dc, ok := node.(onnx.DataCarrier)
		if !ok {
			return fmt.Errorf("onnx-go: input %q does not carry data", in.Name)
		}
		var backing any
		switch in.Type {
		case onnxFloat:
			backing = slices.Clone(in.F)
		case onnxDouble:
			f := make([]float64, len(in.F))
			for i, v := range in.F {
				f[i] = float64(v)
			}
			backing = f
		case onnxInt64:
			backing = slices.Clone(in.I)
		case onnxInt32:
			v := make([]int32, len(in.I))
			for i, x := range in.I {
				v[i] = int32(x)
			}
			backing = v
		case onnxBool:
			b := make([]bool, len(in.I))
			for i, x := range in.I {
				b[i] = x != 0
			}
			backing = b
		}
		opts := []tensor.ConsOpt{tensor.WithBacking(backing)}
		if len(in.Shape) > 0 {
			opts = append(opts, tensor.WithShape(in.Shape...))
		}
		if err := dc.SetTensor(tensor.New(opts...)); err != nil {
			return fmt.Errorf("onnx-go: input %q: %w", in.Name, err)
		}
	}
	return nil
}

func (g *onnxgoEngine) Run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	if err := g.setInputs(); err != nil {
		return err
	}
	if err := g.backend.Run(); err != nil {
		return err
	}
	ts, err := g.model.GetOutputTensors()
	if err != nil {
		return err
	}
	g.outs = g.outs[:0]
	for i, t := range ts {
		if t == nil {
			return fmt.Errorf("onnx-go: output %q has no value", g.names[i])
		}
		if d, ok := t.(*tensor.Dense); ok && d.IsMaterializable() {
			t = d.Materialize()
		}
		out := Output{Name: g.names[i], Shape: slices.Clone([]int(t.Shape()))}
		switch v := t.Data().(type) {
		case []float32:
			out.F = slices.Clone(v)
		case float32:
			out.F = []float32{v}
		case []float64:
			out.F = make([]float32, len(v))
			convert(out.F, v)
		case float64:
			out.F = []float32{float32(v)}
		case []int64:
			out.I = slices.Clone(v)
		case int64:
			out.I = []int64{v}
		case []int32:
			out.I = toI(v)
		case int32:
			out.I = []int64{int64(v)}
		case []bool:
			for _, b := range v {
				out.I = append(out.I, map[bool]int64{false: 0, true: 1}[b])
			}
		case bool:
			out.I = []int64{map[bool]int64{false: 0, true: 1}[v]}
		default:
			return fmt.Errorf("onnxgo adapter: output %q is %v", g.names[i], t.Dtype())
		}
		g.outs = append(g.outs, out)
	}
	return nil
}

func (g *onnxgoEngine) Outputs() []Output { return g.outs }

func (g *onnxgoEngine) Close() {}

// shortError is an engine's error on one line, at most n bytes, for the
// table: onnx-go's errors can carry whole tensors or stack traces.
func shortError(err error, n int) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
