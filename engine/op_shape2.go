package engine

import (
	"math"
)

// This file holds the shape-producing and data-movement operators added
// with Slice and Split: Expand, Tile, ConstantOfShape, Range, Size, Trilu,
// EyeLike, CastLike, OneHot, CumSum, ReverseSequence, NonZero, Compress.

// broadcastParams describe Expand and Tile: the input shape padded on the
// left to the output rank, and the output shape.
type broadcastParams struct {
	inShape, outShape []int
}

var expandOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		spec, err := n.constInts(1, "shape")
		if err != nil {
			return err
		}
		want, err := n.shapeFrom("shape", spec)
		if err != nil {
			return err
		}
		x := n.in[0]
		shape, err := broadcastShapes(x.shape, want)
		if err != nil {
			return n.errorf("shape: %v", err)
		}
		if len(shape) > maxRank {
			return n.unsupported("rank %d above %d", len(shape), maxRank)
		}
		if err := n.checkShapeElems("output shape", shape); err != nil {
			return err
		}
		in := make([]int, len(shape))
		for i := range in {
			in[i] = 1
		}
		copy(in[len(shape)-len(x.shape):], x.shape)
		n.params = &broadcastParams{inShape: in, outShape: shape}
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*broadcastParams)
		r := len(p.outShape)
		var ist, idx [maxRank]int
		stridesOf(p.inShape, ist[:r])
		total := numel(p.outShape)
		for k := 0; k < total; k++ {
			src := 0
			for d := 0; d < r; d++ {
				if p.inShape[d] != 1 {
					src += idx[d] * ist[d]
				}
			}
			copyElemAt(out[0], k, in[0], src)
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.outShape[d] {
					break
				}
				idx[d] = 0
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*broadcastParams)
		r := len(p.outShape)
		mp := movePlan{dims: p.outShape, src: make([]int, r)}
		stridesOf(p.inShape, mp.src)
		for d := range mp.src {
			if p.inShape[d] == 1 {
				mp.src[d] = 0
			}
		}
		return newMoveKernel(mp, moveTableRuns), nil
	},
}

var tileOp = opDef{
	infer: func(n *node) error {
		if n.opset < 6 {
			return n.unsupported("opset %d form (tiles and axis inputs)", n.opset)
		}
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		reps, err := n.constInts(1, "repeats")
		if err != nil {
			return err
		}
		x := n.in[0]
		if len(reps) != len(x.shape) {
			return n.errorf("repeats has %d entries for rank %d", len(reps), len(x.shape))
		}
		if len(x.shape) > maxRank {
			return n.unsupported("rank %d above %d", len(x.shape), maxRank)
		}
		rs, err := n.shapeFrom("repeats", reps)
		if err != nil {
			return err
		}
		shape := make([]int, len(x.shape))
		for i, d := range x.shape {
			if d > maxShapeElems || rs[i] > 0 && d > maxShapeElems/rs[i] {
				return n.errorf("repeats %v make a too large output", reps)
			}
			shape[i] = d * rs[i]
		}
		if err := n.checkShapeElems("output shape", shape); err != nil {
			return err
		}
		n.params = &broadcastParams{inShape: append([]int(nil), x.shape...), outShape: shape}
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*broadcastParams)
		r := len(p.outShape)
		var ist, idx [maxRank]int
		stridesOf(p.inShape, ist[:r])
		total := numel(p.outShape)
		for k := 0; k < total; k++ {
			src := 0
			for d := 0; d < r; d++ {
				src += idx[d] % p.inShape[d] * ist[d]
			}
			copyElemAt(out[0], k, in[0], src)
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.outShape[d] {
					break
				}
				idx[d] = 0
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		// Tile is an Expand of the input viewed as [1, d0, 1, d1, ...] to
		// [r0, d0, r1, d1, ...].
		p := n.params.(*broadcastParams)
		r := len(p.inShape)
		ist := make([]int, r)
		stridesOf(p.inShape, ist)
		var mp movePlan
		for d := 0; d < r; d++ {
			reps := 0
			if p.inShape[d] > 0 {
				reps = p.outShape[d] / p.inShape[d]
			}
			mp.dims = append(mp.dims, reps, p.inShape[d])
			mp.src = append(mp.src, 0, ist[d])
		}
		return newMoveKernel(mp, moveTableRuns), nil
	},
}

var constantOfShapeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		spec, err := n.constInts(0, "input")
		if err != nil {
			return err
		}
		if len(n.in[0].shape) != 1 {
			return n.errorf("input has shape %v, expected a 1-D shape", n.in[0].shape)
		}
		shape, err := n.shapeFrom("shape", spec)
		if err != nil {
			return err
		}
		if len(shape) > maxRank {
			return n.unsupported("rank %d above %d", len(shape), maxRank)
		}
		val := &Tensor{DType: Float32, Shape: []int{1}, F: []float32{0}}
		if a, ok := n.attrs["value"]; ok {
			if a.T == nil {
				return n.errorf("attribute value holds no tensor")
			}
			t, err := convertTensor(a.T, DefaultMaxBytes)
			if err != nil {
				return n.errorf("attribute value: %w", err)
			}
			if t.Len() != 1 {
				return n.errorf("attribute value has %d elements, expected 1", t.Len())
			}
			val = t
		}
		n.params = val
		n.out[0].dtype = val.DType
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, _, out []*Tensor) {
		v := n.params.(*Tensor)
		o := out[0]
		if o.DType.IsInt() {
			for i := range o.I {
				o.I[i] = v.I[0]
			}
		} else {
			for i := range o.F {
				o.F[i] = v.F[0]
			}
		}
	},
}

// rangeParams describe a Range: its first value, step and length.
type rangeParams struct {
	fstart, fdelta float32
	istart, idelta int64
}

var rangeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		var ts [3]*Tensor
		for i := range ts {
			t, err := n.constInput(i)
			if err != nil {
				return err
			}
			if t.Len() != 1 || t.DType != n.in[0].dtype {
				return n.errorf("input %d must be a scalar of type %v", i, n.in[0].dtype)
			}
			ts[i] = t
		}
		dt := n.in[0].dtype
		p := &rangeParams{}
		var count float64
		if dt.IsInt() {
			p.istart, p.idelta = ts[0].I[0], ts[2].I[0]
			if p.idelta == 0 {
				return n.errorf("delta is 0")
			}
			count = math.Ceil(float64(ts[1].I[0]-p.istart) / float64(p.idelta))
		} else {
			p.fstart, p.fdelta = ts[0].F[0], ts[2].F[0]
			if p.fdelta == 0 {
				return n.errorf("delta is 0")
			}
			// As ONNX Runtime: the difference in the element type, the
			// count in double precision.
			count = math.Ceil(float64(ts[1].F[0]-p.fstart) / float64(p.fdelta))
		}
		if count != count || count > maxShapeElems {
			return n.errorf("start %v, limit %v and delta %v give too many elements", scalarAsFloat64(ts[0]), scalarAsFloat64(ts[1]), scalarAsFloat64(ts[2]))
		}
		n.params = p
		n.out[0].dtype = dt
		n.out[0].shape = []int{int(max(count, 0))}
		return nil
	},
	eval: func(n *node, _, out []*Tensor) {
		p := n.params.(*rangeParams)
		o := out[0]
		if o.DType.IsInt() {
			v := p.istart
			for i := range o.I {
				o.I[i] = wrapInt(o.DType, v)
				v += p.idelta
			}
			return
		}
		// ONNX Runtime adds the step repeatedly in the element type.
		v := p.fstart
		for i := range o.F {
			o.F[i] = v
			v += p.fdelta
		}
	},
}

var sizeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		o := n.out[0]
		o.dtype = Int64
		o.shape = []int{}
		o.constant = &Tensor{DType: Int64, Shape: []int{}, I: []int64{int64(n.in[0].numel())}}
		return nil
	},
	eval: func(n *node, _, out []*Tensor) { copy(out[0].I, n.out[0].constant.I) },
}

// triluParams is a Trilu's direction.
type triluParams struct{ upper bool }

var triluOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 2); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) < 2 {
			return n.errorf("input has rank %d, expected at least 2", len(x.shape))
		}
		if k := n.input(1); k != nil && (!k.dtype.IsInt() || k.numel() != 1) {
			return n.errorf("k must be an integer scalar")
		}
		upper, err := n.attrInt("upper", 1)
		if err != nil {
			return err
		}
		n.params = &triluParams{upper: upper != 0}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		upper := n.params.(*triluParams).upper
		x, o := in[0], out[0]
		k := int64(0)
		if len(in) > 1 && in[1] != nil {
			k = in[1].I[0]
		}
		r := len(x.Shape)
		rows, cols := x.Shape[r-2], x.Shape[r-1]
		mats := numel(x.Shape[:r-2])
		for m := 0; m < mats; m++ {
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					at := (m*rows+i)*cols + j
					d := int64(j - i)
					if upper && d >= k || !upper && d <= k {
						copyElemAt(o, at, x, at)
					} else {
						zeroElemAt(o, at)
					}
				}
			}
		}
	},
}

var eyeLikeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) != 2 {
			return n.errorf("input has rank %d, expected 2", len(x.shape))
		}
		dt := x.dtype
		if a, ok := n.attrs["dtype"]; ok {
			dt = DType(a.I)
		}
		if !dt.Supported() {
			return n.unsupported("dtype %v", dt)
		}
		k, err := n.attrInt("k", 0)
		if err != nil {
			return err
		}
		// The result depends on the shape only: it is a constant.
		t := allocTensor(&value{dtype: dt, shape: x.shape})
		rows, cols := x.shape[0], x.shape[1]
		for i := 0; i < rows; i++ {
			j := int64(i) + k
			if j >= 0 && j < int64(cols) {
				if dt.IsInt() {
					t.I[i*cols+int(j)] = 1
				} else {
					t.F[i*cols+int(j)] = 1
				}
			}
		}
		o := n.out[0]
		o.dtype, o.shape, o.constant = dt, append([]int(nil), x.shape...), t
		return nil
	},
	eval: func(n *node, _, out []*Tensor) { copyData(out[0], n.out[0].constant) },
}

var castLikeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		to := n.in[1].dtype
		if !to.Supported() {
			return n.unsupported("target type %v", to)
		}
		if !n.in[0].dtype.Supported() {
			return n.unsupported("input type %v", n.in[0].dtype)
		}
		n.params = &castParams{to: to}
		n.out[0].dtype = to
		n.out[0].shape = append([]int(nil), n.in[0].shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) { castOp.eval(n, in[:1], out) },
}

// oneHotParams describe a OneHot.
type oneHotParams struct {
	axis, depth int
}

var oneHotOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		x, vals := n.in[0], n.in[2]
		dt, err := n.constInput(1)
		if err != nil {
			return err
		}
		if dt.Len() != 1 {
			return n.errorf("depth must be a scalar")
		}
		depth := scalarAsFloat64(dt)
		if !(depth >= 1 && depth <= maxShapeElems) {
			return n.errorf("depth %v is out of range", depth)
		}
		if vals.numel() != 2 || len(vals.shape) != 1 {
			return n.errorf("values has shape %v, expected [2]", vals.shape)
		}
		r := len(x.shape) + 1
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		axis, err := n.attrInt("axis", -1)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, r, "axis")
		if err != nil {
			return err
		}
		shape := append(append(append([]int(nil), x.shape[:a]...), int(depth)), x.shape[a:]...)
		if err := n.checkShapeElems("output shape", shape); err != nil {
			return err
		}
		n.params = &oneHotParams{axis: a, depth: int(depth)}
		n.out[0].dtype = vals.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*oneHotParams)
		x, vals, o := in[0], in[2], out[0]
		outer := numel(x.Shape[:p.axis])
		inner := numel(x.Shape[p.axis:])
		for i := 0; i < len(o.F)+len(o.I); i++ {
			copyElemAt(o, i, vals, 0)
		}
		for a := 0; a < outer; a++ {
			for b := 0; b < inner; b++ {
				var k int64
				if x.DType.IsInt() {
					k = x.I[a*inner+b]
				} else {
					f := float64(x.F[a*inner+b])
					if f != f || f >= maxShapeElems || f <= -maxShapeElems {
						continue
					}
					k = int64(f)
				}
				if k < 0 {
					k += int64(p.depth)
				}
				if k < 0 || k >= int64(p.depth) {
					continue
				}
				copyElemAt(o, (a*p.depth+int(k))*inner+b, vals, 1)
			}
		}
	},
}

// cumSumParams describe a CumSum.
type cumSumParams struct {
	axis               int
	exclusive, reverse bool
}

var cumSumOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x := n.in[0]
		ax, err := n.constInts(1, "axis")
		if err != nil {
			return err
		}
		if len(ax) != 1 {
			return n.errorf("axis must be a scalar")
		}
		a, err := n.normAxis(ax[0], len(x.shape), "axis")
		if err != nil {
			return err
		}
		ex, err := n.attrInt("exclusive", 0)
		if err != nil {
			return err
		}
		rev, err := n.attrInt("reverse", 0)
		if err != nil {
			return err
		}
		n.params = &cumSumParams{axis: a, exclusive: ex != 0, reverse: rev != 0}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*cumSumParams)
		x, o := in[0], out[0]
		outer := numel(x.Shape[:p.axis])
		inner := numel(x.Shape[p.axis+1:])
		dim := x.Shape[p.axis]
		for a := 0; a < outer; a++ {
			for b := 0; b < inner; b++ {
				// Sequential sums in the element type, as ONNX Runtime.
				var fs float32
				var is int64
				for t := 0; t < dim; t++ {
					j := t
					if p.reverse {
						j = dim - 1 - t
					}
					at := (a*dim+j)*inner + b
					if x.DType.IsInt() {
						if !p.exclusive {
							is += x.I[at]
						}
						o.I[at] = wrapInt(o.DType, is)
						if p.exclusive {
							is += x.I[at]
						}
					} else {
						if !p.exclusive {
							fs += x.F[at]
						}
						o.F[at] = fs
						if p.exclusive {
							fs += x.F[at]
						}
					}
				}
			}
		}
	},
}

// reverseSeqParams describe a ReverseSequence.
type reverseSeqParams struct{ batchAxis, timeAxis int }

var reverseSequenceOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x, lens := n.in[0], n.in[1]
		if len(x.shape) < 2 {
			return n.errorf("input has rank %d, expected at least 2", len(x.shape))
		}
		ba, err := n.attrInt("batch_axis", 1)
		if err != nil {
			return err
		}
		ta, err := n.attrInt("time_axis", 0)
		if err != nil {
			return err
		}
		if ba < 0 || ba > 1 || ta < 0 || ta > 1 || ba == ta {
			return n.errorf("batch_axis %d and time_axis %d must be 0 and 1", ba, ta)
		}
		if !lens.dtype.IsInt() || len(lens.shape) != 1 || lens.shape[0] != x.shape[ba] {
			return n.errorf("sequence_lens has shape %v, expected [%d]", lens.shape, x.shape[ba])
		}
		n.params = &reverseSeqParams{batchAxis: int(ba), timeAxis: int(ta)}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*reverseSeqParams)
		x, lens, o := in[0], in[1], out[0]
		inner := numel(x.Shape[2:])
		d0, d1 := x.Shape[0], x.Shape[1]
		for i := 0; i < d0; i++ {
			for j := 0; j < d1; j++ {
				b, t := i, j
				if p.batchAxis == 1 {
					b, t = j, i
				}
				l := int(min(max(lens.I[b], 0), int64(x.Shape[p.timeAxis])))
				st := t
				if t < l {
					st = l - 1 - t
				}
				si, sj := b, st
				if p.batchAxis == 1 {
					si, sj = st, b
				}
				for k := 0; k < inner; k++ {
					copyElemAt(o, (i*d1+j)*inner+k, x, (si*d1+sj)*inner+k)
				}
			}
		}
	},
}

// constantOutputs evaluates to the constants infer computed (NonZero,
// Unique, NonMaxSuppression: ops whose output shape depends on values
// known only when their inputs are constant).
func evalConstantOutputs(n *node, _, out []*Tensor) {
	for i, o := range out {
		if o != nil && n.out[i].constant != nil {
			copyData(o, n.out[i].constant)
		}
	}
}

var nonZeroOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x, err := n.constInput(0)
		if err != nil {
			return err
		}
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		r := len(shape)
		var hits []int
		for i := 0; i < x.Len(); i++ {
			if x.DType.IsInt() && x.I[i] != 0 || !x.DType.IsInt() && x.F[i] != 0 {
				hits = append(hits, i)
			}
		}
		t := NewInt(nil, r, len(hits))
		st := make([]int, r)
		stridesOf(shape, st)
		for k, h := range hits {
			for d := 0; d < r; d++ {
				t.I[d*len(hits)+k] = int64(h / st[d] % shape[d])
			}
		}
		o := n.out[0]
		o.dtype, o.shape, o.constant = Int64, t.Shape, t
		return nil
	},
	eval: evalConstantOutputs,
}

// compressParams describe a Compress: the axis (-1: the flattened input)
// and the selected indices along it.
type compressParams struct {
	axis int
	keep []int
}

var compressOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x := n.in[0]
		cond, err := n.constInput(1)
		if err != nil {
			return err
		}
		if len(cond.Shape) != 1 {
			return n.errorf("condition has shape %v, expected 1-D", cond.Shape)
		}
		p := &compressParams{axis: -1}
		dim := x.numel()
		if _, ok := n.attrs["axis"]; ok {
			axis, err := n.attrInt("axis", 0)
			if err != nil {
				return err
			}
			if p.axis, err = n.normAxis(axis, len(x.shape), "axis"); err != nil {
				return err
			}
			dim = x.shape[p.axis]
		}
		if cond.Len() > dim {
			return n.errorf("condition has %d entries, the axis %d", cond.Len(), dim)
		}
		for i := 0; i < cond.Len(); i++ {
			if cond.DType.IsInt() && cond.I[i] != 0 || !cond.DType.IsInt() && cond.F[i] != 0 {
				p.keep = append(p.keep, i)
			}
		}
		n.params = p
		o := n.out[0]
		o.dtype = x.dtype
		if p.axis < 0 {
			o.shape = []int{len(p.keep)}
		} else {
			o.shape = append([]int(nil), x.shape...)
			o.shape[p.axis] = len(p.keep)
		}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*compressParams)
		x, o := in[0], out[0]
		outer, inner, dim := 1, 1, len(x.F)+len(x.I)
		if p.axis >= 0 {
			outer, inner, dim = numel(x.Shape[:p.axis]), numel(x.Shape[p.axis+1:]), x.Shape[p.axis]
		}
		at := 0
		for a := 0; a < outer; a++ {
			for _, k := range p.keep {
				for b := 0; b < inner; b++ {
					copyElemAt(o, at, x, (a*dim+k)*inner+b)
					at++
				}
			}
		}
	},
}
