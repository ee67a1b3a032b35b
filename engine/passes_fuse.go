package engine

import (
	"math"
	"strings"
)

// This file holds the element-wise fusion: which nodes compute an
// activation (matchAct), which producers apply one in their epilogue
// (absorbs), and the fuse-elementwise pass that turns the producers that
// are not Conv, Gemm or BatchNormalization (a residual Add, a
// squeeze-excitation Mul) into fused kernels (op_fused.go) so that
// fuse-activation can give them the activation that follows.

// actMatch is an activation found in the graph: the nodes that compute it
// from x (one, or a Sigmoid or HardSigmoid and the Mul by x), the last of
// which yields the result.
type actMatch struct {
	act   activation
	x     *value
	nodes []*node // last is the node whose output is the activation's
	// xReads is how many of nodes read x (all of them but in GELU).
	xReads int
}

// matchAct reports whether n is the last node of an activation of x: a
// Relu, a Clip with constant bounds, Sigmoid, Tanh, HardSigmoid or
// HardSwish or Gelu (exact) of x, Mul(x, Sigmoid(x)) (SiLU, Swish as
// PyTorch exports it), Mul(x, HardSigmoid(x)) (hard-swish) or the erf form
// of GELU (matchGelu). Only float32 fuses beyond a
// clamp.
func matchAct(g *graph, n *node) (actMatch, bool) {
	if n.def != opTable[n.op] || len(n.in) == 0 || n.in[0] == nil || len(n.out) != 1 {
		return actMatch{}, false
	}
	x := n.in[0]
	f32 := x.dtype == Float32
	m := actMatch{x: x, nodes: []*node{n}}
	switch n.op {
	case "Relu":
		m.act = activation{on: true, lo: 0, hi: float32(math.Inf(1))}
	case "Clip":
		cp, ok := n.params.(*clipParams)
		if !ok || !cp.known {
			return m, false
		}
		m.act = activation{on: true, lo: cp.lo, hi: cp.hi}
	case "Sigmoid":
		m.act.fn = actSigmoid
	case "Tanh":
		m.act.fn = actTanh
	case "HardSigmoid":
		al, err1 := n.attrFloat("alpha", 0.2)
		be, err2 := n.attrFloat("beta", 0.5)
		if err1 != nil || err2 != nil {
			return m, false
		}
		m.act = activation{fn: actHardSigmoid, alpha: al, beta: be}
	case "HardSwish":
		m.act = activation{fn: actHardSwish, alpha: 1.0 / 6, beta: 0.5}
	case "Gelu":
		if s, err := n.attrString("approximate", "none"); err != nil || s != "none" {
			return m, false
		}
		m.act.fn = actGelu
	case "Mul":
		if len(n.in) != 2 || !f32 {
			return m, false
		}
		if gm, ok := matchGelu(g, n); ok {
			return gm, true
		}
		for xi := 0; xi < 2; xi++ {
			x, gate := n.in[xi], n.in[1-xi]
			s := gate.producer
			if s == nil || s.def != opTable[s.op] || len(s.in) != 1 || s.in[0] != x || gate.output || len(g.consumers(gate)) != 1 {
				continue
			}
			if n.in[0] == n.in[1] {
				continue
			}
			switch s.op {
			case "Sigmoid":
				m.act = activation{fn: actSiLU}
			case "HardSigmoid":
				al, err1 := s.attrFloat("alpha", 0.2)
				be, err2 := s.attrFloat("beta", 0.5)
				if err1 != nil || err2 != nil {
					continue
				}
				m.act = activation{fn: actHardSwish, alpha: al, beta: be}
			default:
				continue
			}
			m.x, m.nodes, m.xReads = x, []*node{s, n}, 2
			m.act.from = s.name + "+" + n.name
			return m, true
		}
		return m, false
	default:
		return m, false
	}
	if m.act.fn != actIdentity && !f32 || !x.dtype.IsFloat() {
		return m, false
	}
	m.act.from = n.name
	m.xReads = 1
	return m, true
}

// matchGelu recognises GELU as PyTorch exports it, ending at the Mul n:
// Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5) or Mul(Mul(x, 0.5),
// Add(...)), the division possibly a Mul by 1/sqrt 2, each intermediate
// read once.
func matchGelu(g *graph, n *node) (actMatch, bool) {
	// operand returns the node producing v when it is op, reads a
	// constant scalar c as one operand (within float32 rounding) and v is
	// read by nothing else; and its other operand.
	only := func(v *value) bool { return !v.output && len(g.consumers(v)) == 1 }
	scalarOp := func(v *value, op string, c float64) (*node, *value) {
		p := v.producer
		if p == nil || p.op != op || p.def != opTable[op] || len(p.in) != 2 || !only(v) {
			return nil, nil
		}
		for i := 0; i < 2; i++ {
			k := p.in[i]
			if k.isConst() && k.numel() == 1 && k.dtype == Float32 && math.Abs(float64(k.constant.F[0])-c) <= 1e-6*math.Abs(c) {
				if op == "Div" && i == 0 {
					return nil, nil
				}
				return p, p.in[1-i]
			}
		}
		return nil, nil
	}
	// erfPart matches Add(Erf(x/sqrt 2), 1) and returns its nodes and x.
	erfPart := func(v *value) ([]*node, *value) {
		add, e := scalarOp(v, "Add", 1)
		if add == nil || e.producer == nil || e.producer.op != "Erf" || e.producer.def != opTable["Erf"] || !only(e) {
			return nil, nil
		}
		erf := e.producer
		d, x := scalarOp(erf.in[0], "Div", math.Sqrt2)
		if d == nil {
			d, x = scalarOp(erf.in[0], "Mul", 1/math.Sqrt2)
		}
		if d == nil {
			return nil, nil
		}
		return []*node{d, erf, add}, x
	}
	// Form 1: n = Mul(m, 0.5), m = Mul(x, Add(...)).
	for i := 0; i < 2; i++ {
		c, v := n.in[i], n.in[1-i]
		if c.isConst() && c.numel() == 1 && c.dtype == Float32 && c.constant.F[0] == 0.5 {
			if m := v.producer; m != nil && m.op == "Mul" && m.def == opTable["Mul"] && len(m.in) == 2 && only(v) {
				for j := 0; j < 2; j++ {
					if ns, x := erfPart(m.in[j]); ns != nil && x == m.in[1-j] {
						return geluMatch(x, append(ns, m, n)), true
					}
				}
			}
		}
	}
	// Form 2: n = Mul(Mul(x, 0.5), Add(...)).
	for i := 0; i < 2; i++ {
		ns, x := erfPart(n.in[i])
		if ns == nil {
			continue
		}
		if h, hx := scalarOp(n.in[1-i], "Mul", 0.5); h != nil && hx == x {
			return geluMatch(x, append(ns, h, n)), true
		}
	}
	return actMatch{}, false
}

func geluMatch(x *value, nodes []*node) actMatch {
	var names []string
	for _, n := range nodes {
		names = append(names, n.name)
	}
	return actMatch{act: activation{fn: actGelu, from: strings.Join(names, "+")}, x: x, nodes: nodes, xReads: 2}
}

// absorbs reports whether p's kernel applies act (after its own
// activation, cur) in its epilogue.
func absorbs(p *node, act activation) bool {
	cur := p.act
	if cur.fn != actIdentity {
		return false // a clamp or a function after a function: not one epilogue
	}
	clampOnly := act.fn == actIdentity
	switch {
	case isFusedDef(p.def):
		return true
	case p.def != opTable[p.op]:
		return false
	}
	switch p.op {
	case "Conv", "Gemm", "MatMul":
		return clampOnly || p.out[0].dtype == Float32
	case "ConvTranspose":
		return clampOnly // its kernel clamps only
	case "BatchNormalization":
		return p.out[0].dtype == Float32
	}
	return false
}

// combine returns cur followed by act (absorbs said it can be).
func combine(cur, act activation) activation {
	out := act
	out.from = joinName(cur.from, act.from)
	if cur.on {
		if act.on {
			out.lo, out.hi = max(act.lo, cur.lo), min(act.hi, cur.hi)
		} else {
			out.on, out.lo, out.hi = true, cur.lo, cur.hi
		}
	}
	return out
}

// fuseElementwise turns the producers of activations that no kernel would
// absorb into fused kernels: Add of two same-shape float32 tensors (a
// residual) and a squeeze-excitation Mul (x by one factor per channel),
// when their only reader is an activation (feedsAct). Without one they
// keep their own kernels, which are as fast.
// fuse-activation then moves the activations into them.
func fuseElementwise(g *graph, _ *Options) (int, error) {
	changed := 0
	for _, n := range g.nodes {
		if n.def != opTable[n.op] || len(n.out) != 1 || len(n.in) != 2 || n.in[0] == nil || n.in[1] == nil {
			continue
		}
		a, b, y := n.in[0], n.in[1], n.out[0]
		if a.dtype != Float32 || b.dtype != Float32 || y.dtype != Float32 {
			continue
		}
		switch n.op {
		case "Add":
			if !equalShapes(a.shape, y.shape) || !equalShapes(b.shape, y.shape) || y.output {
				continue
			}
			if !feedsAct(g, y) {
				continue
			}
			n.def, n.params = &fusedAddDef, nil
			changed++
		case "Mul":
			if _, swish := matchAct(g, n); swish {
				continue // Mul(x, Sigmoid(x)): fuse-activation's
			}
			p, ok := seScale(a.shape, b.shape, y.shape)
			if !ok || !feedsAct(g, y) {
				continue // without an activation the Mul's own kernel is as fast
			}
			n.def, n.params = &fusedScaleDef, p
			changed++
		}
	}
	return changed, nil
}

// feedsAct reports whether y is read by one activation alone (that
// fuse-activation may move into y's producer).
func feedsAct(g *graph, y *value) bool {
	if y.output {
		return false
	}
	cs := g.consumers(y)
	if len(cs) == 2 { // Mul(y, Sigmoid(y)), in either order
		for _, c := range cs {
			if m, ok := matchAct(g, c); ok && m.x == y && len(m.nodes) == 2 {
				return true
			}
		}
		return false
	}
	if len(cs) != 1 {
		return false
	}
	m, ok := matchAct(g, cs[0])
	return ok && m.x == y
}

// seScale recognises Mul(x, s) (either order) where s has one factor per
// channel (and batch item) of x, x being [N, C, spatial...] with at least
// one spatial dimension, and the output x's shape.
func seScale(a, b, y []int) (*fusedScaleParams, bool) {
	for xi := 0; xi < 2; xi++ {
		x, s := a, b
		if xi == 1 {
			x, s = b, a
		}
		if len(x) < 3 || !equalShapes(x, y) || equalShapes(x, s) || len(s) > len(x) || len(s) < 2 {
			continue
		}
		ps := make([]int, len(x)) // s padded to x's rank
		for i := range ps {
			ps[i] = 1
		}
		copy(ps[len(x)-len(s):], s)
		ok := true
		for _, d := range ps[2:] {
			ok = ok && d == 1
		}
		if !ok || ps[0] != 1 && ps[0] != x[0] || ps[1] != x[1] || x[1] == 1 {
			continue
		}
		return &fusedScaleParams{xi: xi, batch: x[0], c: x[1], size: numel(x[2:]),
			sBatched: ps[0] != 1, sPerChanel: true}, true
	}
	return nil, false
}

func joinNames(ns []*node) string {
	s := ""
	for _, n := range ns {
		s = joinName(s, n.name)
	}
	return s
}

// fuseActivations moves each activation into the epilogue of the node that
// produces its input when that node's kernel applies it (absorbs) and
// nothing else reads the input; a SiLU or hard-swish whose producer
// cannot take it becomes one fused pass (fusedActDef) instead of a
// function, a temporary and a Mul.
func fuseActivations(g *graph) int {
	drop := map[*node]bool{}
	for _, n := range g.nodes {
		if drop[n] {
			continue
		}
		m, ok := matchAct(g, n)
		if !ok {
			continue
		}
		x, last := m.x, m.nodes[len(m.nodes)-1]
		if x.output || len(g.consumers(x)) != m.xReads || x.dtype != Float32 && m.act.fn != actIdentity {
			continue
		}
		p := x.producer
		if p != nil && !drop[p] && len(p.out) > 0 && p.out[0] == x && absorbs(p, m.act) {
			p.act = combine(p.act, m.act)
			out := last.out[0]
			out.producer = p
			p.out[0] = out
			for _, d := range m.nodes {
				drop[d] = true
			}
			continue
		}
		if len(m.nodes) >= 2 { // Mul(x, gate(x)), GELU: one pass
			last.def, last.params, last.act = &fusedActDef, nil, m.act
			last.act.from = joinNames(m.nodes[:len(m.nodes)-1])
			last.in = []*value{x}
			last.nIn = 1
			for _, d := range m.nodes[:len(m.nodes)-1] {
				drop[d] = true
			}
		}
	}
	g.removeNodes(drop)
	return len(drop)
}
