package engine

import "github.com/kagen-ai/kagen/engine/onnx"

// fuseLayerNorm replaces the decomposed layer normalisation that PyTorch
// exports below opset 17,
//
//	mean = ReduceMean(x, last axis, keepdims)
//	d    = Sub(x, mean)
//	p    = Pow(d, 2)            or Mul(d, d)
//	v    = ReduceMean(p, last axis, keepdims)
//	s    = Sqrt(Add(v, eps))
//	y    = Div(d, s)
//	y    = Mul(y, gamma)        optional, either operand order
//	y    = Add(y, beta)         optional, either operand order
//
// by one LayerNormalization over the last axis. Every intermediate must be
// read only inside the chain and must not be a graph output; gamma and
// beta must be vectors of the last dimension's length and eps a constant
// scalar. A ReduceMean matches by its shapes (the input's with the last
// dimension 1): reducing axes of length 1 as well changes nothing.
func fuseLayerNorm(g *graph, _ *Options) (int, error) {
	fused := 0
	for i := 0; i < len(g.nodes); i++ {
		if g.nodes[i].op != "Div" {
			continue
		}
		m := matchLayerNorm(g, g.nodes[i])
		if m == nil {
			continue
		}
		ln := &node{name: m.last.name + "_layernorm", op: "LayerNormalization", index: m.last.index, opset: g.opset,
			def: opTable["LayerNormalization"], out: []*value{m.last.out[0]},
			attrs: map[string]*onnx.Attribute{
				"axis":    {Name: "axis", Type: onnx.AttrType(2), I: -1},
				"epsilon": {Name: "epsilon", Type: onnx.AttrType(1), F: m.eps},
			}}
		gamma := m.gamma
		if gamma == nil {
			d := m.x.shape[len(m.x.shape)-1]
			ones := make([]float32, d)
			for k := range ones {
				ones[k] = 1
			}
			gamma = &value{name: ln.name + "_scale", dtype: m.x.dtype, shape: []int{d}, constant: &Tensor{DType: m.x.dtype, Shape: []int{d}, F: ones}}
		}
		ln.in = []*value{m.x, gamma}
		if m.beta != nil {
			ln.in = append(ln.in, m.beta)
		}
		if err := ln.def.infer(ln); err != nil {
			continue // leave the chain as it is
		}
		ln.out[0].producer = ln
		// The fused node takes the place of the chain's last node, after
		// every producer of its inputs.
		drop := map[*node]bool{}
		for _, n := range m.nodes {
			drop[n] = true
		}
		for k, n := range g.nodes {
			if n == m.last {
				g.nodes[k] = ln
				delete(drop, n)
				break
			}
		}
		g.removeNodes(drop)
		fused++
		i = -1 // the node list changed; rescan (chains are few)
	}
	return fused, nil
}

// layerNormMatch is one decomposed layer normalisation.
type layerNormMatch struct {
	x, gamma, beta *value
	eps            float32
	nodes          []*node // all of the chain's nodes
	last           *node   // the node producing the result
}

// lnProducer returns v's producer when it is op, v is no graph output and
// exactly uses nodes read it.
func lnProducer(g *graph, v *value, op string, uses int) *node {
	if v == nil || v.producer == nil || v.producer.op != op || v.output || v.constant != nil {
		return nil
	}
	if len(g.consumers(v)) != uses {
		return nil
	}
	return v.producer
}

// lnScalar returns the value of a constant one-element tensor.
func lnScalar(v *value) (float64, bool) {
	if !v.isConst() || v.numel() != 1 {
		return 0, false
	}
	if v.dtype.IsInt() {
		return float64(v.constant.I[0]), true
	}
	return float64(v.constant.F[0]), true
}

// lnLastAxisMean reports whether n is a ReduceMean of x over the last axis
// with keepdims.
func lnLastAxisMean(n *node, x *value) bool {
	if n == nil || n.in[0] != x || len(x.shape) == 0 {
		return false
	}
	o := n.out[0].shape
	r := len(x.shape)
	if len(o) != r || o[r-1] != 1 {
		return false
	}
	return equalShapes(o[:r-1], x.shape[:r-1])
}

// lnVector reports whether v is a rank-1 vector of length d.
func lnVector(v *value, d int) bool {
	return v != nil && len(v.shape) == 1 && v.shape[0] == d && v.dtype.IsFloat()
}

// matchLayerNorm matches the chain around its Div.
func matchLayerNorm(g *graph, div *node) *layerNormMatch {
	if len(div.in) != 2 || div.out[0] == nil {
		return nil
	}
	d, s := div.in[0], div.in[1]
	sub := lnProducer(g, d, "Sub", 2)
	sqrt := lnProducer(g, s, "Sqrt", 1)
	if sub == nil || sqrt == nil || !d.dtype.IsFloat() {
		return nil
	}
	x, mean := sub.in[0], sub.in[1]
	if !equalShapes(d.shape, x.shape) || !equalShapes(div.out[0].shape, x.shape) || len(x.shape) == 0 {
		return nil
	}
	rm1 := lnProducer(g, mean, "ReduceMean", 1)
	if !lnLastAxisMean(rm1, x) {
		return nil
	}
	add := lnProducer(g, sqrt.in[0], "Add", 1)
	if add == nil || len(add.in) != 2 {
		return nil
	}
	v, epsV := add.in[0], add.in[1]
	if _, ok := lnScalar(v); ok {
		v, epsV = epsV, v
	}
	eps, ok := lnScalar(epsV)
	if !ok || !epsV.dtype.IsFloat() {
		return nil
	}
	rm2 := lnProducer(g, v, "ReduceMean", 1)
	if rm2 == nil {
		return nil
	}
	sq := rm2.in[0]
	if !lnLastAxisMean(rm2, sq) || !equalShapes(sq.shape, x.shape) {
		return nil
	}
	var pw *node
	if pw = lnProducer(g, sq, "Pow", 1); pw != nil {
		if e, ok := lnScalar(pw.input(1)); !ok || e != 2 || pw.in[0] != d {
			return nil
		}
	} else if pw = lnProducer(g, sq, "Mul", 1); pw != nil {
		if pw.in[0] != d || pw.in[1] != d {
			return nil
		}
	} else {
		return nil
	}
	// d is read by exactly the square and the Div (checked by its use count).
	m := &layerNormMatch{x: x, eps: float32(eps), nodes: []*node{rm1, sub, pw, rm2, add, sqrt, div}, last: div}
	dim := x.shape[len(x.shape)-1]
	y := div.out[0]
	// An optional Mul by gamma, then an optional Add of beta.
	if mul := lnSingleReader(g, y, "Mul"); mul != nil && equalShapes(mul.out[0].shape, x.shape) {
		if other := lnOther(mul, y); lnVector(other, dim) {
			m.gamma, m.nodes, m.last, y = other, append(m.nodes, mul), mul, mul.out[0]
		}
	}
	if add := lnSingleReader(g, y, "Add"); add != nil && equalShapes(add.out[0].shape, x.shape) {
		if other := lnOther(add, y); lnVector(other, dim) {
			m.beta, m.nodes, m.last = other, append(m.nodes, add), add
		}
	}
	return m
}

// lnSingleReader returns the only reader of v when it is op and v is not a
// graph output.
func lnSingleReader(g *graph, v *value, op string) *node {
	if v.output {
		return nil
	}
	c := g.consumers(v)
	if len(c) != 1 || c[0].op != op || len(c[0].in) != 2 || c[0].out[0] == nil {
		return nil
	}
	return c[0]
}

// lnOther returns the operand of a two-input node that is not v (nil when
// both are v).
func lnOther(n *node, v *value) *value {
	switch {
	case n.in[0] == v && n.in[1] != v:
		return n.in[1]
	case n.in[1] == v && n.in[0] != v:
		return n.in[0]
	}
	return nil
}
