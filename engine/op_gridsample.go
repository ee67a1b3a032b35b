package engine

import "math"

// GridSample interpolation and padding modes.
const (
	gridLinear = iota
	gridNearest
	gridCubic
)

const (
	gridZeros = iota
	gridBorder
	gridReflection
)

// gridSampleParams describe a GridSample node.
type gridSampleParams struct {
	batch, c     int
	in, out      []int // spatial sizes of the input and of the grid
	inSize       int
	outSize      int
	mode         int
	padding      int
	alignCorners bool
	lo, hi       []float64 // the borders of reflection, per spatial axis
}

var gridSampleOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		for i := range n.in {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		x, g := n.in[0], n.in[1]
		nd := len(x.shape) - 2
		if nd < 1 || nd > maxSpatial {
			return n.unsupported("input of rank %d", len(x.shape))
		}
		if n.opset < 20 && nd != 2 {
			return n.errorf("input %v must have rank 4 before opset 20", x.shape)
		}
		if len(g.shape) != len(x.shape) || g.shape[0] != x.shape[0] || g.shape[len(g.shape)-1] != nd {
			return n.errorf("grid %v does not match the input %v: expected [%d, spatial..., %d]", g.shape, x.shape, x.shape[0], nd)
		}
		p := &gridSampleParams{batch: x.shape[0], c: x.shape[1], in: append([]int(nil), x.shape[2:]...), out: append([]int(nil), g.shape[1:len(g.shape)-1]...)}
		mode, err := n.attrString("mode", "linear")
		if err != nil {
			return err
		}
		switch mode {
		case "linear", "bilinear":
			p.mode = gridLinear
		case "nearest":
			p.mode = gridNearest
		case "cubic", "bicubic":
			p.mode = gridCubic
		default:
			return n.errorf("mode %q is not one of linear (bilinear), nearest, cubic (bicubic)", mode)
		}
		pad, err := n.attrString("padding_mode", "zeros")
		if err != nil {
			return err
		}
		switch pad {
		case "zeros":
			p.padding = gridZeros
		case "border":
			p.padding = gridBorder
		case "reflection":
			p.padding = gridReflection
		default:
			return n.errorf("padding_mode %q is not one of zeros, border, reflection", pad)
		}
		ac, err := n.attrInt("align_corners", 0)
		if err != nil {
			return err
		}
		p.alignCorners = ac != 0
		for _, d := range p.in {
			if p.alignCorners {
				p.lo, p.hi = append(p.lo, 0), append(p.hi, float64(d-1))
			} else {
				p.lo, p.hi = append(p.lo, -0.5), append(p.hi, float64(d)-0.5)
			}
		}
		p.inSize, p.outSize = numel(p.in), numel(p.out)
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = append([]int{p.batch, p.c}, p.out...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		gridSampleRef(n.params.(*gridSampleParams), in[0].F, in[1].F, out[0].F)
	},
}

// gridReflect folds x back into [lo, hi] by reflecting at the borders.
func gridReflect(x, lo, hi float64) float64 {
	rng := hi - lo
	if rng <= 0 {
		return lo
	}
	switch {
	case x < lo:
		dx := lo - x
		k := math.Floor(dx / rng)
		r := dx - k*rng
		if math.Mod(k, 2) == 0 {
			return lo + r
		}
		return hi - r
	case x > hi:
		dx := x - hi
		k := math.Floor(dx / rng)
		r := dx - k*rng
		if math.Mod(k, 2) == 0 {
			return hi - r
		}
		return lo + r
	}
	return x
}

// gridCubicCoeffs are the cubic convolution weights (A = -0.75) of the
// four taps around a coordinate t past the second tap.
func gridCubicCoeffs(t float64, c *[4]float64) {
	const a = -0.75
	t = math.Abs(t)
	c[0] = ((a*(t+1)-5*a)*(t+1)+8*a)*(t+1) - 4*a
	c[1] = ((a+2)*t-(a+3))*t*t + 1
	c[2] = ((a+2)*(1-t)-(a+3))*(1-t)*(1-t) + 1
	c[3] = ((a*(2-t)-5*a)*(2-t)+8*a)*(2-t) - 4*a
}

// gridSampleRef is the reference GridSample, as the ONNX reference
// computes it: the grid coordinate is denormalised (in float32), rounded for
// nearest (half to even, half away from zero in 3-D), brought back inside
// the borders for border and reflection padding, and the taps then read
// pixels with the padding mode (zero, clamped or reflected).
func gridSampleRef(p *gridSampleParams, x, grid, y []float32) {
	nd := len(p.in)
	var idx [maxSpatial][4]int // per axis: the taps' input index, -1 for a zero
	var w [maxSpatial][4]float64
	var cnt [maxSpatial]int
	for b := 0; b < p.batch; b++ {
		for j := 0; j < p.outSize; j++ {
			gv := grid[(b*p.outSize+j)*nd:]
			for a := 0; a < nd; a++ {
				// The grid lists the coordinates innermost axis first.
				nv := gv[nd-1-a]
				length := float32(p.in[a])
				var xf float32
				if p.alignCorners {
					xf = (nv + 1) / 2 * (length - 1)
				} else {
					xf = ((nv+1)*length - 1) / 2
				}
				xa := float64(xf)
				if p.mode == gridNearest {
					if nd == 3 {
						xa = math.Round(xa)
					} else {
						xa = math.RoundToEven(xa)
					}
				}
				if xa < p.lo[a] || xa > p.hi[a] {
					switch p.padding {
					case gridBorder:
						xa = min(max(xa, 0), float64(p.in[a]-1))
					case gridReflection:
						xa = gridReflect(xa, p.lo[a], p.hi[a])
					}
				}
				switch p.mode {
				case gridNearest:
					cnt[a] = 1
					idx[a][0], w[a][0] = p.pixel(a, int(xa)), 1
				case gridLinear:
					fl := math.Floor(xa)
					t := xa - fl
					cnt[a] = 2
					idx[a][0], w[a][0] = p.pixel(a, int(fl)), 1-t
					idx[a][1], w[a][1] = p.pixel(a, int(fl)+1), t
				default:
					fl := math.Floor(xa)
					var c [4]float64
					gridCubicCoeffs(xa-fl, &c)
					cnt[a] = 4
					for t := 0; t < 4; t++ {
						idx[a][t], w[a][t] = p.pixel(a, int(fl)-1+t), c[t]
					}
				}
			}
			for c := 0; c < p.c; c++ {
				xc := x[(b*p.c+c)*p.inSize:]
				var s float64
				var t ndIndex
				for {
					wt, off, zero := 1.0, 0, false
					for a := 0; a < nd; a++ {
						i := idx[a][t[a]]
						if i < 0 {
							zero = true // a padding zero
							break
						}
						wt *= w[a][t[a]]
						off = off*p.in[a] + i
					}
					if !zero {
						s += wt * float64(xc[off])
					}
					if !t.next(cnt[:nd]) {
						break
					}
				}
				y[(b*p.c+c)*p.outSize+j] = float32(s)
			}
		}
	}
}

// pixel maps tap i of axis a to an input index with the padding mode; -1
// means a zero.
func (p *gridSampleParams) pixel(a, i int) int {
	d := p.in[a]
	switch p.padding {
	case gridBorder:
		return min(max(i, 0), d-1)
	case gridReflection:
		return min(max(int(gridReflect(float64(i), p.lo[a], p.hi[a])), 0), d-1)
	}
	if i < 0 || i >= d {
		return -1
	}
	return i
}
