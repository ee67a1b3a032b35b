package engine

import "github.com/kagen-ai/kagen/engine/gemm"

// gemmParams describe a Gemm node.
type gemmParams struct {
	transA, transB bool
	alpha, beta    float32
	m, n, k        int
}

var gemmOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		for i := range n.in {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		a, b := n.in[0], n.in[1]
		if len(a.shape) != 2 || len(b.shape) != 2 {
			return n.errorf("inputs %v and %v must be matrices", a.shape, b.shape)
		}
		p := &gemmParams{}
		var err error
		if p.transA, err = n.flagAttr("transA", 0); err != nil {
			return err
		}
		if p.transB, err = n.flagAttr("transB", 0); err != nil {
			return err
		}
		if p.alpha, err = n.attrFloat("alpha", 1); err != nil {
			return err
		}
		if p.beta, err = n.attrFloat("beta", 1); err != nil {
			return err
		}
		p.m, p.k = a.shape[0], a.shape[1]
		if p.transA {
			p.m, p.k = p.k, p.m
		}
		kb, nb := b.shape[0], b.shape[1]
		if p.transB {
			kb, nb = nb, kb
		}
		if kb != p.k {
			return n.errorf("inner dimensions differ: A %v (transA=%v), B %v (transB=%v)", a.shape, p.transA, b.shape, p.transB)
		}
		p.n = nb
		if c := n.input(2); c != nil {
			if _, err := broadcastShapes([]int{p.m, p.n}, c.shape); err != nil || len(c.shape) > 2 {
				return n.errorf("C %v does not broadcast to [%d %d]", c.shape, p.m, p.n)
			}
			if s, _ := broadcastShapes([]int{p.m, p.n}, c.shape); s[0] != p.m || s[1] != p.n {
				return n.errorf("C %v does not broadcast to [%d %d]", c.shape, p.m, p.n)
			}
		}
		n.params = p
		n.out[0].dtype = a.dtype
		n.out[0].shape = []int{p.m, p.n}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*gemmParams)
		a, b := in[0].F, in[1].F
		var c *Tensor
		if len(in) > 2 {
			c = in[2]
		}
		y := out[0].F
		for i := 0; i < p.m; i++ {
			for j := 0; j < p.n; j++ {
				var s float64
				for k := 0; k < p.k; k++ {
					ai := i*p.k + k
					if p.transA {
						ai = k*p.m + i
					}
					bi := k*p.n + j
					if p.transB {
						bi = j*p.k + k
					}
					s += float64(a[ai]) * float64(b[bi])
				}
				s *= float64(p.alpha)
				if c != nil {
					s += float64(p.beta) * float64(c.F[broadcastIndex(c.Shape, i, j)])
				}
				y[i*p.n+j] = n.act.apply(float32(s))
			}
		}
	},
	compile: compileGemm,
}

// broadcastIndex returns the element of a rank <= 2 tensor that broadcasts
// to position (i, j) of a matrix.
func broadcastIndex(shape []int, i, j int) int {
	switch len(shape) {
	case 0:
		return 0
	case 1:
		if shape[0] == 1 {
			return 0
		}
		return j
	}
	r, c := i, j
	if shape[0] == 1 {
		r = 0
	}
	if shape[1] == 1 {
		c = 0
	}
	return r*shape[1] + c
}

// denseKernel is C = A*B (+bias) with B packed once: Gemm and MatMul
// against constant weights.
type denseKernel struct {
	m, n, k  int
	transA   bool
	packed   *gemm.PackedB
	bias     []float32
	biasMode gemm.BiasMode
	act      activation
	scratch  int
}

func compileGemm(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*gemmParams)
	b := n.in[1]
	if b.constant == nil {
		return nil, nil
	}
	k := &denseKernel{m: p.m, n: p.n, k: p.k, transA: p.transA, act: n.act}
	w := b.constant.F
	if p.alpha != 1 {
		scaled := make([]float32, len(w))
		for i, v := range w {
			scaled[i] = v * p.alpha
		}
		w = scaled
	}
	ldb := p.n
	if p.transB {
		ldb = p.k
	}
	k.packed = gemm.PackB(make([]float32, gemm.PackedBSize(p.k, p.n)), p.k, p.n, w, ldb, p.transB)
	if c := n.input(2); c != nil {
		if c.constant == nil {
			return nil, nil
		}
		cs := c.shape
		switch {
		case numel(cs) == 1:
			k.bias = make([]float32, p.n)
			for j := range k.bias {
				k.bias[j] = c.constant.F[0] * p.beta
			}
			k.biasMode = gemm.BiasPerCol
		case len(cs) == 1 || cs[0] == 1 && cs[1] == p.n:
			k.bias = scaleCopy(c.constant.F, p.beta)
			k.biasMode = gemm.BiasPerCol
		case len(cs) == 2 && cs[1] == 1 && cs[0] == p.m:
			k.bias = scaleCopy(c.constant.F, p.beta)
			k.biasMode = gemm.BiasPerRow
		default:
			return nil, nil // a full C matrix: the reference kernel
		}
	}
	k.scratch = c.gemmScratch(gemm.Args{M: p.m, N: p.n, K: p.k, PackedB: k.packed, TransA: p.transA})
	return k, nil
}

func scaleCopy(v []float32, f float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * f
	}
	return out
}

// ScratchSize implements scratchUser.
func (k *denseKernel) ScratchSize() int { return k.scratch }

// Run implements Kernel.
func (k *denseKernel) Run(x *Exec, in, out []*Tensor) {
	args := gemm.Args{
		M: k.m, N: k.n, K: k.k,
		A: in[0].F, TransA: k.transA,
		PackedB: k.packed,
		C:       out[0].F,
		Bias:    k.bias, BiasMode: k.biasMode,
		Scratch: x.scratch,
	}
	if k.act.on {
		args.Clamp, args.Lo, args.Hi = true, k.act.lo, k.act.hi
	}
	args.Epilogue = k.act.epilogue() // the function, on each finished block
	x.gemmArgs(&args)
	gemm.Sgemm(&args)
}

// matMulParams describe a MatMul with numpy semantics.
type matMulParams struct {
	m, n, k int
	batch   []int // broadcast batch shape of the output
	aRank1  bool
	bRank1  bool
	aBatch  []int
	bBatch  []int
}

var matMulOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		for i := range n.in {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		a, b := n.in[0].shape, n.in[1].shape
		if len(a) == 0 || len(b) == 0 {
			return n.errorf("inputs %v and %v must not be scalars", a, b)
		}
		p := &matMulParams{}
		if len(a) == 1 {
			p.aRank1 = true
			a = []int{1, a[0]}
		}
		if len(b) == 1 {
			p.bRank1 = true
			b = []int{b[0], 1}
		}
		p.m, p.k = a[len(a)-2], a[len(a)-1]
		if b[len(b)-2] != p.k {
			return n.errorf("inner dimensions differ: %v and %v", n.in[0].shape, n.in[1].shape)
		}
		p.n = b[len(b)-1]
		p.aBatch, p.bBatch = a[:len(a)-2], b[:len(b)-2]
		batch, err := broadcastShapes(p.aBatch, p.bBatch)
		if err != nil {
			return n.errorf("batch dimensions: %v", err)
		}
		if len(batch) > maxRank {
			return n.unsupported("rank above %d", maxRank)
		}
		p.batch = batch
		shape := append([]int(nil), batch...)
		if !p.aRank1 {
			shape = append(shape, p.m)
		}
		if !p.bRank1 {
			shape = append(shape, p.n)
		}
		n.params = p
		n.out[0].dtype = n.in[0].dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*matMulParams)
		a, b, y := in[0].F, in[1].F, out[0].F
		mk, kn, mn := p.m*p.k, p.k*p.n, p.m*p.n
		broadcastIter(p.batch, p.aBatch, p.bBatch, func(o, ia, ib, cnt, sa, sb int) {
			for t := 0; t < cnt; t++ {
				ao, bo, yo := (ia+t*sa)*mk, (ib+t*sb)*kn, (o+t)*mn
				for i := 0; i < p.m; i++ {
					for j := 0; j < p.n; j++ {
						var s float64
						for k := 0; k < p.k; k++ {
							s += float64(a[ao+i*p.k+k]) * float64(b[bo+k*p.n+j])
						}
						y[yo+i*p.n+j] = n.act.apply(float32(s))
					}
				}
			}
		})
	},
	compile: compileMatMul,
}

func compileMatMul(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*matMulParams)
	b := n.in[1]
	if b.constant == nil || len(p.bBatch) != 0 {
		return newMatMulKernel(p, n.act, c), nil
	}
	m := numel(p.aBatch) * p.m // all batch rows of A against one B
	k := &denseKernel{m: m, n: p.n, k: p.k, act: n.act}
	k.packed = gemm.PackB(make([]float32, gemm.PackedBSize(p.k, p.n)), p.k, p.n, b.constant.F, p.n, false)
	k.scratch = c.gemmScratch(gemm.Args{M: m, N: p.n, K: p.k, PackedB: k.packed})
	return k, nil
}

// batchedGemm is a list of products C_i = op(A_i) * op(B_i) of one shape
// whose operands sit at tabulated offsets of three buffers, each product
// one GEMM call: batched MatMul with broadcast batch dimensions, and the
// two-operand Einsum forms.
type batchedGemm struct {
	m, n, k        int
	transA, transB bool
	lda, ldb, ldc  int
	// offA, offB and offC give the start of each product's operands.
	offA, offB, offC []int
	act              activation
	scratch          int // GEMM scratch of one call
}

// fold turns products that share B and whose A and C matrices follow one
// another (A row-major, rows of A and C packed) into one call with all
// their rows.
func (g *batchedGemm) fold() {
	count := len(g.offA)
	if count < 2 || g.transA {
		return
	}
	for i := 0; i < count; i++ {
		if g.offB[i] != g.offB[0] || g.offA[i] != g.offA[0]+i*g.m*g.lda || g.offC[i] != g.offC[0]+i*g.m*g.ldc {
			return
		}
	}
	g.m *= count
	g.offA, g.offB, g.offC = g.offA[:1], g.offB[:1], g.offC[:1]
}

// setScratch records the scratch one call needs with the session's
// threads.
func (g *batchedGemm) setScratch(c *compiler) {
	g.scratch = c.gemmScratch(gemm.Args{M: g.m, N: g.n, K: g.k, TransA: g.transA, TransB: g.transB})
}

// run computes every product; scratch holds at least g.scratch elements.
func (g *batchedGemm) run(x *Exec, a, b, c, scratch []float32) {
	for i := range g.offA {
		args := gemm.Args{
			M: g.m, N: g.n, K: g.k,
			A: a[g.offA[i]:], LDA: g.lda, TransA: g.transA,
			B: b[g.offB[i]:], LDB: g.ldb, TransB: g.transB,
			C: c[g.offC[i]:], LDC: g.ldc,
			Scratch: scratch,
		}
		if g.act.on {
			args.Clamp, args.Lo, args.Hi = true, g.act.lo, g.act.hi
		}
		args.Epilogue = g.act.epilogue() // the function, on each finished block
		x.gemmArgs(&args)
		gemm.Sgemm(&args)
	}
}

// matMulKernel is MatMul with a computed (or batched) B: one GEMM call per
// batch matrix, or a single call when B is shared and A's batches are
// contiguous (then all of A's rows form one matrix).
type matMulKernel struct{ g batchedGemm }

func newMatMulKernel(p *matMulParams, act activation, c *compiler) *matMulKernel {
	g := batchedGemm{m: p.m, n: p.n, k: p.k, lda: max(p.k, 1), ldb: max(p.n, 1), ldc: max(p.n, 1), act: act}
	mk, kn, mn := p.m*p.k, p.k*p.n, p.m*p.n
	broadcastIter(p.batch, p.aBatch, p.bBatch, func(o, ia, ib, cnt, sa, sb int) {
		for t := 0; t < cnt; t++ {
			g.offA = append(g.offA, (ia+t*sa)*mk)
			g.offB = append(g.offB, (ib+t*sb)*kn)
			g.offC = append(g.offC, (o+t)*mn)
		}
	})
	g.fold()
	g.setScratch(c)
	return &matMulKernel{g: g}
}

// ScratchSize implements scratchUser.
func (k *matMulKernel) ScratchSize() int { return k.g.scratch }

// Run implements Kernel.
func (k *matMulKernel) Run(x *Exec, in, out []*Tensor) {
	k.g.run(x, in[0].F, in[1].F, out[0].F, x.scratch)
}

// convOps are the operators that run on the GEMM kernels (this file,
// op_conv.go, op_convtranspose.go and op_einsum.go).
var convOps = map[string]*opDef{
	"Conv": &convOp, "Gemm": &gemmOp, "MatMul": &matMulOp, "Einsum": &einsumOp,
	"ConvTranspose": &convTransposeOp,
}
