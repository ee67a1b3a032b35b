package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vmath"
)

// rowNormParams describe LayerNormalization, InstanceNormalization and
// GroupNormalization as one shape: rows of size elements, each normalised
// by its own mean and variance, then scaled and shifted.
//
// LayerNormalization: a row is x[i, axis:], scale and bias index the
// element within the row (elem). Instance and group normalisation: a row
// is one (n, group) of x[N, C, spatial...] holding cpg channels of spatial
// elements each; channel k of row r is c = (r%groups)*cpg + k, and scale
// and bias index c, or the group r%groups (perGroup, GroupNormalization
// before opset 21).
type rowNormParams struct {
	rows, size int
	eps        float64
	elem       bool
	// scalarScale and scalarBias: a one-element scale or bias broadcast
	// over the row (LayerNormalization).
	scalarScale, scalarBias bool
	groups, cpg, spatial    int
	perGroup                bool
	hasBias                 bool
	// statOuts: LayerNormalization's Mean and InvStdDev outputs exist.
	meanOut, invOut bool
}

// scaleIndex returns the scale/bias index of channel k of row r.
func (p *rowNormParams) scaleIndex(r, k int) int {
	if p.perGroup {
		return r % p.groups
	}
	return (r%p.groups)*p.cpg + k
}

var layerNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		for i := range n.in {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		x := n.in[0]
		r := len(x.shape)
		if r == 0 {
			return n.errorf("input is a scalar")
		}
		axis, err := n.attrInt("axis", -1)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, r, "axis")
		if err != nil {
			return err
		}
		eps, err := n.attrFloat("epsilon", 1e-5)
		if err != nil {
			return err
		}
		stash, err := n.attrInt("stash_type", 1)
		if err != nil {
			return err
		}
		if !DType(stash).IsFloat() {
			return n.errorf("attribute stash_type %d is not a floating-point type", stash)
		}
		p := &rowNormParams{rows: numel(x.shape[:a]), size: numel(x.shape[a:]), eps: float64(eps), elem: true}
		norm := x.shape[a:]
		for i, dst := range []*bool{&p.scalarScale, &p.scalarBias} {
			v := n.input(i + 1)
			if v == nil {
				continue
			}
			if len(v.shape) > len(norm) {
				return n.errorf("input %d %q of shape %v has a higher rank than the normalised shape %v", i+1, v.name, v.shape, norm)
			}
			switch {
			case v.numel() == p.size && lnBroadcastsTo(v.shape, norm):
			case v.numel() == 1:
				*dst = true
			default:
				if _, err := broadcastShapes(norm, v.shape); err != nil {
					return n.errorf("input %d %q of shape %v does not broadcast to the normalised shape %v", i+1, v.name, v.shape, norm)
				}
				return n.unsupported("input %d of shape %v partly broadcast over %v", i+1, v.shape, norm)
			}
		}
		p.hasBias = n.input(2) != nil
		sameType(n.out[0], x)
		statShape := append([]int{}, x.shape[:a]...)
		for range x.shape[a:] {
			statShape = append(statShape, 1)
		}
		for i := 1; i < len(n.out) && i < 3; i++ {
			if o := n.out[i]; o != nil {
				o.dtype = DType(stash)
				o.shape = append([]int{}, statShape...)
			}
		}
		if len(n.out) > 3 {
			return n.errorf("has %d outputs, expected at most 3", len(n.out))
		}
		p.meanOut = len(n.out) > 1 && n.out[1] != nil
		p.invOut = len(n.out) > 2 && n.out[2] != nil
		n.params = p
		return nil
	},
	eval:    evalRowNorm,
	compile: compileRowNorm,
}

// lnBroadcastsTo reports whether shape s broadcasts unidirectionally to norm.
func lnBroadcastsTo(s, norm []int) bool {
	out, err := broadcastShapes(norm, s)
	return err == nil && equalShapes(out, norm)
}

var instanceNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		eps, err := n.attrFloat("epsilon", 1e-5)
		if err != nil {
			return err
		}
		return inferChannelNorm(n, 0, eps, false)
	},
	eval:    evalRowNorm,
	compile: compileRowNorm,
}

var groupNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		eps, err := n.attrFloat("epsilon", 1e-5)
		if err != nil {
			return err
		}
		g, err := n.attrInt("num_groups", 0)
		if err != nil {
			return err
		}
		if _, ok := n.attrs["num_groups"]; !ok {
			return n.errorf("attribute num_groups is missing")
		}
		if g <= 0 || g > math.MaxInt32 {
			return n.errorf("attribute num_groups is %d", g)
		}
		if stash, err := n.attrInt("stash_type", 1); err != nil {
			return err
		} else if !DType(stash).IsFloat() {
			return n.errorf("attribute stash_type %d is not a floating-point type", stash)
		}
		return inferChannelNorm(n, int(g), eps, true)
	},
	eval:    evalRowNorm,
	compile: compileRowNorm,
}

// inferChannelNorm sets up instance (groups 0: one per channel) or group
// normalisation of x[N, C, spatial...].
func inferChannelNorm(n *node, groups int, eps float32, group bool) error {
	for i := range n.in {
		if err := n.needFloat(i); err != nil {
			return err
		}
	}
	x := n.in[0]
	if len(x.shape) < 2 {
		return n.errorf("input shape %v has rank below 2", x.shape)
	}
	c := x.shape[1]
	if groups == 0 {
		groups = c
	}
	if c%groups != 0 {
		return n.errorf("num_groups %d does not divide the %d channels", groups, c)
	}
	p := &rowNormParams{rows: x.shape[0] * groups, cpg: c / groups, spatial: numel(x.shape[2:]), eps: float64(eps), groups: groups, hasBias: true}
	p.size = p.cpg * p.spatial
	want := c
	// GroupNormalization-18 takes one scale per group; 21 one per channel.
	if group && n.opset < 21 && n.in[1].numel() == groups {
		p.perGroup, want = true, groups
	}
	for i := 1; i < 3; i++ {
		if v := n.in[i]; v.numel() != want {
			return n.errorf("input %d %q has %d elements, expected %d", i, v.name, v.numel(), want)
		}
	}
	n.params = p
	sameType(n.out[0], x)
	return nil
}

// evalRowNorm is the reference: two passes in float64 per row, then the
// affine transform, element by element.
func evalRowNorm(n *node, in, out []*Tensor) {
	p := n.params.(*rowNormParams)
	x, y := in[0].F, out[0].F
	scale := in[1].F
	var bias []float32
	if p.hasBias {
		bias = in[2].F
	}
	for r := 0; r < p.rows; r++ {
		row := x[r*p.size : (r+1)*p.size]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(p.size)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		inv := 1 / math.Sqrt(ss/float64(p.size)+p.eps)
		if p.meanOut {
			out[1].F[r] = float32(mean)
		}
		if p.invOut {
			out[2].F[r] = float32(inv)
		}
		for j, v := range row {
			var si int
			switch {
			case p.elem:
				si = j
			default:
				si = p.scaleIndex(r, j/max(1, p.spatial))
			}
			s, b := 0.0, 0.0
			if p.scalarScale {
				s = float64(scale[0])
			} else {
				s = float64(scale[si])
			}
			if p.hasBias {
				if p.scalarBias {
					b = float64(bias[0])
				} else {
					b = float64(bias[si])
				}
			}
			y[r*p.size+j] = float32((float64(v)-mean)*inv*s + b)
		}
	}
}

// rowNormKernel gathers the statistics of a row in one float64 pass (sum
// and sum of squares, vmath.SumSquares) and applies a fused scale-shift
// in float32 (vmath.Normalize, or Affine per channel).
type rowNormKernel struct{ p *rowNormParams }

func compileRowNorm(n *node, _ *compiler) (Kernel, error) {
	return rowNormKernel{n.params.(*rowNormParams)}, nil
}

// rowStats returns the mean and 1/sqrt(var+eps) of row, from its sum and
// sum of squares in float64 (vmath.SumSquares).
func rowStats(row []float32, eps float64) (mean, inv float64) {
	s, q := vmath.SumSquares(row)
	nf := float64(len(row))
	mean = s / nf
	vr := q/nf - mean*mean
	if vr < 0 {
		vr = 0
	}
	return mean, 1 / math.Sqrt(vr+eps)
}

// Run implements Kernel: the rows are split between the session's
// threads.
func (k rowNormKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, k.p.rows, max(1, elemGrain/4/max(1, k.p.size)))
}

// runRange normalizes rows [lo, hi).
func (k rowNormKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	p := k.p
	x, y := in[0].F, out[0].F
	scale := in[1].F
	var bias []float32
	if p.hasBias {
		bias = in[2].F
	}
	for r := lo; r < hi; r++ {
		row := x[r*p.size : (r+1)*p.size]
		yr := y[r*p.size : (r+1)*p.size]
		mean, inv := rowStats(row, p.eps)
		if p.meanOut {
			out[1].F[r] = float32(mean)
		}
		if p.invOut {
			out[2].F[r] = float32(inv)
		}
		if !p.elem {
			for c := 0; c < p.cpg; c++ {
				si := p.scaleIndex(r, c)
				// (v-m)*a + b rather than v*a + (b-m*a): with a large
				// 1/std the latter cancels.
				m, a, b := float32(mean), float32(inv*float64(scale[si])), bias[si]
				vmath.Affine(yr[c*p.spatial:(c+1)*p.spatial], row[c*p.spatial:(c+1)*p.spatial], m, a, b)
			}
			continue
		}
		m, iv := float32(mean), float32(inv)
		switch {
		case !p.scalarScale && !p.scalarBias && p.hasBias:
			vmath.Normalize(yr, row, scale, bias, m, iv)
		case !p.scalarScale && !p.hasBias:
			s := scale[:len(row)]
			for j, v := range row {
				yr[j] = (v - m) * iv * s[j]
			}
		default:
			for j, v := range row {
				s, b := scale[0], float32(0)
				if !p.scalarScale {
					s = scale[j]
				}
				if p.hasBias {
					b = bias[0]
					if !p.scalarBias {
						b = bias[j]
					}
				}
				yr[j] = (v-m)*iv*s + b
			}
		}
	}
}

// mvnParams: the axes MeanVarianceNormalization reduces over.
type mvnParams struct {
	reduce [maxRank]bool
}

var mvnOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		axes, ok, err := n.attrInts("axes")
		if err != nil {
			return err
		}
		if !ok {
			axes = []int64{0, 2, 3}
		}
		p := &mvnParams{}
		for _, a := range axes {
			i, err := n.normAxis(a, r, "axes")
			if err != nil {
				return err
			}
			p.reduce[i] = true
		}
		n.params = p
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*mvnParams)
		x, y := in[0], out[0]
		// Split the axes into kept and reduced ones and walk both.
		var kd, rd, ks, rs [maxRank]int
		nk, nr := 0, 0
		st := 1
		var strides [maxRank]int
		for i := len(x.Shape) - 1; i >= 0; i-- {
			strides[i] = st
			st *= x.Shape[i]
		}
		for i, d := range x.Shape {
			if p.reduce[i] {
				rd[nr], rs[nr] = d, strides[i]
				nr++
			} else {
				kd[nk], ks[nk] = d, strides[i]
				nk++
			}
		}
		kept, red := numel(kd[:nk]), numel(rd[:nr])
		if red == 0 {
			return
		}
		var ki [maxRank]int
		base := 0
		for k := 0; k < kept; k++ {
			var sum, sq float64
			mvnWalk(rd[:nr], rs[:nr], func(off int) {
				v := float64(x.F[base+off])
				sum += v
				sq += v * v
			})
			mean := sum / float64(red)
			std := math.Sqrt(max(0, sq/float64(red)-mean*mean))
			mvnWalk(rd[:nr], rs[:nr], func(off int) {
				y.F[base+off] = float32((float64(x.F[base+off]) - mean) / (std + 1e-9))
			})
			for d := nk - 1; d >= 0; d-- {
				ki[d]++
				base += ks[d]
				if ki[d] < kd[d] {
					break
				}
				base -= ks[d] * kd[d]
				ki[d] = 0
			}
		}
	},
}

// mvnWalk calls f with the offset of every index of dims under strides.
func mvnWalk(dims, strides []int, f func(off int)) {
	total := numel(dims)
	var idx [maxRank]int
	off := 0
	for k := 0; k < total; k++ {
		f(off)
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < dims[d] {
				break
			}
			off -= strides[d] * dims[d]
			idx[d] = 0
		}
	}
}

// lpNormParams: x viewed as [outer, dim, inner], normalised along dim.
type lpNormParams struct {
	outer, dim, inner int
	p                 int
}

var lpNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) == 0 {
			return n.errorf("input is a scalar")
		}
		axis, err := n.attrInt("axis", -1)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, len(x.shape), "axis")
		if err != nil {
			return err
		}
		pp, err := n.attrInt("p", 2)
		if err != nil {
			return err
		}
		if pp != 1 && pp != 2 {
			return n.errorf("attribute p is %d, expected 1 or 2", pp)
		}
		n.params = &lpNormParams{outer: numel(x.shape[:a]), dim: x.shape[a], inner: numel(x.shape[a+1:]), p: int(pp)}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*lpNormParams)
		x, y := in[0].F, out[0].F
		for o := 0; o < p.outer; o++ {
			for i := 0; i < p.inner; i++ {
				base := o*p.dim*p.inner + i
				var norm float64
				for k := 0; k < p.dim; k++ {
					v := float64(x[base+k*p.inner])
					if p.p == 1 {
						norm += math.Abs(v)
					} else {
						norm += v * v
					}
				}
				if p.p == 2 {
					norm = math.Sqrt(norm)
				}
				for k := 0; k < p.dim; k++ {
					j := base + k*p.inner
					if norm == 0 {
						y[j] = 0
					} else {
						y[j] = float32(float64(x[j]) / norm)
					}
				}
			}
		}
	},
}

// lrnParams: the channel window [c-lo, c+hi] and the constants.
type lrnParams struct {
	c, spatial, lo, hi      int
	alpha, beta, bias, size float64
}

var lrnOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) < 3 {
			return n.errorf("input shape %v has rank below 3", x.shape)
		}
		size, err := n.attrInt("size", 0)
		if err != nil {
			return err
		}
		if size <= 0 || size > math.MaxInt32 {
			return n.errorf("attribute size is %d, expected a positive integer", size)
		}
		alpha, err := n.attrFloat("alpha", 1e-4)
		if err != nil {
			return err
		}
		beta, err := n.attrFloat("beta", 0.75)
		if err != nil {
			return err
		}
		bias, err := n.attrFloat("bias", 1)
		if err != nil {
			return err
		}
		s := int(size)
		n.params = &lrnParams{c: x.shape[1], spatial: numel(x.shape[2:]), lo: (s - 1) / 2, hi: s / 2,
			alpha: float64(alpha), beta: float64(beta), bias: float64(bias), size: float64(s)}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*lrnParams)
		x, y := in[0].F, out[0].F
		plane := p.c * p.spatial
		if plane == 0 {
			return
		}
		for b := 0; b < len(x)/plane; b++ {
			for c := 0; c < p.c; c++ {
				c0, c1 := max(0, c-p.lo), min(p.c-1, c+p.hi)
				for s := 0; s < p.spatial; s++ {
					var sq float64
					for k := c0; k <= c1; k++ {
						v := float64(x[b*plane+k*p.spatial+s])
						sq += v * v
					}
					j := b*plane + c*p.spatial + s
					y[j] = float32(float64(x[j]) / math.Pow(p.bias+p.alpha/p.size*sq, p.beta))
				}
			}
		}
	},
}
