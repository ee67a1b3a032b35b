package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/onnx"
	"github.com/kagen-ai/kagen/internal/vec"
	"github.com/kagen-ai/kagen/internal/vmath"
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
	// graphs holds the subgraphs of a control-flow node by attribute name.
	graphs map[string]*graph
	// nIn is the number of the node's own inputs; in[nIn:] are the outer
	// values its subgraphs read.
	nIn int
}

// actFn is the function an activation applies after its clamp. The set is
// closed: every kernel that takes a fused activation applies all of them
// through activation.applySlice (or fnSlice after clamping in its own loop).
type actFn uint8

const (
	actIdentity    actFn = iota
	actSigmoid           // 1/(1+e^-x)
	actTanh              // tanh(x)
	actSiLU              // x*sigmoid(x) (Swish with beta 1)
	actHardSigmoid       // clamp(alpha*x+beta, 0, 1)
	actHardSwish         // x*clamp(alpha*x+beta, 0, 1)
	actGelu              // x*(1+erf(x/sqrt(2)))/2
)

var actFnNames = [...]string{"identity", "sigmoid", "tanh", "silu", "hardsigmoid", "hardswish", "gelu"}

func (f actFn) String() string { return actFnNames[f] }

// activation is the element-wise epilogue a kernel applies to its output:
// a clamp (Relu is [0, +Inf), Clip is [lo, hi]) when on, then fn.
type activation struct {
	on          bool
	lo, hi      float32
	fn          actFn
	alpha, beta float32 // HardSigmoid's and HardSwish's
	from        string  // names of the fused nodes, for inspect
}

// active reports whether the activation changes anything.
func (a activation) active() bool { return a.on || a.fn != actIdentity }

// clampOnly returns the activation's clamp without its function: kernels
// that clamp inside their own loops take it and call fnSlice after.
func (a activation) clampOnly() activation {
	return activation{on: a.on, lo: a.lo, hi: a.hi, from: a.from}
}

// apply is the scalar reference of applySlice (in float64 where it
// computes a transcendental function).
func (a activation) apply(x float32) float32 {
	if a.on {
		if x < a.lo {
			x = a.lo
		}
		if x > a.hi {
			x = a.hi
		}
	}
	switch a.fn {
	case actSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	case actTanh:
		return float32(math.Tanh(float64(x)))
	case actSiLU:
		return float32(float64(x) / (1 + math.Exp(-float64(x))))
	case actHardSigmoid:
		return hardSigmoid(x, a.alpha, a.beta)
	case actHardSwish:
		return x * hardSigmoid(x, a.alpha, a.beta)
	case actGelu:
		return float32(float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)) / 2)
	}
	return x
}

// hardSigmoid is max(0, min(1, alpha*x+beta)), NaN for NaN.
func hardSigmoid(x, alpha, beta float32) float32 {
	v := alpha*x + beta
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// applySlice applies the activation to every element of o in place. Fast
// kernels that do not clamp inside their own loops call it on each block of
// output they finish, while it is still in cache.
func (a activation) applySlice(o []float32) {
	if a.on {
		vec.Clamp(o, o, a.lo, a.hi)
	}
	a.fnSlice(o)
}

// Finish implements gemm.Epilogue: it applies the function (the GEMM
// clamped already) to each row of a block of C as the GEMM finishes it,
// while the block is in cache.
func (a *activation) Finish(c []float32, ldc, m, n int) {
	for i := 0; i < m; i++ {
		a.fnSlice(c[i*ldc : i*ldc+n])
	}
}

// epilogue returns a as the GEMM epilogue of a kernel that holds it, or
// nil when it has no function to apply after the GEMM's clamp.
func (a *activation) epilogue() gemm.Epilogue {
	if a.fn == actIdentity {
		return nil
	}
	return a
}

// actChunk is the block fnSlice computes a sigmoid into before multiplying
// (on the stack: the SiLU epilogue allocates nothing).
const actChunk = 256

// mulInPlace sets x[i] *= s[i] (arithVec: eight at a time in AVX where
// there is AVX).
func mulInPlace(x, s []float32) { arithVec('*', false, x, x, s) }

// fnSlice applies the activation's function, not its clamp, to o in place:
// for kernels that clamp in their own loops (the GEMM's epilogue).
func (a activation) fnSlice(o []float32) {
	switch a.fn {
	case actSigmoid:
		vmath.Sigmoid(o, o)
	case actTanh:
		vmath.Tanh(o, o)
	case actSiLU:
		vmath.SiLU(o, o)
	case actGelu:
		vmath.Gelu(o, o)
	case actHardSigmoid:
		vmath.HardSigmoid(o, o, a.alpha, a.beta)
	case actHardSwish:
		if a.alpha == 1.0/6 && a.beta == 0.5 {
			vmath.HardSwish(o, o) // ONNX's HardSwish
			return
		}
		var buf [actChunk]float32
		for len(o) > 0 {
			n := min(len(o), actChunk)
			s, x := buf[:n], o[:n]
			vmath.HardSigmoid(s, x, a.alpha, a.beta)
			mulInPlace(x, s)
			o = o[n:]
		}
	}
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

// graph is the engine's intermediate representation of a model, or of a
// subgraph held by a control-flow node (an If branch, a Loop or Scan body).
type graph struct {
	nodes   []*node
	values  map[string]*value
	inputs  []*value // a subgraph's inputs are its formal parameters (Loop, Scan)
	outputs []*value
	opset   int64
	ctx     *loadContext

	// Subgraphs only. A subgraph reads outer values by name; each one it
	// reads is represented inside it by a stand-in value (captured[i]),
	// typed from the owner's input n.in[n.nIn+capIn[i]] when the owner is
	// inferred, so that passes on the outer graph (which may replace that
	// input) never reach into the subgraph.
	parent   *graph
	owner    *node
	attr     string // the owner's attribute holding the graph
	depth    int
	captured []*value
	capIn    []int
	outer    []*value    // while building: the outer value captured[i] stands for
	src      *onnx.Graph // what it was built from (a Loop body is built again to unroll it)
}

// maxGraphDepth bounds the nesting of subgraphs (the decoder has its own
// limit; this one covers graphs built in memory).
const maxGraphDepth = 16

// loadContext is shared by the main graph and the subgraphs of one load.
type loadContext struct {
	opts   *Options
	passes []pass
	// changed counts, per pass, the changes made in subgraphs.
	changed []int
	// folded counts the bytes of constants computed by folding.
	folded int64
	// defaulted lists the symbolic or unknown input dimensions set to 1.
	defaulted []defaultedDim
	// unrolled counts the nodes made by unrolling loops (bounded in all,
	// so that nested loops cannot multiply).
	unrolled int64
	// warnings are shown by Model.Warnings (check.go).
	warnings []string
}

// defaultedDim is an input dimension bound to 1 because nothing bound it.
type defaultedDim struct {
	input string
	axis  int
	param string // the symbolic name; empty for an unnamed dimension
}

// buildGraph converts a decoded ONNX model into the IR, binding graph input
// shapes (symbolic dimensions from Options.Dims, unknown ones 1) and graph
// inputs given as constants. Subgraphs are built with their owners.
func buildGraph(m *onnx.Model, opts *Options) (*graph, error) {
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	g := &graph{values: map[string]*value{}, opset: m.Opset(), ctx: &loadContext{opts: opts}}
	if g.opset == 0 {
		var domains []string
		for d := range m.Opsets {
			domains = append(domains, d)
		}
		sortStrings(domains)
		return nil, &UnsupportedError{Op: "opset", What: fmt.Sprintf("no ai.onnx opset_import (imports %v)", domains)}
	}
	if err := checkOpset(g.opset); err != nil {
		return nil, err
	}
	if err := checkDims(m.Graph, opts); err != nil {
		return nil, err
	}
	if err := g.build(m.Graph); err != nil {
		return nil, err
	}
	if len(g.outputs) == 0 {
		return nil, errors.New("graph has no outputs")
	}
	return g, nil
}

// checkDims validates Options.Dims against the symbolic dimensions of the
// graph inputs.
func checkDims(og *onnx.Graph, opts *Options) error {
	if len(opts.Dims) == 0 {
		return nil
	}
	have := map[string]bool{}
	var names []string
	for _, vi := range og.Inputs {
		for _, d := range vi.Dims {
			if !d.Known && d.Param != "" && !have[d.Param] {
				have[d.Param] = true
				names = append(names, d.Param)
			}
		}
	}
	var keys []string
	for k := range opts.Dims {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		if v := opts.Dims[k]; v < 0 || v > math.MaxInt32 {
			return fmt.Errorf("dimension %s=%d is out of range", k, v)
		}
		if !have[k] {
			if len(names) == 0 {
				return fmt.Errorf("dimension %s is bound, but no input has symbolic dimensions", k)
			}
			return fmt.Errorf("dimension %s is bound, but no input has it (symbolic dimensions: %s)", k, strings.Join(names, ", "))
		}
	}
	return nil
}

// build fills g from og: values, nodes with their subgraphs, then the
// wiring in topological order.
func (g *graph) build(og *onnx.Graph) error {
	opts := g.ctx.opts
	g.src = og
	if og.SparseInitializers > 0 {
		return &UnsupportedError{Op: "graph", What: "sparse_initializer"}
	}
	for _, t := range og.Initializers {
		ct, err := convertTensor(t, opts.limit())
		if err != nil {
			return fmt.Errorf("initializer %q: %w", t.Name, err)
		}
		g.values[t.Name] = &value{name: t.Name, dtype: ct.DType, shape: ct.Shape, constant: ct}
		if w := nonFinite(t.Name, ct); w != "" {
			g.ctx.warnings = append(g.ctx.warnings, w)
		}
	}
	for _, vi := range og.Inputs {
		if _, isInit := g.values[vi.Name]; isInit {
			continue // an initializer listed as input (IR < 4): it is a constant
		}
		if g.parent != nil {
			// A subgraph's inputs may leave their type to the owner.
			if !vi.IsTensor && vi.Kind != onnx.TypeUndeclared {
				return &UnsupportedError{Op: "graph", What: fmt.Sprintf("non-tensor input %q (%s)", vi.Name, vi.Kind)}
			}
			if _, dup := g.values[vi.Name]; dup {
				return fmt.Errorf("input %q is defined twice", vi.Name)
			}
			v := &value{name: vi.Name, input: true} // typed by the owner
			g.values[vi.Name] = v
			g.inputs = append(g.inputs, v)
			continue
		}
		if c, ok := opts.Constants[vi.Name]; ok {
			g.values[vi.Name] = &value{name: vi.Name, dtype: c.DType, shape: c.Shape, constant: c}
			continue
		}
		if !vi.IsTensor {
			return &UnsupportedError{Op: "graph", What: fmt.Sprintf("non-tensor input %q (%s)", vi.Name, vi.Kind)}
		}
		dt := DType(vi.ElemType)
		if !dt.Supported() {
			return &UnsupportedError{Op: "graph", What: fmt.Sprintf("input %q of type %v", vi.Name, dt)}
		}
		shape, err := bindShape(vi, opts, g.ctx)
		if err != nil {
			return err
		}
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
			if n > opts.limit()/4 {
				return fmt.Errorf("input %q: shape %v exceeds the size limit of %d bytes", vi.Name, shape, opts.limit())
			}
		}
		if _, dup := g.values[vi.Name]; dup {
			return fmt.Errorf("input %q is defined twice", vi.Name)
		}
		v := &value{name: vi.Name, dtype: dt, shape: shape, input: true}
		g.values[vi.Name] = v
		g.inputs = append(g.inputs, v)
	}
	// Nodes and the values they produce, so that subgraphs can find them.
	nodes := make([]*node, len(og.Nodes))
	for i, on := range og.Nodes {
		n := &node{name: on.Name, op: on.OpType, index: i, attrs: map[string]*onnx.Attribute{}, opset: g.opset}
		if n.name == "" {
			n.name = fmt.Sprintf("%s_%d", on.OpType, i)
			if g.owner != nil {
				n.name = g.owner.name + "/" + g.attr + "/" + n.name
			}
		}
		if on.Domain != "" && on.Domain != "ai.onnx" {
			return &UnsupportedError{Node: n.name, Op: on.Domain + "." + on.OpType}
		}
		for _, a := range on.Attrs {
			if a.RefAttrName != "" {
				return n.unsupported("attribute %s (reference)", a.Name)
			}
			if a.HasGraph && controlOps[on.OpType] == nil {
				return n.unsupported("attribute %s (graph)", a.Name)
			}
			n.attrs[a.Name] = a
		}
		for _, name := range on.Outputs {
			if name == "" {
				n.out = append(n.out, nil)
				continue
			}
			if v, dup := g.values[name]; dup {
				return duplicateOutput(n, v)
			}
			v := &value{name: name, producer: n}
			g.values[name] = v
			n.out = append(n.out, v)
		}
		nodes[i] = n
	}
	// Subgraphs, each with the outer values it reads.
	captures := make([][]*value, len(nodes))
	extra := make([][]string, len(nodes))
	for i, n := range nodes {
		for _, a := range og.Nodes[i].Attrs {
			if !a.HasGraph {
				continue
			}
			if a.G == nil {
				return n.errorf("attribute %q holds %d graphs, expected one", a.Name, len(a.Graphs))
			}
			if g.depth+1 > maxGraphDepth {
				return n.errorf("attribute %q: graphs nested deeper than %d levels", a.Name, maxGraphDepth)
			}
			sub := &graph{values: map[string]*value{}, opset: g.opset, ctx: g.ctx, parent: g, owner: n, attr: a.Name, depth: g.depth + 1}
			if err := sub.build(a.G); err != nil {
				return n.errorf("attribute %q: %w", a.Name, err)
			}
			for _, ov := range sub.outer {
				j := 0
				for j < len(captures[i]) && captures[i][j] != ov {
					j++
				}
				if j == len(captures[i]) {
					captures[i] = append(captures[i], ov)
					extra[i] = append(extra[i], ov.name)
				}
				sub.capIn = append(sub.capIn, j)
			}
			sub.outer = nil
			if n.graphs == nil {
				n.graphs = map[string]*graph{}
			}
			n.graphs[a.Name] = sub
		}
	}
	// Wire inputs and outputs in topological order (ONNX requires the node
	// list to be sorted; we sort anyway and report cycles). A node reading
	// outer values through its subgraphs depends on their producers too.
	order, err := topoSort(og.Nodes, extra)
	if err != nil {
		return err
	}
	g.nodes = make([]*node, len(order))
	for k, i := range order {
		n := nodes[i]
		for j, name := range og.Nodes[i].Inputs {
			if name == "" {
				n.in = append(n.in, nil)
				continue
			}
			v := g.lookup(name)
			if v == nil {
				return n.errorf("input %d %q is not produced by any node, initializer or graph input", j, name)
			}
			n.in = append(n.in, v)
		}
		for len(n.in) > 0 && n.in[len(n.in)-1] == nil {
			n.in = n.in[:len(n.in)-1]
		}
		n.nIn = len(n.in)
		n.in = append(n.in, captures[i]...)
		g.nodes[k] = n
	}
	for _, vi := range og.Outputs {
		v := g.lookup(vi.Name)
		if v == nil {
			return fmt.Errorf("graph output %q is not produced by any node", vi.Name)
		}
		v.output = true
		g.outputs = append(g.outputs, v)
	}
	return nil
}

// lookup finds the value a name refers to in g, or in an enclosing graph;
// an outer value gets a stand-in in g (and in the graphs in between).
func (g *graph) lookup(name string) *value {
	if v := g.values[name]; v != nil {
		return v
	}
	if g.parent == nil {
		return nil
	}
	ov := g.parent.lookup(name)
	if ov == nil {
		return nil
	}
	v := &value{name: name, input: true}
	g.values[name] = v
	g.captured = append(g.captured, v)
	g.outer = append(g.outer, ov)
	return v
}

// topoSort orders node indices so every node follows the producers of its
// inputs and of the extra names it reads (through its subgraphs).
func topoSort(nodes []*onnx.Node, extra [][]string) ([]int, error) {
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
			if f.next < len(n.Inputs)+len(extra[f.i]) {
				var name string
				if f.next < len(n.Inputs) {
					name = n.Inputs[f.next]
				} else {
					name = extra[f.i][f.next-len(n.Inputs)]
				}
				f.next++
				if name == "" {
					continue
				}
				p, ok := producer[name]
				if !ok {
					continue // an initializer, an input, an outer value, or reported when wiring
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

// bindShape fixes the shape of a graph input: the shape given in
// Options.InputShapes, else the declared one with symbolic dimensions from
// Options.Dims and any other unknown dimension set to 1 (recorded in ctx).
func bindShape(vi *onnx.ValueInfo, opts *Options, ctx *loadContext) ([]int, error) {
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
			if v, ok := opts.Dims[d.Param]; ok && d.Param != "" {
				shape[i] = v
				continue
			}
			shape[i] = 1 // symbolic or unknown: batch 1 by default
			ctx.defaulted = append(ctx.defaulted, defaultedDim{input: vi.Name, axis: i, param: d.Param})
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
