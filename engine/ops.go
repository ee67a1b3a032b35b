package engine

import (
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/qgemm"
)

// maxOpset is the newest ai.onnx opset whose semantics the engine follows.
const maxOpset = 21

// opDef describes one operator: its shape inference, its reference
// evaluation and optionally a faster kernel. Each op lives in its own file
// (op_*.go) next to its definition.
type opDef struct {
	// infer validates attributes and input types and sets the dtype and
	// shape of every output. It may store parsed parameters in n.params
	// and may set an output's constant directly (Shape, Constant).
	infer func(n *node) error
	// eval is the reference implementation and the test oracle: it writes
	// the outputs, which are allocated with the inferred shapes, and must
	// not allocate.
	eval func(n *node, in, out []*Tensor)
	// compile returns an optimised kernel, or nil to run eval.
	compile func(n *node, c *compiler) (Kernel, error)
	// view means output 0 holds input 0's elements unchanged (Reshape,
	// Flatten, Squeeze, Unsqueeze): the planner may alias the buffers.
	view bool
}

// opTable maps ONNX op types to their definitions. Each group is declared
// in the file that implements it (register an op next to its code); a name
// in two groups is a programming error caught by TestOpGroupsDisjoint.
var opTable = mergeOpGroups(opGroups...)

// opGroups lists the per-file op groups.
var opGroups = []map[string]*opDef{
	elementwiseOps, // op_binary.go, op_unary.go
	convOps,        // op_conv.go, op_gemm.go
	poolOps,        // op_pool.go
	normOps,        // op_batchnorm.go, op_softmax.go
	shapeOps,       // op_shape.go, op_layout.go
	reduceOps,      // op_reduce.go
	recurrentOps,   // op_rnn.go
	quantOps,       // op_quant.go
	controlOps,     // op_control.go
	signalOps,      // op_signal.go
}

// mergeOpGroups joins the per-file op groups into one table.
func mergeOpGroups(groups ...map[string]*opDef) map[string]*opDef {
	t := map[string]*opDef{}
	for _, g := range groups {
		for k, v := range g {
			t[k] = v
		}
	}
	return t
}

// SupportedOps returns the ONNX operator types the engine implements.
func SupportedOps() []string {
	ops := make([]string, 0, len(opTable))
	for k := range opTable {
		ops = append(ops, k)
	}
	sortStrings(ops)
	return ops
}

// Kernel runs one node of a planned model. Kernels are built once per Model
// and shared by all its Sessions, so they keep no per-call state: in and out
// are the node's tensors for this session, and x gives scratch memory.
type Kernel interface {
	Run(x *Exec, in, out []*Tensor)
}

// scratchUser is implemented by kernels that need work memory: the number
// of float32 elements of Exec.Scratch they use.
type scratchUser interface {
	ScratchSize() int
}

// Exec is the per-session execution context handed to kernels.
type Exec struct {
	scratch []float32
	bytes   []byte
	ints    []int32
	threads int
	pool    *pool
	par     gemm.Parallel // pool.run, bound once; nil with one thread
	im2col  im2colSource  // the convolution kernels' per-session BSource
	sub     []*planState  // the session's subgraph states, by subPlan.id (op_control.go)
	kr      kernelRange   // the kernel split by split, while it runs
}

// Scratch returns the session's work buffer, at least as large as the
// largest ScratchSize of the model's kernels. Its contents are undefined.
func (x *Exec) Scratch() []float32 { return x.scratch }

// Threads returns the number of threads the session may use.
func (x *Exec) Threads() int { return x.threads }

// Parallel runs fn(0), ..., fn(tasks-1) on the session's threads and waits
// for them; with one thread, or when called from inside a parallel region,
// it runs them in turn. Tasks are claimed dynamically, so giving it more
// tasks than threads makes a region tolerate a descheduled thread.
func (x *Exec) Parallel(tasks int, fn func(task int)) {
	if x.pool == nil {
		for i := 0; i < tasks; i++ {
			fn(i)
		}
		return
	}
	x.pool.run(tasks, fn)
}

// For runs body over [0, n): with one thread, when n <= grain, or when
// called from inside a parallel region, as body.RunRange(0, n) on the
// calling goroutine; otherwise cut into up to 4 ranges per thread of at
// least grain indices each, which the session's threads and the caller
// claim as they become free. Choose grain so that a range is worth a
// handoff (several microseconds of work). It allocates nothing.
func (x *Exec) For(n, grain int, body Ranger) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	if x.pool == nil || n <= grain {
		body.RunRange(0, n)
		return
	}
	x.pool.forRange(n, min((n+grain-1)/grain, x.threads*chunksPerThread), body)
}

// rangeKernel is a kernel whose work splits into independent ranges of
// [0, n) (element blocks, rows, planes, channels): runRange does [lo, hi)
// and may run concurrently with other ranges, so it must not use the
// session's scratch memory.
type rangeKernel interface {
	runRange(x *Exec, in, out []*Tensor, lo, hi int)
}

// kernelRange binds a rangeKernel's call to Ranger.
type kernelRange struct {
	x       *Exec
	k       rangeKernel
	in, out []*Tensor
}

// RunRange implements Ranger.
func (r *kernelRange) RunRange(lo, hi int) { r.k.runRange(r.x, r.in, r.out, lo, hi) }

// split runs k over [0, n) as For does, with the node's tensors.
func (x *Exec) split(k rangeKernel, in, out []*Tensor, n, grain int) {
	if x.pool == nil || n <= grain || x.pool.busy.Load() {
		k.runRange(x, in, out, 0, n)
		return
	}
	r := &x.kr
	r.x, r.k, r.in, r.out = x, k, in, out
	x.For(n, grain, r)
	*r = kernelRange{}
}

// GemmArgs sets the threading fields of a GEMM call to the session's pool
// (for kernels outside this package, such as the approximate ones).
func (x *Exec) GemmArgs(a *gemm.Args) { x.gemmArgs(a) }

// QGemmArgs sets the threading fields of an int8 GEMM call to the
// session's pool.
func (x *Exec) QGemmArgs(a *qgemm.Args) {
	if x.par != nil {
		a.Parallel, a.Tasks = qgemm.Parallel(x.par), x.threads
	}
}

// gemmArgs sets the threading fields of a GEMM call.
func (x *Exec) gemmArgs(a *gemm.Args) {
	if x.par != nil {
		a.Parallel, a.Tasks = x.par, x.threads
	}
}

// evalKernel runs an op's reference implementation.
type evalKernel struct{ n *node }

func (k evalKernel) Run(_ *Exec, in, out []*Tensor) { k.n.def.eval(k.n, in, out) }

// sameType sets out's dtype and shape to those of v.
func sameType(out, v *value) {
	out.dtype = v.dtype
	out.shape = append([]int(nil), v.shape...)
}

// needInputs checks the number of inputs.
func (n *node) needInputs(min, max int) error {
	if len(n.in) < min || len(n.in) > max {
		if min == max {
			return n.errorf("has %d inputs, expected %d", len(n.in), min)
		}
		return n.errorf("has %d inputs, expected %d to %d", len(n.in), min, max)
	}
	for i := 0; i < min; i++ {
		if n.in[i] == nil {
			return n.errorf("required input %d is missing", i)
		}
	}
	if len(n.out) == 0 || n.out[0] == nil {
		return n.errorf("has no output")
	}
	return nil
}

// needFloat checks that input i holds floating-point values.
func (n *node) needFloat(i int) error {
	if v := n.input(i); v != nil && !v.dtype.IsFloat() {
		return n.unsupported("input %d of type %v", i, v.dtype)
	}
	return nil
}
