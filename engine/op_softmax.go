package engine

import "math"

// softmaxParams split the input into [outer, axis, inner]: before opset 13
// the input is coerced to 2-D at axis ([outer, dim] with inner 1), from
// opset 13 on only the one axis is reduced.
type softmaxParams struct {
	outer, dim, inner int
	log               bool
	hard              bool // Hardmax
}

// softmaxDef builds Softmax, LogSoftmax (log) and Hardmax (hard).
func softmaxDef(log, hard bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			if err := n.needFloat(0); err != nil {
				return err
			}
			x := n.in[0]
			def := int64(-1)
			if n.opset < 13 {
				def = 1
			}
			axis, err := n.attrInt("axis", def)
			if err != nil {
				return err
			}
			r := len(x.shape)
			if r == 0 {
				return n.errorf("input is a scalar")
			}
			a, err := n.normAxis(axis, r, "axis")
			if err != nil {
				return err
			}
			p := &softmaxParams{log: log, hard: hard}
			if n.opset < 13 { // the input is coerced to 2-D at axis
				p.outer, p.dim, p.inner = numel(x.shape[:a]), numel(x.shape[a:]), 1
			} else {
				p.outer, p.dim, p.inner = numel(x.shape[:a]), x.shape[a], numel(x.shape[a+1:])
			}
			n.params = p
			sameType(n.out[0], x)
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*softmaxParams)
			if p.hard {
				hardmax(in[0].F, out[0].F, p.outer, p.dim, p.inner)
				return
			}
			softmax(in[0].F, out[0].F, p.outer, p.dim, p.inner, p.log)
		},
		compile: func(n *node, _ *compiler) (Kernel, error) {
			if p := n.params.(*softmaxParams); p.inner == 1 && !p.hard {
				return softmaxRowsKernel{p}, nil
			}
			return nil, nil
		},
	}
}

var (
	softmaxOp    = softmaxDef(false, false)
	logSoftmaxOp = softmaxDef(true, false)
	hardmaxOp    = softmaxDef(false, true)
)

// hardmax sets the first maximum along the middle axis of [outer,dim,inner]
// to 1 and everything else to 0.
func hardmax(x, y []float32, outer, dim, inner int) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			best := 0
			for k := 0; k < dim; k++ {
				y[base+k*inner] = 0
				if x[base+k*inner] > x[base+best*inner] {
					best = k
				}
			}
			if dim > 0 {
				y[base+best*inner] = 1
			}
		}
	}
}

// softmaxRowsKernel is (log-)softmax over contiguous rows (the last axis,
// or any axis before opset 13): float32 throughout with a polynomial exp.
type softmaxRowsKernel struct{ p *softmaxParams }

// Run implements Kernel: the rows are split between the session's
// threads.
func (k softmaxRowsKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, k.p.outer, max(1, elemGrain/4/max(1, k.p.dim)))
}

// runRange computes rows [lo, hi).
func (k softmaxRowsKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	p := k.p
	x, y := in[0].F, out[0].F
	for o := lo; o < hi; o++ {
		softmaxRow(x[o*p.dim:(o+1)*p.dim], y[o*p.dim:(o+1)*p.dim], p.log)
	}
}

// softmaxRow computes the (log-)softmax of one contiguous row.
func softmaxRow(x, y []float32, log bool) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	var s0, s1, s2, s3 float32
	j := 0
	if log {
		for ; j+4 <= len(x); j += 4 {
			s0 += softmaxExpNeg(x[j] - m)
			s1 += softmaxExpNeg(x[j+1] - m)
			s2 += softmaxExpNeg(x[j+2] - m)
			s3 += softmaxExpNeg(x[j+3] - m)
		}
		for ; j < len(x); j++ {
			s0 += softmaxExpNeg(x[j] - m)
		}
		ls := float32(math.Log(float64(s0 + s1 + s2 + s3)))
		for j, v := range x {
			y[j] = v - m - ls // (v-m) first: m+ls would round at large magnitudes
		}
		return
	}
	for ; j+4 <= len(x); j += 4 {
		e0, e1, e2, e3 := softmaxExpNeg(x[j]-m), softmaxExpNeg(x[j+1]-m), softmaxExpNeg(x[j+2]-m), softmaxExpNeg(x[j+3]-m)
		y[j], y[j+1], y[j+2], y[j+3] = e0, e1, e2, e3
		s0 += e0
		s1 += e1
		s2 += e2
		s3 += e3
	}
	for ; j < len(x); j++ {
		e := softmaxExpNeg(x[j] - m)
		y[j] = e
		s0 += e
	}
	inv := 1 / (s0 + s1 + s2 + s3)
	for j := range y {
		y[j] *= inv
	}
}

// softmaxExpNeg is exp(x) for x <= 0 (NaN propagates) in float32, with a relative
// error of a few ulps: x = n*ln2 + r, |r| <= ln2/2, exp(r) by a degree-6
// polynomial (Cephes expf), times 2^n built in the exponent bits.
func softmaxExpNeg(x float32) float32 {
	if !(x >= -87.33) { // also NaN
		if x != x {
			return x
		}
		return 0
	}
	if x > 0 {
		return float32(math.Exp(float64(x)))
	}
	z := x*1.44269504088896341 + 0.5
	n := int32(z)
	if float32(n) > z {
		n--
	}
	fn := float32(n)
	r := x - fn*0.693359375 - fn*-2.12194440e-4
	r2 := r * r
	pp := float32(1.9875691500e-4)
	pp = pp*r + 1.3981999507e-3
	pp = pp*r + 8.3334519073e-3
	pp = pp*r + 4.1665795894e-2
	pp = pp*r + 1.6666665459e-1
	pp = pp*r + 5.0000001201e-1
	e := pp*r2 + r + 1
	return e * math.Float32frombits(uint32(n+127)<<23)
}

// softmax computes a (log-)softmax over the middle axis of [outer,dim,inner].
func softmax(x, y []float32, outer, dim, inner int, log bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			m := float32(math.Inf(-1))
			for k := 0; k < dim; k++ {
				m = max(m, x[base+k*inner])
			}
			var sum float64
			for k := 0; k < dim; k++ {
				e := math.Exp(float64(x[base+k*inner] - m))
				sum += e
				if !log {
					y[base+k*inner] = float32(e)
				}
			}
			if log {
				ls := float32(math.Log(sum))
				for k := 0; k < dim; k++ {
					y[base+k*inner] = x[base+k*inner] - m - ls
				}
				continue
			}
			inv := float32(1 / sum)
			for k := 0; k < dim; k++ {
				y[base+k*inner] *= inv
			}
		}
	}
}
