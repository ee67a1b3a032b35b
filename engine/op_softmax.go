package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vmath"
)

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
			p := n.params.(*softmaxParams)
			switch {
			case p.hard:
				return nil, nil
			case p.inner == 1:
				return softmaxRowsKernel{p}, nil
			}
			return softmaxColsKernel{p}, nil
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
// or any axis before opset 13): float32 throughout with vmath's exp.
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

// softmaxRow computes the (log-)softmax of one contiguous row (y may be
// x) in three vector passes (vmath.Max, ExpShiftSum, Scale): the
// exponentials are of x - max <= 0 (vmath.Exp's, within 2 ulp), summed
// in vector partial sums.
func softmaxRow(x, y []float32, log bool) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	m := vmath.Max(x)
	if log {
		// The exponentials go to a stack buffer: y may be x, needed after.
		var buf [fnBlock]float32
		var s float32
		for lo := 0; lo < len(x); lo += fnBlock {
			xs := x[lo:min(lo+fnBlock, len(x))]
			s += vmath.ExpShiftSum(buf[:len(xs)], xs, m)
		}
		ls := float32(math.Log(float64(s)))
		for j, v := range x {
			y[j] = v - m - ls // (v-m) first: m+ls would round at large magnitudes
		}
		return
	}
	vmath.Scale(y, 1/vmath.ExpShiftSum(y, x, m))
}

// softmaxColsKernel is (log-)softmax over a middle axis of [outer, dim,
// inner], inner > 1 (the channels of an NCHW map): each outer block is
// reduced column-wise in contiguous row passes, up to softmaxCols
// columns at a time with their maxima and sums on the stack, the
// exponentials by vmath.Exp (over the whole block when it has few
// columns).
type softmaxColsKernel struct{ p *softmaxParams }

// softmaxCols is the number of columns softmaxColsKernel reduces at once.
const softmaxCols = 256

// Run implements Kernel: outer blocks are split between the session's
// threads.
func (k softmaxColsKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, k.p.outer, max(1, elemGrain/4/max(1, len(in[0].F)/max(1, k.p.outer))))
}

// runRange computes outer blocks [lo, hi).
func (k softmaxColsKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	p := k.p
	n := p.dim * p.inner
	if n == 0 {
		return
	}
	if p.log && &in[0].F[0] == &out[0].F[0] {
		// In place, the log pass would read overwritten inputs.
		softmax(in[0].F[lo*n:hi*n], out[0].F[lo*n:hi*n], hi-lo, p.dim, p.inner, true)
		return
	}
	var mb, sb [softmaxCols]float32
	for o := lo; o < hi; o++ {
		xb, yb := in[0].F[o*n:(o+1)*n], out[0].F[o*n:(o+1)*n]
		for i0 := 0; i0 < p.inner; i0 += softmaxCols {
			w := min(softmaxCols, p.inner-i0)
			m, s := mb[:w], sb[:w]
			copy(m, xb[i0:i0+w])
			for k := 1; k < p.dim; k++ {
				for i, v := range xb[k*p.inner+i0:][:w] {
					if v > m[i] {
						m[i] = v
					}
				}
			}
			for k := 0; k < p.dim; k++ {
				yr := yb[k*p.inner+i0:][:w]
				for i, v := range xb[k*p.inner+i0:][:w] {
					yr[i] = v - m[i]
				}
				if w < p.inner {
					vmath.Exp(yr, yr)
				}
			}
			if w == p.inner {
				vmath.Exp(yb, yb)
			}
			clear(s)
			for k := 0; k < p.dim; k++ {
				for i, e := range yb[k*p.inner+i0:][:w] {
					s[i] += e
				}
			}
			if p.log {
				for i, v := range s {
					s[i] = float32(math.Log(float64(v)))
				}
				for k := 0; k < p.dim; k++ {
					yr := yb[k*p.inner+i0:][:w]
					for i, v := range xb[k*p.inner+i0:][:w] {
						yr[i] = v - m[i] - s[i]
					}
				}
				continue
			}
			for i, v := range s {
				s[i] = 1 / v
			}
			for k := 0; k < p.dim; k++ {
				yr := yb[k*p.inner+i0:][:w]
				for i := range yr {
					yr[i] *= s[i]
				}
			}
		}
	}
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
