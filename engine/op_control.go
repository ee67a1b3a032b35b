package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// Control flow: If, Loop and Scan, whose attributes hold subgraphs.
//
// A subgraph is built with its owner (graph.build): it reads outer values
// by name through stand-ins, which the owner's node lists as extra inputs
// (n.in[n.nIn:]), so the outer graph's passes and planner see those reads.
// When the owner is inferred its subgraphs are typed from its inputs and go
// through the whole load pipeline; at compile time each becomes a subPlan
// with its own steps and arena, and every session holds a planState for it
// (Exec.sub). An If whose condition is a constant is not planned at all:
// inferAndFold replaces it by the nodes of the branch it takes (spliceIf).

// controlOps are the control-flow operators, whose attributes hold subgraphs.
var controlOps = map[string]*opDef{
	"If":   &ifOp,
	"Loop": &loopOp,
	"Scan": &scanOp,
}

// subPlan is a compiled subgraph.
type subPlan struct {
	id    int // index of its state in Exec.sub
	steps []step
	mem   memPlan
	// capIn[i] is the owner's input that the stand-in mem.captured[i]
	// reads.
	capIn []int
	// The formal inputs carryFrom ... carryFrom+carryN-1 carry values from
	// one iteration to the next (Loop and Scan state).
	carryFrom, carryN int
	// nested are the subgraphs of its own control-flow nodes.
	nested []*subPlan
}

// subPlan compiles subgraph g of node n.
func (c *compiler) subPlan(n *node, g *graph, carryFrom, carryN int) (*subPlan, error) {
	first := len(c.subs)
	steps, p, err := c.compileGraph(g)
	if err != nil {
		return nil, n.errorf("attribute %q: %w", g.attr, err)
	}
	sp := &subPlan{id: len(c.subs), steps: steps, mem: *p, carryFrom: carryFrom, carryN: carryN}
	sp.nested = append(sp.nested, c.subs[first:]...)
	for _, k := range g.capIn {
		sp.capIn = append(sp.capIn, n.nIn+k)
	}
	c.subs = append(c.subs, sp)
	return sp, nil
}

// newState allocates one session's buffers for the subgraph.
func (sp *subPlan) newState() *planState {
	st := newPlanState(sp.steps, &sp.mem, true)
	for j := sp.carryFrom; j < sp.carryFrom+sp.carryN; j++ {
		t := st.inputs[j]
		c := &Tensor{DType: t.DType, Shape: t.Shape}
		if t.DType.IsInt() {
			c.I = make([]int64, len(t.I))
		} else {
			c.F = make([]float32, len(t.F))
		}
		st.carry = append(st.carry, c)
	}
	return st
}

// enter binds the subgraph's stand-ins to its owner's inputs and returns
// the session's state for it.
func (sp *subPlan) enter(x *Exec, in []*Tensor) *planState {
	st := x.sub[sp.id]
	for i, t := range st.captured {
		if sp.mem.slots[sp.mem.captured[i]].kind == slotInput {
			o := in[sp.capIn[i]]
			t.F, t.I = o.F, o.I
		}
	}
	return st
}

// tempExec builds an execution context for the given subgraphs alone, for
// the reference path (evalControl); it allocates.
func tempExec(scratch int, plans ...*subPlan) *Exec {
	x := &Exec{scratch: make([]float32, scratch), threads: 1}
	for _, p := range plans {
		for _, q := range append(append([]*subPlan(nil), p.nested...), p) {
			for len(x.sub) <= q.id {
				x.sub = append(x.sub, nil)
			}
			x.sub[q.id] = q.newState()
		}
	}
	return x
}

// controlKernel is the compiled kernel of a control-flow node, kept in its
// params so that eval can run it.
type controlKernel interface {
	Kernel
	standalone() *Exec
}

// controlParams is what the control-flow ops keep in n.params.
type controlParams struct {
	kernel controlKernel // set by compile
}

// evalControl is the reference entry point of the control-flow ops: it runs
// the compiled kernel with buffers of its own. Folding never calls it
// (control-flow nodes are not folded); it serves the reference selector.
func evalControl(n *node, in, out []*Tensor) {
	var k controlKernel
	switch p := n.params.(type) {
	case *ifParams:
		k = p.kernel
	case *loopParams:
		k = p.kernel
	case *scanParams:
		k = p.kernel
	}
	if k != nil {
		k.Run(k.standalone(), in, out)
	}
}

// prepareSubgraph types subgraph g's stand-ins from its owner n's inputs
// and runs the load passes on it. The formal inputs must be typed already.
func prepareSubgraph(n *node, g *graph) error {
	for i, v := range g.captured {
		o := n.in[n.nIn+g.capIn[i]]
		v.dtype, v.shape, v.constant = o.dtype, append([]int(nil), o.shape...), o.constant
	}
	for i, p := range g.ctx.passes {
		c, err := p.run(g, g.ctx.opts)
		if err != nil {
			return n.errorf("attribute %q: %w", g.attr, err)
		}
		g.ctx.changed[i] += c
	}
	return nil
}

// subgraph returns n's graph attribute name.
func (n *node) subgraph(name string) (*graph, error) {
	g := n.graphs[name]
	if g == nil {
		return nil, n.errorf("attribute %s is missing", name)
	}
	return g, nil
}

// truthy reads a one-element condition.
func truthy(t *Tensor) bool {
	if len(t.I) > 0 {
		return t.I[0] != 0
	}
	return len(t.F) > 0 && t.F[0] != 0
}

// checkCondition checks that input v of n is a one-element boolean.
func (n *node) checkCondition(v *value, field string) error {
	if v.numel() != 1 {
		return n.errorf("%s %q has shape %v, expected one element", field, v.name, v.shape)
	}
	if !v.dtype.IsInt() {
		return n.errorf("%s %q has type %v, expected BOOL", field, v.name, v.dtype)
	}
	return nil
}

// --- If ---

type ifParams struct {
	controlParams
	then, els *graph
}

var ifOp = opDef{
	infer:   inferIf,
	eval:    evalControl,
	compile: compileIf,
}

func inferIf(n *node) error {
	if n.nIn != 1 || len(n.out) == 0 {
		return n.errorf("has %d inputs and %d outputs, expected 1 input and at least one output", n.nIn, len(n.out))
	}
	if err := n.checkCondition(n.in[0], "condition"); err != nil {
		return err
	}
	p := &ifParams{}
	var err error
	if p.then, err = n.subgraph("then_branch"); err != nil {
		return err
	}
	if p.els, err = n.subgraph("else_branch"); err != nil {
		return err
	}
	for _, b := range []*graph{p.then, p.els} {
		if len(b.inputs) > 0 {
			return n.errorf("attribute %q: has %d inputs, expected none", b.attr, len(b.inputs))
		}
		if len(b.outputs) != len(n.out) {
			return n.errorf("attribute %q: has %d outputs, the node %d", b.attr, len(b.outputs), len(n.out))
		}
		if err := prepareSubgraph(n, b); err != nil {
			return err
		}
	}
	for k, o := range n.out {
		t, e := p.then.outputs[k], p.els.outputs[k]
		if t.dtype != e.dtype {
			return n.errorf("output %d: then_branch gives %v, else_branch %v", k, t.dtype, e.dtype)
		}
		if !equalShapes(t.shape, e.shape) {
			return n.unsupported("output %d: then_branch gives shape %v, else_branch %v (an output shape that depends on the condition cannot be planned; bind the inputs the condition is computed from with Options.Constants to fold it)",
				k, t.shape, e.shape)
		}
		if o != nil {
			sameType(o, t)
		}
	}
	n.params = p
	return nil
}

type ifKernel struct {
	then, els *subPlan
	scratch   int
}

func compileIf(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*ifParams)
	k := &ifKernel{}
	var err error
	if k.then, err = c.subPlan(n, p.then, 0, 0); err != nil {
		return nil, err
	}
	if k.els, err = c.subPlan(n, p.els, 0, 0); err != nil {
		return nil, err
	}
	k.scratch = c.scratch
	p.kernel = k
	return k, nil
}

func (k *ifKernel) standalone() *Exec { return tempExec(k.scratch, k.then, k.els) }

func (k *ifKernel) Run(x *Exec, in, out []*Tensor) {
	sp := k.els
	if truthy(in[0]) {
		sp = k.then
	}
	st := sp.enter(x, in)
	st.run(x, sp.steps)
	for i, o := range out {
		if o != nil {
			copyData(o, st.results[i])
		}
	}
}

// spliceIf replaces the If node g.nodes[i], whose condition is a constant,
// by the nodes of the branch it takes: the branch's stand-ins become the
// outer values they stand for, and each output of the If is produced by an
// Identity of the branch's output (removed by remove-identity).
func spliceIf(g *graph, i int) error {
	n := g.nodes[i]
	if n.nIn != 1 || len(n.out) == 0 {
		return n.errorf("has %d inputs and %d outputs, expected 1 input and at least one output", n.nIn, len(n.out))
	}
	if err := n.checkCondition(n.in[0], "condition"); err != nil {
		return err
	}
	take := "else_branch"
	if truthy(n.in[0].constant) {
		take = "then_branch"
	}
	b, err := n.subgraph(take)
	if err != nil {
		return err
	}
	if len(b.inputs) > 0 {
		return n.errorf("attribute %q: has %d inputs, expected none", take, len(b.inputs))
	}
	if len(b.outputs) != len(n.out) {
		return n.errorf("attribute %q: has %d outputs, the node %d", take, len(b.outputs), len(n.out))
	}
	outer := map[*value]*value{}
	for k, v := range b.captured {
		outer[v] = n.in[n.nIn+b.capIn[k]]
	}
	nodes := append([]*node(nil), b.nodes...)
	for _, bn := range nodes {
		for j, v := range bn.in {
			if o, ok := outer[v]; ok {
				bn.in[j] = o
			}
		}
	}
	for _, v := range b.outputs {
		v.output = false
	}
	inBranch := map[*node]bool{}
	for _, bn := range nodes {
		inBranch[bn] = true
	}
	uses := map[*value]int{}
	for _, v := range b.outputs {
		uses[v]++
	}
	for k, o := range n.out {
		if o == nil {
			continue
		}
		src := b.outputs[k]
		if s, ok := outer[src]; ok {
			src = s
		}
		if p := src.producer; p != nil && inBranch[p] && uses[src] == 1 {
			// The If's output takes the place of the branch's.
			for j, v := range p.out {
				if v == src {
					p.out[j] = o
				}
			}
			o.producer = p
			for _, bn := range nodes {
				for j, v := range bn.in {
					if v == src {
						bn.in[j] = o
					}
				}
			}
			continue
		}
		id := &node{name: n.name + "/" + take + "/" + o.name, op: "Identity", in: []*value{src}, out: []*value{o},
			attrs: map[string]*onnx.Attribute{}, opset: n.opset, nIn: 1, index: n.index}
		o.producer = id
		nodes = append(nodes, id)
	}
	rest := append(nodes, g.nodes[i+1:]...)
	g.nodes = append(g.nodes[:i], rest...)
	return nil
}

// --- Loop ---

type loopParams struct {
	controlParams
	body           *graph
	nCarried, nScn int
	trips          int64 // the static trip count when there are scan outputs
}

var loopOp = opDef{
	infer:   inferLoop,
	eval:    evalControl,
	compile: compileLoop,
}

func inferLoop(n *node) error {
	body, err := n.subgraph("body")
	if err != nil {
		return err
	}
	nIn := n.nIn
	if nIn < 2 {
		nIn = 2 // M and cond may both be omitted (trailing empty names)
	}
	N := nIn - 2
	if len(body.inputs) != N+2 {
		return n.errorf("attribute \"body\": has %d inputs, expected %d (iteration number, condition and %d loop-carried values)", len(body.inputs), N+2, N)
	}
	if len(body.outputs) < N+1 {
		return n.errorf("attribute \"body\": has %d outputs, expected at least %d (condition and %d loop-carried values)", len(body.outputs), N+1, N)
	}
	K := len(body.outputs) - 1 - N
	if len(n.out) != N+K {
		return n.errorf("has %d outputs, expected %d (%d loop-carried values, %d scan outputs)", len(n.out), N+K, N, K)
	}
	var M, cond *value
	if n.nIn > 0 {
		M = n.in[0]
	}
	if n.nIn > 1 {
		cond = n.in[1]
	}
	if M != nil && (M.numel() != 1 || !M.dtype.IsInt()) {
		return n.errorf("trip count %q is %v%v, expected one INT64", M.name, M.dtype, M.shape)
	}
	if cond != nil {
		if err := n.checkCondition(cond, "condition"); err != nil {
			return err
		}
	}
	if M == nil && cond == nil {
		return n.unsupported("neither a trip count nor a condition (the loop would never end)")
	}
	it, c := body.inputs[0], body.inputs[1]
	it.dtype, it.shape = Int64, []int{}
	c.dtype, c.shape = Bool, []int{}
	for j := 0; j < N; j++ {
		v := n.in[2+j]
		if v == nil {
			return n.errorf("loop-carried input %d is missing", j)
		}
		body.inputs[2+j].dtype, body.inputs[2+j].shape = v.dtype, append([]int(nil), v.shape...)
	}
	if err := prepareSubgraph(n, body); err != nil {
		return err
	}
	if co := body.outputs[0]; co.numel() != 1 || !co.dtype.IsInt() {
		return n.errorf("attribute \"body\": condition output %q is %v%v, expected one BOOL", co.name, co.dtype, co.shape)
	}
	for j := 0; j < N; j++ {
		in, out := body.inputs[2+j], body.outputs[1+j]
		if in.dtype != out.dtype {
			return n.errorf("attribute \"body\": loop-carried value %d comes in as %v and goes out as %v", j, in.dtype, out.dtype)
		}
		if !equalShapes(in.shape, out.shape) {
			return n.unsupported("loop-carried value %d changes shape from %v to %v", j, in.shape, out.shape)
		}
		if o := n.out[j]; o != nil {
			sameType(o, in)
		}
	}
	p := &loopParams{body: body, nCarried: N, nScn: K, trips: -1}
	if K > 0 {
		// Scan outputs stack one slice per iteration: their length must be
		// known when planning.
		if M == nil {
			return n.unsupported("scan outputs of a loop without a trip count")
		}
		if M.constant == nil {
			return &ConstantInputError{Node: n.name, Op: n.op, Input: M.name}
		}
		p.trips = max(M.constant.I[0], 0)
		if cond != nil {
			if cond.constant == nil {
				return &ConstantInputError{Node: n.name, Op: n.op, Input: cond.name}
			}
			if !truthy(cond.constant) {
				p.trips = 0
			}
		}
		if p.trips > 0 && !alwaysTrue(body) {
			return n.unsupported("scan outputs of a loop whose condition is computed in its body (their length is known only when it runs)")
		}
		limit := body.ctx.opts.limit()
		for s := 0; s < K; s++ {
			bo := body.outputs[1+N+s]
			per := int64(max(bo.numel(), 1)) * 4
			if p.trips > limit/per {
				return n.errorf("scan output %d: %d iterations of %v exceed the size limit of %d bytes", s, p.trips, bo.shape, limit)
			}
			if o := n.out[N+s]; o != nil {
				o.dtype = bo.dtype
				o.shape = append([]int{int(p.trips)}, bo.shape...)
			}
		}
	}
	n.params = p
	return nil
}

// alwaysTrue reports whether a loop body's condition output is provably
// true whenever the body runs: a true constant, or the condition input
// passed through.
func alwaysTrue(body *graph) bool {
	v := body.outputs[0]
	for range 64 {
		switch {
		case v.constant != nil:
			return truthy(v.constant)
		case v == body.inputs[1]:
			return true
		case v.producer != nil && v.producer.op == "Identity" && len(v.producer.in) == 1:
			v = v.producer.in[0]
		default:
			return false
		}
	}
	return false
}

type loopKernel struct {
	body           *subPlan
	nIn            int
	nCarried, nScn int
	scratch        int
}

func compileLoop(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*loopParams)
	body, err := c.subPlan(n, p.body, 2, p.nCarried)
	if err != nil {
		return nil, err
	}
	k := &loopKernel{body: body, nIn: n.nIn, nCarried: p.nCarried, nScn: p.nScn, scratch: c.scratch}
	p.kernel = k
	return k, nil
}

func (k *loopKernel) standalone() *Exec { return tempExec(k.scratch, k.body) }

func (k *loopKernel) Run(x *Exec, in, out []*Tensor) {
	st := k.body.enter(x, in)
	trips := int64(math.MaxInt64)
	if k.nIn > 0 && in[0] != nil {
		trips = in[0].I[0]
	}
	cond := true
	if k.nIn > 1 && in[1] != nil {
		cond = truthy(in[1])
	}
	N := k.nCarried
	for j := 0; j < N; j++ {
		copyData(st.inputs[2+j], in[2+j])
	}
	for t := int64(0); t < trips && cond; t++ {
		st.inputs[0].I[0] = t
		st.inputs[1].I[0] = 1
		st.run(x, k.body.steps)
		cond = truthy(st.results[0])
		for s := 0; s < k.nScn; s++ {
			if o := out[N+s]; o != nil {
				putSlice(o, st.results[1+N+s], 1, int(t), o.Len()/max(st.results[1+N+s].Len(), 1), st.results[1+N+s].Len())
			}
		}
		for j := 0; j < N; j++ {
			copyData(st.carry[j], st.results[1+j])
		}
		for j := 0; j < N; j++ {
			swapData(st.inputs[2+j], st.carry[j])
		}
	}
	for j := 0; j < N; j++ {
		if out[j] != nil {
			copyData(out[j], st.inputs[2+j])
		}
	}
}

// swapData exchanges the buffers of two tensors of the same type and shape.
func swapData(a, b *Tensor) {
	a.F, b.F = b.F, a.F
	a.I, b.I = b.I, a.I
}

// getSlice copies slice idx of src, seen as [outer, count, inner], into dst
// ([outer, inner]).
func getSlice(dst, src *Tensor, outer, idx, count, inner int) {
	if src.DType.IsInt() {
		for o := 0; o < outer; o++ {
			copy(dst.I[o*inner:(o+1)*inner], src.I[(o*count+idx)*inner:])
		}
		return
	}
	for o := 0; o < outer; o++ {
		copy(dst.F[o*inner:(o+1)*inner], src.F[(o*count+idx)*inner:])
	}
}

// putSlice copies src ([outer, inner]) into slice idx of dst, seen as
// [outer, count, inner]; a slice beyond dst is dropped.
func putSlice(dst, src *Tensor, outer, idx, count, inner int) {
	if idx >= count {
		return
	}
	if src.DType.IsInt() {
		for o := 0; o < outer; o++ {
			copy(dst.I[(o*count+idx)*inner:(o*count+idx+1)*inner], src.I[o*inner:])
		}
		return
	}
	for o := 0; o < outer; o++ {
		copy(dst.F[(o*count+idx)*inner:(o*count+idx+1)*inner], src.F[o*inner:])
	}
}

// --- Scan ---

type scanParams struct {
	controlParams
	body         *graph
	nState, nScn int // states, scan inputs
	nOut         int // scan outputs
	count        int // iterations
	// Per scan input and output: the tensor seen as [outer, count, inner]
	// around its scan axis, and whether it is walked backwards.
	inOuter, inInner   []int
	inRev              []bool
	outOuter, outInner []int
	outRev             []bool
}

var scanOp = opDef{
	infer:   inferScan,
	eval:    evalControl,
	compile: compileScan,
}

func inferScan(n *node) error {
	if n.opset < 9 {
		return n.unsupported("opset %d form (batch axis and sequence_lens; the opset 9 form is supported)", n.opset)
	}
	body, err := n.subgraph("body")
	if err != nil {
		return err
	}
	m, err := n.attrInt("num_scan_inputs", 0)
	if err != nil {
		return err
	}
	if m < 1 || m > int64(n.nIn) {
		return n.errorf("attribute num_scan_inputs is %d, expected 1 to %d (the number of inputs)", m, n.nIn)
	}
	M := int(m)
	N := n.nIn - M
	for i := 0; i < n.nIn; i++ {
		if n.in[i] == nil {
			return n.errorf("input %d is missing", i)
		}
	}
	if len(body.inputs) != N+M {
		return n.errorf("attribute \"body\": has %d inputs, expected %d (%d states, %d scan inputs)", len(body.inputs), N+M, N, M)
	}
	if len(body.outputs) < N {
		return n.errorf("attribute \"body\": has %d outputs, expected at least %d states", len(body.outputs), N)
	}
	K := len(body.outputs) - N
	if len(n.out) != N+K {
		return n.errorf("has %d outputs, expected %d (%d states, %d scan outputs)", len(n.out), N+K, N, K)
	}
	p := &scanParams{body: body, nState: N, nScn: M, nOut: K, count: -1}
	list := func(name string, k int) ([]int64, error) {
		v, ok, err := n.attrInts(name)
		if err != nil || !ok {
			return make([]int64, k), err
		}
		if len(v) != k {
			return nil, n.errorf("attribute %s has %d values, expected %d", name, len(v), k)
		}
		return v, nil
	}
	inAxes, err := list("scan_input_axes", M)
	if err != nil {
		return err
	}
	inDirs, err := list("scan_input_directions", M)
	if err != nil {
		return err
	}
	outAxes, err := list("scan_output_axes", K)
	if err != nil {
		return err
	}
	outDirs, err := list("scan_output_directions", K)
	if err != nil {
		return err
	}
	for j := 0; j < N; j++ {
		v := n.in[j]
		body.inputs[j].dtype, body.inputs[j].shape = v.dtype, append([]int(nil), v.shape...)
	}
	for j := 0; j < M; j++ {
		v := n.in[N+j]
		a, err := n.normAxis(inAxes[j], len(v.shape), "scan_input_axes value")
		if err != nil {
			return err
		}
		if inDirs[j] != 0 && inDirs[j] != 1 {
			return n.errorf("scan_input_directions[%d] is %d, expected 0 or 1", j, inDirs[j])
		}
		if p.count < 0 {
			p.count = v.shape[a]
		} else if v.shape[a] != p.count {
			return n.errorf("scan input %d %q has %d elements along axis %d, scan input 0 has %d", j, v.name, v.shape[a], a, p.count)
		}
		p.inOuter = append(p.inOuter, numel(v.shape[:a]))
		p.inInner = append(p.inInner, numel(v.shape[a+1:]))
		p.inRev = append(p.inRev, inDirs[j] == 1)
		slice := append(append([]int(nil), v.shape[:a]...), v.shape[a+1:]...)
		body.inputs[N+j].dtype, body.inputs[N+j].shape = v.dtype, slice
	}
	if err := prepareSubgraph(n, body); err != nil {
		return err
	}
	for j := 0; j < N; j++ {
		in, out := body.inputs[j], body.outputs[j]
		if in.dtype != out.dtype {
			return n.errorf("attribute \"body\": state %d comes in as %v and goes out as %v", j, in.dtype, out.dtype)
		}
		if !equalShapes(in.shape, out.shape) {
			return n.unsupported("state %d changes shape from %v to %v", j, in.shape, out.shape)
		}
		if o := n.out[j]; o != nil {
			sameType(o, in)
		}
	}
	for s := 0; s < K; s++ {
		bo := body.outputs[N+s]
		a, err := n.normAxis(outAxes[s], len(bo.shape)+1, "scan_output_axes value")
		if err != nil {
			return err
		}
		if outDirs[s] != 0 && outDirs[s] != 1 {
			return n.errorf("scan_output_directions[%d] is %d, expected 0 or 1", s, outDirs[s])
		}
		p.outOuter = append(p.outOuter, numel(bo.shape[:a]))
		p.outInner = append(p.outInner, numel(bo.shape[a:]))
		p.outRev = append(p.outRev, outDirs[s] == 1)
		if o := n.out[N+s]; o != nil {
			o.dtype = bo.dtype
			o.shape = append(append(append([]int(nil), bo.shape[:a]...), p.count), bo.shape[a:]...)
		}
	}
	n.params = p
	return nil
}

type scanKernel struct {
	p       *scanParams
	body    *subPlan
	scratch int
}

func compileScan(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*scanParams)
	body, err := c.subPlan(n, p.body, 0, p.nState)
	if err != nil {
		return nil, err
	}
	k := &scanKernel{p: p, body: body, scratch: c.scratch}
	p.kernel = k
	return k, nil
}

func (k *scanKernel) standalone() *Exec { return tempExec(k.scratch, k.body) }

func (k *scanKernel) Run(x *Exec, in, out []*Tensor) {
	p := k.p
	st := k.body.enter(x, in)
	N, T := p.nState, p.count
	for j := 0; j < N; j++ {
		copyData(st.inputs[j], in[j])
	}
	for t := 0; t < T; t++ {
		for j := 0; j < p.nScn; j++ {
			idx := t
			if p.inRev[j] {
				idx = T - 1 - t
			}
			getSlice(st.inputs[N+j], in[N+j], p.inOuter[j], idx, T, p.inInner[j])
		}
		st.run(x, k.body.steps)
		for s := 0; s < p.nOut; s++ {
			if o := out[N+s]; o != nil {
				idx := t
				if p.outRev[s] {
					idx = T - 1 - t
				}
				putSlice(o, st.results[N+s], p.outOuter[s], idx, T, p.outInner[s])
			}
		}
		for j := 0; j < N; j++ {
			copyData(st.carry[j], st.results[j])
		}
		for j := 0; j < N; j++ {
			swapData(st.inputs[j], st.carry[j])
		}
	}
	for j := 0; j < N; j++ {
		if out[j] != nil {
			copyData(out[j], st.inputs[j])
		}
	}
}

// Unrolling. A Loop body whose nodes need values known when planning that
// come from the iteration number (a Slice at [i, i+1), as exporters write
// x[i] in a for loop) cannot be planned once for all iterations. When the
// trip count is a small constant and the condition provably stays true,
// the loop is unrolled instead: the body is built again for each
// iteration, with the iteration number a constant, and its scan outputs
// are stacked with Unsqueeze and Concat.

// maxUnroll bounds the iterations of an unrolled loop, and maxUnrollNodes
// the nodes made by unrolling in one load.
const (
	maxUnroll      = 1024
	maxUnrollNodes = 1 << 15
)

// unrollLoop replaces the Loop g.nodes[i], whose inference failed with
// cause, by its unrolled iterations, if cause is a value needed when
// planning inside the body and the loop can be unrolled; ok says whether
// it was (err then reports a failure while unrolling).
func unrollLoop(g *graph, i int, cause error) (ok bool, err error) {
	n := g.nodes[i]
	var ce *ConstantInputError
	if !errors.As(cause, &ce) || ce.Node == n.name {
		return false, nil
	}
	body := n.graphs["body"]
	if body == nil || body.src == nil || n.nIn < 1 || n.in[0] == nil || !n.in[0].isConst() || len(n.in[0].constant.I) != 1 {
		return false, nil
	}
	if n.nIn > 1 && n.in[1] != nil && (!n.in[1].isConst() || !truthy(n.in[1].constant)) {
		return false, nil
	}
	trips := n.in[0].constant.I[0]
	N := max(n.nIn, 2) - 2
	K := len(n.out) - N
	cost := trips * int64(len(body.src.Nodes)+2)
	if trips < 1 || trips > maxUnroll || g.ctx.unrolled+cost > maxUnrollNodes || K < 0 {
		return false, nil
	}
	g.ctx.unrolled += cost
	carried := make([]*value, N)
	copy(carried, n.in[2:2+N])
	scans := make([][]*value, K)
	var nodes []*node
	// The copies find outer values as the body did: the names it captured
	// stand for the Loop's inputs as they are now (the Loop itself may be
	// a copy in an unrolled loop, its outer values substituted).
	scope := &graph{values: map[string]*value{}, opset: g.opset, ctx: g.ctx}
	for k, v := range body.captured {
		scope.values[v.name] = n.in[n.nIn+body.capIn[k]]
	}
	for t := int64(0); t < trips; t++ {
		cp := &graph{values: map[string]*value{}, opset: g.opset, ctx: g.ctx, parent: scope, owner: n, attr: "body", depth: body.depth}
		if err := cp.build(body.src); err != nil {
			return true, n.errorf("attribute \"body\": %w", err)
		}
		if len(cp.inputs) != N+2 || len(cp.outputs) != 1+N+K {
			return false, nil
		}
		if !passesCondition(cp) {
			return false, nil
		}
		sub := map[*value]*value{
			cp.inputs[0]: {name: fmt.Sprintf("%s@%d/iteration", n.name, t), dtype: Int64, shape: []int{}, constant: &Tensor{DType: Int64, Shape: []int{}, I: []int64{t}}},
			cp.inputs[1]: {name: fmt.Sprintf("%s@%d/condition", n.name, t), dtype: Bool, shape: []int{}, constant: &Tensor{DType: Bool, Shape: []int{}, I: []int64{1}}},
		}
		for j := 0; j < N; j++ {
			sub[cp.inputs[2+j]] = carried[j]
		}
		for k, v := range cp.captured {
			sub[v] = cp.outer[k]
		}
		mapped := func(v *value) *value {
			if o, ok := sub[v]; ok {
				return o
			}
			return v
		}
		for _, bn := range cp.nodes {
			bn.name = fmt.Sprintf("%s@%d", bn.name, t)
			for j, v := range bn.in {
				bn.in[j] = mapped(v)
			}
			nodes = append(nodes, bn)
		}
		for _, v := range cp.outputs {
			v.output = false
		}
		for j := 0; j < N; j++ {
			carried[j] = mapped(cp.outputs[1+j])
		}
		for s := 0; s < K; s++ {
			scans[s] = append(scans[s], mapped(cp.outputs[1+N+s]))
		}
	}
	mk := func(op, name string, in []*value, out *value, attrs map[string]*onnx.Attribute) {
		if attrs == nil {
			attrs = map[string]*onnx.Attribute{}
		}
		nn := &node{name: name, op: op, in: in, out: []*value{out}, attrs: attrs, opset: n.opset, nIn: len(in), index: n.index}
		out.producer = nn
		nodes = append(nodes, nn)
	}
	for j := 0; j < N; j++ {
		if o := n.out[j]; o != nil {
			mk("Identity", fmt.Sprintf("%s/carried_%d", n.name, j), []*value{carried[j]}, o, nil)
		}
	}
	axis0 := &value{name: n.name + "/axis_0", dtype: Int64, shape: []int{1}, constant: NewInt([]int64{0}, 1)}
	for s := 0; s < K; s++ {
		o := n.out[N+s]
		if o == nil {
			continue
		}
		var parts []*value
		for t, v := range scans[s] {
			u := &value{name: fmt.Sprintf("%s@%d/scan_%d", n.name, t, s)}
			if n.opset >= 13 {
				mk("Unsqueeze", u.name, []*value{v, axis0}, u, nil)
			} else {
				mk("Unsqueeze", u.name, []*value{v}, u, map[string]*onnx.Attribute{"axes": {Name: "axes", Type: onnx.AttrInts, Ints: []int64{0}}})
			}
			parts = append(parts, u)
		}
		mk("Concat", fmt.Sprintf("%s/scan_%d", n.name, s), parts, o, map[string]*onnx.Attribute{"axis": {Name: "axis", Type: onnx.AttrInt, I: 0}})
	}
	rest := append(nodes, g.nodes[i+1:]...)
	g.nodes = append(g.nodes[:i], rest...)
	return true, nil
}

// passesCondition reports whether a freshly built Loop body hands its
// condition on unchanged (through Identity nodes) or makes it a true
// constant.
func passesCondition(body *graph) bool {
	v := body.outputs[0]
	for range 64 {
		switch {
		case v == body.inputs[1]:
			return true
		case v.constant != nil:
			return truthy(v.constant)
		case v.producer == nil:
			return false
		case v.producer.op == "Identity" && len(v.producer.in) == 1:
			v = v.producer.in[0]
		case v.producer.op == "Constant":
			a := v.producer.attrs["value"]
			if a == nil || a.T == nil {
				return false
			}
			return len(a.T.Ints) == 1 && a.T.Ints[0] != 0 || len(a.T.Floats) == 1 && a.T.Floats[0] != 0
		default:
			return false
		}
	}
	return false
}

// graphMACs sums the multiply-accumulates of a subgraph's nodes.
func graphMACs(g *graph) int64 {
	if g == nil {
		return 0
	}
	var s int64
	for _, n := range g.nodes {
		s += n.macs()
	}
	return s
}

// macs counts the larger branch: what one run costs at most.
func (p *ifParams) macs() int64 { return max(graphMACs(p.then), graphMACs(p.els)) }

// macs counts one iteration of the body, times the trip count when it is
// known when planning.
func (p *loopParams) macs() int64 { return graphMACs(p.body) * max(1, p.trips) }

// macs counts every iteration of the body.
func (p *scanParams) macs() int64 { return graphMACs(p.body) * int64(max(1, p.count)) }
