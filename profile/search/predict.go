package search

import (
	"math"
	"slices"
)

// Predict returns a configuration's predicted accuracy loss (pp) and time
// (us): the profiled output deltas (P1, scored by softLoss) or losses (P2)
// of its knobs added up, plus the bias and the interactions learned from
// the configurations validated so far (Calibrate), and the exact time less
// its knobs' savings (at least 1 us).
func (s *Space) Predict(g Genome, pred Predictor) (lossPP, us float64) {
	us = s.in.ExactUS
	for i, c := range g {
		us -= s.choices[i][c].SaveUS
	}
	us = math.Max(us, 1)
	return s.predictLoss(g, pred) + s.bias + s.interaction(g), us
}

// interaction is the sum of the learned corrections of every two nodes
// approximated together in g (0 before any validation).
func (s *Space) interaction(g Genome) float64 {
	if len(s.inter) == 0 {
		return 0
	}
	var sum float64
	s.eachPair(g, func(_, _ int, k pairKey) { sum += s.inter[k] })
	return sum
}

// pairs lists the node-family pairs approximated together in g.
func (s *Space) pairs(g Genome) []pairKey {
	var ks []pairKey
	s.eachPair(g, func(_, _ int, k pairKey) { ks = append(ks, k) })
	return ks
}

// eachPair calls f for every two nodes i < j approximated together in g,
// with their pair of knob families.
func (s *Space) eachPair(g Genome, f func(i, j int, k pairKey)) {
	for i, c := range g {
		if c == 0 {
			continue
		}
		for j := i + 1; j < len(g); j++ {
			if g[j] != 0 {
				f(i, j, pairKey{uint16(i), uint16(s.family[i][c]), uint16(j), uint16(s.family[j][g[j]])})
			}
		}
	}
}

// predictLoss is the additive prediction alone, without the bias.
func (s *Space) predictLoss(g Genome, pred Predictor) float64 {
	if pred == P2 {
		var lossPP float64
		for i, c := range g {
			lossPP += s.choices[i][c].LossPP
		}
		return lossPP
	}
	return s.softLoss(g, s.kappa)
}

// softLoss scores P1's prediction with each window's outcome uncertain.
// Adding the pairs' output deltas predicts each window's outputs, but not
// exactly: the knobs interact. Rather than count a window right when its
// predicted margin (true class output minus the best other) is positive,
// softLoss takes the margin as Gaussian around the prediction, with a
// deviation kappa times the norm of the deltas added to that window, and
// counts the probability that it is positive. With kappa 0 it is the
// plain count. Counting hard lets the search pick configurations whose
// deltas happen to push boundary windows the right way, which mostly does
// not survive validation (the winner's curse of optimising a prediction).
// For P2, softLoss is not used.
func (s *Space) softLoss(g Genome, kappa float64) float64 {
	in := s.in
	if len(s.scratch) != len(in.ExactOutputs) {
		s.scratch = make([]float32, len(in.ExactOutputs))
	}
	scratch := s.scratch
	copy(scratch, in.ExactOutputs)
	C := in.Classes
	if len(s.var2) != len(in.Labels) {
		s.var2 = make([]float64, len(in.Labels))
	}
	var2 := s.var2
	clear(var2)
	for i, c := range g {
		if c != 0 {
			for j, d := range s.choices[i][c].Delta {
				scratch[j] += d
				var2[j/C] += float64(d) * float64(d)
			}
		}
	}
	var sum float64
	for w, y := range in.Labels {
		z := scratch[w*C : (w+1)*C]
		other := math.Inf(-1)
		for k, v := range z {
			if k != y && float64(v) > other {
				other = float64(v)
			}
		}
		m := float64(z[y]) - other
		sd := kappa * math.Sqrt(var2[w])
		if sd == 0 {
			if m > 0 {
				sum++
			}
			continue
		}
		sum += 0.5 * math.Erfc(-m/(sd*math.Sqrt2))
	}
	return 100 * (in.ExactAccuracy - sum/float64(len(in.Labels)))
}

// defaultKappa is P1's uncertainty scale before any calibration (see
// softLoss); Calibrate fits it to the validated configurations.
const defaultKappa = 0.1

// kappas are the scales Calibrate tries.
var kappas = [...]float64{0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5}

// Calibrate fits the predictor to configurations whose loss was measured
// (gs[i] lost measured[i] pp): for P1 the uncertainty scale kappa, and for
// both the bias (the median of measured minus predicted loss), choosing
// the kappa whose debiased predictions have the least mean absolute error
// (with fewer than three measurements it only sets the bias); then the
// interactions of the knobs combined (fitInteractions) from what is left.
// Each call fits to what it is given alone, so give it everything
// measured so far.
func (s *Space) Calibrate(pred Predictor, gs []Genome, measured []float64) {
	if len(gs) == 0 {
		return
	}
	try := kappas[:]
	if pred == P2 || len(gs) < 3 {
		try = []float64{s.kappa}
	}
	bestMAE := math.Inf(1)
	resid := make([]float64, len(gs))
	sorted := make([]float64, len(gs))
	for _, k := range try {
		for i, g := range gs {
			var p float64
			if pred == P2 {
				p = s.predictLoss(g, P2)
			} else {
				p = s.softLoss(g, k)
			}
			resid[i] = measured[i] - p
		}
		// The median, not the mean: one combination that loses far more
		// than predicted (what fitInteractions is for) must not shift
		// every other prediction. It is also the constant that minimises
		// the absolute error.
		copy(sorted, resid)
		slices.Sort(sorted)
		bias := sorted[len(sorted)/2]
		if len(sorted)%2 == 0 {
			bias = (bias + sorted[len(sorted)/2-1]) / 2
		}
		var mae float64
		for _, r := range resid {
			mae += math.Abs(r - bias)
		}
		if mae < bestMAE-1e-9 {
			bestMAE, s.kappa, s.bias = mae, k, bias
		}
	}
	for i, g := range gs {
		resid[i] = measured[i] - s.predictLoss(g, pred) - s.bias
	}
	s.fitInteractions(gs, resid)
}

// interactionRidge is the ridge penalty of fitInteractions, in units of
// one shared pair: a configuration's residual is spread over its pairs,
// and a pair seen once keeps about 1/(pairs+ridge) of it.
const interactionRidge = 0.5

// fitInteractions learns what the additive prediction misses when knobs
// are combined. Two sampling knobs on consecutive convolutions can lose
// 7 pp together where each alone loses under 1; no bias or uncertainty
// scale fits that without spoiling every other prediction. The residuals
// of the validated configurations (measured minus calibrated prediction)
// are attributed to the pairs of node families each approximates
// together, by ridge regression: minimise sum (r - sum of its pairs'
// corrections)^2 + ridge * sum corrections^2, solved in dual form as a
// system the size of the validated set, w = X^T (X X^T + ridge I)^-1 r.
// A configuration that shares a pair with one whose loss was
// underpredicted is then predicted lossier, and the search steers away
// from combinations validation found harmful; one that shares none keeps
// its additive prediction. The pairs screened before the first round
// (ScreenPairs) enter as two-knob configurations.
func (s *Space) fitInteractions(gs []Genome, resid []float64) {
	s.inter = nil
	n := len(gs)
	feats := make([][]pairKey, n)
	for i, g := range gs {
		feats[i] = s.pairs(g)
	}
	// a is [X X^T + ridge I | r]: entry (i, j) counts the pairs i and j share.
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n+1)
		mine := map[pairKey]bool{}
		for _, k := range feats[i] {
			mine[k] = true
		}
		for j := range n {
			for _, k := range feats[j] {
				if mine[k] {
					a[i][j]++
				}
			}
		}
		a[i][i] += interactionRidge
		a[i][n] = resid[i]
	}
	// Gauss-Jordan; the matrix is symmetric positive definite, so the
	// pivots stay positive without exchanges.
	for c := range n {
		for i := range n {
			if i == c {
				continue
			}
			f := a[i][c] / a[c][c]
			for j := c; j <= n; j++ {
				a[i][j] -= f * a[c][j]
			}
		}
	}
	for i := range n {
		alpha := a[i][n] / a[i][i]
		for _, k := range feats[i] {
			if s.inter == nil {
				s.inter = map[pairKey]float64{}
			}
			s.inter[k] += alpha
		}
	}
	// Only harmful interactions are kept. A pair that measured better
	// together than apart is mostly chance (a few boundary windows), and a
	// search told so combines every such pair it can: the next round's
	// predictions were then optimistic by up to 1 pp on HAR.
	for k, v := range s.inter {
		if v < 0 {
			delete(s.inter, k)
		}
	}
}
