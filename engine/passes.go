package engine

import (
	"fmt"
	"math"
)

// A pass is one named step of the load pipeline. It rewrites the graph and
// returns how many nodes it changed.
type pass struct {
	name string
	run  func(g *graph, opts *Options) (int, error)
}

// pipeline is the ordered list of graph passes every model goes through.
var pipeline = []pass{
	{"infer-shapes-and-fold-constants", inferAndFold},
	{"remove-identity", removeIdentity},
	{"fold-pad", foldPad},
	{"fold-batchnorm", foldBatchNorm},
	{"fuse-layernorm", fuseLayerNorm},
	{"fuse-elementwise", fuseElementwise},
	{"fuse-activation", fuseActivation},
	{"remove-dead-nodes", removeDead},
}

// PassStat says what one graph pass did to a model.
type PassStat struct {
	Name    string
	Changed int
}

// inferAndFold runs shape inference over the graph in order and evaluates
// every node whose inputs are all constants, so that whole chains of shape
// arithmetic fold (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as
// exporters emit them): a node downstream of a folded value sees it as a
// constant when it is inferred. An If whose condition is constant is
// replaced by the nodes of the branch it takes, which are then inferred in
// place. Folded tensors count against the size limit one by one, and all
// together against foldBudget times the limit.
func inferAndFold(g *graph, opts *Options) (int, error) {
	folded := 0
	limit := opts.limit()
	for i := 0; i < len(g.nodes); i++ {
		n := g.nodes[i]
		def := opTable[n.op]
		if def == nil {
			return folded, &UnsupportedError{Node: n.name, Op: n.op}
		}
		n.def = def
		for i, v := range n.in {
			if v != nil && v.dtype == Undefined {
				return folded, n.errorf("input %d %q has no known type", i, v.name)
			}
		}
		if n.op == "If" && n.nIn > 0 && n.in[0].isConst() {
			if err := spliceIf(g, i); err != nil {
				return folded, err
			}
			folded++
			i-- // infer the taken branch's nodes where the If was
			continue
		}
		if err := def.infer(n); err != nil {
			if n.op == "Loop" {
				if ok, uerr := unrollLoop(g, i, err); ok {
					if uerr != nil {
						return folded, uerr
					}
					folded++
					i-- // infer the unrolled iterations where the Loop was
					continue
				}
			}
			return folded, err
		}
		allConst := true
		for i, o := range n.out {
			if o == nil {
				continue
			}
			if o.dtype == Undefined {
				return folded, n.errorf("output %d %q: type not inferred", i, o.name)
			}
			if int64(o.numel())*4 > limit {
				return folded, n.errorf("output %q of shape %v exceeds the size limit of %d bytes", o.name, o.shape, limit)
			}
			if o.constant == nil {
				allConst = false
			}
		}
		if allConst {
			folded++
			continue
		}
		constIn := len(n.in) > 0 && len(n.graphs) == 0 // control-flow nodes run their subgraphs at run time
		for _, v := range n.in {
			if v != nil && v.constant == nil {
				constIn = false
			}
		}
		if !constIn {
			continue
		}
		in := make([]*Tensor, len(n.in))
		for i, v := range n.in {
			if v != nil {
				in[i] = v.constant
			}
		}
		out := make([]*Tensor, len(n.out))
		for i, o := range n.out {
			if o != nil {
				g.ctx.folded += int64(o.numel()) * 4
				if g.ctx.folded > foldBudget*limit {
					return folded, n.errorf("folding output %q: constants computed at load exceed %d bytes", o.name, foldBudget*limit)
				}
				out[i] = allocTensor(o)
			}
		}
		def.eval(n, in, out)
		for i, o := range n.out {
			if o != nil {
				o.constant = out[i]
			}
		}
		folded++
	}
	return folded, nil
}

// foldBudget bounds the constants folding may compute in all, as a
// multiple of the size limit (dequantized weights are four times their
// int8 size).
const foldBudget = 4

// runPasses runs the load pipeline on g and returns what each pass
// changed; the changes made in subgraphs are added in.
func runPasses(g *graph) ([]PassStat, error) {
	stats := make([]PassStat, len(g.ctx.passes))
	for i, p := range g.ctx.passes {
		n, err := p.run(g, g.ctx.opts)
		if err != nil {
			return nil, err
		}
		stats[i] = PassStat{Name: p.name, Changed: n}
	}
	for i := range stats {
		stats[i].Changed += g.ctx.changed[i]
	}
	return stats, nil
}

// replaceUses makes every reader of old read new instead.
func (g *graph) replaceUses(old, new *value) {
	for _, n := range g.nodes {
		for i, v := range n.in {
			if v == old {
				n.in[i] = new
			}
		}
	}
	for i, v := range g.outputs {
		if v == old {
			g.outputs[i] = new
		}
	}
}

// consumers returns the nodes that read v.
func (g *graph) consumers(v *value) []*node {
	var out []*node
	for _, n := range g.nodes {
		for _, x := range n.in {
			if x == v {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// removeNodes drops the marked nodes.
func (g *graph) removeNodes(drop map[*node]bool) {
	kept := g.nodes[:0]
	for _, n := range g.nodes {
		if !drop[n] {
			kept = append(kept, n)
		}
	}
	g.nodes = kept
}

// removeIdentity bypasses Identity and inference-mode Dropout nodes.
func removeIdentity(g *graph, _ *Options) (int, error) {
	drop := map[*node]bool{}
	for _, n := range g.nodes {
		if n.op != "Identity" && n.op != "Dropout" && !zeroPad(n) {
			continue
		}
		if n.op == "Dropout" && len(n.out) > 1 && n.out[1] != nil && len(g.consumers(n.out[1])) > 0 || n.op == "Dropout" && len(n.out) > 1 && n.out[1] != nil && n.out[1].output {
			continue // the mask is used
		}
		out := n.out[0]
		if out.output {
			continue // keep the graph output's producer
		}
		g.replaceUses(out, n.in[0])
		drop[n] = true
	}
	g.removeNodes(drop)
	return len(drop), nil
}

// zeroPad reports whether n is a Pad that adds nothing (every pad 0): an
// identity (MLPerf Tiny's DS-CNN has one before its pooling, which copied
// its input row by row).
func zeroPad(n *node) bool {
	p, ok := n.params.(*padParams)
	if n.op != "Pad" || !ok || p == nil || !equalShapes(p.inShape, p.outShape) {
		return false
	}
	for i := range p.begin {
		if p.begin[i] != 0 || i < len(p.end) && p.end[i] != 0 {
			return false
		}
	}
	return true
}

// foldBatchNorm merges an inference BatchNormalization into the Conv or
// Gemm that produces its input: w' = w*s/sqrt(v+eps), b' = (b-m)*s/sqrt(v+eps)+beta.
func foldBatchNorm(g *graph, _ *Options) (int, error) {
	drop := map[*node]bool{}
	for _, bn := range g.nodes {
		if bn.op != "BatchNormalization" || len(bn.out) > 1 && countUsed(g, bn.out[1:]) > 0 {
			continue
		}
		x := bn.in[0]
		p := x.producer
		if p == nil || (p.op != "Conv" && p.op != "Gemm") || x.output || p.act.active() || len(g.consumers(x)) != 1 {
			continue
		}
		if !bn.in[1].isConst() || !bn.in[2].isConst() || !bn.in[3].isConst() || !bn.in[4].isConst() {
			continue
		}
		w := p.input(1)
		if !w.isConst() || p.input(2) != nil && !p.input(2).isConst() {
			continue
		}
		var cout, per int
		switch p.op {
		case "Conv":
			cout = w.shape[0]
			per = w.numel() / max(cout, 1)
		case "Gemm":
			gp := p.params.(*gemmParams)
			if gp.transA || len(x.shape) != 2 {
				continue
			}
			cout = x.shape[1]
			per = w.numel() / max(cout, 1)
			if p.input(2) != nil && p.input(2).numel() != cout && p.input(2).numel() != 1 {
				continue
			}
		}
		if len(x.shape) < 2 || x.shape[1] != cout || bn.in[1].numel() != cout {
			continue
		}
		eps := bn.params.(*bnParams).eps
		scale, bias, mean, vr := bn.in[1].constant.F, bn.in[2].constant.F, bn.in[3].constant.F, bn.in[4].constant.F
		nw := &Tensor{DType: Float32, Shape: append([]int(nil), w.shape...), F: make([]float32, w.numel())}
		nb := &Tensor{DType: Float32, Shape: []int{cout}, F: make([]float32, cout)}
		var oldB []float32
		if b := p.input(2); b != nil {
			oldB = b.constant.F
		}
		for c := 0; c < cout; c++ {
			f := scale[c] / float32(math.Sqrt(float64(vr[c]+eps)))
			switch p.op {
			case "Conv":
				for k := 0; k < per; k++ {
					nw.F[c*per+k] = w.constant.F[c*per+k] * f
				}
			case "Gemm":
				gp := p.params.(*gemmParams)
				k := w.numel() / cout
				for j := 0; j < k; j++ {
					idx := j*cout + c // B is [K, N]
					if gp.transB {
						idx = c*k + j // B is [N, K]
					}
					nw.F[idx] = w.constant.F[idx] * f * gp.alpha
				}
			}
			b0 := float32(0)
			if oldB != nil {
				if len(oldB) == 1 {
					b0 = oldB[0]
				} else {
					b0 = oldB[c]
				}
				if p.op == "Gemm" {
					b0 *= p.params.(*gemmParams).beta
				}
			}
			nb.F[c] = (b0-mean[c])*f + bias[c]
		}
		if p.op == "Gemm" {
			gp := *p.params.(*gemmParams)
			gp.alpha, gp.beta = 1, 1
			p.params = &gp
		}
		p.in = append(p.in[:1], &value{name: w.name + "_bnfolded", dtype: Float32, shape: nw.Shape, constant: nw},
			&value{name: bn.name + "_bias", dtype: Float32, shape: nb.Shape, constant: nb})
		// The producer now yields the BatchNormalization's output.
		out := bn.out[0]
		out.producer = p
		p.out[0] = out
		drop[bn] = true
	}
	g.removeNodes(drop)
	return len(drop), nil
}

func countUsed(g *graph, vs []*value) int {
	c := 0
	for _, v := range vs {
		if v != nil && (v.output || len(g.consumers(v)) > 0) {
			c++
		}
	}
	return c
}

// fuseActivation moves activations (Relu, constant Clip, Sigmoid, Tanh,
// HardSigmoid, HardSwish, and Mul(x, Sigmoid(x)) or Mul(x, HardSigmoid(x)))
// into the epilogue of the Conv, Gemm, MatMul, BatchNormalization or fused
// element-wise node that produces their input (see passes_fuse.go).
func fuseActivation(g *graph, _ *Options) (int, error) {
	return fuseActivations(g), nil
}

func joinName(a, b string) string {
	if a == "" {
		return b
	}
	return a + "+" + b
}

// removeDead drops nodes none of whose outputs is used, and nodes whose
// outputs were all folded to constants.
func removeDead(g *graph, _ *Options) (int, error) {
	removed := 0
	for {
		used := map[*value]bool{}
		for _, v := range g.outputs {
			used[v] = true
		}
		for _, n := range g.nodes {
			for _, v := range n.in {
				used[v] = true
			}
		}
		drop := map[*node]bool{}
		for _, n := range g.nodes {
			live, allConst := false, true
			for _, o := range n.out {
				if o != nil && used[o] {
					live = true
				}
				if o != nil && o.constant == nil {
					allConst = false
				}
			}
			if !live || allConst {
				drop[n] = true
			}
		}
		if len(drop) == 0 {
			return removed, nil
		}
		g.removeNodes(drop)
		removed += len(drop)
	}
}

func (p pass) String() string { return fmt.Sprintf("pass %s", p.name) }
