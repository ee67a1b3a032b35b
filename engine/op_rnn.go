package engine

import (
	"math"
	"strings"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// recurrentOps are the recurrent operators (LSTM, GRU, RNN).
var recurrentOps = map[string]*opDef{
	"LSTM": {infer: rnnInfer(rnnLSTM), eval: rnnEval, compile: compileRNN},
	"GRU":  {infer: rnnInfer(rnnGRU), eval: rnnEval, compile: compileRNN},
	"RNN":  {infer: rnnInfer(rnnSimple), eval: rnnEval, compile: compileRNN},
}

// rnnKind says which recurrent cell a node computes.
type rnnKind uint8

const (
	rnnSimple rnnKind = iota // RNN: one gate
	rnnGRU                   // GRU: gates z, r, h
	rnnLSTM                  // LSTM: gates i, o, f, c
)

// rnnGates is the number of gates (blocks of hidden rows of W and R).
func (k rnnKind) gates() int { return [...]int{1, 3, 4}[k] }

// rnnActs is the number of activation functions per direction.
func (k rnnKind) acts() int { return [...]int{1, 2, 3}[k] }

// Inputs and outputs of the recurrent ops, by position.
const (
	rnnInX = iota
	rnnInW
	rnnInR
	rnnInB
	rnnInLens
	rnnInH0
	rnnInC0 // LSTM only
	rnnInP  // LSTM only
)

// rnnActKind is one of the activation functions the recurrent ops allow.
type rnnActKind uint8

const (
	rnnActRelu rnnActKind = iota
	rnnActTanh
	rnnActSigmoid
	rnnActAffine
	rnnActLeakyRelu
	rnnActThresholdedRelu
	rnnActScaledTanh
	rnnActHardSigmoid
	rnnActElu
	rnnActSoftsign
	rnnActSoftplus
)

// rnnActInfo names an activation (lower case: names match case-insensitively,
// as in ONNX Runtime), says whether it reads alpha and beta, and gives their
// defaults. The defaults are ONNX Runtime's: LeakyRelu 0.01, HardSigmoid
// 0.2 and 0.5, Elu 1, and 0 for the others (ThresholdedRelu and Affine
// included, where the standalone ONNX operators default alpha to 1).
var rnnActInfo = [...]struct {
	name              string
	alpha, beta       bool
	defAlpha, defBeta float32
}{
	rnnActRelu:            {name: "relu"},
	rnnActTanh:            {name: "tanh"},
	rnnActSigmoid:         {name: "sigmoid"},
	rnnActAffine:          {name: "affine", alpha: true, beta: true},
	rnnActLeakyRelu:       {name: "leakyrelu", alpha: true, defAlpha: 0.01},
	rnnActThresholdedRelu: {name: "thresholdedrelu", alpha: true},
	rnnActScaledTanh:      {name: "scaledtanh", alpha: true, beta: true},
	rnnActHardSigmoid:     {name: "hardsigmoid", alpha: true, beta: true, defAlpha: 0.2, defBeta: 0.5},
	rnnActElu:             {name: "elu", alpha: true, defAlpha: 1},
	rnnActSoftsign:        {name: "softsign"},
	rnnActSoftplus:        {name: "softplus"},
}

// rnnAct is an activation function with its parameters.
type rnnAct struct {
	kind        rnnActKind
	alpha, beta float32
}

// f applies the activation in float64 (the reference's precision).
func (a rnnAct) f(x float64) float64 {
	al, be := float64(a.alpha), float64(a.beta)
	switch a.kind {
	case rnnActRelu:
		if x > 0 {
			return x
		}
		return 0
	case rnnActTanh:
		return math.Tanh(x)
	case rnnActSigmoid:
		return 1 / (1 + math.Exp(-x))
	case rnnActAffine:
		return al*x + be
	case rnnActLeakyRelu:
		if x >= 0 {
			return x
		}
		return al * x
	case rnnActThresholdedRelu:
		if x > al {
			return x
		}
		return 0
	case rnnActScaledTanh:
		return al * math.Tanh(be*x)
	case rnnActHardSigmoid:
		return math.Min(1, math.Max(0, al*x+be))
	case rnnActElu:
		if x >= 0 {
			return x
		}
		return al * (math.Exp(x) - 1)
	case rnnActSoftsign:
		return x / (1 + math.Abs(x))
	default: // rnnActSoftplus: log(1+e^x), written to not overflow
		if x > 0 {
			return x + math.Log1p(math.Exp(-x))
		}
		return math.Log1p(math.Exp(x))
	}
}

// rnnParams describe an LSTM, GRU or RNN node.
type rnnParams struct {
	kind       rnnKind
	dirs       int  // 1 or 2
	reverse    bool // the only direction runs backwards
	layout     int  // 0: [seq, batch, ...]; 1: [batch, seq, ...]
	seq, batch int
	input      int
	hidden     int
	gates      int     // 4 (LSTM), 3 (GRU), 1 (RNN)
	clip       float32 // 0: no clipping
	// inputForget couples the LSTM input and forget gates (f = 1 - i).
	inputForget bool
	// linearBeforeReset applies the GRU reset gate after the recurrent
	// product of the h gate.
	linearBeforeReset bool
	// acts[d] are direction d's activations: RNN f; GRU f, g; LSTM f, g, h.
	acts [2][3]rnnAct
}

// macs counts the multiply-accumulates of the input and recurrent
// projections.
func (p *rnnParams) macs() int64 {
	return int64(rnnMul(p.dirs, p.seq, p.batch, p.gates*p.hidden, p.input+p.hidden))
}

// dirReverse reports whether direction d runs from the end of each
// sequence to its start.
func (p *rnnParams) dirReverse(d int) bool { return d == 1 || p.reverse }

// xRow returns the row of X (or of the input projection, which has X's
// row order) holding time step t of batch item b.
func (p *rnnParams) xRow(t, b int) int {
	if p.layout == 0 {
		return t*p.batch + b
	}
	return b*p.seq + t
}

// yOff returns the offset of the hidden vector of (t, d, b) in Y.
func (p *rnnParams) yOff(t, d, b int) int {
	if p.layout == 0 {
		return ((t*p.dirs+d)*p.batch + b) * p.hidden
	}
	return ((b*p.seq+t)*p.dirs + d) * p.hidden
}

// stateOff returns the offset of the vector of (d, b) in initial_h,
// initial_c, Y_h and Y_c.
func (p *rnnParams) stateOff(d, b int) int {
	if p.layout == 0 {
		return (d*p.batch + b) * p.hidden
	}
	return (b*p.dirs + d) * p.hidden
}

// seqLen returns the number of valid steps of batch item b: sequence_lens
// clamped to [0, seq] (ONNX Runtime rejects values outside; a Kernel cannot
// fail, so they are clamped), or seq without sequence_lens.
func (p *rnnParams) seqLen(lens *Tensor, b int) int {
	if lens == nil {
		return p.seq
	}
	return int(min(max(lens.I[b], 0), int64(p.seq)))
}

// clipTo limits x to [-c, c] when c > 0 (a clip attribute was given).
func clipTo(x, c float32) float32 {
	if c > 0 {
		if x > c {
			return c
		}
		if x < -c {
			return -c
		}
	}
	return x
}

// rnnStrings returns a list-of-strings attribute; ok is false when absent.
func (n *node) rnnStrings(name string) (v []string, ok bool, err error) {
	a, err := n.attr(name, onnx.AttrStrings)
	if a == nil || err != nil {
		return nil, false, err
	}
	for _, s := range a.Strings {
		v = append(v, string(s))
	}
	return v, true, nil
}

// rnnSizeCap bounds size products so hostile shapes cannot overflow them;
// anything this large is far above any byte limit.
const rnnSizeCap = 1 << 50

// rnnMul multiplies sizes, saturating at rnnSizeCap.
func rnnMul(v ...int) int {
	p := 1
	for _, x := range v {
		if x == 0 {
			return 0
		}
		if p > rnnSizeCap/x {
			p = rnnSizeCap
			continue
		}
		p *= x
	}
	return min(p, rnnSizeCap)
}

// rnnInfer returns the shape inference of LSTM, GRU or RNN. The ops follow
// opsets 7 to 21 (LSTM, GRU and RNN 7 and 14, GRU 3's linear_before_reset;
// 14 added layout); the attributes of opset 1 (output_sequence) are ignored
// as in later versions.
func rnnInfer(kind rnnKind) func(n *node) error {
	return func(n *node) error {
		maxIn, maxOut := 6, 2
		if kind == rnnLSTM {
			maxIn, maxOut = 8, 3
		}
		if len(n.in) < 3 || len(n.in) > maxIn {
			return n.errorf("has %d inputs, expected 3 to %d", len(n.in), maxIn)
		}
		for i := 0; i < 3; i++ {
			if n.in[i] == nil {
				return n.errorf("required input %d is missing", i)
			}
		}
		if len(n.out) > maxOut {
			return n.errorf("has %d outputs, expected at most %d", len(n.out), maxOut)
		}
		hasOut := false
		for _, o := range n.out {
			hasOut = hasOut || o != nil
		}
		if !hasOut {
			return n.errorf("has no output")
		}
		for i := range n.in {
			if i == rnnInLens {
				if v := n.input(i); v != nil && !v.dtype.IsInt() {
					return n.errorf("sequence_lens has type %v, expected INT32", v.dtype)
				}
				continue
			}
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		p := &rnnParams{kind: kind, gates: kind.gates()}

		dir, err := n.attrString("direction", "forward")
		if err != nil {
			return err
		}
		switch dir {
		case "forward":
			p.dirs = 1
		case "reverse":
			p.dirs, p.reverse = 1, true
		case "bidirectional":
			p.dirs = 2
		default:
			return n.errorf("direction %q is not forward, reverse or bidirectional", dir)
		}

		layout, err := n.attrInt("layout", 0)
		if err != nil {
			return err
		}
		if _, ok := n.attrs["layout"]; ok && n.opset < 14 {
			return n.errorf("attribute layout needs opset 14, the model has opset %d", n.opset)
		}
		if layout != 0 && layout != 1 {
			return n.errorf("layout %d is not 0 or 1", layout)
		}
		p.layout = int(layout)

		if _, ok := n.attrs["clip"]; ok {
			c, err := n.attrFloat("clip", 0)
			if err != nil {
				return err
			}
			if !(c > 0) {
				return n.errorf("clip %g must be positive", c)
			}
			p.clip = c
		}
		if kind == rnnLSTM {
			f, err := n.attrInt("input_forget", 0)
			if err != nil {
				return err
			}
			p.inputForget = f != 0
		}
		if kind == rnnGRU {
			l, err := n.attrInt("linear_before_reset", 0)
			if err != nil {
				return err
			}
			p.linearBeforeReset = l != 0
		}
		if err := n.rnnActivations(p); err != nil {
			return err
		}

		// Shapes.
		x, w, r := n.in[rnnInX].shape, n.in[rnnInW].shape, n.in[rnnInR].shape
		if len(x) != 3 {
			return n.errorf("X %v must have rank 3", x)
		}
		if p.layout == 0 {
			p.seq, p.batch = x[0], x[1]
		} else {
			p.batch, p.seq = x[0], x[1]
		}
		p.input = x[2]
		if len(r) != 3 {
			return n.errorf("R %v must have rank 3 [num_directions, %d*hidden_size, hidden_size]", r, p.gates)
		}
		hs, err := n.attrInt("hidden_size", -1)
		if err != nil {
			return err
		}
		if _, ok := n.attrs["hidden_size"]; ok {
			if hs <= 0 || hs > math.MaxInt32 {
				return n.errorf("hidden_size %d must be positive", hs)
			}
			p.hidden = int(hs)
		} else {
			p.hidden = r[2]
			if p.hidden <= 0 {
				return n.errorf("hidden_size is absent and R %v gives none", r)
			}
		}
		g, h := p.gates, p.hidden
		if len(w) != 3 || w[0] != p.dirs || w[1] != rnnMul(g, h) || w[2] != p.input {
			return n.errorf("W %v must have shape [num_directions=%d, %d*hidden_size=%d, input_size=%d]", w, p.dirs, g, rnnMul(g, h), p.input)
		}
		if r[0] != p.dirs || r[1] != rnnMul(g, h) || r[2] != h {
			return n.errorf("R %v must have shape [num_directions=%d, %d*hidden_size=%d, hidden_size=%d]", r, p.dirs, g, rnnMul(g, h), h)
		}
		if v := n.input(rnnInB); v != nil {
			if len(v.shape) != 2 || v.shape[0] != p.dirs || v.shape[1] != rnnMul(2*g, h) {
				return n.errorf("B %v must have shape [num_directions=%d, %d*hidden_size=%d]", v.shape, p.dirs, 2*g, rnnMul(2*g, h))
			}
		}
		if v := n.input(rnnInLens); v != nil {
			if len(v.shape) != 1 || v.shape[0] != p.batch {
				return n.errorf("sequence_lens %v must have shape [batch_size=%d]", v.shape, p.batch)
			}
		}
		state := []int{p.dirs, p.batch, h}
		if p.layout == 1 {
			state = []int{p.batch, p.dirs, h}
		}
		for i, name := range map[int]string{rnnInH0: "initial_h", rnnInC0: "initial_c"} {
			if v := n.input(i); v != nil && !equalShapes(v.shape, state) {
				return n.errorf("%s %v must have shape %v", name, v.shape, state)
			}
		}
		if v := n.input(rnnInP); v != nil {
			if len(v.shape) != 2 || v.shape[0] != p.dirs || v.shape[1] != rnnMul(3, h) {
				return n.errorf("P %v must have shape [num_directions=%d, 3*hidden_size=%d]", v.shape, p.dirs, rnnMul(3, h))
			}
		}

		dt := n.in[rnnInX].dtype
		for i, o := range n.out {
			if o == nil {
				continue
			}
			o.dtype = dt
			switch {
			case i > 0:
				o.shape = append([]int(nil), state...)
			case p.layout == 0:
				o.shape = []int{p.seq, p.dirs, p.batch, h}
			default:
				o.shape = []int{p.batch, p.seq, p.dirs, h}
			}
		}
		n.params = p
		return nil
	}
}

// rnnActivations parses activations, activation_alpha and activation_beta.
// As in ONNX Runtime, the alpha and beta lists are consumed in order by the
// activations that take them, and missing values take the defaults.
func (n *node) rnnActivations(p *rnnParams) error {
	k := p.kind.acts()
	names, ok, err := n.rnnStrings("activations")
	if err != nil {
		return err
	}
	if !ok {
		def := [...][]string{{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}}[p.kind]
		for d := 0; d < p.dirs; d++ {
			names = append(names, def...)
		}
	}
	if p.kind == rnnSimple && p.dirs == 1 && len(names) == 2 {
		names = names[:1] // the schema's default lists Tanh for both directions
	}
	if len(names) != k*p.dirs {
		return n.errorf("activations lists %d functions, expected %d (%d per direction)", len(names), k*p.dirs, k)
	}
	alphas, _, err := n.attrFloats("activation_alpha")
	if err != nil {
		return err
	}
	betas, _, err := n.attrFloats("activation_beta")
	if err != nil {
		return err
	}
	for i, s := range names {
		kind := -1
		for j, info := range rnnActInfo {
			if strings.EqualFold(s, info.name) {
				kind = j
			}
		}
		if kind < 0 {
			return n.errorf("activations[%d] %q is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus", i, s)
		}
		info := rnnActInfo[kind]
		a := rnnAct{kind: rnnActKind(kind), alpha: info.defAlpha, beta: info.defBeta}
		if info.alpha && len(alphas) > 0 {
			a.alpha, alphas = alphas[0], alphas[1:]
		}
		if info.beta && len(betas) > 0 {
			a.beta, betas = betas[0], betas[1:]
		}
		p.acts[i/k][i%k] = a
	}
	return nil
}

// rnnEval is the reference implementation: the per-step formulas of the
// ONNX specification, one batch item and direction at a time, with float64
// dot products. It keeps the recurrent state in a buffer it allocates: it
// runs only when every input is a constant (folding) or as the test oracle,
// since compileRNN always gives sessions the fast kernel, whose state lives
// in Exec.Scratch.
//
// Steps past a batch item's sequence_lens give zeros in Y; Y_h and Y_c hold
// the state after its last valid step, or zeros for an empty sequence (as
// ONNX Runtime's LSTM and GRU do). The reverse direction reads the valid
// steps of each sequence backwards, from sequence_lens-1 to 0.
func rnnEval(n *node, in, out []*Tensor) {
	p := n.params.(*rnnParams)
	h, g := p.hidden, p.gates
	work := make([]float64, (2+g)*h)
	hs, cs, gv := work[:h], work[h:2*h], work[2*h:]
	X, W, R := in[rnnInX].F, in[rnnInW].F, in[rnnInR].F
	opt := func(i int) *Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	bT, lens, h0, c0, pT := opt(rnnInB), opt(rnnInLens), opt(rnnInH0), opt(rnnInC0), opt(rnnInP)
	var y, yh, yc *Tensor
	y = out[0]
	if len(out) > 1 {
		yh = out[1]
	}
	if len(out) > 2 {
		yc = out[2]
	}
	if y != nil {
		clear(y.F)
	}
	for d := 0; d < p.dirs; d++ {
		acts := p.acts[d]
		wd := W[d*g*h*p.input:]
		rd := R[d*g*h*h:]
		// bias returns Wb (r=0) or Rb (r=1) of row j of gate q.
		bias := func(r, q, j int) float64 {
			if bT == nil {
				return 0
			}
			return float64(bT.F[d*2*g*h+(r*g+q)*h+j])
		}
		peep := func(q, j int) float64 { // P is [iof]
			if pT == nil {
				return 0
			}
			return float64(pT.F[d*3*h+q*h+j])
		}
		// dot returns row j of gate q of X_t W^T (bias included) and of
		// v R^T.
		xdot := func(t, b, q, j int) float64 {
			s := bias(0, q, j)
			xr := X[p.xRow(t, b)*p.input:]
			wr := wd[(q*h+j)*p.input:]
			for i := 0; i < p.input; i++ {
				s += float64(xr[i]) * float64(wr[i])
			}
			return s
		}
		rdot := func(v []float64, q, j int) float64 {
			s := bias(1, q, j)
			rr := rd[(q*h+j)*h:]
			for k := 0; k < h; k++ {
				s += v[k] * float64(rr[k])
			}
			return s
		}
		clip := func(x float64) float64 {
			if p.clip > 0 {
				return math.Max(-float64(p.clip), math.Min(float64(p.clip), x))
			}
			return x
		}
		for b := 0; b < p.batch; b++ {
			so := p.stateOff(d, b)
			for j := 0; j < h; j++ {
				hs[j], cs[j] = 0, 0
				if h0 != nil {
					hs[j] = float64(h0.F[so+j])
				}
				if c0 != nil {
					cs[j] = float64(c0.F[so+j])
				}
			}
			L := p.seqLen(lens, b)
			for s := 0; s < L; s++ {
				t := s
				if p.dirReverse(d) {
					t = L - 1 - s
				}
				switch p.kind {
				case rnnSimple:
					for j := 0; j < h; j++ {
						gv[j] = acts[0].f(clip(xdot(t, b, 0, j) + rdot(hs, 0, j)))
					}
					copy(hs, gv[:h])
				case rnnGRU: // gates z, r, h
					z, r, hh := gv[:h], gv[h:2*h], gv[2*h:3*h]
					for j := 0; j < h; j++ {
						z[j] = acts[0].f(clip(xdot(t, b, 0, j) + rdot(hs, 0, j)))
						r[j] = acts[0].f(clip(xdot(t, b, 1, j) + rdot(hs, 1, j)))
					}
					for j := 0; j < h; j++ {
						if p.linearBeforeReset {
							// g(Xt*Wh^T + Wbh + rt (.) (Ht-1*Rh^T + Rbh))
							hh[j] = acts[1].f(clip(xdot(t, b, 2, j) + r[j]*rdot(hs, 2, j)))
						} else {
							// g(Xt*Wh^T + (rt (.) Ht-1)*Rh^T + Rbh + Wbh)
							s := bias(1, 2, j)
							rr := rd[(2*h+j)*h:]
							for k := 0; k < h; k++ {
								s += r[k] * hs[k] * float64(rr[k])
							}
							hh[j] = acts[1].f(clip(xdot(t, b, 2, j) + s))
						}
					}
					for j := 0; j < h; j++ {
						hs[j] = (1-z[j])*hh[j] + z[j]*hs[j]
					}
				case rnnLSTM: // gates i, o, f, c; P is [iof]
					ig, og, fg, cg := gv[:h], gv[h:2*h], gv[2*h:3*h], gv[3*h:]
					for j := 0; j < h; j++ {
						ig[j] = acts[0].f(clip(xdot(t, b, 0, j) + rdot(hs, 0, j) + peep(0, j)*cs[j]))
						if p.inputForget {
							fg[j] = 1 - ig[j]
						} else {
							fg[j] = acts[0].f(clip(xdot(t, b, 2, j) + rdot(hs, 2, j) + peep(2, j)*cs[j]))
						}
						cg[j] = acts[1].f(clip(xdot(t, b, 3, j) + rdot(hs, 3, j)))
						og[j] = xdot(t, b, 1, j) + rdot(hs, 1, j) // before the new cell
					}
					for j := 0; j < h; j++ {
						cs[j] = fg[j]*cs[j] + ig[j]*cg[j]
						o := acts[0].f(clip(og[j] + peep(1, j)*cs[j]))
						hs[j] = o * acts[2].f(cs[j])
					}
				}
				if y != nil {
					yo := p.yOff(t, d, b)
					for j := 0; j < h; j++ {
						y.F[yo+j] = float32(hs[j])
					}
				}
			}
			if L == 0 {
				clear(hs)
				clear(cs)
			}
			for j := 0; j < h; j++ {
				if yh != nil {
					yh.F[so+j] = float32(hs[j])
				}
				if yc != nil {
					yc.F[so+j] = float32(cs[j])
				}
			}
		}
	}
}
