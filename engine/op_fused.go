package engine

// The fused element-wise kernels: chains the fuse-elementwise and
// fuse-activation passes (passes_fuse.go) rewrite into one pass over a
// tensor when no Conv, Gemm or BatchNormalization produces it. A fused node
// keeps its op (Add, Mul) and name, so inspect and the profiles show what
// it came from; its def is one of these, its act the fused activation and
// act.from the names of the nodes it absorbed.

// fusedAddDef is Add of two float32 tensors of the same shape, then the
// activation: a residual connection and its Relu.
var fusedAddDef = opDef{
	infer: func(n *node) error { return nil }, // inferred as the Add it was
	eval: func(n *node, in, out []*Tensor) {
		a, b, y := in[0].F, in[1].F, out[0].F
		for i := range y {
			y[i] = n.act.apply(a[i] + b[i])
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) { return &fusedAddKernel{act: n.act}, nil },
}

// fusedAddKernel computes y = act(a+b) in blocks that stay in L1 between
// the sum and the activation.
type fusedAddKernel struct{ act activation }

// fusedBlock is the block of elements the fused kernels finish before
// applying the activation (16 KB of float32).
const fusedBlock = 4096

// Run implements Kernel.
func (k *fusedAddKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, len(out[0].F), elemGrain)
}

// runRange computes elements [lo, hi).
func (k *fusedAddKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	for b := lo; b < hi; b += fusedBlock {
		e := min(hi, b+fusedBlock)
		y, a, c := out[0].F[b:e], in[0].F[b:e], in[1].F[b:e]
		for i := range y {
			y[i] = a[i] + c[i]
		}
		k.act.applySlice(y)
	}
}

// fusedScaleParams describe Mul(x, s) where s holds one factor per batch
// item and channel of x ([N, C, 1, ...] or [1, C, 1, ...] or [C, 1, ...]):
// a squeeze-excitation scale.
type fusedScaleParams struct {
	xi         int // which input is x (the other is s)
	batch, c   int // of x
	size       int // elements per channel plane of x
	sBatched   bool
	sPerChanel bool // s has C factors (else one per batch item)
}

// fusedScaleDef is the per-channel Mul, then the activation.
var fusedScaleDef = opDef{
	infer: func(n *node) error { return nil }, // inferred as the Mul it was
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*fusedScaleParams)
		x, s, y := in[p.xi].F, in[1-p.xi].F, out[0].F
		for b := 0; b < p.batch; b++ {
			for c := 0; c < p.c; c++ {
				f := s[p.factor(b, c)]
				off := (b*p.c + c) * p.size
				for i := off; i < off+p.size; i++ {
					y[i] = n.act.apply(x[i] * f)
				}
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		return &fusedScaleKernel{p: n.params.(*fusedScaleParams), act: n.act}, nil
	},
}

// factor is the index in s of the factor of batch item b, channel c.
func (p *fusedScaleParams) factor(b, c int) int {
	i := 0
	if p.sBatched {
		i = b
	}
	if p.sPerChanel {
		i = i*p.c + c
	}
	return i
}

// fusedScaleKernel scales every channel plane by its factor.
type fusedScaleKernel struct {
	p   *fusedScaleParams
	act activation
}

// Run implements Kernel.
func (k *fusedScaleKernel) Run(x *Exec, in, out []*Tensor) {
	planes := k.p.batch * k.p.c
	x.split(k, in, out, planes, max(1, elemGrain/max(1, len(out[0].F)/max(1, planes))))
}

// runRange computes channel planes [lo, hi) (plane i is channel i%c of
// batch item i/c).
func (k *fusedScaleKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	p := k.p
	x, s, y := in[p.xi].F, in[1-p.xi].F, out[0].F
	for i := lo; i < hi; i++ {
		f := s[p.factor(i/p.c, i%p.c)]
		yp := y[i*p.size : (i+1)*p.size]
		scaleShift(yp, x[i*p.size:(i+1)*p.size], f, 0)
		k.act.applySlice(yp)
	}
}

// fusedActDef applies the activation alone: Mul(x, Sigmoid(x)) as SiLU,
// Mul(x, HardSigmoid(x)) as hard-swish, when no kernel produces x that
// could apply it (one pass over x where there were two and a temporary).
var fusedActDef = opDef{
	infer: func(n *node) error { return nil },
	eval: func(n *node, in, out []*Tensor) {
		y := out[0].F
		for i, v := range in[0].F[:len(y)] {
			y[i] = n.act.apply(v)
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) { return &fusedActKernel{act: n.act}, nil },
}

// fusedActKernel computes y = act(x).
type fusedActKernel struct{ act activation }

// Run implements Kernel.
func (k *fusedActKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, len(out[0].F), elemGrain/4)
}

// runRange computes elements [lo, hi).
func (k *fusedActKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	for b := lo; b < hi; b += fusedBlock {
		e := min(hi, b+fusedBlock)
		y := out[0].F[b:e]
		copy(y, in[0].F[b:e])
		k.act.applySlice(y)
	}
}

// isFusedDef reports whether d is one of this file's definitions.
func isFusedDef(d *opDef) bool {
	return d == &fusedAddDef || d == &fusedScaleDef || d == &fusedActDef
}
