package engine

import (
	"fmt"
	"time"

	"github.com/kagen-ai/kagen/engine/gemm"
)

// This file is the seam through which the approximation knobs (package
// approx) build their own kernels for planned nodes: the geometry, weights
// and fused activation of convolutions and dense layers, and scratch memory
// that grows on first use.

// Activation is the element-wise epilogue a node applies to its output: a
// clamp to [Lo, Hi] when On (a fused Relu is [0, +Inf)), then the
// function Fn (SiLU, sigmoid, ...). The zero value changes nothing.
type Activation struct {
	On     bool
	Lo, Hi float32
	Fn     ActFn
	// Alpha and Beta are HardSigmoid's and HardSwish's: clamp(Alpha*x+Beta, 0, 1).
	Alpha, Beta float32
}

// ActFn is the function of an Activation, applied after its clamp.
type ActFn uint8

// The activation functions a node's epilogue may apply.
const (
	ActIdentity    = ActFn(actIdentity)
	ActSigmoid     = ActFn(actSigmoid)     // 1/(1+e^-x)
	ActTanh        = ActFn(actTanh)        // tanh(x)
	ActSiLU        = ActFn(actSiLU)        // x*sigmoid(x)
	ActHardSigmoid = ActFn(actHardSigmoid) // clamp(Alpha*x+Beta, 0, 1)
	ActHardSwish   = ActFn(actHardSwish)   // x*clamp(Alpha*x+Beta, 0, 1)
	ActGelu        = ActFn(actGelu)        // x*(1+erf(x/sqrt(2)))/2
)

func (f ActFn) String() string { return actFn(f).String() }

func (a Activation) internal() activation {
	return activation{on: a.On, lo: a.Lo, hi: a.Hi, fn: actFn(a.Fn), alpha: a.Alpha, beta: a.Beta}
}

func publicAct(a activation) Activation {
	return Activation{On: a.on, Lo: a.lo, Hi: a.hi, Fn: ActFn(a.fn), Alpha: a.alpha, Beta: a.beta}
}

// Active reports whether the activation changes anything.
func (a Activation) Active() bool { return a.On || a.Fn != ActIdentity }

// Apply applies the activation to x (the reference of ApplySlice, in
// float64 where it computes a transcendental function).
func (a Activation) Apply(x float32) float32 {
	return a.internal().apply(x)
}

// ApplySlice applies the activation to every element of o in place, with
// the engine's vectorised kernels: the fast kernels call it on each block
// of output they finish.
func (a Activation) ApplySlice(o []float32) { a.internal().applySlice(o) }

// ApplyFn applies the function alone, not the clamp, to o in place: for
// kernels that clamp in their own loops (a GEMM with Clamp set).
func (a Activation) ApplyFn(o []float32) { a.internal().fnSlice(o) }

// ConvSpec describes a planned 1-D or 2-D convolution. 1-D convolutions
// have H = OH = KH = SH = DH = 1 and no top or bottom padding.
type ConvSpec struct {
	OneD                   bool
	Batch, C, H, W         int // input
	M, OH, OW              int // output channels and size
	KH, KW, SH, SW, DH, DW int
	PadT, PadL, PadB, PadR int
	Group                  int
	// Weights are [M, C/Group, KH, KW] (BatchNorm already folded in).
	Weights []float32
	// Bias has M elements, or is nil.
	Bias []float32
	Act  Activation
}

// Conv returns the convolution planned at step, if that step is a Conv with
// constant weights.
func (m *Model) Conv(step int) (*ConvSpec, bool) {
	if step < 0 || step >= len(m.steps) {
		return nil, false
	}
	return convSpecOf(m.steps[step].n)
}

// convSpecOf describes a Conv node with constant weights.
func convSpecOf(n *node) (*ConvSpec, bool) {
	p, ok := n.params.(*convParams)
	if !ok || !n.in[1].isConst() || n.input(2) != nil && !n.input(2).isConst() {
		return nil, false
	}
	w := p.window
	cs := &ConvSpec{OneD: w.nd == 1, Batch: w.batch, C: w.c, H: w.ih, W: w.iw, M: p.m, OH: w.oh, OW: w.ow,
		KH: w.kh, KW: w.kw, SH: w.sh, SW: w.sw, DH: w.dh, DW: w.dw, PadT: w.padT, PadL: w.padL, PadB: w.padB, PadR: w.padR,
		Group: p.group, Weights: n.in[1].constant.F, Act: publicAct(n.act)}
	if b := n.input(2); b != nil {
		cs.Bias = b.constant.F
	}
	return cs, true
}

// DenseSpec describes a planned dense layer Y[M x N] = X[M x K] W[K x N]
// (+ bias), from a Gemm or a MatMul with constant weights.
type DenseSpec struct {
	M, N, K int
	// TransA is true when the input X is stored K x M (Gemm transA).
	TransA bool
	// Weights are K x N, row-major, with Gemm's alpha folded in.
	Weights []float32
	// Bias has N elements (per column) or M (per row, BiasPerRow), or is
	// nil; Gemm's beta is folded in.
	Bias       []float32
	BiasPerRow bool
	Act        Activation
}

// Dense returns the dense layer planned at step, if that step runs the fast
// dense kernel (a Gemm or MatMul with constant weights).
func (m *Model) Dense(step int) (*DenseSpec, bool) {
	if step < 0 || step >= len(m.steps) {
		return nil, false
	}
	st := m.steps[step]
	k, ok := st.kernel.(*denseKernel)
	if !ok {
		return nil, false
	}
	n := st.n
	ds := &DenseSpec{M: k.m, N: k.n, K: k.k, TransA: k.transA, Bias: k.bias, BiasPerRow: k.biasMode == gemm.BiasPerRow, Act: publicAct(n.act)}
	w := n.in[1].constant.F
	switch p := n.params.(type) {
	case *gemmParams:
		ds.Weights = make([]float32, p.k*p.n)
		for kk := 0; kk < p.k; kk++ {
			for j := 0; j < p.n; j++ {
				v := w[kk*p.n+j]
				if p.transB {
					v = w[j*p.k+kk]
				}
				ds.Weights[kk*p.n+j] = v * p.alpha
			}
		}
	default:
		ds.Weights = w
	}
	return ds, true
}

// Floats returns n float32 elements of the session's scratch memory,
// growing it on first use. Its contents are undefined; kernels must not
// keep it across calls.
func (x *Exec) Floats(n int) []float32 {
	if len(x.scratch) < n {
		x.scratch = make([]float32, n)
	}
	return x.scratch[:n]
}

// Bytes returns n bytes of scratch memory separate from Floats, growing it
// on first use.
func (x *Exec) Bytes(n int) []byte {
	if len(x.bytes) < n {
		x.bytes = make([]byte, n)
	}
	return x.bytes[:n]
}

// Ints returns n int32 elements of scratch memory separate from Floats and
// Bytes, growing it on first use.
func (x *Exec) Ints(n int) []int32 {
	if len(x.ints) < n {
		x.ints = make([]int32, n)
	}
	return x.ints[:n]
}

// MatMulSpec describes a planned MatMul of two computed operands (an
// activation-by-activation product, such as attention's Q·Kᵀ and its
// product with V): Count products C_i[M x N] = A_i[M x K] B_i[K x N], row
// major with leading dimensions LDA, LDB and LDC, operand i starting at
// OffA[i], OffB[i] and OffC[i] of the node's first input, second input
// and output; then the activation.
type MatMulSpec struct {
	M, N, K          int
	LDA, LDB, LDC    int
	OffA, OffB, OffC []int
	Act              Activation
}

// ActMatMul returns the product planned at step, if that step runs a
// MatMul whose second operand is computed (or batched) rather than a
// constant weight matrix.
func (m *Model) ActMatMul(step int) (*MatMulSpec, bool) {
	if step < 0 || step >= len(m.steps) {
		return nil, false
	}
	k, ok := m.steps[step].kernel.(*matMulKernel)
	if !ok || k.g.transA || k.g.transB {
		return nil, false
	}
	g := &k.g
	return &MatMulSpec{M: g.m, N: g.n, K: g.k, LDA: g.lda, LDB: g.ldb, LDC: g.ldc,
		OffA: g.offA, OffB: g.offB, OffC: g.offC, Act: publicAct(g.act)}, true
}

// RNNSpec describes a planned LSTM, GRU or RNN node run by the fast
// recurrent kernel.
type RNNSpec struct {
	Op                              string // "LSTM", "GRU" or "RNN"
	Seq, Batch, Input, Hidden, Dirs int
	// ConstW and ConstR report whether the input and recurrent weights
	// are constants (the projection knobs of Model.RNNApprox need them).
	ConstW, ConstR bool
}

// RNN returns the recurrent node planned at step, if the fast recurrent
// kernel runs it.
func (m *Model) RNN(step int) (*RNNSpec, bool) {
	if step < 0 || step >= len(m.steps) {
		return nil, false
	}
	k, ok := m.steps[step].kernel.(*rnnKernel)
	if !ok {
		return nil, false
	}
	p := k.p
	n := m.steps[step].n
	return &RNNSpec{Op: n.op, Seq: p.seq, Batch: p.batch, Input: p.input, Hidden: p.hidden, Dirs: p.dirs,
		ConstW: n.in[rnnInW].constant != nil, ConstR: n.in[rnnInR].constant != nil}, true
}

// RNNHold returns the kernel of the recurrent node at step under the
// temporal knob: at the steps st (counted from each direction's first
// step) with st%stride == offset the state update is skipped (no
// recurrent product, no gate): the hidden and cell states are held and
// Y at that step repeats the held hidden state. Every other step runs
// the exact update from the held state. It shares the node's packed
// weights and work memory.
func (m *Model) RNNHold(step, stride, offset int) (Kernel, error) {
	if stride < 2 || offset < 0 || offset >= stride {
		return nil, fmt.Errorf("hold stride %d and offset %d, expected a stride of 2 or more and an offset in [0, stride)", stride, offset)
	}
	return m.RNNApprox(step, RNNApprox{Hold: stride, HoldOffset: offset})
}

// TimeStep times one step alone: it runs the steps before it exactly on
// inputs (so that the step's inputs hold what they hold in inference),
// then runs the step's kernel under a and under b (nil: exact)
// interleaved (a first on even runs, b on odd ones), len(nanosA) times
// each, recording each run's wall time in
// nanoseconds. The step's outputs never share memory with its inputs, so
// the runs see the same inputs. It allocates nothing; the inputs must
// have the planned shapes. Profiling a node's knobs this way costs a
// prefix of one inference and the node's own runs, not whole inferences.
func (s *Session) TimeStep(inputs []*Tensor, step int, a, b Selector, nanosA, nanosB []int64) error {
	if step < 0 || step >= len(s.m.steps) {
		return fmt.Errorf("step %d, the model has %d", step, len(s.m.steps))
	}
	if len(nanosB) != len(nanosA) {
		return fmt.Errorf("%d and %d timing slots, expected the same number", len(nanosA), len(nanosB))
	}
	sp, err := s.planFor(inputs, false)
	if err != nil {
		return err
	}
	if err := sp.bind(inputs); err != nil {
		return err
	}
	for i := 0; i < step; i++ {
		if k := sp.m.steps[i].kernel; k != nil {
			k.Run(&sp.x, sp.st.ins[i], sp.st.outs[i])
		}
	}
	kernel := func(sel Selector) Kernel {
		if sel != nil {
			if o := sel.Kernel(step); o != nil {
				return o
			}
		}
		return sp.m.steps[step].kernel
	}
	ka, kb := kernel(a), kernel(b)
	if ka == nil || kb == nil {
		clear(nanosA)
		clear(nanosB)
		return nil
	}
	in, out := sp.st.ins[step], sp.st.outs[step]
	for r := range nanosA {
		// a first on even runs, b first on odd ones: neither always finds
		// the caches the other warmed
		first, second, d1, d2 := ka, kb, &nanosA[r], &nanosB[r]
		if r%2 == 1 {
			first, second, d1, d2 = kb, ka, &nanosB[r], &nanosA[r]
		}
		t0 := time.Now()
		first.Run(&sp.x, in, out)
		t1 := time.Now()
		second.Run(&sp.x, in, out)
		*d1, *d2 = int64(t1.Sub(t0)), int64(time.Since(t1))
	}
	return nil
}
