package engine

// NodeInfo describes one planned node for inspection and profiling.
type NodeInfo struct {
	// Step is the node's position in the execution order (the index a
	// Selector receives).
	Step int
	// Name and Op are the node's name and ONNX operator type.
	Name, Op string
	// Inputs and Outputs name the values the node reads and writes.
	Inputs, Outputs []string
	// Shape is the shape of the first output.
	Shape []int
	// Params counts the elements of the node's constant inputs (weights).
	Params int
	// MACs counts multiply-accumulates per inference (Conv, Gemm, MatMul,
	// LSTM, GRU, RNN, Einsum).
	MACs int64
	// Fused names the activation nodes fused into this node's epilogue.
	Fused string
	// View is true when the node needs no work (its output aliases its
	// input).
	View bool
}

// Nodes describes the planned nodes in execution order.
func (m *Model) Nodes() []NodeInfo {
	out := make([]NodeInfo, len(m.steps))
	for i, st := range m.steps {
		n := st.n
		ni := NodeInfo{Step: i, Name: n.name, Op: n.op, Fused: n.act.from, View: st.kernel == nil}
		for _, v := range n.in {
			if v == nil {
				ni.Inputs = append(ni.Inputs, "")
				continue
			}
			ni.Inputs = append(ni.Inputs, v.name)
			if v.constant != nil {
				ni.Params += v.numel()
			}
		}
		for _, v := range n.out {
			if v != nil {
				ni.Outputs = append(ni.Outputs, v.name)
			}
		}
		if len(n.out) > 0 && n.out[0] != nil {
			ni.Shape = n.out[0].shape
		}
		ni.MACs = n.macs()
		out[i] = ni
	}
	return out
}

// macs counts the multiply-accumulates of a node.
func (n *node) macs() int64 {
	switch p := n.params.(type) {
	case *convParams:
		return int64(n.out[0].numel()) * int64(p.cg*p.kh*p.kw)
	case spatialMACs: // op_conv.go, op_convtranspose.go, op_signal.go, ...
		return p.macs(n)
	case *gemmParams:
		return int64(p.m) * int64(p.n) * int64(p.k)
	case *matMulParams:
		return int64(numel(p.batch)) * int64(p.m) * int64(p.n) * int64(p.k)
	case *intConvParams: // ConvInteger, QLinearConv
		return int64(n.out[0].numel()) * int64(p.cg*p.kh*p.kw)
	case *intMatMulParams: // MatMulInteger, QLinearMatMul
		return int64(numel(p.mm.batch)) * int64(p.mm.m) * int64(p.mm.n) * int64(p.mm.k)
	case macCounter: // ops that count their own (rnnParams, einsumParams, ...)
		return p.macs()
	}
	return 0
}

// macCounter is implemented by the parameters of ops that count their own
// multiply-accumulates, so that a new op needs no case here.
type macCounter interface{ macs() int64 }

// MACs returns the multiply-accumulates of one inference.
func (m *Model) MACs() int64 {
	var s int64
	for _, st := range m.steps {
		s += st.n.macs()
	}
	return s
}

// Params returns the number of weight elements the planned model holds.
func (m *Model) Params() int {
	seen := map[*value]bool{}
	s := 0
	for _, st := range m.steps {
		for _, v := range st.n.in {
			if v != nil && v.constant != nil && !seen[v] {
				seen[v] = true
				s += v.numel()
			}
		}
	}
	return s
}
