package engine

import (
	"fmt"
	"sort"
	"strings"
)

// Limits of the Einsum iteration space, so the reference evaluation keeps
// its counters on the stack.
const (
	einsumMaxLabels   = 64 // 52 letters and the ellipsis dimensions
	einsumMaxOperands = 16
)

// einsumParams describe an Einsum node. Labels number the letters and the
// ellipsis dimensions: ellipsis dimension e is label e (the ellipsis is
// right-aligned across operands, broadcasting as numpy does), letters follow
// in order of first appearance.
type einsumParams struct {
	eq       string
	ellipsis int     // number of ellipsis dimensions
	size     []int   // per label: its extent (broadcast over operands)
	ops      [][]int // per operand: the label of each dimension
	out      []int   // the label of each output dimension
	// strides[o][l] is how far operand o moves when label l advances (0
	// when the operand broadcasts it; the sum of both strides of a
	// repeated label, which reads the diagonal).
	strides [][]int
	// outer are the output labels, inner the summed ones, with each
	// operand's strides along them (inStrides[o][j] for inner label j).
	inner                 []int
	outStrides, inStrides [][]int
}

var einsumOp = opDef{
	infer: func(n *node) error {
		if len(n.in) < 1 {
			return n.errorf("has no inputs")
		}
		if len(n.out) == 0 || n.out[0] == nil {
			return n.errorf("has no output")
		}
		for i, v := range n.in {
			if v == nil {
				return n.errorf("input %d is missing", i)
			}
			if v.dtype != n.in[0].dtype {
				return n.errorf("input %d has type %v, input 0 has %v", i, v.dtype, n.in[0].dtype)
			}
		}
		if n.opset < 12 {
			return n.errorf("Einsum needs opset 12, the model has opset %d", n.opset)
		}
		if len(n.in) > einsumMaxOperands {
			return n.unsupported("%d operands (at most %d)", len(n.in), einsumMaxOperands)
		}
		eq, err := n.attrString("equation", "")
		if err != nil {
			return err
		}
		shapes := make([][]int, len(n.in))
		for i, v := range n.in {
			shapes[i] = v.shape
		}
		p, err := parseEinsum(eq, shapes)
		if err != nil {
			return n.errorf("equation %q: %v", eq, err)
		}
		n.params = p
		n.out[0].dtype = n.in[0].dtype
		n.out[0].shape = make([]int, len(p.out))
		for i, l := range p.out {
			n.out[0].shape[i] = p.size[l]
		}
		return nil
	},
	eval:    einsumEval,
	compile: compileEinsum,
}

// parseEinsum parses an Einsum equation for operands of the given shapes.
func parseEinsum(eq string, shapes [][]int) (*einsumParams, error) {
	eq = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, eq)
	if eq == "" {
		return nil, fmt.Errorf("empty equation")
	}
	lhs, rhs, explicit := strings.Cut(eq, "->")
	if strings.Contains(rhs, "->") {
		return nil, fmt.Errorf(`more than one "->"`)
	}
	terms := strings.Split(lhs, ",")
	if len(terms) != len(shapes) {
		return nil, fmt.Errorf("%d operand subscripts for %d inputs", len(terms), len(shapes))
	}
	// Parse each term into letters and the ellipsis position.
	type term struct {
		letters []byte
		ell     int // position of the ellipsis among the letters, -1 if none
	}
	parseTerm := func(s, what string) (term, error) {
		t := term{ell: -1}
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				t.letters = append(t.letters, c)
			case c == '.':
				if !strings.HasPrefix(s[i:], "...") {
					return t, fmt.Errorf("%s %q: a '.' outside an ellipsis", what, s)
				}
				if t.ell >= 0 {
					return t, fmt.Errorf("%s %q: more than one ellipsis", what, s)
				}
				t.ell = len(t.letters)
				i += 2
			default:
				return t, fmt.Errorf("%s %q: %q is not a letter", what, s, c)
			}
		}
		return t, nil
	}
	p := &einsumParams{eq: eq}
	parsed := make([]term, len(terms))
	for i, s := range terms {
		t, err := parseTerm(s, fmt.Sprintf("operand %d subscripts", i))
		if err != nil {
			return nil, err
		}
		r := len(shapes[i])
		switch {
		case t.ell < 0 && len(t.letters) != r:
			return nil, fmt.Errorf("operand %d has rank %d but subscripts %q name %d dimensions", i, r, s, len(t.letters))
		case t.ell >= 0 && len(t.letters) > r:
			return nil, fmt.Errorf("operand %d has rank %d, fewer than the %d letters of %q", i, r, len(t.letters), s)
		}
		if t.ell >= 0 {
			p.ellipsis = max(p.ellipsis, r-len(t.letters))
		}
		parsed[i] = t
	}
	// Labels: ellipsis dimensions first, then letters.
	label := map[byte]int{}
	count := map[byte]int{}
	p.size = make([]int, p.ellipsis)
	for e := range p.size {
		p.size[e] = 1
	}
	setSize := func(l, d int) error {
		switch s := p.size[l]; {
		case s == d || d == 1:
		case s == 1:
			p.size[l] = d
		default:
			return fmt.Errorf("dimension %d does not match %d", d, s)
		}
		return nil
	}
	p.ops = make([][]int, len(shapes))
	for i, t := range parsed {
		shape := shapes[i]
		nell := 0
		if t.ell >= 0 {
			nell = len(shape) - len(t.letters)
		}
		labels := make([]int, 0, len(shape))
		for j := 0; j <= len(t.letters); j++ {
			if j == t.ell {
				for e := 0; e < nell; e++ {
					labels = append(labels, p.ellipsis-nell+e)
				}
			}
			if j == len(t.letters) {
				break
			}
			c := t.letters[j]
			l, ok := label[c]
			if !ok {
				l = len(p.size)
				label[c] = l
				p.size = append(p.size, 1)
			}
			count[c]++
			labels = append(labels, l)
		}
		for d, l := range labels {
			if err := setSize(l, shape[d]); err != nil {
				return nil, fmt.Errorf("operand %d %v, dimension %d (%s): %v", i, shape, d, labelName(l, label), err)
			}
		}
		// A letter repeated within an operand (a diagonal) needs equal
		// extents.
		for d, l := range labels {
			for d2 := d + 1; d2 < len(labels); d2++ {
				if labels[d2] == l && shape[d] != shape[d2] {
					return nil, fmt.Errorf("operand %d %v repeats %s over dimensions of %d and %d", i, shape, labelName(l, label), shape[d], shape[d2])
				}
			}
		}
		p.ops[i] = labels
	}
	if len(p.size) > einsumMaxLabels {
		return nil, fmt.Errorf("%d labels, at most %d", len(p.size), einsumMaxLabels)
	}
	// Output.
	if explicit {
		t, err := parseTerm(rhs, "output subscripts")
		if err != nil {
			return nil, err
		}
		if t.ell < 0 && p.ellipsis > 0 {
			return nil, fmt.Errorf("the operands have ellipsis dimensions but the output subscripts %q have no ellipsis", rhs)
		}
		seen := map[byte]bool{}
		for j := 0; j <= len(t.letters); j++ {
			if j == t.ell {
				for e := 0; e < p.ellipsis; e++ {
					p.out = append(p.out, e)
				}
			}
			if j == len(t.letters) {
				break
			}
			c := t.letters[j]
			l, ok := label[c]
			if !ok {
				return nil, fmt.Errorf("output letter %q is in no operand", c)
			}
			if seen[c] {
				return nil, fmt.Errorf("output letter %q is repeated", c)
			}
			seen[c] = true
			p.out = append(p.out, l)
		}
	} else {
		// Implicit: the ellipsis, then the letters seen once, in ASCII
		// order (numpy's).
		for e := 0; e < p.ellipsis; e++ {
			p.out = append(p.out, e)
		}
		var once []byte
		for c, k := range count {
			if k == 1 {
				once = append(once, c)
			}
		}
		sort.Slice(once, func(a, b int) bool { return once[a] < once[b] })
		for _, c := range once {
			p.out = append(p.out, label[c])
		}
	}
	// Strides.
	p.strides = make([][]int, len(shapes))
	for i, labels := range p.ops {
		st := make([]int, len(p.size))
		s := 1
		for d := len(labels) - 1; d >= 0; d-- {
			if shapes[i][d] != 1 {
				st[labels[d]] += s
			}
			s *= shapes[i][d]
		}
		p.strides[i] = st
	}
	inOut := make([]bool, len(p.size))
	for _, l := range p.out {
		inOut[l] = true
	}
	for l := range p.size {
		if !inOut[l] {
			p.inner = append(p.inner, l)
		}
	}
	p.outStrides = make([][]int, len(shapes))
	p.inStrides = make([][]int, len(shapes))
	for i := range shapes {
		for _, l := range p.out {
			p.outStrides[i] = append(p.outStrides[i], p.strides[i][l])
		}
		for _, l := range p.inner {
			p.inStrides[i] = append(p.inStrides[i], p.strides[i][l])
		}
	}
	return p, nil
}

// macs counts the products of the evaluation: one per operand after the
// first for every point of the iteration space (all labels).
func (p *einsumParams) macs() int64 {
	n := int64(max(len(p.ops)-1, 1))
	for _, s := range p.size {
		if s == 0 {
			return 0
		}
		if n > 1<<50/int64(s) {
			return 1 << 50
		}
		n *= int64(s)
	}
	return n
}

// labelName names a label in messages.
func labelName(l int, letters map[byte]int) string {
	for c, x := range letters {
		if x == l {
			return fmt.Sprintf("%q", c)
		}
	}
	return fmt.Sprintf("ellipsis dimension %d", l)
}

// einsumEval is the reference: for every output element, the sum over the
// summed labels of the product of the operands, in float64 (int64 for
// integer tensors).
func einsumEval(n *node, in, out []*Tensor) {
	p := n.params.(*einsumParams)
	nops := len(in)
	var oidx, iidx [einsumMaxLabels]int
	var base, off [einsumMaxOperands]int
	isInt := out[0].DType.IsInt()
	total := len(out[0].F)
	if isInt {
		total = len(out[0].I)
	}
	innerCount := 1
	for _, l := range p.inner {
		innerCount *= p.size[l]
	}
	for o := 0; o < total; o++ {
		var sf float64
		var si int64
		off = base
		for c := 0; c < innerCount; c++ {
			if isInt {
				prod := int64(1)
				for i := 0; i < nops; i++ {
					prod *= in[i].I[off[i]]
				}
				si += prod
			} else {
				prod := 1.0
				for i := 0; i < nops; i++ {
					prod *= float64(in[i].F[off[i]])
				}
				sf += prod
			}
			for d := len(p.inner) - 1; d >= 0; d-- {
				iidx[d]++
				for i := 0; i < nops; i++ {
					off[i] += p.inStrides[i][d]
				}
				if iidx[d] < p.size[p.inner[d]] {
					break
				}
				for i := 0; i < nops; i++ {
					off[i] -= p.inStrides[i][d] * iidx[d]
				}
				iidx[d] = 0
			}
		}
		if isInt {
			out[0].I[o] = wrapInt(out[0].DType, si)
		} else {
			out[0].F[o] = float32(sf)
		}
		for d := len(p.out) - 1; d >= 0; d-- {
			oidx[d]++
			for i := 0; i < nops; i++ {
				base[i] += p.outStrides[i][d]
			}
			if oidx[d] < p.size[p.out[d]] {
				break
			}
			for i := 0; i < nops; i++ {
				base[i] -= p.outStrides[i][d] * oidx[d]
			}
			oidx[d] = 0
		}
	}
}

// stridedCopy copies a tensor of the given extents between two strided
// layouts; dimensions run from outermost to innermost.
type stridedCopy struct {
	sizes, src, dst []int
}

func (s *stridedCopy) run(dst, src []float32) {
	r := len(s.sizes)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	total := 1
	for _, d := range s.sizes {
		total *= d
	}
	if total == 0 {
		return
	}
	inner, is, ds := s.sizes[r-1], s.src[r-1], s.dst[r-1]
	var idx [einsumMaxLabels]int
	so, do := 0, 0
	for done := 0; done < total; done += inner {
		if is == 1 && ds == 1 {
			copy(dst[do:do+inner], src[so:so+inner])
		} else {
			for j := 0; j < inner; j++ {
				dst[do+j*ds] = src[so+j*is]
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			so += s.src[d]
			do += s.dst[d]
			if idx[d] < s.sizes[d] {
				break
			}
			so -= s.src[d] * idx[d]
			do -= s.dst[d] * idx[d]
			idx[d] = 0
		}
	}
}

// einsumKernel runs a two-operand Einsum as a batched GEMM: the labels of
// the two operands and the output fall into batch (in both operands and
// the output), M (first operand and output), N (second operand and output)
// and K (both operands, summed) groups; an operand whose M and K (or K and
// N) labels are not laid out as a matrix, row-major or transposed, is
// first copied into one (the planned transpose), and so is the output.
type einsumKernel struct {
	g                batchedGemm
	x, y             int          // inputs feeding the GEMM's A and B
	copyX, copyY     *stridedCopy // nil: the input is read in place
	copyC            *stridedCopy // nil: the GEMM writes the output
	offX, offY, offC int          // scratch offsets of the copies
	offGemm, size    int
}

// ScratchSize implements scratchUser.
func (k *einsumKernel) ScratchSize() int { return k.size }

// Run implements Kernel.
func (k *einsumKernel) Run(x *Exec, in, out []*Tensor) {
	s := x.scratch
	a, b, c := in[k.x].F, in[k.y].F, out[0].F
	if k.copyX != nil {
		k.copyX.run(s[k.offX:], a)
		a = s[k.offX:]
	}
	if k.copyY != nil {
		k.copyY.run(s[k.offY:], b)
		b = s[k.offY:]
	}
	if k.copyC != nil {
		c = s[k.offC:]
	}
	k.g.run(x, a, b, c, s[k.offGemm:])
	if k.copyC != nil {
		k.copyC.run(out[0].F, c)
	}
}

// einsumGroup is the flattened stride of a group of labels taken in order
// as one index, or ok false when they do not form one (not nested, or
// broadcast). free means the group has extent 1 (any stride will do).
func einsumGroup(labels, size, strides []int) (stride int, free, ok bool) {
	prev := -1
	for _, l := range labels {
		if size[l] == 1 {
			continue
		}
		if strides[l] == 0 {
			return 0, false, false
		}
		if prev >= 0 && strides[prev] != strides[l]*size[l] {
			return 0, false, false
		}
		prev = l
	}
	if prev < 0 {
		return 0, true, true
	}
	return strides[prev], false, true
}

func compileEinsum(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*einsumParams)
	if len(n.in) != 2 || !n.in[0].dtype.IsFloat() {
		return nil, nil
	}
	if numel(n.out[0].shape) == 0 {
		return nil, nil
	}
	for _, s := range p.size {
		if s == 0 {
			return nil, nil
		}
	}
	// Classify labels; diagonals and labels summed within one operand
	// stay with the reference.
	in0, in1, inOut := make([]int, len(p.size)), make([]int, len(p.size)), make([]bool, len(p.size))
	for _, l := range p.ops[0] {
		in0[l]++
	}
	for _, l := range p.ops[1] {
		in1[l]++
	}
	for _, l := range p.out {
		inOut[l] = true
	}
	var batch, mL, nL, kL []int
	for _, l := range p.out {
		switch {
		case in0[l] > 1 || in1[l] > 1:
			return nil, nil
		case in0[l] == 1 && in1[l] == 1:
			batch = append(batch, l)
		case in0[l] == 1:
			mL = append(mL, l)
		default:
			nL = append(nL, l)
		}
	}
	outSt := make([]int, len(p.size))
	s := 1
	for d := len(p.out) - 1; d >= 0; d-- {
		outSt[p.out[d]] = s
		s *= p.size[p.out[d]]
	}
	// Labels of one operand and the output are rows (or columns) of the
	// product only as far as they nest in both layouts; the outer ones
	// that do not become batch labels, read at a fixed offset of the
	// other operand.
	rowGroup := func(ls []int, st []int) (rows, outer []int) {
		for i := range ls {
			_, _, okC := einsumGroup(ls[i:], p.size, outSt)
			_, _, okO := einsumGroup(ls[i:], p.size, st)
			if okC && okO {
				return ls[i:], ls[:i]
			}
		}
		return nil, ls
	}
	var outer0, outer1 []int
	mL, outer0 = rowGroup(mL, p.strides[0])
	nL, outer1 = rowGroup(nL, p.strides[1])
	if len(outer0)+len(outer1) > 0 {
		// Batch labels in output order.
		isBatch := make([]bool, len(p.size))
		for _, ls := range [][]int{batch, outer0, outer1} {
			for _, l := range ls {
				isBatch[l] = true
			}
		}
		batch = batch[:0]
		for _, l := range p.out {
			if isBatch[l] {
				batch = append(batch, l)
			}
		}
	}
	for _, l := range p.ops[0] {
		if inOut[l] {
			continue
		}
		if in0[l] != 1 || in1[l] != 1 {
			return nil, nil
		}
		kL = append(kL, l)
	}
	for _, l := range p.ops[1] {
		if !inOut[l] && in0[l] == 0 {
			return nil, nil
		}
	}
	ext := func(ls []int) int {
		e := 1
		for _, l := range ls {
			e *= p.size[l]
		}
		return e
	}
	k := &einsumKernel{x: 0, y: 1}
	// The output: row-major C[M x N], or transposed (swap the operands),
	// or a copy.
	cm, cmFree, okM := einsumGroup(mL, p.size, outSt)
	cn, cnFree, okN := einsumGroup(nL, p.size, outSt)
	swap := false
	switch {
	case okM && okN && (cnFree || cn == 1):
	case okM && okN && (cmFree || cm == 1):
		swap = true
	default:
		k.copyC = &stridedCopy{}
	}
	if swap {
		k.x, k.y = 1, 0
		mL, nL = nL, mL
		cm, cmFree = cn, cnFree
		// K in the order of the new first operand.
		kL = kL[:0]
		for _, l := range p.ops[1] {
			if !inOut[l] {
				kL = append(kL, l)
			}
		}
	}
	M, N, K := ext(mL), ext(nL), ext(kL)
	if M*N*K <= 4 {
		return nil, nil // element-wise forms: a GEMM call per element costs more than the loop
	}
	g := batchedGemm{m: M, n: N, k: K}
	canon := func(groups ...[]int) (labels, strides []int) {
		for _, grp := range groups {
			labels = append(labels, grp...)
		}
		strides = make([]int, len(p.size))
		s := 1
		for d := len(labels) - 1; d >= 0; d-- {
			strides[labels[d]] = s
			s *= p.size[labels[d]]
		}
		return labels, strides
	}
	// cStrides are the strides of the matrix C the GEMM writes.
	cStrides := outSt
	if k.copyC != nil {
		labels, st := canon(batch, mL, nL)
		cStrides = st
		g.ldc = max(N, 1)
		k.copyC.sizes = make([]int, len(labels))
		for d, l := range labels {
			k.copyC.sizes[d] = p.size[l]
			k.copyC.src = append(k.copyC.src, st[l])
			k.copyC.dst = append(k.copyC.dst, outSt[l])
		}
	} else {
		g.ldc = cm
		if cmFree {
			g.ldc = max(N, 1)
		}
	}
	// The operands: row-major or transposed matrices, or copies.
	operand := func(in int, rows, cols []int) (st []int, ld int, trans bool, cp *stridedCopy) {
		st = p.strides[in]
		r, rFree, okR := einsumGroup(rows, p.size, st)
		cl, cFree, okC := einsumGroup(cols, p.size, st)
		nr, nc := ext(rows), ext(cols)
		if okR && okC {
			switch {
			case cFree || cl == 1:
				ld = r
				if rFree {
					ld = nc
				}
				if ld >= nc {
					return st, ld, false, nil
				}
			case rFree || r == 1:
				if cl >= nr {
					return st, cl, true, nil
				}
			}
		}
		// The copy holds the batch labels the operand has (it reads the
		// others at a fixed offset), then rows and columns.
		var own []int
		for _, l := range batch {
			if st[l] != 0 {
				own = append(own, l)
			}
		}
		labels, cst := canon(own, rows, cols)
		cp = &stridedCopy{}
		for _, l := range labels {
			cp.sizes = append(cp.sizes, p.size[l])
			cp.src = append(cp.src, st[l])
			cp.dst = append(cp.dst, cst[l])
		}
		return cst, max(nc, 1), false, cp
	}
	var xSt, ySt []int
	xSt, g.lda, g.transA, k.copyX = operand(k.x, mL, kL)
	ySt, g.ldb, g.transB, k.copyY = operand(k.y, kL, nL)
	// One product per batch index.
	var idx [einsumMaxLabels]int
	nb := ext(batch)
	for i := 0; i < nb; i++ {
		ox, oy, oc := 0, 0, 0
		for d, l := range batch {
			ox += idx[d] * xSt[l]
			oy += idx[d] * ySt[l]
			oc += idx[d] * cStrides[l]
		}
		g.offA, g.offB, g.offC = append(g.offA, ox), append(g.offB, oy), append(g.offC, oc)
		for d := len(batch) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < p.size[batch[d]] {
				break
			}
			idx[d] = 0
		}
	}
	g.fold()
	g.setScratch(c)
	k.g = g
	// Scratch: the copies, then the GEMM's.
	off := 0
	part := func(size int) int {
		o := off
		off += (size + 15) / 16 * 16
		return o
	}
	if k.copyX != nil {
		k.offX = part(numel(k.copyX.sizes))
	}
	if k.copyY != nil {
		k.offY = part(numel(k.copyY.sizes))
	}
	if k.copyC != nil {
		k.offC = part(numel(k.copyC.sizes))
	}
	k.offGemm = part(g.scratch)
	k.size = off
	if lim := c.opts.limit(); int64(k.size)*4 > lim {
		return nil, fmt.Errorf("%v: work memory of %d bytes exceeds the size limit of %d bytes", n, int64(k.size)*4, lim)
	}
	return k, nil
}
