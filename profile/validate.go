package profile

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/profile/search"
)

// TuneWith is Tune with the validation trials run by ex. Validation runs
// in opts.Rounds rounds: each round searches (with the predictor
// calibrated on what the earlier rounds measured), then runs one batch
// holding, for each of its candidates not known already, the outputs on
// every shard of both splits and the time; the first batch also holds the
// exact outputs and time. Candidates are validated as their trials
// complete (opts.Validated is called then); the levels are assembled as
// Tune's. When ctx is cancelled after the exact figures are in, the
// result holds what was validated so far, as Tune's does.
func TuneWith(ctx context.Context, a *approx.Approximator, p *Profile, tune, calib *dataset.Dataset, opts TuneOptions, ex Executor) (*TuneResult, error) {
	opts.defaults()
	if tune.Len() == 0 || calib.Len() == 0 {
		return nil, fmt.Errorf("empty split: %d tune and %d calibration windows", tune.Len(), calib.Len())
	}
	return newTuner(a, p, tune, calib, opts, ex).run(ctx)
}

func (o *TuneOptions) defaults() {
	if o.Budget <= 0 {
		o.Budget = 10 * time.Second
	}
	if o.Predictor == "" {
		o.Predictor = P1
	}
	if o.Candidates <= 0 {
		o.Candidates = 24
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.ScreenPairs == 0 {
		o.ScreenPairs = o.Candidates / 2
	}
}

// candidate is one configuration a tune measures (exact and the screened
// pairs included): what the search predicted of it, what its trials have
// measured so far, and what it came to.
type candidate struct {
	point search.Point
	text  string
	// known is an earlier run's validation of the configuration
	// (TuneOptions.Known); it is not measured again.
	known *Candidate
	// The outputs on each shard of the tune and calibration splits, the
	// median time and exact's beside it, and the trials still to come.
	tune, calib [][]float32
	us, exactUS float64
	left        int
	// validated is set once every trial is in and, for a configuration,
	// exact's figures too.
	validated *Candidate
}

// waiting reports whether every trial of c is in but c is not validated:
// it waits for exact's figures.
func (c *candidate) waiting() bool {
	return c.known == nil && c.validated == nil && c.left == 0
}

// part is what of its candidate a trial measures.
type part int

const (
	tunePart  part = iota // outputs on a shard of the tune split
	calibPart             // outputs on a shard of the calibration split
	timePart              // time
)

// slot says which candidate, which part and which shard a trial is for.
type slot struct {
	c     *candidate
	part  part
	shard int
}

// round is a batch of trials, with the slot of each.
type round struct {
	model, device string
	batch         Batch
	slots         []slot
}

func (rd *round) add(t Trial, s slot) {
	rd.batch.Trials = append(rd.batch.Trials, t)
	rd.slots = append(rd.slots, s)
}

// addOutputs adds c's output trials on the shards keys, as part p.
func (rd *round) addOutputs(c *candidate, p part, keys []string) {
	outs := make([][]float32, len(keys))
	if p == tunePart {
		c.tune = outs
	} else {
		c.calib = outs
	}
	for j, k := range keys {
		rd.add(Trial{Kind: TrialOutputs, Model: rd.model, Shard: k, Config: c.text}, slot{c, p, j})
	}
	c.left += len(keys)
}

// addValidation adds the trials that validate c: its outputs on every
// shard of both splits, then its time. Tune outputs measured already
// (exact's, by the screening) are taken instead.
func (rd *round) addValidation(c *candidate, tuneKeys, calibKeys []string, timing string, tuneOuts [][]float32) {
	if tuneOuts != nil && len(tuneOuts) == len(tuneKeys) {
		c.tune = slices.Clone(tuneOuts)
	} else {
		rd.addOutputs(c, tunePart, tuneKeys)
	}
	rd.addOutputs(c, calibPart, calibKeys)
	t := Trial{Kind: TrialConfigTime, Model: rd.model, Shard: timing, Config: c.text, Repeats: timerRuns, Device: rd.device}
	if c.text == "exact" {
		t.Kind, t.Config = TrialExactTime, ""
	}
	rd.add(t, slot{c, timePart, 0})
	c.left++
}

// timerRuns is the number of timed runs of a configuration (and of exact).
const timerRuns = 15

// tuner is the state of one TuneWith.
type tuner struct {
	a           *approx.Approximator
	ex          Executor
	opts        TuneOptions
	tune, calib *dataset.Dataset
	sp          *search.Space
	model       string // SHA-256
	device      string // class the time trials run on
	classes     int
	shardSize   int
	known       map[string]Candidate
	tried       map[string]bool // screened or picked already
	res         *TuneResult
	cands       []*candidate // every round's candidates, in order
	exact       *candidate   // measured in the first round
	exactTune   float64      // exact's accuracy on the tune split
	screened    screening
	done        int // candidates validated or known
}

// screening is what the screening of knob pairs before the first round
// measured: each two-knob configuration's tune loss, and the exact tune
// outputs on each shard.
type screening struct {
	pairs     []search.Genome
	losses    []float64
	exactTune [][]float32
}

func newTuner(a *approx.Approximator, p *Profile, tune, calib *dataset.Dataset, opts TuneOptions, ex Executor) *tuner {
	m := a.Model()
	t := &tuner{
		a: a, ex: ex, opts: opts, tune: tune, calib: calib,
		sp:    search.NewSpace(searchInput(p)),
		model: m.SHA256(), device: deviceClassOf(ex), classes: numel(m.Outputs()[0].Shape), shardSize: shardWindows(ex),
		known: map[string]Candidate{}, tried: map[string]bool{"exact": true}, res: &TuneResult{},
	}
	for _, k := range opts.Known {
		t.known[k.Config] = k
	}
	return t
}

// run validates in rounds: each round searches with the predictor
// calibrated on what the earlier rounds measured, then validates its
// share of the candidates, spread along the predicted front.
func (t *tuner) run(ctx context.Context) (*TuneResult, error) {
	t.report()
	for r := 0; r < t.opts.Rounds && len(t.cands) < t.opts.Candidates; r++ {
		if r > 0 && ctx.Err() != nil {
			break
		}
		want := (t.opts.Candidates - len(t.cands) + t.opts.Rounds - r - 1) / (t.opts.Rounds - r)
		pool, err := t.search(ctx, r)
		if err != nil {
			return nil, err
		}
		var picks []*candidate // the ones not picked may come back next round
		for _, j := range spread(len(pool), want) {
			picks = append(picks, pool[j])
		}
		if len(picks) == 0 && r > 0 {
			break
		}
		rd := t.newRound(r == 0, picks)
		t.report()
		if err := t.validate(ctx, rd); err != nil {
			if t.exact.validated != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				break // keep what is validated
			}
			return nil, err
		}
		t.calibrate()
	}
	return t.result(), nil
}

func (t *tuner) report() {
	if t.opts.Progress != nil {
		t.opts.Progress("validate", t.done, t.opts.Candidates)
	}
}

// search runs round r's search (in the first round, two around the
// screening of knob pairs) and returns the round's pool: the new
// configurations of the predicted fronts within the loss a candidate may
// be predicted, in order.
func (t *tuner) search(ctx context.Context, r int) ([]*candidate, error) {
	o := search.Options{Predictor: t.opts.Predictor, Seed: t.opts.Seed, Budget: t.opts.Budget / time.Duration(t.opts.Rounds), MaxEvaluations: t.opts.MaxEvaluations}
	screen := r == 0 && t.opts.ScreenPairs > 0
	if screen {
		o.Budget /= 2 // two searches, around the screening
	}
	front := t.searchOnce(ctx, o)
	if screen {
		if pairs := t.sp.ScreenPairs(front, t.opts.ScreenPairs); len(pairs) > 0 {
			if err := t.screen(ctx, pairs); err != nil {
				return nil, err
			}
			front = t.searchOnce(ctx, o)
		}
	}
	var pool []*candidate
	inPool := map[string]bool{}
	for _, pt := range front {
		if pt.LossPP > t.opts.MaxLossPP*1.25+0.25 {
			continue
		}
		if text := t.sp.Text(t.a, pt.Genome); !t.tried[text] && !inPool[text] {
			inPool[text] = true
			pool = append(pool, &candidate{point: pt, text: text})
		}
	}
	return pool, nil
}

func (t *tuner) searchOnce(ctx context.Context, o search.Options) []search.Point {
	t0 := time.Now()
	front, evaluated := t.sp.Search(ctx, o, t.opts.MaxLossPP*1.5+0.5, t.opts.Candidates+len(t.tried))
	t.res.Evaluated += evaluated
	t.res.SearchTime += time.Since(t0)
	return front
}

// screen measures the tune loss of each two-knob configuration in pairs
// (see search.Space.ScreenPairs) in one batch, with the exact tune
// outputs they are measured against (which the first round then takes,
// as it shards the tune split alike), and calibrates the predictor on
// them. The pairs are not validated again as candidates: their
// predictions would be fitted to their own losses.
func (t *tuner) screen(ctx context.Context, pairs []search.Genome) error {
	rd := &round{model: t.model}
	keys := rd.batch.AddShards(t.tune, t.shardSize)
	exact := &candidate{text: "exact"}
	rd.addOutputs(exact, tunePart, keys)
	cands := make([]*candidate, len(pairs))
	for p, g := range pairs {
		cands[p] = &candidate{text: t.sp.Text(t.a, g)}
		rd.addOutputs(cands[p], tunePart, keys)
	}
	done := 0
	progress := func() {
		if t.opts.Progress != nil {
			t.opts.Progress("screen", done, len(rd.batch.Trials))
		}
	}
	progress()
	err := t.ex.Execute(ctx, &rd.batch, func(i int, tr *TrialResult) error {
		if _, err := t.store(rd, i, tr); err != nil {
			return err
		}
		done++
		progress()
		return nil
	})
	if err != nil {
		return fmt.Errorf("screening knob pairs: %w", err)
	}
	exactAcc := dataset.Accuracy(concat(exact.tune), t.tune.Y, t.classes)
	t.screened = screening{pairs: pairs, losses: make([]float64, len(pairs)), exactTune: exact.tune}
	for p, c := range cands {
		loss := 100 * (exactAcc - dataset.Accuracy(concat(c.tune), t.tune.Y, t.classes))
		t.screened.losses[p] = loss
		t.tried[c.text] = true
		t.res.Screened = append(t.res.Screened, Candidate{Config: c.text, TuneLossPP: loss})
	}
	t.sp.Calibrate(t.opts.Predictor, pairs, t.screened.losses)
	return nil
}

// newRound adds picks to the candidates and returns their batch: in the
// first round exact's trials first, then those of each pick not known
// already.
func (t *tuner) newRound(first bool, picks []*candidate) *round {
	rd := &round{model: t.model, device: t.device}
	tuneKeys, calibKeys := rd.batch.AddShards(t.tune, t.shardSize), rd.batch.AddShards(t.calib, t.shardSize)
	timing := rd.batch.AddShard(timingWindows(t.tune))
	if first {
		t.exact = &candidate{text: "exact"}
		rd.addValidation(t.exact, tuneKeys, calibKeys, timing, t.screened.exactTune)
	}
	for _, c := range picks {
		t.cands = append(t.cands, c)
		t.tried[c.text] = true
		if k, ok := t.known[c.text]; ok {
			c.known = &k
			t.done++
			continue
		}
		rd.addValidation(c, tuneKeys, calibKeys, timing, nil)
	}
	return rd
}

// validate runs a round's batch, validating each candidate as its last
// trial comes in (once exact's figures are in).
func (t *tuner) validate(ctx context.Context, rd *round) error {
	return t.ex.Execute(ctx, &rd.batch, func(i int, tr *TrialResult) error {
		c, err := t.store(rd, i, tr)
		if err != nil || c.left > 0 {
			return err
		}
		switch {
		case c == t.exact:
			t.scoreExact()
			for _, w := range t.cands {
				if w.waiting() {
					t.finish(w)
				}
			}
		case t.exact.validated != nil:
			t.finish(c)
		}
		return nil
	})
}

// store keeps what trial i of rd measured in its candidate, which it
// returns.
func (t *tuner) store(rd *round, i int, tr *TrialResult) (*candidate, error) {
	trial, s := &rd.batch.Trials[i], rd.slots[i]
	if err := trialFailed(trial, tr); err != nil {
		return nil, err
	}
	switch s.part {
	case timePart:
		s.c.us, s.c.exactUS = tr.TimeUS, tr.ExactTimeUS
	case tunePart, calibPart:
		if err := checkOutputs(trial, tr, rd.batch.Shards[trial.Shard].Data.Len(), t.classes); err != nil {
			return nil, err
		}
		if s.part == tunePart {
			s.c.tune[s.shard] = tr.Outputs
		} else {
			s.c.calib[s.shard] = tr.Outputs
		}
	}
	s.c.left--
	return s.c, nil
}

// scoreExact works out exact's figures from its measurements.
func (t *tuner) scoreExact() {
	t.exactTune = dataset.Accuracy(concat(t.exact.tune), t.tune.Y, t.classes)
	outs := concat(t.exact.calib)
	t.res.ExactAccuracy = dataset.Accuracy(outs, t.calib.Y, t.classes)
	v := Candidate{Config: "exact", Accuracy: t.res.ExactAccuracy, Speedup: 1, Kept: true}
	confidenceStats(&v, outs, t.calib.Y, t.classes)
	v.TimeUS = t.exact.us
	v.ExactTimeUS = v.TimeUS
	t.exact.validated = &v
}

// finish validates a candidate whose trials are all in, against exact.
func (t *tuner) finish(c *candidate) {
	v := Candidate{Config: c.text, PredictedLossPP: c.point.LossPP, PredictedUS: c.point.US}
	v.TuneLossPP = 100 * (t.exactTune - dataset.Accuracy(concat(c.tune), t.tune.Y, t.classes))
	outs := concat(c.calib)
	v.Accuracy = dataset.Accuracy(outs, t.calib.Y, t.classes)
	v.LossPP = 100 * (t.res.ExactAccuracy - v.Accuracy)
	v.Calib = pairedCounts(concat(t.exact.calib), outs, t.calib.Y, t.classes)
	confidenceStats(&v, outs, t.calib.Y, t.classes)
	v.TimeUS, v.ExactTimeUS = c.us, c.exactUS
	v.Speedup = v.ExactTimeUS / v.TimeUS
	c.validated = &v
	if t.opts.Validated != nil {
		t.opts.Validated(v)
	}
	t.done++
	t.report()
}

// calibrate fits the predictor to everything measured so far: the
// screened pairs and the candidates validated.
func (t *tuner) calibrate() {
	gs := slices.Clone(t.screened.pairs)
	measured := slices.Clone(t.screened.losses)
	for _, c := range t.cands {
		if c.validated != nil {
			gs = append(gs, c.point.Genome)
			measured = append(measured, c.validated.TuneLossPP)
		}
	}
	t.sp.Calibrate(t.opts.Predictor, gs, measured)
}

// result assembles the levels from the candidates validated or known.
func (t *tuner) result() *TuneResult {
	var validated []Candidate
	var absErr float64
	for _, c := range t.cands {
		v := c.known
		if v == nil {
			v = c.validated
		}
		if v == nil {
			continue // not validated before cancellation
		}
		absErr += math.Abs(v.PredictedLossPP - v.TuneLossPP)
		validated = append(validated, *v)
	}
	if len(validated) > 0 {
		t.res.PredictorMAE = absErr / float64(len(validated))
	}
	if t.opts.Progress != nil {
		t.opts.Progress("validate", t.opts.Candidates, t.opts.Candidates)
	}
	var exact Candidate
	if t.exact != nil && t.exact.validated != nil {
		exact = *t.exact.validated
	}
	assembleLevels(t.res, exact, validated, &t.opts)
	return t.res
}

// timingWindows returns the windows the tuner times configurations on:
// up to 8 spread over the tune split.
func timingWindows(d *dataset.Dataset) *dataset.Dataset {
	n := min(8, d.Len())
	out := &dataset.Dataset{Shape: d.Shape}
	for i := 0; i < n; i++ {
		j := i * d.Len() / n
		out.X = append(out.X, d.X[j])
		out.Y = append(out.Y, d.Y[j])
		out.Files = append(out.Files, d.Files[j])
	}
	return out
}

// spread returns want indices of n spread evenly from first to last (all
// of them when n <= want).
func spread(n, want int) []int {
	var out []int
	if n <= want {
		for i := 0; i < n; i++ {
			out = append(out, i)
		}
		return out
	}
	if want == 1 {
		return []int{0}
	}
	for i := 0; i < want; i++ {
		out = append(out, i*(n-1)/(want-1))
	}
	return out
}

// pairedCounts counts the windows exact (outputs ref) and a configuration
// (outs) got right and wrong, for the loss's paired confidence interval.
func pairedCounts(ref, outs []float32, y []int, classes int) measure.Paired {
	var p measure.Paired
	if len(ref) != len(outs) {
		return p
	}
	for i, want := range y {
		r := dataset.Argmax(ref[i*classes:(i+1)*classes]) == want
		c := dataset.Argmax(outs[i*classes:(i+1)*classes]) == want
		switch {
		case r && c:
			p.Both++
		case r:
			p.Lost++
		case c:
			p.Gained++
		default:
			p.Neither++
		}
	}
	return p
}
