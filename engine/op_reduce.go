package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vec"
	"github.com/kagen-ai/kagen/internal/vmath"
)

// The reductions share one parser, one reference and one kernel:
// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
// ReduceL2, ReduceLogSum, ReduceLogSumExp and ReduceSumSquare.

// reduceKind selects the reduction.
type reduceKind uint8

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceMax
	reduceMin
	reduceProd
	reduceL1
	reduceL2
	reduceLogSum
	reduceLogSumExp
	reduceSumSquare
)

// reduceParams describe a reduction: which input axes it reduces, and the
// input seen as [outer, red, inner] when the reduced axes form one block
// (after dropping size-1 axes), which the fast kernel handles.
type reduceParams struct {
	kind    reduceKind
	inShape []int
	reduce  []bool // per input axis
	count   int    // input elements per output element
	// The reference's loops: kept and reduced axes with input strides.
	keptDims, keptStrides []int
	redDims, redStrides   []int
	// The fast kernel's view, valid when block is set.
	block              bool
	outer, red, inner  int
	hasAxes, emptyAxes bool
}

func reduceDef(kind reduceKind, axesInputSince int64) opDef {
	return opDef{
		infer: func(n *node) error { return inferReduce(n, kind, axesInputSince) },
		eval:  evalReduce,
		compile: func(n *node, _ *compiler) (Kernel, error) {
			p := n.params.(*reduceParams)
			if !p.block || !n.in[0].dtype.IsFloat() || p.count == 0 {
				return nil, nil
			}
			return &reduceKernel{p: p}, nil
		},
	}
}

func inferReduce(n *node, kind reduceKind, since int64) error {
	if err := n.needInputs(1, 2); err != nil {
		return err
	}
	x := n.in[0]
	if !x.dtype.Supported() {
		return n.unsupported("input type %v", x.dtype)
	}
	r := len(x.shape)
	if r > maxRank {
		return n.unsupported("rank %d above %d", r, maxRank)
	}
	if n.opset < since && n.input(1) != nil {
		return n.errorf("axes are an attribute before opset %d, not an input", since)
	}
	axes, ok, err := axesArg(n, since)
	if err != nil {
		return err
	}
	keep, err := n.attrInt("keepdims", 1)
	if err != nil {
		return err
	}
	noopEmpty, err := n.attrInt("noop_with_empty_axes", 0)
	if err != nil {
		return err
	}
	p := &reduceParams{kind: kind, inShape: append([]int(nil), x.shape...), reduce: make([]bool, r)}
	if !ok || len(axes) == 0 {
		// No axes: every axis, or none with noop_with_empty_axes (each
		// output element then reduces its own element: L1 gives |x|,
		// SumSquare x², as the ONNX spec and ONNX Runtime have it).
		for i := range p.reduce {
			p.reduce[i] = noopEmpty == 0
		}
	}
	for _, a := range axes {
		i, err := n.normAxis(a, r, "axis")
		if err != nil {
			return err
		}
		p.reduce[i] = true
	}
	st := make([]int, r)
	stridesOf(x.shape, st)
	shape := []int{}
	p.count = 1
	for i, d := range x.shape {
		switch {
		case p.reduce[i]:
			p.redDims = append(p.redDims, d)
			p.redStrides = append(p.redStrides, st[i])
			p.count *= d
			if keep != 0 {
				shape = append(shape, 1)
			}
		default:
			p.keptDims = append(p.keptDims, d)
			p.keptStrides = append(p.keptStrides, st[i])
			shape = append(shape, d)
		}
	}
	// The block view: size-1 axes do not matter; the reduced axes that
	// remain must be adjacent.
	p.outer, p.red, p.inner = 1, 1, 1
	p.block = true
	state := 0 // 0 before the reduced block, 1 inside, 2 after
	for i, d := range x.shape {
		if d == 1 {
			continue
		}
		switch {
		case p.reduce[i] && state == 2:
			p.block = false
		case p.reduce[i]:
			state = 1
			p.red *= d
		case state == 0:
			p.outer *= d
		default:
			state = 2
			p.inner *= d
		}
	}
	n.params = p
	n.out[0].dtype = x.dtype
	n.out[0].shape = shape
	return nil
}

// evalReduce is the reference: for each output element, its reduced
// elements visited in order, accumulated in float64 (int64 for integer
// types).
func evalReduce(n *node, in, out []*Tensor) {
	p := n.params.(*reduceParams)
	x, o := in[0], out[0]
	var kidx, ridx [maxRank]int
	total := numel(p.keptDims)
	base := 0
	for k := 0; k < total; k++ {
		if x.DType.IsInt() {
			o.I[k] = reduceInts(p, x, base, &ridx)
		} else {
			o.F[k] = roundTo(o.DType, float32(reduceFloats(p, x.F, base, &ridx)))
		}
		for d := len(p.keptDims) - 1; d >= 0; d-- {
			kidx[d]++
			base += p.keptStrides[d]
			if kidx[d] < p.keptDims[d] {
				break
			}
			base -= p.keptStrides[d] * p.keptDims[d]
			kidx[d] = 0
		}
	}
}

// reducedOffsets calls fn with the input offset of every reduced element
// of the output element at base.
func reducedOffsets(p *reduceParams, base int, idx *[maxRank]int, fn func(off int)) {
	if p.count == 0 {
		return
	}
	r := len(p.redDims)
	for i := range idx[:r] {
		idx[i] = 0
	}
	off := base
	for c := 0; c < p.count; c++ {
		fn(off)
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			off += p.redStrides[d]
			if idx[d] < p.redDims[d] {
				break
			}
			off -= p.redStrides[d] * p.redDims[d]
			idx[d] = 0
		}
	}
}

func reduceFloats(p *reduceParams, x []float32, base int, idx *[maxRank]int) float64 {
	var acc float64
	switch p.kind {
	case reduceProd:
		acc = 1
	case reduceMax:
		acc = math.Inf(-1)
	case reduceMin:
		acc = math.Inf(1)
	case reduceLogSumExp:
		// Shift by the largest element so that exp cannot overflow.
		m := math.Inf(-1)
		reducedOffsets(p, base, idx, func(off int) {
			if v := float64(x[off]); v > m || v != v {
				m = v
			}
		})
		if math.IsInf(m, 0) || m != m {
			return m
		}
		reducedOffsets(p, base, idx, func(off int) { acc += math.Exp(float64(x[off]) - m) })
		return m + math.Log(acc)
	}
	reducedOffsets(p, base, idx, func(off int) {
		v := float64(x[off])
		switch p.kind {
		case reduceSum, reduceMean, reduceLogSum:
			acc += v
		case reduceProd:
			acc *= v
		case reduceMax:
			if v > acc || v != v {
				acc = v
			}
		case reduceMin:
			if v < acc || v != v {
				acc = v
			}
		case reduceL1:
			acc += math.Abs(v)
		case reduceL2, reduceSumSquare:
			acc += v * v
		}
	})
	switch p.kind {
	case reduceMean:
		return acc / float64(p.count) // NaN for an empty set
	case reduceL2:
		return math.Sqrt(acc)
	case reduceLogSum:
		return math.Log(acc)
	}
	return acc
}

func reduceInts(p *reduceParams, x *Tensor, base int, idx *[maxRank]int) int64 {
	lo, hi := intRangeOf(x.DType)
	var acc int64
	var facc float64
	switch p.kind {
	case reduceProd:
		acc = 1
	case reduceMax:
		acc = lo
	case reduceMin:
		acc = hi
	}
	reducedOffsets(p, base, idx, func(off int) {
		v := x.I[off]
		switch p.kind {
		case reduceSum, reduceMean:
			acc += v
		case reduceProd:
			acc *= v
		case reduceMax:
			acc = max(acc, v)
		case reduceMin:
			acc = min(acc, v)
		case reduceL1:
			acc += max(v, -v)
		case reduceL2, reduceSumSquare:
			acc += v * v
		case reduceLogSum:
			facc += float64(v)
		case reduceLogSumExp:
			facc += math.Exp(float64(v))
		}
	})
	switch p.kind {
	case reduceMean:
		if p.count > 0 {
			acc /= int64(p.count)
		}
	case reduceL2:
		return castFloatToInt(x.DType, float32(math.Sqrt(float64(acc))))
	case reduceLogSum, reduceLogSumExp:
		return castFloatToInt(x.DType, float32(math.Log(facc)))
	}
	return wrapInt(x.DType, acc)
}

// reduceKernel reduces a float input seen as [outer, red, inner]: each
// innermost row with a contiguous loop (vec.Sum for sums) when inner is
// 1, otherwise whole rows of inner elements combined vectorwise.
type reduceKernel struct{ p *reduceParams }

// ScratchSize is the sum row of LogSumExp over an outer axis.
func (k *reduceKernel) ScratchSize() int {
	if k.p.kind == reduceLogSumExp && k.p.inner > 1 {
		return k.p.inner
	}
	return 0
}

func (k *reduceKernel) Run(x *Exec, in, out []*Tensor) {
	p := k.p
	src, dst := in[0].F, out[0].F
	if p.inner == 1 {
		if p.kind == reduceSum || p.kind == reduceMean {
			scale := float32(1)
			if p.kind == reduceMean {
				scale = 1 / float32(p.red)
			}
			vec.SumPlanes(dst, src, p.red, scale)
		} else {
			for o := range dst {
				dst[o] = reduceRow(p.kind, src[o*p.red:(o+1)*p.red])
			}
		}
	} else {
		for o := 0; o < p.outer; o++ {
			reduceRows(p, src[o*p.red*p.inner:(o+1)*p.red*p.inner], dst[o*p.inner:(o+1)*p.inner], x.Scratch())
		}
	}
	if dt := out[0].DType; dt != Float32 {
		for i, v := range dst {
			dst[i] = roundTo(dt, v)
		}
	}
}

// reduceRow reduces one contiguous row (not empty).
func reduceRow(kind reduceKind, row []float32) float32 {
	switch kind {
	case reduceMax:
		return vmath.Max(row) // NaN if one is
	case reduceMin:
		return vmath.Min(row)
	case reduceProd:
		a := float32(1)
		for _, v := range row {
			a *= v
		}
		return a
	case reduceL1:
		var s [4]float32
		i := 0
		for ; i+4 <= len(row); i += 4 {
			s[0] += reduceAbs32(row[i])
			s[1] += reduceAbs32(row[i+1])
			s[2] += reduceAbs32(row[i+2])
			s[3] += reduceAbs32(row[i+3])
		}
		for ; i < len(row); i++ {
			s[0] += reduceAbs32(row[i])
		}
		return (s[0] + s[1]) + (s[2] + s[3])
	case reduceL2, reduceSumSquare:
		var s [4]float32
		i := 0
		for ; i+4 <= len(row); i += 4 {
			s[0] += row[i] * row[i]
			s[1] += row[i+1] * row[i+1]
			s[2] += row[i+2] * row[i+2]
			s[3] += row[i+3] * row[i+3]
		}
		for ; i < len(row); i++ {
			s[0] += row[i] * row[i]
		}
		t := (s[0] + s[1]) + (s[2] + s[3])
		if kind == reduceL2 {
			return float32(math.Sqrt(float64(t)))
		}
		return t
	case reduceLogSum:
		return float32(math.Log(float64(vec.Sum(row))))
	case reduceLogSumExp:
		m := reduceRow(reduceMax, row)
		if math.IsInf(float64(m), 0) || m != m {
			return m
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		return m + float32(math.Log(s))
	}
	return vec.Sum(row) // reduceSum (reduceMean goes through SumPlanes)
}

// reduceRows reduces red rows of len(dst) elements into dst.
func reduceRows(p *reduceParams, src, dst, scratch []float32) {
	n := len(dst)
	first := src[:n]
	switch p.kind {
	case reduceL1:
		for i, v := range first {
			dst[i] = reduceAbs32(v)
		}
	case reduceL2, reduceSumSquare:
		for i, v := range first {
			dst[i] = v * v
		}
	default:
		copy(dst, first)
	}
	for r := 1; r < p.red; r++ {
		row := src[r*n : (r+1)*n]
		row = row[:len(dst)]
		switch p.kind {
		case reduceSum, reduceMean, reduceLogSum:
			for i, v := range row {
				dst[i] += v
			}
		case reduceMax, reduceLogSumExp:
			for i, v := range row {
				dst[i] = max(dst[i], v)
			}
		case reduceMin:
			for i, v := range row {
				dst[i] = min(dst[i], v)
			}
		case reduceProd:
			for i, v := range row {
				dst[i] *= v
			}
		case reduceL1:
			for i, v := range row {
				dst[i] += reduceAbs32(v)
			}
		case reduceL2, reduceSumSquare:
			for i, v := range row {
				dst[i] += v * v
			}
		}
	}
	switch p.kind {
	case reduceMean:
		s := 1 / float32(p.red)
		for i := range dst {
			dst[i] *= s
		}
	case reduceL2:
		for i, v := range dst {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case reduceLogSum:
		for i, v := range dst {
			dst[i] = float32(math.Log(float64(v)))
		}
	case reduceLogSumExp:
		// dst holds the maxima; sum exp(x - max) in the scratch row.
		sum := scratch[:n]
		for i := range sum {
			sum[i] = 0
		}
		for r := 0; r < p.red; r++ {
			for i, v := range src[r*n : (r+1)*n] {
				sum[i] += float32(math.Exp(float64(v - dst[i])))
			}
		}
		for i, m := range dst {
			if !math.IsInf(float64(m), 0) && m == m {
				dst[i] = m + float32(math.Log(float64(sum[i])))
			}
		}
	}
}

func reduceAbs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// reduceOps are the reductions. ReduceSum takes its axes as an input from
// opset 13, the others from opset 18.
var reduceOps = map[string]*opDef{
	"ReduceSum":       reduceOpPtr(reduceDef(reduceSum, 13)),
	"ReduceMean":      reduceOpPtr(reduceDef(reduceMean, 18)),
	"ReduceMax":       reduceOpPtr(reduceDef(reduceMax, 18)),
	"ReduceMin":       reduceOpPtr(reduceDef(reduceMin, 18)),
	"ReduceProd":      reduceOpPtr(reduceDef(reduceProd, 18)),
	"ReduceL1":        reduceOpPtr(reduceDef(reduceL1, 18)),
	"ReduceL2":        reduceOpPtr(reduceDef(reduceL2, 18)),
	"ReduceLogSum":    reduceOpPtr(reduceDef(reduceLogSum, 18)),
	"ReduceLogSumExp": reduceOpPtr(reduceDef(reduceLogSumExp, 18)),
	"ReduceSumSquare": reduceOpPtr(reduceDef(reduceSumSquare, 18)),
}

func reduceOpPtr(d opDef) *opDef { return &d }
