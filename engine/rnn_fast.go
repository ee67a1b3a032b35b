package engine

import (
	"fmt"

	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/qgemm"
	"github.com/kagen-ai/kagen/internal/vmath"
)

// rnnKernel runs LSTM, GRU and RNN on the GEMM kernels:
//
//   - the input projection of every time step and both directions is one
//     GEMM, X[seq*batch x input] * W^T[input x dirs*gates*hidden], with the
//     biases that can be added up front (Wb+Rb; for a GRU with
//     linear_before_reset, Wbh alone) in its epilogue;
//   - each step multiplies the hidden state H[batch x hidden] by R^T
//     (for a GRU without linear_before_reset, R[zr] first, then the
//     reset-gated state by R[h]) and then applies the gate nonlinearities
//     row by row, updating the state in place.
//
// W and R are packed once at compile time when they are constants; when
// they are computed they are read in place (TransB). All work memory
// comes from Exec.Scratch.
type rnnKernel struct {
	p      *rnnParams
	packW  *gemm.PackedB    // K=input, N=dirs*gates*hidden; nil: read W
	packR  [2]*gemm.PackedB // per direction: R, or R[zr] for a GRU without linear_before_reset
	packRh [2]*gemm.PackedB // GRU without linear_before_reset: R[h]
	// hold > 0 skips the state update at the steps st (counted in the
	// direction's order) with st%hold == holdOff: the state is held and
	// Y repeats it (the temporal knob, Model.RNNHold).
	hold, holdOff int
	// The projection knobs (Model.RNNApprox): W and R packed in half
	// precision or int8 (nil: float32), and the input features that
	// reduction sampling keeps (nil: all), gathered at offXK.
	packW16           *gemm.PackedB16
	packW8            *qgemm.PackedB
	packR16, packRh16 [2]*gemm.PackedB16
	packR8, packRh8   [2]*qgemm.PackedB
	keep              []int
	offXK             int
	qsize             int // bytes of int8 scratch

	// Scratch layout (offsets in float32 elements) and size.
	offXW, offBias, offRbh, offH, offC, offRec, offRH, offGemm int
	size                                                       int
}

// recCols is the number of recurrent-product columns of one GEMM: all gates,
// except R[zr] of a GRU without linear_before_reset.
func (p *rnnParams) recCols() int {
	if p.kind == rnnGRU && !p.linearBeforeReset {
		return 2 * p.hidden
	}
	return p.gates * p.hidden
}

func compileRNN(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*rnnParams)
	k := &rnnKernel{p: p}
	h, gh := p.hidden, p.gates*p.hidden
	nw := p.dirs * gh
	if w := n.in[rnnInW].constant; w != nil {
		k.packW = gemm.PackB(make([]float32, gemm.PackedBSize(p.input, nw)), p.input, nw, w.F, p.input, true)
	}
	if r := n.in[rnnInR].constant; r != nil {
		for d := 0; d < p.dirs; d++ {
			rd := r.F[d*gh*h:]
			nr := p.recCols()
			k.packR[d] = gemm.PackB(make([]float32, gemm.PackedBSize(h, nr)), h, nr, rd, h, true)
			if nr < gh {
				k.packRh[d] = gemm.PackB(make([]float32, gemm.PackedBSize(h, h)), h, h, rd[nr*h:], h, true)
			}
		}
	}
	rows := rnnMul(p.seq, p.batch)
	gemmSize := max(
		c.gemmScratch(gemm.Args{M: rows, N: nw, K: p.input, PackedB: k.packW, TransB: true}),
		c.gemmScratch(gemm.Args{M: p.batch, N: p.recCols(), K: h, PackedB: k.packR[0], TransB: true}),
	)
	if p.recCols() < gh {
		gemmSize = max(gemmSize, c.gemmScratch(gemm.Args{M: p.batch, N: h, K: h, PackedB: k.packRh[0], TransB: true}))
	}
	// Carve the scratch; every part starts on a 64-byte boundary.
	off := 0
	part := func(size int) int {
		o := off
		off += (size + 15) / 16 * 16
		off = min(off, rnnSizeCap)
		return o
	}
	k.offXW = part(rnnMul(rows, nw))
	k.offBias = part(nw)
	k.offRbh = part(p.dirs * h)
	k.offH = part(rnnMul(p.dirs, p.batch, h))
	k.offC = part(rnnMul(p.dirs, p.batch, h))
	k.offRec = part(rnnMul(p.batch, gh))
	k.offRH = part(rnnMul(p.batch, h))
	k.offGemm = part(gemmSize)
	k.size = off
	if lim := c.opts.limit(); int64(k.size)*4 > lim {
		return nil, fmt.Errorf("%v: work memory of %d bytes exceeds the size limit of %d bytes", n, int64(k.size)*4, lim)
	}
	return k, nil
}

// ScratchSize implements scratchUser.
func (k *rnnKernel) ScratchSize() int { return k.size }

// Run implements Kernel.
func (k *rnnKernel) Run(x *Exec, in, out []*Tensor) {
	p := k.p
	h, g := p.hidden, p.gates
	gh := g * h
	nw := p.dirs * gh
	s := x.scratch
	if len(s) < k.size {
		s = x.Floats(k.size) // an approximate kernel's larger work memory (grows once)
	}
	xw := s[k.offXW : k.offXW+p.seq*p.batch*nw]
	bias := s[k.offBias : k.offBias+nw]
	rbh := s[k.offRbh : k.offRbh+p.dirs*h]
	hAll := s[k.offH : k.offH+p.dirs*p.batch*h]
	cAll := s[k.offC : k.offC+p.dirs*p.batch*h]
	rec := s[k.offRec : k.offRec+p.batch*gh]
	rh := s[k.offRH : k.offRH+p.batch*h]
	gs := s[k.offGemm:]

	opt := func(i int) *Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	bT, lens, h0, c0, pT := opt(rnnInB), opt(rnnInLens), opt(rnnInH0), opt(rnnInC0), opt(rnnInP)
	if p.kind != rnnLSTM {
		c0, pT = nil, nil
	}
	y := out[0]
	var yh, yc *Tensor
	if len(out) > 1 {
		yh = out[1]
	}
	if len(out) > 2 {
		yc = out[2]
	}

	// Biases: Wb+Rb per gate, except the GRU h gate with
	// linear_before_reset, whose Rbh is added inside the reset product.
	biasMode := gemm.NoBias
	if bT != nil {
		biasMode = gemm.BiasPerCol
		for d := 0; d < p.dirs; d++ {
			wb := bT.F[d*2*gh : d*2*gh+gh]
			rb := bT.F[d*2*gh+gh : (d+1)*2*gh]
			bd := bias[d*gh : (d+1)*gh]
			for j := range bd {
				bd[j] = wb[j] + rb[j]
			}
			if p.kind == rnnGRU && p.linearBeforeReset {
				copy(bd[2*h:], wb[2*h:])
				copy(rbh[d*h:(d+1)*h], rb[2*h:])
			}
		}
	} else {
		clear(rbh)
	}

	// Input projection of all steps and directions: one GEMM (over the
	// kept input features under reduction sampling).
	xa, kin := in[rnnInX].F, p.input
	if k.keep != nil {
		rows := p.seq * p.batch
		kin = len(k.keep)
		xk := s[k.offXK : k.offXK+rows*kin]
		for r := 0; r < rows; r++ {
			src, dst := xa[r*p.input:(r+1)*p.input], xk[r*kin:(r+1)*kin]
			for j, c := range k.keep {
				dst[j] = src[c]
			}
		}
		xa = xk
	}
	var wRaw []float32
	if k.packW == nil && k.packW16 == nil && k.packW8 == nil {
		wRaw = in[rnnInW].F
	}
	k.project(x, p.seq*p.batch, nw, kin, xa, k.packW, k.packW16, k.packW8, wRaw, p.input, xw, nw, bias, biasMode, gs)

	// Steps past a sequence's end are zeros in Y.
	if y != nil && lens != nil {
		for d := 0; d < p.dirs; d++ {
			for b := 0; b < p.batch; b++ {
				for t := p.seqLen(lens, b); t < p.seq; t++ {
					o := p.yOff(t, d, b)
					clear(y.F[o : o+h])
				}
			}
		}
	}
	maxLen := 0
	for b := 0; b < p.batch; b++ {
		maxLen = max(maxLen, p.seqLen(lens, b))
	}

	for d := 0; d < p.dirs; d++ {
		hs := hAll[d*p.batch*h : (d+1)*p.batch*h]
		cs := cAll[d*p.batch*h : (d+1)*p.batch*h]
		for b := 0; b < p.batch; b++ {
			so := p.stateOff(d, b)
			if h0 != nil {
				copy(hs[b*h:(b+1)*h], h0.F[so:so+h])
			} else {
				clear(hs[b*h : (b+1)*h])
			}
			if c0 != nil {
				copy(cs[b*h:(b+1)*h], c0.F[so:so+h])
			} else {
				clear(cs[b*h : (b+1)*h])
			}
		}
		var rd []float32
		if k.packR[d] == nil {
			rd = in[rnnInR].F[d*gh*h : (d+1)*gh*h]
		}
		var peep []float32
		if pT != nil {
			peep = pT.F[d*3*h : (d+1)*3*h]
		}
		for st := 0; st < maxLen; st++ {
			if k.hold > 0 && st%k.hold == k.holdOff {
				k.holdStep(st, d, lens, hs, y)
				continue
			}
			// The recurrent product H * R^T (R[zr] for a plain GRU).
			k.project(x, p.batch, p.recCols(), h, hs, k.packR[d], k.packR16[d], k.packR8[d], rd, h, rec, gh, nil, gemm.NoBias, gs)
			if p.kind == rnnGRU && !p.linearBeforeReset {
				// rt = f(...), then (rt (.) Ht-1) * Rh^T.
				for b := 0; b < p.batch; b++ {
					rrow := rh[b*h : (b+1)*h]
					L := p.seqLen(lens, b)
					if st >= L {
						clear(rrow)
						continue
					}
					t := st
					if p.dirReverse(d) {
						t = L - 1 - st
					}
					xo := p.xRow(t, b)*nw + d*gh
					xr := xw[xo+h : xo+2*h]
					r := rec[b*gh+h : b*gh+2*h]
					for j := range r {
						r[j] = clipTo(xr[j]+r[j], p.clip)
					}
					rnnActRow(p.acts[d][0], r)
					hb := hs[b*h : (b+1)*h]
					for j := range rrow {
						rrow[j] = r[j] * hb[j]
					}
				}
				var rdh []float32
				if rd != nil {
					rdh = rd[2*h*h:]
				}
				k.project(x, p.batch, h, h, rh, k.packRh[d], k.packRh16[d], k.packRh8[d], rdh, h, rec[2*h:], gh, nil, gemm.NoBias, gs)
			}
			for b := 0; b < p.batch; b++ {
				L := p.seqLen(lens, b)
				if st >= L {
					continue
				}
				t := st
				if p.dirReverse(d) {
					t = L - 1 - st
				}
				xo := p.xRow(t, b)*nw + d*gh
				xr := xw[xo : xo+gh]
				gr := rec[b*gh : (b+1)*gh]
				hb := hs[b*h : (b+1)*h]
				switch p.kind {
				case rnnSimple:
					k.stepRNN(d, xr, gr, hb)
				case rnnGRU:
					k.stepGRU(d, xr, gr, hb, rbh[d*h:(d+1)*h])
				case rnnLSTM:
					k.stepLSTM(d, xr, gr, hb, cs[b*h:(b+1)*h], peep)
				}
				if y != nil {
					o := p.yOff(t, d, b)
					copy(y.F[o:o+h], hb)
				}
			}
		}
		for b := 0; b < p.batch; b++ {
			so := p.stateOff(d, b)
			empty := p.seqLen(lens, b) == 0
			if yh != nil {
				if empty {
					clear(yh.F[so : so+h])
				} else {
					copy(yh.F[so:so+h], hs[b*h:(b+1)*h])
				}
			}
			if yc != nil {
				if empty {
					clear(yc.F[so : so+h])
				} else {
					copy(yc.F[so:so+h], cs[b*h:(b+1)*h])
				}
			}
		}
	}
}

// holdStep is a skipped step of the temporal knob: no product and no
// gate is computed, the state is held and Y at the step repeats it.
func (k *rnnKernel) holdStep(st, d int, lens *Tensor, hs []float32, y *Tensor) {
	p, h := k.p, k.p.hidden
	if y == nil {
		return
	}
	for b := 0; b < p.batch; b++ {
		L := p.seqLen(lens, b)
		if st >= L {
			continue
		}
		t := st
		if p.dirReverse(d) {
			t = L - 1 - st
		}
		o := p.yOff(t, d, b)
		copy(y.F[o:o+h], hs[b*h:(b+1)*h])
	}
}

// stepRNN updates one row of the hidden state: Ht = f(x + Ht-1*R^T).
func (k *rnnKernel) stepRNN(d int, xr, gr, hb []float32) {
	c := k.p.clip
	gr = gr[:len(hb)]
	xr = xr[:len(hb)]
	for j := range hb {
		hb[j] = clipTo(xr[j]+gr[j], c)
	}
	rnnActRow(k.p.acts[d][0], hb)
}

// stepGRU updates one row of the hidden state from the projections of
// gates z, r, h. Without linear_before_reset, gr's r part already holds rt
// and its h part (rt (.) Ht-1)*Rh^T.
func (k *rnnKernel) stepGRU(d int, xr, gr, hb, rbh []float32) {
	p := k.p
	h, c := p.hidden, p.clip
	z, r, hh := gr[:h], gr[h:2*h], gr[2*h:3*h]
	xz, xrr, xh := xr[:h], xr[h:2*h], xr[2*h:3*h]
	for j := range z {
		z[j] = clipTo(xz[j]+z[j], c)
	}
	rnnActRow(p.acts[d][0], z)
	if p.linearBeforeReset {
		for j := range r {
			r[j] = clipTo(xrr[j]+r[j], c)
		}
		rnnActRow(p.acts[d][0], r)
		for j := range hh {
			hh[j] = clipTo(xh[j]+r[j]*(hh[j]+rbh[j]), c)
		}
	} else {
		for j := range hh {
			hh[j] = clipTo(xh[j]+hh[j], c)
		}
	}
	rnnActRow(p.acts[d][1], hh)
	hb = hb[:h]
	for j := range hb {
		hb[j] = (1-z[j])*hh[j] + z[j]*hb[j]
	}
}

// stepLSTM updates one row of the hidden and cell states from the
// projections of gates i, o, f, c; peep is P [iof] or nil.
func (k *rnnKernel) stepLSTM(d int, xr, gr, hb, cb, peep []float32) {
	p := k.p
	h, c := p.hidden, p.clip
	ig, og, fg, cg := gr[:h], gr[h:2*h], gr[2*h:3*h], gr[3*h:4*h]
	xi, xo, xf, xc := xr[:h], xr[h:2*h], xr[2*h:3*h], xr[3*h:4*h]
	cb = cb[:h]
	if peep != nil {
		pi, pf := peep[:h], peep[2*h:3*h]
		for j := range ig {
			ig[j] = clipTo(xi[j]+ig[j]+pi[j]*cb[j], c)
			fg[j] = clipTo(xf[j]+fg[j]+pf[j]*cb[j], c)
		}
	} else {
		for j := range ig {
			ig[j] = clipTo(xi[j]+ig[j], c)
			fg[j] = clipTo(xf[j]+fg[j], c)
		}
	}
	rnnActRow(p.acts[d][0], ig)
	if p.inputForget {
		for j := range fg {
			fg[j] = 1 - ig[j]
		}
	} else {
		rnnActRow(p.acts[d][0], fg)
	}
	for j := range cg {
		cg[j] = clipTo(xc[j]+cg[j], c)
	}
	rnnActRow(p.acts[d][1], cg)
	for j := range cb {
		cb[j] = fg[j]*cb[j] + ig[j]*cg[j]
	}
	if peep != nil {
		po := peep[h : 2*h]
		for j := range og {
			og[j] = clipTo(xo[j]+og[j]+po[j]*cb[j], c)
		}
	} else {
		for j := range og {
			og[j] = clipTo(xo[j]+og[j], c)
		}
	}
	rnnActRow(p.acts[d][0], og)
	copy(cg, cb)
	rnnActRow(p.acts[d][2], cg)
	hb = hb[:h]
	for j := range hb {
		hb[j] = og[j] * cg[j]
	}
}

// rnnActRow applies an activation to every element of v, with the common
// functions in their own loops (Sigmoid and Tanh vectorised by vmath,
// within a few ulp of the reference's float64).
func rnnActRow(a rnnAct, v []float32) {
	switch a.kind {
	case rnnActSigmoid:
		vmath.Sigmoid(v, v)
	case rnnActTanh:
		vmath.Tanh(v, v)
	case rnnActRelu:
		for i, x := range v {
			if !(x > 0) {
				v[i] = 0
			}
		}
	default:
		for i, x := range v {
			v[i] = float32(a.f(float64(x)))
		}
	}
}
