package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// value is one tensor of the graph: a graph input, an initializer, a folded
// constant or an activation produced by a node.
type value struct {
	name     string
	dtype    DType
	shape    []int
	constant *Tensor // set for initializers and folded values
	producer *node
	uses     int // number of node inputs reading it (graph outputs count too)
	input    bool
	output   bool
	alias    *value // shares the buffer of this value (Reshape-like nodes)
}

func (v *value) isConst() bool { return v != nil && v.constant != nil }

func (v *value) numel() int { return numel(v.shape) }

// node is one operator instance.
type node struct {
	name  string
	op    string
	index int // position in the ONNX graph
	in    []*value
	out   []*value
	attrs map[string]*onnx.Attribute
	opset int64
	def   *opDef
	// params holds what infer parsed from attributes and constant inputs.
	params any
	// act is the activation fused into this node's epilogue.
	act activation
}

// activation is an element-wise clamp applied by a kernel to its output:
// Relu is [0, +Inf), Clip is [lo, hi].
type activation struct {
	on     bool
	lo, hi float32
	from   string // names of the fused nodes, for inspect
}

func (a activation) apply(x float32) float32 {
	if !a.on {
		return x
	}
	if x < a.lo {
		return a.lo
	}
	if x > a.hi {
		return a.hi
	}
	return x
}

// in returns input i, or nil when it is absent.
func (n *node) input(i int) *value {
	if i < len(n.in) {
		return n.in[i]
	}
	return nil
}

func (n *node) String() string { return fmt.Sprintf("node %q (%s)", n.name, n.op) }

// errorf returns an error that names the node.
func (n *node) errorf(format string, args ...any) error {
	return fmt.Errorf("%v: %w", n, fmt.Errorf(format, args...))
}

// UnsupportedError reports an operator, attribute or type the engine does
// not implement (as opposed to a malformed model).
type UnsupportedError struct {
	Node string // node name, may be empty
	Op   string // operator type
	What string // the attribute, input or type that is not supported
}

func (e *UnsupportedError) Error() string {
	s := "unsupported " + e.Op
	if e.What != "" {
		s += "/" + e.What
	}
	if e.Node != "" {
		s = fmt.Sprintf("node %q: %s", e.Node, s)
	}
	return s
}

func (n *node) unsupported(format string, args ...any) error {
	return &UnsupportedError{Node: n.name, Op: n.op, What: fmt.Sprintf(format, args...)}
}

// IsUnsupported reports whether err says the model uses something the engine
// does not implement.
func IsUnsupported(err error) bool {
	var u *UnsupportedError
	return errors.As(err, &u)
}

// graph is the engine's intermediate representation of a model.
type graph struct {
	nodes   []*node
	values  map[string]*value
	inputs  []*value
	outputs []*value
	opset   int64
}

// buildGraph converts a decoded ONNX model into the IR, binding graph input
// shapes (symbolic or unknown dimensions become the caller's or 1) and
// graph inputs given as constants.
func buildGraph(m *onnx.Model, opts *Options) (*graph, error) {
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	g := &graph{values: map[string]*value{}, opset: m.Opset()}
	if g.opset == 0 {
		var domains []string
		for d := range m.Opsets {
			domains = append(domains, d)
		}
		return nil, &UnsupportedError{Op: "opset", What: fmt.Sprintf("no ai.onnx opset_import (imports %v)", domains)}
	}
	if g.opset < 1 || g.opset > maxOpset {
		return nil, &UnsupportedError{Op: "opset", What: fmt.Sprint(g.opset)}
	}
	if m.Graph.SparseInitializers > 0 {
		return nil, &UnsupportedError{Op: "graph", What: "sparse_initializer"}
	}
	for _, t := range m.Graph.Initializers {
		ct, err := convertTensor(t, opts.limit())
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", t.Name, err)
		}
		g.values[t.Name] = &value{name: t.Name, dtype: ct.DType, shape: ct.Shape, constant: ct}
	}
	var total int64
	for _, vi := range m.Graph.Inputs {
		if _, isInit := g.values[vi.Name]; isInit {
			continue // an initializer listed as input (IR < 4): it is a constant
		}
		if c, ok := opts.Constants[vi.Name]; ok {
			g.values[vi.Name] = &value{name: vi.Name, dtype: c.DType, shape: c.Shape, constant: c}
			continue
		}
		if !vi.IsTensor {
			return nil, &UnsupportedError{Op: "graph", What: fmt.Sprintf("non-tensor input %q", vi.Name)}
		}
		dt := DType(vi.ElemType)
		if !dt.Supported() {
			return nil, &UnsupportedError{Op: "graph", What: fmt.Sprintf("input %q of type %v", vi.Name, dt)}
		}
		shape, err := bindShape(vi, opts)
		if err != nil {
			return nil, err
		}
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
			if n > opts.limit()/4 {
				return nil, fmt.Errorf("input %q: shape %v exceeds the size limit of %d bytes", vi.Name, shape, opts.limit())
			}
		}
		total += n
		v := &value{name: vi.Name, dtype: dt, shape: shape, input: true}
		g.values[vi.Name] = v
		g.inputs = append(g.inputs, v)
	}
	for i, on := range m.Graph.Nodes {
		n := &node{name: on.Name, op: on.OpType, index: i, attrs: map[string]*onnx.Attribute{}, opset: g.opset}
		if n.name == "" {
			n.name = fmt.Sprintf("%s_%d", on.OpType, i)
		}
		if on.Domain != "" && on.Domain != "ai.onnx" {
			return nil, &UnsupportedError{Node: n.name, Op: on.Domain + "." + on.OpType}
		}
		for _, a := range on.Attrs {
			if a.RefAttrName != "" || a.HasGraph {
				return nil, n.unsupported("attribute %s (graph or reference)", a.Name)
			}
			n.attrs[a.Name] = a
		}
		g.nodes = append(g.nodes, n)
	}
	// Wire inputs and outputs in topological order (ONNX requires the node
	// list to be sorted; we sort anyway and report cycles).
	order, err := topoSort(m.Graph.Nodes, g.values)
	if err != nil {
		return nil, err
	}
	sorted := make([]*node, len(order))
	for k, i := range order {
		n := g.nodes[i]
		on := m.Graph.Nodes[i]
		for j, name := range on.Inputs {
			if name == "" {
				n.in = append(n.in, nil)
				continue
			}
			v := g.values[name]
			if v == nil {
				return nil, n.errorf("input %d %q is not produced by any node, initializer or graph input", j, name)
			}
			n.in = append(n.in, v)
		}
		for len(n.in) > 0 && n.in[len(n.in)-1] == nil {
			n.in = n.in[:len(n.in)-1]
		}
		for _, name := range on.Outputs {
			if name == "" {
				n.out = append(n.out, nil)
				continue
			}
			if _, dup := g.values[name]; dup {
				return nil, n.errorf("output %q is defined twice", name)
			}
			v := &value{name: name, producer: n}
			g.values[name] = v
			n.out = append(n.out, v)
		}
		sorted[k] = n
	}
	g.nodes = sorted
	for _, vi := range m.Graph.Outputs {
		v := g.values[vi.Name]
		if v == nil {
			return nil, fmt.Errorf("graph output %q is not produced by any node", vi.Name)
		}
		v.output = true
		g.outputs = append(g.outputs, v)
	}
	if len(g.outputs) == 0 {
		return nil, errors.New("graph has no outputs")
	}
	return g, nil
}

// topoSort orders node indices so every node follows its producers.
func topoSort(nodes []*onnx.Node, known map[string]*value) ([]int, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.Outputs {
			if o != "" {
				producer[o] = i
			}
		}
	}
	state := make([]uint8, len(nodes)) // 0 new, 1 visiting, 2 done
	order := make([]int, 0, len(nodes))
	type frame struct{ i, next int }
	for start := range nodes {
		if state[start] != 0 {
			continue
		}
		stack := []frame{{start, 0}}
		state[start] = 1
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			n := nodes[f.i]
			if f.next < len(n.Inputs) {
				name := n.Inputs[f.next]
				f.next++
				if name == "" {
					continue
				}
				if _, ok := known[name]; ok {
					continue
				}
				p, ok := producer[name]
				if !ok {
					continue // reported when wiring
				}
				switch state[p] {
				case 1:
					return nil, fmt.Errorf("node %q (%s): graph has a cycle through %q", n.Name, n.OpType, name)
				case 0:
					state[p] = 1
					stack = append(stack, frame{p, 0})
				}
				continue
			}
			state[f.i] = 2
			order = append(order, f.i)
			stack = stack[:len(stack)-1]
		}
	}
	return order, nil
}

// bindShape fixes the shape of a graph input.
func bindShape(vi *onnx.ValueInfo, opts *Options) ([]int, error) {
	if s, ok := opts.InputShapes[vi.Name]; ok {
		// A given shape replaces the declared one: exporters sometimes
		// declare shapes their graphs do not need.
		for _, d := range s {
			if d < 0 {
				return nil, fmt.Errorf("input %q: given shape %v has a negative dimension", vi.Name, s)
			}
		}
		return append([]int(nil), s...), nil
	}
	if !vi.HasShape {
		return nil, fmt.Errorf("input %q has no declared shape; give one in Options.InputShapes", vi.Name)
	}
	shape := make([]int, len(vi.Dims))
	for i, d := range vi.Dims {
		switch {
		case d.Known && d.Value >= 0 && d.Value <= math.MaxInt32:
			shape[i] = int(d.Value)
		case d.Known:
			return nil, fmt.Errorf("input %q: dimension %d is %d", vi.Name, i, d.Value)
		default:
			shape[i] = 1 // symbolic or unknown: batch 1 by default
		}
	}
	return shape, nil
}

// convertTensor turns a decoded TensorProto into an engine tensor.
func convertTensor(t *onnx.Tensor, limit int64) (*Tensor, error) {
	dt := DType(t.DataType)
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	if n*4 > limit {
		return nil, fmt.Errorf("%d elements exceed the size limit of %d bytes", n, limit)
	}
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	out := &Tensor{DType: dt, Shape: shape}
	switch {
	case dt == Float64:
		out.F = make([]float32, len(t.Doubles))
		for i, x := range t.Doubles {
			out.F[i] = float32(x)
		}
	case dt.IsFloat():
		out.F = t.Floats
	case dt.IsInt():
		out.I = t.Ints
	default:
		return nil, &UnsupportedError{Op: "tensor", What: "type " + dt.String()}
	}
	if int64(max(len(out.F), len(out.I))) != n {
		return nil, fmt.Errorf("holds %d elements, shape %v needs %d", max(len(out.F), len(out.I)), shape, n)
	}
	if out.F == nil && out.I == nil {
		if dt.IsInt() {
			out.I = []int64{}
		} else {
			out.F = []float32{}
		}
	}
	return out, nil
}

// FromONNX converts a decoded ONNX tensor (such as a backend test's
// input_0.pb) into an engine tensor.
func FromONNX(t *onnx.Tensor) (*Tensor, error) {
	return convertTensor(t, DefaultMaxBytes)
}
