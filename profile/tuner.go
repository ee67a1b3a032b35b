package profile

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/profile/search"
	"github.com/kagen-ai/kagen/replay"
)

// Predictor names a QoS predictor (see package search).
type Predictor = search.Predictor

// The QoS predictors of the reference: P1 adds the profiled output deltas
// of the chosen pairs to the exact outputs and scores the result; P2 adds
// the profiled accuracy losses.
const (
	P1 = search.P1
	P2 = search.P2
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
	// Calib counts the calibration windows exact and this configuration
	// got right and wrong: LossPP's confidence interval. It is not
	// written to a partial file (zero for exact itself and for a
	// configuration read back with --resume: no interval is shown).
	Calib measure.Paired `json:"-"`
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
	// SpeedupNoise is the relative noise of a measured speedup that the
	// levels were chosen with (see speedupNoise): speedups closer than
	// this count as equal, and a level must be this much faster.
	SpeedupNoise float64 `json:",omitempty"`
	// Agreement is set when the windows' classes are the exact model's
	// own predictions (the agreement QoS): accuracies are then top-1
	// agreements with the exact model and losses disagreements, in pp.
	Agreement bool `json:",omitempty"`
}

// searchInput is what the search needs of a profile: the exact figures
// and, per node with a pair kept, its knobs in the profile's order with
// their savings, losses and output deltas.
func searchInput(p *Profile) *search.Input {
	in := &search.Input{ExactUS: p.ExactUS, ExactAccuracy: p.ExactAccuracy, Classes: p.Classes, Labels: p.Labels, ExactOutputs: p.ExactOutputs}
	byStep := map[int][]search.Choice{}
	for _, pp := range p.Pairs {
		if pp.Pruned {
			continue
		}
		k, err := approx.ParseKnob(pp.Knob)
		if err != nil {
			continue
		}
		byStep[pp.Step] = append(byStep[pp.Step], search.Choice{Knob: k, SaveUS: pp.ExactNodeUS - pp.NodeUS, LossPP: pp.LossPP, Delta: pp.Delta})
	}
	for _, step := range slices.Sorted(maps.Keys(byStep)) {
		in.Nodes = append(in.Nodes, search.Node{Step: step, Choices: byStep[step]})
	}
	return in
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
	noise := speedupNoise(validated)
	res.SpeedupNoise = noise
	for _, c := range validated {
		if c.TuneLossPP <= opts.MaxLossPP && c.LossPP <= opts.MaxLossPP && c.Speedup > 1+noise {
			ok = append(ok, c)
		}
	}
	levels := thin(append([]Candidate{exact}, paretoSet(ok, noise)...), noise)
	for i := range levels {
		levels[i].Kept = true
		if opts.Device != nil {
			levels[i].EnergyJ = opts.Device.InferenceEnergy(time.Duration(levels[i].TimeUS * 1e3))
		}
	}
	for i := range validated {
		if opts.Device != nil { // the workbench plots every validated point on the energy axis too
			validated[i].EnergyJ = opts.Device.InferenceEnergy(time.Duration(validated[i].TimeUS * 1e3))
		}
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

// speedupNoise is the relative noise of the speedups measured in a
// validation: twice the relative standard deviation of exact's time,
// which is measured beside every configuration (interleaved with it), at
// most 0.25; 0 with fewer than three measurements. Two timings of the
// same configuration differ by about that much on a loaded machine, so
// the levels are chosen as if speedups that close were equal: otherwise
// the same inputs and seed gave 4, 4 and 2 levels in three runs.
func speedupNoise(cs []Candidate) float64 {
	var n, sum, sumSq float64
	for _, c := range cs {
		if c.ExactTimeUS > 0 {
			n++
			sum += c.ExactTimeUS
			sumSq += c.ExactTimeUS * c.ExactTimeUS
		}
	}
	if n < 3 {
		return 0
	}
	mean := sum / n
	sd := math.Sqrt(math.Max(sumSq/n-mean*mean, 0) * n / (n - 1))
	return math.Min(2*sd/mean, 0.25)
}

// paretoSet keeps, for each loss a candidate has, the best candidate no
// lossier than that: with speedups within a relative noise of each other
// counting as equal, the least lossy of those within the noise of the
// fastest, and of equally lossy ones the one ahead in the profile's
// prediction (aheadPredicted). Near-ties are thus decided by the profile,
// not by this run's timings, and no candidate kept is beaten by another
// both no lossier and faster beyond the noise. (A pairwise rule, "d
// beats c if as lossy and as fast within the noise and ahead", is not
// transitive over a chain of near-ties and could drop every candidate.)
// It returns them by loss, then speedup, then configuration, each once.
func paretoSet(cs []Candidate, noise float64) []Candidate {
	byLoss := slices.Clone(cs)
	sort.SliceStable(byLoss, func(i, j int) bool { return byLoss[i].LossPP < byLoss[j].LossPP })
	var out []Candidate
	seen := map[string]bool{}
	for n := 1; n <= len(byLoss); n++ {
		if n < len(byLoss) && byLoss[n].LossPP == byLoss[n-1].LossPP {
			continue // the candidates no lossier than this loss end further on
		}
		upTo := byLoss[:n]
		fastest := 0.0
		for _, c := range upTo {
			fastest = max(fastest, c.Speedup)
		}
		best := -1
		for i, c := range upTo {
			if c.Speedup*(1+noise) < fastest {
				continue
			}
			if best < 0 || c.LossPP < upTo[best].LossPP || c.LossPP == upTo[best].LossPP && aheadPredicted(c, upTo[best]) {
				best = i
			}
		}
		if c := upTo[best]; !seen[c.Config] {
			seen[c.Config] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.LossPP != b.LossPP {
			return a.LossPP < b.LossPP
		}
		if a.Speedup != b.Speedup {
			return a.Speedup < b.Speedup
		}
		return a.Config < b.Config
	})
	return out
}

// aheadPredicted orders near-ties: the faster predicted time first, then
// the configuration's text.
func aheadPredicted(d, c Candidate) bool {
	if d.PredictedUS != c.PredictedUS {
		return d.PredictedUS < c.PredictedUS
	}
	return d.Config < c.Config
}

// thin applies the reference's rule to levels sorted by loss (exact first):
// a configuration becomes a new level only if it is at least 0.01 faster
// (and faster by the relative noise of the speedups) and 0.1 pp lossier
// than the last kept one. One at least 0.01 faster but less
// than 0.1 pp lossier replaces the last level (never the exact one, after
// which it is a level of its own). Unlike a literal reading of the
// reference, one less than 0.01 faster is dropped rather than replacing a
// level it barely beats at a higher loss.
func thin(cs []Candidate, noise float64) []Candidate {
	out := []Candidate{cs[0]}
	for _, c := range cs[1:] {
		last := &out[len(out)-1]
		switch {
		case c.Speedup < max(last.Speedup+0.01, last.Speedup*(1+noise)):
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
		if dataset.Argmax(outs[i*classes:(i+1)*classes]) < 0 {
			continue // NaN or infinite outputs: scored wrong, no confidence
		}
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

// String summarises a result.
func (r *TuneResult) String() string {
	var b strings.Builder
	what := "exact accuracy"
	if r.Agreement {
		what = "QoS: top-1 agreement with the exact model (its predictions are the reference, labels unused): exact agreement"
	}
	fmt.Fprintf(&b, "%s %.2f%%; %d configurations scored, %d knob pairs screened, %d validated, predictor MAE %.2f pp\n",
		what, 100*r.ExactAccuracy, r.Evaluated, len(r.Screened), len(r.Validated), r.PredictorMAE)
	for i, l := range r.Levels {
		fmt.Fprintf(&b, "level %d: speedup %.2fx loss %.2f pp (predicted %.2f) %s\n", i, l.Speedup, l.LossPP, l.PredictedLossPP, l.Config)
	}
	return b.String()
}

// Validate checks a configuration validated by an earlier run and read
// back (TuneOptions.Known): figures finite, accuracy in 0..1, losses
// within 100 points, times above 0 with the speedup their ratio, and
// per-class statistics for classes classes. It names the field at fault.
func (c *Candidate) Validate(classes int) error {
	for name, v := range map[string]float64{"predicted_loss_pp": c.PredictedLossPP, "predicted_us": c.PredictedUS, "tune_loss_pp": c.TuneLossPP,
		"qos_loss_pp": c.LossPP, "energy_j": c.EnergyJ} {
		if !finite(v) {
			return fmt.Errorf("%s %v, expected a finite number", name, v)
		}
	}
	switch {
	case c.Config == "":
		return fmt.Errorf("config is empty")
	case !isFraction(c.Accuracy):
		return fmt.Errorf("accuracy %v, expected 0..1", c.Accuracy)
	case !finite(c.TimeUS) || c.TimeUS <= 0 || !finite(c.ExactTimeUS) || c.ExactTimeUS <= 0:
		return fmt.Errorf("time_us %v and exact_time_us %v, expected times above 0", c.TimeUS, c.ExactTimeUS)
	case math.Abs(c.Speedup-c.ExactTimeUS/c.TimeUS) > 1e-6*c.ExactTimeUS/c.TimeUS:
		return fmt.Errorf("speedup %v, but exact_time_us / time_us is %v", c.Speedup, c.ExactTimeUS/c.TimeUS)
	case math.Abs(c.LossPP) > 100 || math.Abs(c.TuneLossPP) > 100:
		return fmt.Errorf("qos_loss_pp %v and tune_loss_pp %v, expected -100..100", c.LossPP, c.TuneLossPP)
	case len(c.CorrectMean) != classes || len(c.WrongMean) != classes || len(c.CorrectN) != classes || len(c.WrongN) != classes:
		return fmt.Errorf("%d, %d, %d and %d per-class statistics, expected %d each", len(c.CorrectMean), len(c.WrongMean), len(c.CorrectN), len(c.WrongN), classes)
	}
	for k := 0; k < classes; k++ {
		if !isFraction(c.CorrectMean[k]) || !isFraction(c.WrongMean[k]) || c.CorrectN[k] < 0 || c.WrongN[k] < 0 {
			return fmt.Errorf("class %d: correct_mean %v, wrong_mean %v, correct_n %d, wrong_n %d: expected confidences in 0..1 and counts of 0 or more",
				k, c.CorrectMean[k], c.WrongMean[k], c.CorrectN[k], c.WrongN[k])
		}
	}
	return nil
}
