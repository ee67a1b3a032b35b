package engine

import "math"

// lossReduction is a loss's reduction attribute.
type lossReduction int

const (
	lossMean lossReduction = iota
	lossSum
	lossNone
)

// lossParams describe NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
// over input [N, C, D...] (D the product of the trailing dimensions, 1 for
// [N, C]) and target [N, D...].
type lossParams struct {
	n, c, d    int
	reduction  lossReduction
	ignore     int64
	hasIgnore  bool
	softmax    bool // SoftmaxCrossEntropyLoss: the input holds scores
	hasWeight  bool
	logProbOut bool
}

// lossDef builds NegativeLogLikelihoodLoss (softmax false) and
// SoftmaxCrossEntropyLoss (softmax true).
func lossDef(softmax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(2, 3); err != nil {
				return err
			}
			x, t := n.in[0], n.in[1]
			if err := n.needFloat(0); err != nil {
				return err
			}
			if t.dtype != Int32 && t.dtype != Int64 {
				return n.errorf("target has type %v, expected INT32 or INT64", t.dtype)
			}
			if len(x.shape) < 2 {
				return n.errorf("input shape %v has rank below 2", x.shape)
			}
			want := append([]int{x.shape[0]}, x.shape[2:]...)
			if !equalShapes(t.shape, want) {
				return n.errorf("target shape %v, expected %v for input %v", t.shape, want, x.shape)
			}
			p := &lossParams{n: x.shape[0], c: x.shape[1], d: numel(x.shape[2:]), softmax: softmax}
			if w := n.input(2); w != nil {
				if err := n.needFloat(2); err != nil {
					return err
				}
				if len(w.shape) != 1 || w.shape[0] != p.c {
					return n.errorf("weight shape %v, expected [%d]", w.shape, p.c)
				}
				p.hasWeight = true
			}
			red, err := n.attrString("reduction", "mean")
			if err != nil {
				return err
			}
			switch red {
			case "mean":
				p.reduction = lossMean
			case "sum":
				p.reduction = lossSum
			case "none":
				p.reduction = lossNone
			default:
				return n.errorf("attribute reduction %q is not none, sum or mean", red)
			}
			if _, ok := n.attrs["ignore_index"]; ok {
				p.hasIgnore = true
				if p.ignore, err = n.attrInt("ignore_index", 0); err != nil {
					return err
				}
			}
			n.out[0].dtype = x.dtype
			if p.reduction == lossNone {
				n.out[0].shape = append([]int{}, t.shape...)
			} else {
				n.out[0].shape = []int{}
			}
			if len(n.out) > 2 || !softmax && len(n.out) > 1 {
				return n.errorf("has %d outputs", len(n.out))
			}
			if len(n.out) == 2 && n.out[1] != nil {
				p.logProbOut = true
				sameType(n.out[1], x)
			}
			n.params = p
			return nil
		},
		eval: evalLoss,
	}
}

var (
	nllLossOp = lossDef(false)
	sceLossOp = lossDef(true)
)

// evalLoss computes loss[n,d] = -w[t] * logp[n, t, d] with t = target[n,d],
// ignored targets contributing 0 to the loss and to the weight sum. The
// softmax variant takes logp = log_softmax(scores, axis 1), computed per
// position in float64. A target outside [0, C) that is not ignored gives
// a NaN loss.
func evalLoss(n *node, in, out []*Tensor) {
	p := n.params.(*lossParams)
	x, tgt := in[0].F, in[1].I
	var w []float32
	if p.hasWeight {
		w = in[2].F
	}
	var logp []float32
	if p.logProbOut {
		logp = out[1].F
	}
	cd := p.c * p.d
	var total, wsum float64
	for i := 0; i < p.n; i++ {
		for d := 0; d < p.d; d++ {
			base := i*cd + d
			var lse float64 // log-sum-exp of the scores at (i, d)
			if p.softmax && p.c > 0 {
				m := x[base]
				for c := 1; c < p.c; c++ {
					m = max(m, x[base+c*p.d])
				}
				var s float64
				for c := 0; c < p.c; c++ {
					s += math.Exp(float64(x[base+c*p.d] - m))
				}
				lse = float64(m) + math.Log(s)
				for c := 0; c < p.c && logp != nil; c++ {
					logp[base+c*p.d] = float32(float64(x[base+c*p.d]-m) - math.Log(s))
				}
			}
			t := tgt[i*p.d+d]
			var loss, wt float64
			switch {
			case p.hasIgnore && t == p.ignore:
			case t < 0 || t >= int64(p.c):
				loss, wt = math.NaN(), 1
			default:
				wt = 1
				if w != nil {
					wt = float64(w[t])
				}
				lp := float64(x[base+int(t)*p.d])
				if p.softmax {
					lp -= lse
				}
				loss = -lp * wt
			}
			if p.reduction == lossNone {
				out[0].F[i*p.d+d] = float32(loss)
				continue
			}
			total += loss
			wsum += wt
		}
	}
	switch p.reduction {
	case lossSum:
		out[0].F[0] = float32(total)
	case lossMean:
		out[0].F[0] = float32(total / wsum)
	}
}
