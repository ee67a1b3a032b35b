package engine

import (
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/internal/vec"
)

// convRowsKernel runs a stride-1 2-D convolution as a GEMM whose right
// operand is the zero-bordered input itself, read through a table of row
// offsets (gemm.Args.BRows): no im2col panel is gathered. The products are
// computed on the bordered grid (output (oy, ox) at oy*wp+ox, wp the
// bordered width), so that every 16 consecutive outputs read 16
// consecutive inputs of each row; the few columns past ow of each row are
// computed and dropped when the outputs are copied out. The gather it
// replaces cost 15-30% of ResNet-18, RegNet and U-Net at one thread
// (pprof of a session's runs: gatherMoves).
type convRowsKernel struct {
	p      *convParams
	packed []*gemm.PackedA
	bias   []float32
	act    activation
	rows   []int32 // per (channel, ky, kx): its offset in the bordered input
	hp, wp int
	grid   int  // columns of the product: (oh-1)*wp + ow
	copyIn int  // floats of the bordered input, with 16 to spare
	direct bool // wp == ow: the product is the output (no copy out)
	gemmSz int
}

// rowsMaxOutputs is the most output channels per group for which the
// row-table kernel is chosen. The gather it saves is paid once per block
// of B and shared by every row panel of A, so it matters when there are
// few; with many, the packed panel's contiguous reads win
// (BenchmarkConvRows, CPU time per call, -count 2, machine load 22:
// 16->16 channels at 64x64 137-143 us against 200-221 with the gather,
// 32->64 5x5 at 32x32 760-765 against 737-757, 64->64 at 56x56 1856-2021
// against 1722-1756, 512->512 at 7x7 2222-2310 against 2111-2198; then,
// at or under the limit: 32->32 at 56x56 517-600 against 728-771, 8->24
// at 112x112 388-405 against 515-553, 64->32 at 28x28 230-232 against
// 295-304).
const rowsMaxOutputs = 32

// compileConvRows returns the row-table kernel of a convolution when the
// GEMM has row-table kernels and the convolution is 2-D with stride 1 and
// at most rowsMaxOutputs output channels per group; nil otherwise.
func compileConvRows(p *convParams, packed []*gemm.PackedA, bias []float32, act activation, c *compiler) *convRowsKernel {
	w := p.window
	if !gemm.RowsKernel() || w.nd != 2 || w.sh != 1 || w.sw != 1 || w.oh <= 0 || w.ow <= 0 || p.mg > rowsMaxOutputs {
		return nil
	}
	k := &convRowsKernel{p: p, packed: packed, bias: bias, act: act}
	k.hp, k.wp = w.ih+w.padT+w.padB, w.iw+w.padL+w.padR
	plane := k.hp * k.wp
	for ch := 0; ch < p.cg; ch++ {
		for ky := 0; ky < w.kh; ky++ {
			for kx := 0; kx < w.kw; kx++ {
				k.rows = append(k.rows, int32(ch*plane+ky*w.dh*k.wp+kx*w.dw))
			}
		}
	}
	k.grid = (w.oh-1)*k.wp + w.ow
	k.copyIn = p.cg*plane + 16
	k.direct = k.wp == w.ow
	args := gemm.Args{M: p.mg, N: k.grid, K: len(k.rows), PackedA: packed[0], BRows: k.rows}
	if t := c.opts.Threads; t > 1 {
		args.Parallel, args.Tasks = func(int, func(int)) {}, t
	}
	k.gemmSz = gemm.ScratchSize(&args)
	return k
}

// ScratchSize implements scratchUser: the bordered input, the product on
// the bordered grid (unless it is the output) and the GEMM's own.
func (k *convRowsKernel) ScratchSize() int {
	n := k.copyIn + k.gemmSz
	if !k.direct {
		n += k.p.mg * k.grid
	}
	return n
}

// Run implements Kernel.
func (k *convRowsKernel) Run(x *Exec, in, out []*Tensor) {
	p, w := k.p, k.p.window
	src, dst := in[0].F, out[0].F
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	pad := x.scratch[:k.copyIn]
	rest := x.scratch[k.copyIn:]
	var prod []float32
	if !k.direct {
		prod, rest = rest[:p.mg*k.grid], rest[p.mg*k.grid:]
	}
	clear(pad) // the border; every group overwrites the interior
	for b := 0; b < w.batch; b++ {
		for g := 0; g < p.group; g++ {
			xg := src[(b*w.c+g*p.cg)*planeIn : (b*w.c+(g+1)*p.cg)*planeIn]
			plane := k.hp * k.wp
			vec.CopyPlanes(pad[w.padT*k.wp+w.padL:], k.wp, plane, xg, w.iw, planeIn, p.cg, w.ih, w.iw)
			o := dst[(b*p.m+g*p.mg)*planeOut : (b*p.m+(g+1)*p.mg)*planeOut]
			c, ldc := o, k.grid
			if !k.direct {
				c = prod
			}
			args := gemm.Args{
				M: p.mg, N: k.grid, K: len(k.rows),
				PackedA: k.packed[g],
				B:       pad, BRows: k.rows,
				C: c, LDC: ldc,
				Scratch: rest,
			}
			if k.bias != nil {
				args.Bias, args.BiasMode = k.bias[g*p.mg:(g+1)*p.mg], gemm.BiasPerRow
			}
			if k.act.on {
				args.Clamp, args.Lo, args.Hi = true, k.act.lo, k.act.hi
			}
			// The GEMM clamps in its own epilogue and hands each finished
			// block to the function (SiLU, sigmoid, ...), as convKernel's.
			args.Epilogue = k.act.epilogue()
			x.gemmArgs(&args)
			gemm.Sgemm(&args)
			if !k.direct {
				for m := 0; m < p.mg; m++ {
					vec.CopyRows(o[m*planeOut:], w.ow, prod[m*k.grid:], k.wp, w.oh, w.ow)
				}
			}
		}
	}
}
