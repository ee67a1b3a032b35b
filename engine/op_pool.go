package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vec"
)

// poolParams describe MaxPool and AveragePool.
type poolParams struct {
	*window
	max      bool
	indices  bool
	colMajor bool // storage_order=1: indices count down columns first
}

func poolDef(isMax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			x := n.in[0]
			if !x.dtype.IsFloat() && !(isMax && x.dtype.IsInt()) {
				return n.unsupported("input type %v", x.dtype)
			}
			w, err := parseWindow(n, x.shape, nil, true)
			if err != nil {
				return err
			}
			if !isMax && n.opset < 19 && (w.dh != 1 || w.dw != 1) {
				return n.errorf("dilations need opset 19")
			}
			cip, err := n.attrInt("count_include_pad", 0)
			if err != nil {
				return err
			}
			w.countIncludePad = cip != 0
			p := &poolParams{window: w, max: isMax}
			so, err := n.attrInt("storage_order", 0)
			if err != nil {
				return err
			}
			p.colMajor = so == 1
			n.params = p
			n.out[0].dtype = x.dtype
			n.out[0].shape = w.outShape(w.c)
			if len(n.out) > 1 && n.out[1] != nil {
				if !isMax {
					return n.errorf("AveragePool has one output")
				}
				p.indices = true
				n.out[1].dtype = Int64
				n.out[1].shape = w.outShape(w.c)
			}
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*poolParams)
			var idx *Tensor
			if p.indices {
				idx = out[1]
			}
			poolRef(p, in[0], out[0], idx)
		},
		compile: compilePool,
	}
}

var (
	maxPoolOp = poolDef(true)
	avgPoolOp = poolDef(false)
)

// poolRef is the reference pooling loop.
func poolRef(p *poolParams, x, y, idx *Tensor) {
	w := p.window
	isInt := x.DType.IsInt()
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	for b := 0; b < w.batch*w.c; b++ {
		for oy := 0; oy < w.oh; oy++ {
			for ox := 0; ox < w.ow; ox++ {
				best, bestAt := math.Inf(-1), -1
				var sum float64
				var cnt int
				for ky := 0; ky < w.kh; ky++ {
					iy := oy*w.sh - w.padT + ky*w.dh
					for kx := 0; kx < w.kw; kx++ {
						ix := ox*w.sw - w.padL + kx*w.dw
						if iy < 0 || iy >= w.ih || ix < 0 || ix >= w.iw {
							if w.countIncludePad && iy < w.ih+w.padB && ix < w.iw+w.padR {
								cnt++ // padding inside the padded extent counts
							}
							continue
						}
						at := b*planeIn + iy*w.iw + ix
						var v float64
						if isInt {
							v = float64(x.I[at])
						} else {
							v = float64(x.F[at])
						}
						if v > best || bestAt < 0 {
							best, bestAt = v, at
						}
						sum += v
						cnt++
					}
				}
				o := b*planeOut + oy*w.ow + ox
				var r float64
				switch {
				case p.max:
					r = best
				case cnt > 0:
					r = sum / float64(cnt)
				}
				if isInt {
					y.I[o] = int64(r)
				} else {
					y.F[o] = float32(r)
				}
				if idx != nil {
					at := max(bestAt, 0)
					if p.colMajor {
						r := at % planeIn
						at = at - r + (r%w.iw)*w.ih + r/w.iw
					}
					idx.I[o] = int64(at)
				}
			}
		}
	}
}

// globalPoolDef builds GlobalAveragePool and GlobalMaxPool.
func globalPoolDef(isMax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			if err := n.needFloat(0); err != nil {
				return err
			}
			x := n.in[0]
			if len(x.shape) < 2 {
				return n.errorf("input %v has rank below 2", x.shape)
			}
			shape := append([]int(nil), x.shape...)
			for i := 2; i < len(shape); i++ {
				shape[i] = 1
			}
			n.out[0].dtype = x.dtype
			n.out[0].shape = shape
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			x, y := in[0], out[0]
			planes := numel(x.Shape[:2])
			size := numel(x.Shape[2:])
			for p := 0; p < planes; p++ {
				row := x.F[p*size : (p+1)*size]
				if isMax {
					m := float32(math.Inf(-1))
					for _, v := range row {
						m = max(m, v)
					}
					y.F[p] = m
					continue
				}
				var s float32
				for _, v := range row {
					s += v
				}
				y.F[p] = s / float32(size)
			}
		},
	}
}

var (
	globalAvgPoolOp = withCompile(globalPoolDef(false), compileGlobalAvg)
	globalMaxPoolOp = globalPoolDef(true)
)

func withCompile(d opDef, c func(*node, *compiler) (Kernel, error)) opDef {
	d.compile = c
	return d
}

// globalAvgKernel is GlobalAveragePool over float32 planes with vector
// partial sums (the reference adds in order: results differ in the last
// bits).
type globalAvgKernel struct{ size int }

func compileGlobalAvg(n *node, _ *compiler) (Kernel, error) {
	if n.in[0].dtype != Float32 {
		return nil, nil
	}
	return &globalAvgKernel{size: numel(n.in[0].shape[2:])}, nil
}

// Run implements Kernel.
func (k *globalAvgKernel) Run(_ *Exec, in, out []*Tensor) {
	vec.SumPlanes(out[0].F, in[0].F, k.size, 1/float32(k.size))
}

// poolOps are the pooling operators.
var poolOps = map[string]*opDef{
	"MaxPool": &maxPoolOp, "AveragePool": &avgPoolOp,
	"GlobalAveragePool": &globalAvgPoolOp, "GlobalMaxPool": &globalMaxPoolOp,
}
