package profile

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// Predictor names a QoS predictor.
type Predictor string

// The QoS predictors of the reference: P1 adds the profiled output deltas
// of the chosen pairs to the exact outputs and scores the result; P2 adds
// the profiled accuracy losses.
const (
	P1 Predictor = "p1"
	P2 Predictor = "p2"
)

// TuneOptions control the search.
type TuneOptions struct {
	MaxLossPP float64         // accuracy loss threshold in percentage points
	Budget    time.Duration   // search time (default 10 s)
	Predictor Predictor       // default P1
	Objective string          // "time" (default) or "energy"
	Device    *device.Profile // energy model for the energy objective and energy_j
	Seed      uint64
	Workers   int
	// MaxEvaluations, if positive, stops each search once it has scored
	// that many configurations, instead of when its share of Budget is
	// spent (Budget is then ignored): a tune that gives the same result
	// on any machine, for tests and for comparing runs.
	MaxEvaluations int
	// Candidates bounds the configurations validated (default 24).
	Candidates int
	// Rounds splits the validation into rounds (default 3). After each
	// round the predictor is calibrated on what is validated (its
	// uncertainty scale, bias and the interactions of combined knobs; see
	// calibrate), and the next round searches with it. 1 validates every
	// candidate of one search.
	Rounds int
	// ScreenPairs bounds the two-knob configurations measured on the tune
	// split before the first round, so that the first round's predictions
	// already know how the knobs the front combines most interact (see
	// screenPairs). 0: half of Candidates; negative: none.
	ScreenPairs int
	// Progress, if set, reports each phase's progress.
	Progress func(phase string, done, total int)
	// Validated, if set, is called with each validated configuration, so
	// that a caller can save partial work.
	Validated func(Candidate)
	// Known holds configurations validated by an earlier run (resume).
	Known []Candidate
}

// Candidate is one configuration the tuner validated.
type Candidate struct {
	Config          string    `json:"config"`
	PredictedLossPP float64   `json:"predicted_loss_pp"`
	PredictedUS     float64   `json:"predicted_us"`
	TuneLossPP      float64   `json:"tune_loss_pp"`
	Accuracy        float64   `json:"accuracy"` // calibration split
	LossPP          float64   `json:"qos_loss_pp"`
	TimeUS          float64   `json:"time_us"`
	ExactTimeUS     float64   `json:"exact_time_us"`
	Speedup         float64   `json:"speedup"`
	EnergyJ         float64   `json:"energy_j"`
	CorrectMean     []float64 `json:"correct_mean"`
	WrongMean       []float64 `json:"wrong_mean"`
	CorrectN        []int     `json:"correct_n"`
	WrongN          []int     `json:"wrong_n"`
	Kept            bool      `json:"kept"`
}

// TuneResult is the outcome of a tune.
type TuneResult struct {
	ExactAccuracy float64     // calibration split
	Levels        []Candidate // thinned Pareto levels, level 0 exact
	Validated     []Candidate // every validated configuration
	PredictorMAE  float64     // mean |predicted - measured| loss on the tune split, pp
	Screened      []Candidate // two-knob configurations measured before the first round (Config, TuneLossPP)
	Evaluated     int         // configurations scored by the predictor
	SearchTime    time.Duration
	Note          string // e.g. why only the exact configuration was kept
}

// choice is a searchable (node, knob) pair with its profiled effects.
type choice struct {
	knob    approx.Knob
	saveUS  float64 // exact node time minus knob node time
	lossPP  float64
	delta   []float32
	display string
}

// space is the search space: per searchable node, its choices.
type space struct {
	steps   []int
	choices [][]choice // choices[i][0] is exact
	p       *Profile
	// bias is added to every predicted loss: the median of measured minus
	// additive predicted loss over the configurations validated so far.
	// The search picks configurations whose additive prediction is low,
	// so it favours those the prediction flatters (on interacting knobs
	// the sum of separate effects is mostly optimistic); the bias
	// corrects for that from the second validation round on.
	bias float64
	// kappa scales each window's uncertainty in P1 (see softLoss).
	kappa float64
	var2  []float64 // softLoss scratch
	// family[i][c] numbers choice c of node i by its knob without the
	// precision (samp:3:0, samp:3:0+fp16 and samp:3:0+int8 are one
	// family; 0 is exact). inter holds the interaction corrections
	// learned from validated configurations, by pair of node families
	// (see interaction and fitInteractions).
	family [][]int
	inter  map[pairKey]float64
}

// pairKey names two nodes' knob families, node i before node j.
type pairKey struct{ i, fi, j, fj uint16 }

func newSpace(p *Profile) *space {
	s := &space{p: p, kappa: defaultKappa}
	byStep := map[int][]choice{}
	for _, pp := range p.Pairs {
		if pp.Pruned {
			continue
		}
		k, err := approx.ParseKnob(pp.Knob)
		if err != nil {
			continue
		}
		byStep[pp.Step] = append(byStep[pp.Step], choice{knob: k, saveUS: pp.ExactNodeUS - pp.NodeUS, lossPP: pp.LossPP, delta: pp.Delta, display: pp.Knob})
	}
	for step, cs := range byStep {
		s.steps = append(s.steps, step)
		_ = cs
	}
	sort.Ints(s.steps)
	for _, step := range s.steps {
		cs := append([]choice{{knob: approx.Exact}}, byStep[step]...)
		s.choices = append(s.choices, cs)
		fam := make([]int, len(cs))
		ids := map[string]int{}
		for c := 1; c < len(cs); c++ {
			name, _, _ := strings.Cut(cs[c].display, "+")
			if _, ok := ids[name]; !ok {
				ids[name] = len(ids) + 1
			}
			fam[c] = ids[name]
		}
		s.family = append(s.family, fam)
	}
	return s
}

// genome holds a choice index per searchable node.
type genome []uint8

func (g genome) key() string { return string(g) }

// predict returns a genome's predicted loss (pp) and time (us): the
// profiled output deltas (P1, scored by softLoss) or losses (P2) of its
// pairs added up, plus the bias and the interactions learned from the
// configurations validated so far.
func (s *space) predict(g genome, pred Predictor, scratch []float32) (lossPP, us float64) {
	us = s.p.ExactUS
	for i, c := range g {
		us -= s.choices[i][c].saveUS
	}
	us = math.Max(us, 1)
	return s.predictLoss(g, pred, scratch) + s.bias + s.interaction(g), us
}

// interaction is the sum of the learned corrections of every two nodes
// approximated together in g (0 before any validation).
func (s *space) interaction(g genome) float64 {
	if len(s.inter) == 0 {
		return 0
	}
	var sum float64
	s.eachPair(g, func(_, _ int, k pairKey) { sum += s.inter[k] })
	return sum
}

// pairs lists the node-family pairs approximated together in g.
func (s *space) pairs(g genome) []pairKey {
	var ks []pairKey
	s.eachPair(g, func(_, _ int, k pairKey) { ks = append(ks, k) })
	return ks
}

// eachPair calls f for every two nodes i < j approximated together in g,
// with their pair of knob families.
func (s *space) eachPair(g genome, f func(i, j int, k pairKey)) {
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
func (s *space) predictLoss(g genome, pred Predictor, scratch []float32) float64 {
	if pred == P2 {
		var lossPP float64
		for i, c := range g {
			lossPP += s.choices[i][c].lossPP
		}
		return lossPP
	}
	return s.softLoss(g, s.kappa, scratch)
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
func (s *space) softLoss(g genome, kappa float64, scratch []float32) float64 {
	copy(scratch, s.p.ExactOutputs)
	C := s.p.Classes
	if len(s.var2) != len(s.p.Labels) {
		s.var2 = make([]float64, len(s.p.Labels))
	}
	var2 := s.var2
	clear(var2)
	for i, c := range g {
		if c != 0 {
			for j, d := range s.choices[i][c].delta {
				scratch[j] += d
				var2[j/C] += float64(d) * float64(d)
			}
		}
	}
	var sum float64
	for w, y := range s.p.Labels {
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
	return 100 * (s.p.ExactAccuracy - sum/float64(len(s.p.Labels)))
}

// text returns the configuration's text form.
func (s *space) text(a *approx.Approximator, g genome) string {
	c := a.NewConfig()
	for i, ch := range g {
		c = c.With(s.steps[i], s.choices[i][ch].knob)
	}
	return a.Text(c)
}

type point struct {
	g          genome
	loss, cost float64
}

// search explores the space with a seeded evolutionary search whose three
// mutation operators are picked by a UCB1 bandit (rewarded when the child
// enters the archive), keeping an archive of the configurations that are
// not dominated in (predicted loss, predicted cost) with loss up to limit.
func (s *space) search(ctx context.Context, opts *TuneOptions, limit float64, want int) ([]point, int) {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6b6167656e))
	scratch := make([]float32, len(s.p.ExactOutputs))
	seen := map[string]bool{}
	var archive, within []point
	evaluated := 0
	consider := func(g genome) bool {
		if seen[g.key()] {
			return false
		}
		seen[g.key()] = true
		loss, us := s.predict(g, opts.Predictor, scratch)
		evaluated++
		if loss > limit {
			return false
		}
		p := point{append(genome(nil), g...), loss, us}
		within = append(within, p)
		for _, q := range archive {
			if q.loss <= p.loss && q.cost <= p.cost {
				return false
			}
		}
		kept := archive[:0]
		for _, q := range archive {
			if !(p.loss <= q.loss && p.cost <= q.cost) {
				kept = append(kept, q)
			}
		}
		archive = append(kept, p)
		return true
	}
	n := len(s.steps)
	base := make(genome, n)
	consider(base)
	for i := range s.choices { // every single pair
		for c := 1; c < len(s.choices[i]); c++ {
			g := make(genome, n)
			g[i] = uint8(c)
			consider(g)
		}
	}
	if n == 0 {
		return archive, evaluated
	}
	ops := []func(genome) genome{
		func(g genome) genome { // change one node
			i := rng.IntN(n)
			g[i] = uint8(rng.IntN(len(s.choices[i])))
			return g
		},
		func(g genome) genome { // change two nodes
			for t := 0; t < 2; t++ {
				i := rng.IntN(n)
				g[i] = uint8(rng.IntN(len(s.choices[i])))
			}
			return g
		},
		func(g genome) genome { // uniform crossover with another archive point
			o := archive[rng.IntN(len(archive))].g
			for i := range g {
				if rng.IntN(2) == 0 {
					g[i] = o[i]
				}
			}
			return g
		},
	}
	pulls := make([]float64, len(ops))
	wins := make([]float64, len(ops))
	deadline := time.Now().Add(opts.Budget)
	for it := 0; ; it++ {
		if opts.MaxEvaluations > 0 && evaluated >= opts.MaxEvaluations {
			break
		}
		if it%256 == 0 && (opts.MaxEvaluations <= 0 && time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		if it > 200000 {
			break
		}
		// UCB1 over the operators
		op, best := 0, math.Inf(-1)
		total := 1.0
		for _, p := range pulls {
			total += p
		}
		for i := range ops {
			v := math.Inf(1)
			if pulls[i] > 0 {
				v = wins[i]/pulls[i] + math.Sqrt(2*math.Log(total)/pulls[i])
			}
			if v > best {
				op, best = i, v
			}
		}
		parent := archive[rng.IntN(len(archive))].g
		child := ops[op](append(genome(nil), parent...))
		pulls[op]++
		if consider(child) {
			wins[op]++
		}
	}
	return fronts(within, want), evaluated
}

// fronts returns the successive non-dominated fronts of pts over
// (predicted loss, predicted cost), best first, each in order of loss,
// until at least want points are taken (every point if fewer; the first
// front alone when want <= 0). The first
// front alone is often a handful of configurations; the next ones are
// worth validating too, since the prediction that ranked them is not
// exact.
func fronts(pts []point, want int) []point {
	rest := append([]point(nil), pts...)
	sort.Slice(rest, func(i, j int) bool {
		return rest[i].loss < rest[j].loss || rest[i].loss == rest[j].loss && rest[i].cost < rest[j].cost
	})
	var out []point
	for len(rest) > 0 && (len(out) < want || len(out) == 0) {
		var front, next []point
		best := math.Inf(1)
		for _, p := range rest {
			if p.cost < best {
				front = append(front, p)
				best = p.cost
			} else {
				next = append(next, p)
			}
		}
		out = append(out, front...)
		rest = next
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].loss < out[j].loss })
	return out
}

// Tune searches the configurations of a profiled model, validates the most
// promising on the tune split, calibrates them on the calibration split,
// and returns the thinned Pareto levels over (accuracy loss, cost).
func Tune(ctx context.Context, a *approx.Approximator, p *Profile, tune, calib *dataset.Dataset, opts TuneOptions) (*TuneResult, error) {
	ex := NewLocalExecutor(a, opts.Workers)
	defer ex.Close()
	return TuneWith(ctx, a, p, tune, calib, opts, ex)
}

// assembleLevels keeps the validated configurations that meet the
// threshold on both splits with a measured speedup, takes their Pareto set
// over (loss, speedup), thins it into levels after exact, and marks what
// was kept.
func assembleLevels(res *TuneResult, exact Candidate, validated []Candidate, opts *TuneOptions) {
	var ok []Candidate
	for _, c := range validated {
		if c.TuneLossPP <= opts.MaxLossPP && c.LossPP <= opts.MaxLossPP && c.Speedup > 1 {
			ok = append(ok, c)
		}
	}
	levels := thin(append([]Candidate{exact}, paretoSet(ok)...))
	for i := range levels {
		levels[i].Kept = true
		if opts.Device != nil {
			levels[i].EnergyJ = opts.Device.InferenceEnergy(time.Duration(levels[i].TimeUS * 1e3))
		}
	}
	for i := range validated {
		for _, l := range levels {
			if l.Config == validated[i].Config {
				validated[i].Kept = true
			}
		}
	}
	if len(levels) == 1 {
		res.Note = fmt.Sprintf("no configuration met %.2f pp on both splits with a measured speedup; only the exact configuration is kept", opts.MaxLossPP)
	}
	res.Levels, res.Validated = levels, validated
}

// paretoSet keeps the candidates no other beats in both loss and speed.
func paretoSet(cs []Candidate) []Candidate {
	var out []Candidate
	for i, c := range cs {
		dominated := false
		for j, d := range cs {
			if i != j && d.LossPP <= c.LossPP && d.Speedup >= c.Speedup && (d.LossPP < c.LossPP || d.Speedup > c.Speedup) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LossPP < out[j].LossPP })
	return out
}

// thin applies the reference's rule to levels sorted by loss (exact first):
// a configuration becomes a new level only if it is at least 0.01 faster and
// 0.1 pp lossier than the last kept one. One at least 0.01 faster but less
// than 0.1 pp lossier replaces the last level (never the exact one, after
// which it is a level of its own). Unlike a literal reading of the
// reference, one less than 0.01 faster is dropped rather than replacing a
// level it barely beats at a higher loss.
func thin(cs []Candidate) []Candidate {
	out := []Candidate{cs[0]}
	for _, c := range cs[1:] {
		last := &out[len(out)-1]
		switch {
		case c.Speedup < last.Speedup+0.01:
			// not worth a level
		case c.LossPP >= last.LossPP+0.1 || len(out) == 1:
			out = append(out, c)
		default:
			*last = c
		}
	}
	return out
}

// confidenceStats records per class the mean softmax confidence of correct
// and of wrong predictions.
func confidenceStats(c *Candidate, outs []float32, y []int, classes int) {
	c.CorrectMean, c.WrongMean = make([]float64, classes), make([]float64, classes)
	c.CorrectN, c.WrongN = make([]int, classes), make([]int, classes)
	for i := range y {
		pr := replay.Predict(outs[i*classes : (i+1)*classes])
		if pr.Class == y[i] {
			c.CorrectMean[pr.Class] += float64(pr.Confidence)
			c.CorrectN[pr.Class]++
		} else {
			c.WrongMean[pr.Class] += float64(pr.Confidence)
			c.WrongN[pr.Class]++
		}
	}
	for k := 0; k < classes; k++ {
		if c.CorrectN[k] > 0 {
			c.CorrectMean[k] /= float64(c.CorrectN[k])
		}
		if c.WrongN[k] > 0 {
			c.WrongMean[k] /= float64(c.WrongN[k])
		}
	}
}

// timer measures configurations against exact, interleaved, single thread.
type timer struct {
	s    *engine.Session
	ins  [][]*engine.Tensor
	runs int
}

func newTimer(m *engine.Model, d *dataset.Dataset) *timer {
	t := &timer{s: m.NewSession(), runs: 15}
	for i := 0; i < min(8, d.Len()); i++ {
		t.ins = append(t.ins, []*engine.Tensor{{DType: engine.Float32, Shape: d.Shape, F: d.X[i*d.Len()/min(8, d.Len())]}})
	}
	return t
}

func (t *timer) close() { t.s.Close() }

func (t *timer) once(sel engine.Selector, i int) float64 {
	t0 := time.Now()
	t.s.RunWith(t.ins[i%len(t.ins)], sel)
	return float64(time.Since(t0).Nanoseconds()) / 1e3
}

func (t *timer) exactUS() float64 {
	var v []float64
	for i := 0; i < 3*t.runs; i++ {
		v = append(v, t.once(nil, i))
	}
	return median(v)
}

// measure returns the median time of sel and of exact, run alternately.
func (t *timer) measure(sel engine.Selector) (us, exactUS float64) {
	for i := 0; i < 3; i++ {
		t.once(sel, i)
	}
	var a, e []float64
	for i := 0; i < t.runs; i++ {
		e = append(e, t.once(nil, i))
		a = append(a, t.once(sel, i))
	}
	return median(a), median(e)
}

// String summarises a result.
func (r *TuneResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exact accuracy %.2f%%; %d configurations scored, %d knob pairs screened, %d validated, predictor MAE %.2f pp\n",
		100*r.ExactAccuracy, r.Evaluated, len(r.Screened), len(r.Validated), r.PredictorMAE)
	for i, l := range r.Levels {
		fmt.Fprintf(&b, "level %d: speedup %.2fx loss %.2f pp (predicted %.2f) %s\n", i, l.Speedup, l.LossPP, l.PredictedLossPP, l.Config)
	}
	return b.String()
}

// defaultKappa is P1's uncertainty scale before any calibration (see
// softLoss); calibrate fits it to the validated configurations.
const defaultKappa = 0.1

// kappas are the scales calibrate tries.
var kappas = [...]float64{0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5}

// calibrate fits the predictor to configurations whose loss was measured:
// for P1 the uncertainty scale kappa, and for both the bias (the median
// of measured minus predicted loss), choosing the kappa whose debiased
// predictions have the least mean absolute error (with fewer than three
// measurements it only sets the bias); then the interactions of the
// knobs combined (fitInteractions) from what is left.
func (s *space) calibrate(pred Predictor, gs []genome, measured []float64) {
	if len(gs) == 0 {
		return
	}
	scratch := make([]float32, len(s.p.ExactOutputs))
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
				p = s.predictLoss(g, P2, scratch)
			} else {
				p = s.softLoss(g, k, scratch)
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
		resid[i] = measured[i] - s.predictLoss(g, pred, scratch) - s.bias
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
// (screenPairs) enter as two-knob configurations.
func (s *space) fitInteractions(gs []genome, resid []float64) {
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

// screenPairs picks up to max two-knob configurations to measure before
// the first validation round: the pairs of knobs (by node and family, as
// the interactions are learned) that the predicted front combines most
// often, each with the choice the front uses most for its family, the
// larger expected interaction (the windows' products of the two deltas'
// norms) first among equally frequent ones. Their measured losses give
// calibrate the interactions of exactly those pairs before any candidate
// is validated: without them the first round is predicted additively, and
// one combination that interacts badly (kws-ds's sampling knobs on
// consecutive blocks lose 6-12 pp where their sums predict 0) costs the
// whole run its accuracy.
func (s *space) screenPairs(front []point, max int) []genome {
	type pairUse struct {
		key          pairKey
		i, ci, j, cj int
		count        int
		size         float64
	}
	uses := map[pairKey]*pairUse{}
	choiceCount := map[[2]int]int{}
	for _, pt := range front {
		for i, c := range pt.g {
			if c != 0 {
				choiceCount[[2]int{i, int(c)}]++
			}
		}
	}
	for _, pt := range front {
		g := pt.g
		s.eachPair(g, func(i, j int, k pairKey) {
			u := uses[k]
			if u == nil {
				u = &pairUse{key: k, i: i, ci: int(g[i]), j: j, cj: int(g[j])}
				uses[k] = u
			}
			u.count++
			// the family's most used choice represents it
			if choiceCount[[2]int{i, int(g[i])}] > choiceCount[[2]int{i, u.ci}] {
				u.ci = int(g[i])
			}
			if choiceCount[[2]int{j, int(g[j])}] > choiceCount[[2]int{j, u.cj}] {
				u.cj = int(g[j])
			}
		})
	}
	var list []*pairUse
	C := s.p.Classes
	for _, u := range uses {
		da, db := s.choices[u.i][u.ci].delta, s.choices[u.j][u.cj].delta
		for w := 0; w+C <= len(da) && w+C <= len(db); w += C {
			var na, nb float64
			for k := w; k < w+C; k++ {
				na += float64(da[k]) * float64(da[k])
				nb += float64(db[k]) * float64(db[k])
			}
			u.size += math.Sqrt(na * nb)
		}
		list = append(list, u)
	}
	sort.Slice(list, func(a, b int) bool {
		if list[a].count != list[b].count {
			return list[a].count > list[b].count
		}
		if list[a].size != list[b].size {
			return list[a].size > list[b].size
		}
		ka, kb := list[a].key, list[b].key
		return slices.Compare([]uint16{ka.i, ka.fi, ka.j, ka.fj}, []uint16{kb.i, kb.fi, kb.j, kb.fj}) < 0
	})
	var gs []genome
	for _, u := range list[:min(max, len(list))] {
		g := make(genome, len(s.steps))
		g[u.i], g[u.j] = uint8(u.ci), uint8(u.cj)
		gs = append(gs, g)
	}
	return gs
}
