package engine

// quantIndex maps a row of A (or a column of B) in a batch onto the element
// of a zero point or scale tensor: one for the tensor, one per row (or
// column), or one per row (or column) of every batch matrix.
type quantIndex struct {
	mode int // 0 per tensor, 1 per row or column, 2 per batch and row or column
	n    int // rows (or columns) per batch matrix
}

func (q quantIndex) at(batch, i int) int {
	switch q.mode {
	case 1:
		return i
	case 2:
		return batch*q.n + i
	}
	return 0
}

// intMatMulParams describe a MatMulInteger or QLinearMatMul node.
type intMatMulParams struct {
	mm               *matMulParams
	a, b             int // input indices of the operands
	aZP, bZP         int // input indices of the zero points, -1 if none
	aScale, bScale   int // QLinearMatMul: scales, -1 otherwise
	yScale, yZP      int
	qlinear          bool
	aq, bq           quantIndex
	aShift           int64 // 128 for int8 A: A+shift lies in [0, 255]
	qlo, qhi         int64 // QLinearMatMul: the output type's range
	aShape, bShape   []int
	aPerTensorScales bool // QLinearMatMul: a_scale is one value
}

var matMulIntegerOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 4); err != nil {
			return err
		}
		p := &intMatMulParams{a: 0, b: 1, aZP: -1, bZP: -1, aScale: -1, bScale: -1, yScale: -1, yZP: -1}
		if n.input(2) != nil {
			p.aZP = 2
		}
		if n.input(3) != nil {
			p.bZP = 3
		}
		if err := inferIntMatMul(n, p); err != nil {
			return err
		}
		n.out[0].dtype = Int32
		return nil
	},
	eval:    func(n *node, in, out []*Tensor) { intMatMulRef(n.params.(*intMatMulParams), in, out[0]) },
	compile: compileIntMatMul,
}

var qlinearMatMulOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(8, 8); err != nil {
			return err
		}
		p := &intMatMulParams{a: 0, aScale: 1, aZP: 2, b: 3, bScale: 4, bZP: 5, yScale: 6, yZP: 7, qlinear: true}
		if err := inferIntMatMul(n, p); err != nil {
			return err
		}
		yz, ys := n.in[p.yZP], n.in[p.yScale]
		lo, hi, ok := quantRange(yz.dtype)
		if !ok || yz.dtype != Uint8 && yz.dtype != Int8 {
			return n.unsupportedQuantType("output zero point", yz.dtype)
		}
		if yz.numel() != 1 || ys.numel() != 1 {
			return n.errorf("y_scale %v and y_zero_point %v must hold one element", ys.shape, yz.shape)
		}
		for _, i := range []int{p.aScale, p.bScale, p.yScale} {
			if !n.in[i].dtype.IsFloat() {
				return n.errorf("scale input %d has type %v, expected a floating-point type", i, n.in[i].dtype)
			}
		}
		if !equalShapes(n.in[p.aScale].shape, n.in[p.aZP].shape) || !equalShapes(n.in[p.bScale].shape, n.in[p.bZP].shape) {
			return n.errorf("scales %v, %v and zero points %v, %v differ in shape", n.in[p.aScale].shape, n.in[p.bScale].shape, n.in[p.aZP].shape, n.in[p.bZP].shape)
		}
		p.qlo, p.qhi = lo, hi
		p.aPerTensorScales = p.aq.mode == 0
		n.out[0].dtype = yz.dtype
		return nil
	},
	eval:    func(n *node, in, out []*Tensor) { intMatMulRef(n.params.(*intMatMulParams), in, out[0]) },
	compile: compileIntMatMul,
}

// inferIntMatMul checks the operands and zero points of an integer matrix
// product (numpy matmul semantics) and sets n.params and the output shape.
func inferIntMatMul(n *node, p *intMatMulParams) error {
	av, bv := n.in[p.a], n.in[p.b]
	for _, v := range []*value{av, bv} {
		if v.dtype != Uint8 && v.dtype != Int8 {
			return n.unsupportedQuantType("input "+v.name, v.dtype)
		}
	}
	if p.aZP >= 0 && n.in[p.aZP].dtype != av.dtype || p.bZP >= 0 && n.in[p.bZP].dtype != bv.dtype {
		return n.errorf("zero point types differ from their operands (%v, %v)", av.dtype, bv.dtype)
	}
	a, b := av.shape, bv.shape
	if len(a) == 0 || len(b) == 0 {
		return n.errorf("inputs %v and %v must not be scalars", a, b)
	}
	mm := &matMulParams{}
	if len(a) == 1 {
		mm.aRank1 = true
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		mm.bRank1 = true
		b = []int{b[0], 1}
	}
	mm.m, mm.k = a[len(a)-2], a[len(a)-1]
	if b[len(b)-2] != mm.k {
		return n.errorf("inner dimensions differ: %v and %v", av.shape, bv.shape)
	}
	mm.n = b[len(b)-1]
	mm.aBatch, mm.bBatch = a[:len(a)-2], b[:len(b)-2]
	batch, err := broadcastShapes(mm.aBatch, mm.bBatch)
	if err != nil {
		return n.errorf("batch dimensions: %v", err)
	}
	if len(batch) > maxRank {
		return n.unsupported("rank above %d", maxRank)
	}
	mm.batch = batch
	shape := append([]int(nil), batch...)
	if !mm.aRank1 {
		shape = append(shape, mm.m)
	}
	if !mm.bRank1 {
		shape = append(shape, mm.n)
	}
	p.mm, p.aShape, p.bShape = mm, a, b
	if p.aZP >= 0 {
		if p.aq, err = rowQuantIndex(n, n.in[p.aZP], a, false); err != nil {
			return err
		}
	}
	if p.bZP >= 0 {
		if p.bq, err = rowQuantIndex(n, n.in[p.bZP], b, true); err != nil {
			return err
		}
	}
	if av.dtype == Int8 {
		p.aShift = 128
	}
	n.params = p
	n.out[0].shape = shape
	return nil
}

// rowQuantIndex reads the shape of a zero point (or scale) v of a matrix
// operand of shape s (rank >= 2): one element, one per row of A ([M], or
// s[:-1]+[1]), or one per column of B ([N], or s[:-2]+[1, N]).
func rowQuantIndex(n *node, v *value, s []int, cols bool) (quantIndex, error) {
	r := len(s)
	if v.numel() == 1 && len(v.shape) <= 1 || v.numel() == 1 && r == 2 && len(v.shape) == 2 {
		return quantIndex{}, nil
	}
	cnt := s[r-2]
	want := append(append([]int(nil), s[:r-1]...), 1)
	if cols {
		cnt = s[r-1]
		want = append(append([]int(nil), s[:r-2]...), 1, cnt)
	}
	switch {
	case len(v.shape) == 1 && v.shape[0] == cnt:
		return quantIndex{mode: 1, n: cnt}, nil
	case equalShapes(v.shape, want):
		return quantIndex{mode: 2, n: cnt}, nil
	}
	what := "row of a"
	if cols {
		what = "column of b"
	}
	return quantIndex{}, n.errorf("zero point or scale %q of shape %v is neither one value nor one per %s %v", v.name, v.shape, what, s)
}

// optInts returns input i's integers, or nil when it is absent.
func optInts(in []*Tensor, i int) []int64 {
	if i < 0 || i >= len(in) || in[i] == nil {
		return nil
	}
	return in[i].I
}

// intMatMulRef is the reference integer matrix product: int64 sums of
// (a - za)*(b - zb), wrapped to int32, stored (MatMulInteger) or
// requantized (QLinearMatMul).
func intMatMulRef(p *intMatMulParams, in []*Tensor, out *Tensor) {
	mm := p.mm
	a, b, y := in[p.a].I, in[p.b].I, out.I
	za, zb := optInts(in, p.aZP), optInts(in, p.bZP)
	mk, kn, mn := mm.m*mm.k, mm.k*mm.n, mm.m*mm.n
	broadcastIter(mm.batch, mm.aBatch, mm.bBatch, func(o, ia, ib, cnt, sa, sb int) {
		for t := 0; t < cnt; t++ {
			ba, bb := ia+t*sa, ib+t*sb
			ao, bo, yo := ba*mk, bb*kn, (o+t)*mn
			for i := 0; i < mm.m; i++ {
				var zai int64
				if za != nil {
					zai = za[p.aq.at(ba, i)]
				}
				for j := 0; j < mm.n; j++ {
					var zbj int64
					if zb != nil {
						zbj = zb[p.bq.at(bb, j)]
					}
					var s int64
					for k := 0; k < mm.k; k++ {
						s += (a[ao+i*mm.k+k] - zai) * (b[bo+k*mm.n+j] - zbj)
					}
					acc := int32(s)
					if !p.qlinear {
						y[yo+i*mm.n+j] = int64(acc)
						continue
					}
					mult := outputScale(in[p.aScale].F[p.aq.at(ba, i)], in[p.bScale].F[p.bq.at(bb, j)], in[p.yScale].F[0])
					y[yo+i*mm.n+j] = requantize(acc, mult, in[p.yZP].I[0], p.qlo, p.qhi)
				}
			}
		}
	})
}

// intDenseKernel runs an integer matrix product against constant 2-D
// weights on qgemm (see op_quant_int.go): all rows of A's batch against
// one B.
type intDenseKernel struct {
	p    *intMatMulParams
	w    *intWeights
	rows int // batch * M
}

func compileIntMatMul(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*intMatMulParams)
	bv := n.in[p.b]
	if !bv.isConst() || len(p.mm.bBatch) != 0 {
		return nil, nil // weights fed at run time or batched: the reference kernel
	}
	mm := p.mm
	var zp []int64
	if p.bZP >= 0 && n.in[p.bZP].isConst() {
		zp = n.in[p.bZP].constant.I
	}
	w := packIntWeights(bv.constant.I, mm.n, mm.k, 1, mm.n, zp, false)
	return &intDenseKernel{p: p, w: w, rows: numel(mm.aBatch) * mm.m}, nil
}

// ScratchSize implements scratchUser: QLinearMatMul's per-column
// multipliers.
func (k *intDenseKernel) ScratchSize() int { return k.p.mm.n }

// Run implements Kernel.
func (k *intDenseKernel) Run(x *Exec, in, out []*Tensor) {
	p, w := k.p, k.w
	mm := p.mm
	rows, kk, nn, nch := k.rows, mm.k, mm.n, w.nch
	need := intGemmScratch(x, w, rows, 0)
	buf := x.Bytes(2*rows*kk + need)
	lo, hi, scr := buf[:rows*kk], buf[rows*kk:2*rows*kk], buf[2*rows*kk:]
	ints := x.Ints(2*rows*nch + 2*rows + nn)
	r1, r2 := ints[:rows*nch], ints[rows*nch:2*rows*nch]
	su, alpha, beta := ints[2*rows*nch:2*rows*nch+rows], ints[2*rows*nch+rows:2*rows*nch+2*rows], ints[2*rows*nch+2*rows:]

	a := in[p.a].I
	za := optInts(in, p.aZP)
	top := false
	for r := 0; r < rows; r++ {
		s, t := intCodes(lo[r*kk:], hi[r*kk:], a[r*kk:(r+1)*kk], p.aShift)
		su[r], top = s, top || t
		var z int64
		if za != nil {
			z = za[p.aq.at(r/mm.m, r%mm.m)]
		}
		alpha[r] = int32(z + p.aShift)
	}
	w.beta(beta, optInts(in, p.bZP))
	intGemm(x, w, rows, 0, lo, r1, scr)
	if top {
		intGemm(x, w, rows, 0, hi, r2, scr)
	} else {
		r2 = nil
	}

	y := out[0].I
	var mults []float32
	var ys float32
	var yz int64
	if p.qlinear {
		ys, yz = in[p.yScale].F[0], in[p.yZP].I[0]
		if p.aPerTensorScales {
			as, bs := in[p.aScale].F[0], in[p.bScale].F
			mults = x.scratch[:nn]
			for j := range mults {
				mults[j] = outputScale(as, bs[p.bq.at(0, j)], ys)
			}
		}
	}
	k32 := int32(kk)
	for r := 0; r < rows; r++ {
		row1 := r1[r*nch : (r+1)*nch]
		var row2 []int32
		if r2 != nil {
			row2 = r2[r*nch : (r+1)*nch]
		}
		al, s := alpha[r], su[r]
		yr := y[r*nn : (r+1)*nn]
		for j := range yr {
			bj := beta[j]
			v := intSum(row1, row2, j, int(w.ext[j])) - bj*s - al*w.sum[j] + k32*al*bj
			switch {
			case !p.qlinear:
				yr[j] = int64(v)
			case mults != nil:
				yr[j] = requantize(v, mults[j], yz, p.qlo, p.qhi)
			default:
				mult := outputScale(in[p.aScale].F[p.aq.at(r/mm.m, r%mm.m)], in[p.bScale].F[p.bq.at(0, j)], ys)
				yr[j] = requantize(v, mult, yz, p.qlo, p.qhi)
			}
		}
	}
}
