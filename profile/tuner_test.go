package profile

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

func TestThinning(t *testing.T) {
	cs := []Candidate{
		{Config: "exact", Speedup: 1, LossPP: 0},
		{Config: "a", Speedup: 1.2, LossPP: 0.05},  // faster at < 0.1 pp: the first level
		{Config: "b", Speedup: 1.25, LossPP: 0.08}, // not 0.1 pp lossier than a but faster: replaces a
		{Config: "c", Speedup: 1.255, LossPP: 0.5}, // not 0.01 faster than b: dropped
		{Config: "d", Speedup: 1.6, LossPP: 0.6},
	}
	got := thin(cs)
	var names []string
	for _, c := range got {
		names = append(names, c.Config)
	}
	if strings.Join(names, ",") != "exact,b,d" {
		t.Fatalf("levels %v, want exact,b,d", names)
	}
}

func TestParetoSet(t *testing.T) {
	cs := []Candidate{{Config: "a", Speedup: 1.5, LossPP: 0.5}, {Config: "b", Speedup: 1.4, LossPP: 0.6}, {Config: "c", Speedup: 2, LossPP: 0.9}}
	got := paretoSet(cs)
	if len(got) != 2 || got[0].Config != "a" || got[1].Config != "c" {
		t.Fatalf("pareto set %+v", got)
	}
}

// syntheticProfile builds a profile of 3 nodes with known additive effects.
func syntheticProfile() *Profile {
	rng := rand.New(rand.NewPCG(1, 1))
	p := &Profile{ExactUS: 1000, Windows: 50, Classes: 3}
	for i := 0; i < p.Windows; i++ {
		p.Labels = append(p.Labels, i%3)
		for c := 0; c < 3; c++ {
			v := float32(rng.Float64())
			if c == i%3 {
				v += 1.5
			}
			p.ExactOutputs = append(p.ExactOutputs, v)
		}
	}
	p.ExactAccuracy = dataset.Accuracy(p.ExactOutputs, p.Labels, 3)
	for step := 0; step < 3; step++ {
		for j, k := range []string{"perf-row:2:0", "samp:2:0", "samp:3:0"} {
			d := make([]float32, len(p.ExactOutputs))
			for i := range d {
				d[i] = float32(rng.NormFloat64()) * 0.2 * float32(j+1)
				if i%3 == p.Labels[i/3] {
					d[i] = -float32(math.Abs(float64(d[i]))) * 2 // hurts the true class
				}
			}
			pp := PairProfile{Step: step, Node: "n" + strconv.Itoa(step), Knob: k, ExactNodeUS: 300, NodeUS: 300 / (2 - 0.3*float64(j)), Delta: d}
			acc := dataset.Accuracy(addTo(p.ExactOutputs, d), p.Labels, 3)
			pp.LossPP = 100 * (p.ExactAccuracy - acc)
			pp.NodeSpeedup = pp.ExactNodeUS / pp.NodeUS
			p.Pairs = append(p.Pairs, pp)
		}
	}
	return p
}

func addTo(a, d []float32) []float32 {
	out := append([]float32(nil), a...)
	for i := range d {
		out[i] += d[i]
	}
	return out
}

func TestSearchIsReproducibleAndFindsTheFront(t *testing.T) {
	p := syntheticProfile()
	sp := newSpace(p)
	opts := &TuneOptions{Budget: 200 * time.Millisecond, Predictor: P1, Seed: 7}
	a1, n1 := sp.search(context.Background(), opts, 100, opts.Candidates)
	a2, _ := sp.search(context.Background(), opts, 100, opts.Candidates)
	if len(a1) < 3 || n1 < 20 {
		t.Fatalf("archive %d points after %d evaluations", len(a1), n1)
	}
	// The space has 4^3 = 64 configurations: the archive must be their
	// exact Pareto front, found whatever the timing.
	if len(a1) != len(a2) {
		t.Fatalf("two searches with one seed found %d and %d points", len(a1), len(a2))
	}
	scratch := make([]float32, len(p.ExactOutputs))
	var all []point
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			for c := 0; c < 4; c++ {
				g := genome{uint8(a), uint8(b), uint8(c)}
				l, us := sp.predict(g, P1, scratch)
				all = append(all, point{g, l, us})
			}
		}
	}
	for _, q := range all {
		for _, pt := range a1 {
			if q.loss < pt.loss && q.cost < pt.cost {
				t.Fatalf("archive point %v (loss %.2f, %.0f us) is dominated by %v (%.2f, %.0f)", pt.g, pt.loss, pt.cost, q.g, q.loss, q.cost)
			}
		}
	}
	// P2 is additive in the pairs' losses.
	l, _ := sp.predict(genome{1, 2, 0}, P2, scratch)
	if want := sp.choices[0][1].lossPP + sp.choices[1][2].lossPP; math.Abs(l-want) > 1e-9 {
		t.Fatalf("P2 loss %v, want %v", l, want)
	}
	// Predicted time subtracts each pair's saving.
	_, us := sp.predict(genome{1, 1, 1}, P1, scratch)
	if want := 1000 - 3*(300-150.0); math.Abs(us-want) > 1e-9 {
		t.Fatalf("predicted %v us, want %v", us, want)
	}
}

// tinyHAR loads the tiny HAR model and cuts a synthetic IMU trace of two
// files into its tune and calibration splits.
func tinyHAR(t testing.TB) (m *engine.Model, a *approx.Approximator, tune, calib *dataset.Dataset, dir string) {
	t.Helper()
	m, err := engine.LoadFile("../replay/testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for f := 0; f < 2; f++ {
		var b strings.Builder
		b.WriteString("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n")
		labels := spec.Classes
		for i := 0; i < 3000; i++ {
			ph := float64(i) / 100
			b.WriteString(strconv.FormatFloat(math.Sin(ph*float64(3+f)), 'f', 4, 64) + "," + strconv.FormatFloat(9.8+math.Cos(ph*2), 'f', 4, 64) + ",0.1,0.01,0.02," +
				strconv.FormatFloat(0.3*math.Sin(ph), 'f', 4, 64) + "," + strconv.Itoa(1700000000000+i*10) + "," + labels[(i/600)%len(labels)] + "\n")
		}
		os.WriteFile(filepath.Join(dir, "t"+strconv.Itoa(f)+".csv"), []byte(b.String()), 0o644)
	}
	d, err := dataset.Load(spec, replay.DiskTraces([]string{dir}), 0)
	if err != nil {
		t.Fatal(err)
	}
	tune, calib = d.Split()
	return m, approx.New(m), tune, calib, dir
}

// TestProfileAndTuneEndToEnd runs the profiler and the tuner on a small
// model and a synthetic IMU trace.
func TestProfileAndTuneEndToEnd(t *testing.T) {
	m, a, tune, calib, dir := tinyHAR(t)
	p, err := Run(context.Background(), a, tune, Options{Repeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pairs) == 0 || p.ExactUS <= 0 || len(p.ExactOutputs) != p.Windows*p.Classes {
		t.Fatalf("profile: %d pairs, exact %v us, %d outputs", len(p.Pairs), p.ExactUS, len(p.ExactOutputs))
	}
	path := filepath.Join(dir, "profile.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProfile(path, m.SHA256(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProfile(path, "0000", false); err == nil || !strings.Contains(err.Error(), "0000") {
		t.Fatalf("a profile of another model was accepted: %v", err)
	}
	res, err := Tune(context.Background(), a, p, tune, calib, TuneOptions{MaxLossPP: 100, Budget: 100 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Levels[0].Config != "exact" || res.Levels[0].Speedup != 1 {
		t.Fatalf("level 0 is %+v", res.Levels[0])
	}
	for i := 1; i < len(res.Levels); i++ {
		if res.Levels[i].Speedup < res.Levels[i-1].Speedup+0.01 {
			t.Fatalf("levels not thinned: %+v", res.Levels)
		}
	}
	// Validation in rounds never validates a configuration twice, nor more
	// than Candidates.
	seen := map[string]bool{}
	for _, c := range res.Validated {
		if seen[c.Config] {
			t.Fatalf("%s validated twice", c.Config)
		}
		seen[c.Config] = true
	}
	if len(res.Validated) == 0 || len(res.Validated) > 24 {
		t.Fatalf("%d configurations validated, want 1..24", len(res.Validated))
	}
	// Knob pairs are screened before the first round when the front
	// combines knobs on two nodes.
	// Knob pairs are screened before the first round when the front
	// combines knobs on two nodes: two-knob configurations, at most 12,
	// none of them validated again as a candidate.
	if len(res.Screened) > 12 {
		t.Fatalf("%d knob pairs screened, want at most 12", len(res.Screened))
	}
	for _, c := range res.Screened {
		if strings.Count(c.Config, ",") != 1 {
			t.Fatalf("screened %q: not two knobs", c.Config)
		}
		if seen[c.Config] {
			t.Fatalf("screened %q was validated again", c.Config)
		}
	}
	if _, err := Tune(context.Background(), a, p, tune, &dataset.Dataset{}, TuneOptions{}); err == nil {
		t.Fatal("an empty calibration split was accepted")
	}
}

func TestFrontsTakeWholeFrontsInOrder(t *testing.T) {
	pts := []point{
		{loss: 0, cost: 10}, {loss: 1, cost: 5}, {loss: 2, cost: 1}, // front 1
		{loss: 0.5, cost: 10}, {loss: 1.5, cost: 6}, // front 2
		{loss: 3, cost: 9}, // front 3
	}
	for _, c := range []struct{ want, n int }{{0, 3}, {1, 3}, {3, 3}, {4, 5}, {5, 5}, {6, 6}, {10, 6}} {
		got := fronts(pts, c.want)
		if len(got) != c.n {
			t.Fatalf("want %d: got %d points, expected %d", c.want, len(got), c.n)
		}
		for i := 1; i < len(got); i++ {
			if got[i].loss < got[i-1].loss {
				t.Fatalf("want %d: not in order of loss: %v", c.want, got)
			}
		}
	}
}

// TestSoftLoss checks P1's scoring: kappa 0 counts windows as Accuracy
// does, a larger kappa moves every window's count towards one half, and a
// single pair's prediction with kappa 0 is its profiled loss.
func TestSoftLoss(t *testing.T) {
	p := syntheticProfile()
	sp := newSpace(p)
	scratch := make([]float32, len(p.ExactOutputs))
	if l := sp.softLoss(genome{0, 0, 0}, 0.3, scratch); l != 0 {
		t.Fatalf("exact configuration: predicted loss %v, want 0 (no delta, no uncertainty)", l)
	}
	g := genome{1, 2, 3}
	hard := sp.softLoss(g, 0, scratch)
	out := append([]float32(nil), p.ExactOutputs...)
	for i, c := range g {
		out = addTo(out, sp.choices[i][c].delta)
	}
	if want := 100 * (p.ExactAccuracy - dataset.Accuracy(out, p.Labels, p.Classes)); math.Abs(hard-want) > 1e-9 {
		t.Fatalf("kappa 0: loss %v, want the plain count's %v", hard, want)
	}
	for i := range sp.choices {
		for c := 1; c < len(sp.choices[i]); c++ {
			g := make(genome, len(sp.choices))
			g[i] = uint8(c)
			if l, want := sp.softLoss(g, 0, scratch), sp.choices[i][c].lossPP; math.Abs(l-want) > 1e-9 {
				t.Fatalf("pair (%d,%d): loss %v, want its profiled %v", i, c, l, want)
			}
		}
	}
	// With a huge deviation every window is a coin toss.
	if l, want := sp.softLoss(g, 1e9, scratch), 100*(p.ExactAccuracy-0.5); math.Abs(l-want) > 1e-6 {
		t.Fatalf("kappa 1e9: loss %v, want %v", l, want)
	}
}

// TestCalibrateRecoversKappaAndBias feeds calibrate losses made by a known
// predictor and checks that it finds it.
func TestCalibrateRecoversKappaAndBias(t *testing.T) {
	p := syntheticProfile()
	sp := newSpace(p)
	scratch := make([]float32, len(p.ExactOutputs))
	var gs []genome
	var measured []float64
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			g := genome{uint8(a), uint8(b), uint8((a + b) % 4)}
			gs = append(gs, g)
			measured = append(measured, sp.softLoss(g, 0.2, scratch)+0.7)
		}
	}
	sp.calibrate(P1, gs, measured)
	if sp.kappa != 0.2 || math.Abs(sp.bias-0.7) > 1e-9 {
		t.Fatalf("calibrated kappa %v bias %v, want 0.2 and 0.7", sp.kappa, sp.bias)
	}
	l, _ := sp.predict(gs[5], P1, scratch)
	if math.Abs(l-measured[5]) > 1e-9 {
		t.Fatalf("calibrated prediction %v, want %v", l, measured[5])
	}
	// P2 and too few measurements only move the bias.
	sp = newSpace(p)
	sp.calibrate(P1, gs[:2], []float64{5, 5})
	if sp.kappa != defaultKappa {
		t.Fatalf("two measurements changed kappa to %v", sp.kappa)
	}
	sp = newSpace(p)
	sp.calibrate(P2, gs, measured)
	var resid []float64
	for i, g := range gs {
		resid = append(resid, measured[i]-sp.predictLoss(g, P2, scratch))
	}
	slices.Sort(resid)
	want := (resid[len(resid)/2-1] + resid[len(resid)/2]) / 2 // the median
	if sp.kappa != defaultKappa || math.Abs(sp.bias-want) > 1e-9 {
		t.Fatalf("P2: kappa %v bias %v, want %v and %v", sp.kappa, sp.bias, defaultKappa, want)
	}
}

// TestCalibrateLearnsInteractions gives two knobs on two nodes a loss
// together that their separate effects do not predict, and two others a
// gain, and checks that calibration learns the loss for other
// configurations combining them (with either precision of the same knob),
// not the gain, and leaves the others alone.
func TestCalibrateLearnsInteractions(t *testing.T) {
	p := syntheticProfile()
	// node 1 also offers samp:3:0 at int8: the same family as samp:3:0.
	pp := p.Pairs[5]
	pp.Knob = "samp:3:0+int8"
	p.Pairs = append(p.Pairs, pp)
	sp := newSpace(p)
	if sp.family[1][3] != sp.family[1][4] || sp.family[1][3] == sp.family[1][2] {
		t.Fatalf("node 1 families %v, want samp:3:0 and samp:3:0+int8 alike, samp:2:0 apart", sp.family[1])
	}
	scratch := make([]float32, len(p.ExactOutputs))
	const extra = 4.0
	var gs []genome
	var measured []float64
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			g := genome{uint8(a), uint8(b), 0}
			l := sp.softLoss(g, defaultKappa, scratch)
			if a == 2 && b == 3 {
				l += extra
			}
			if a == 1 && b == 1 {
				l -= extra // better together: not learned
			}
			gs = append(gs, g)
			measured = append(measured, l)
		}
	}
	sp.calibrate(P1, gs, measured)
	for _, c := range []struct {
		g        genome
		min, max float64
	}{
		{genome{2, 3, 1}, extra / 2, extra * 1.1}, // the pair, with a third node
		{genome{2, 4, 0}, extra / 2, extra * 1.1}, // the pair, samp:3:0 at int8
		{genome{1, 3, 1}, 0, 0.5},                 // node 1's knob with another
		{genome{1, 1, 0}, 0, 0.5},                 // the pair that did better
		{genome{0, 0, 2}, 0, 0},                   // one knob: nothing to interact
	} {
		if got := sp.interaction(c.g); got < c.min || got > c.max {
			t.Errorf("%v: interaction %.3f, want in [%v, %v]", c.g, got, c.min, c.max)
		}
	}
	// Without the interaction the residuals are zero and so is every
	// correction.
	for i := range measured {
		if gs[i][0] == 2 && gs[i][1] == 3 {
			measured[i] -= extra
		}
		if gs[i][0] == 1 && gs[i][1] == 1 {
			measured[i] += extra
		}
	}
	sp.calibrate(P1, gs, measured)
	if got := sp.interaction(genome{2, 3, 1}); math.Abs(got) > 1e-9 {
		t.Errorf("additive losses: interaction %v, want 0", got)
	}
}

// TestSteadyExact checks that a pair whose interleaved exact time stalled
// takes its node's median, with its speedup and pruning redone, and that
// the others are left alone.
func TestSteadyExact(t *testing.T) {
	pairs := []PairProfile{
		{Step: 1, Knob: "a", NodeUS: 2000, ExactNodeUS: 2700},
		{Step: 1, Knob: "b", NodeUS: 1900, ExactNodeUS: 6800}, // stalled exact
		{Step: 1, Knob: "c", NodeUS: 2600, ExactNodeUS: 2750},
		{Step: 1, Knob: "d", NodeUS: 2900, ExactNodeUS: 1000}, // stalled the other way
		{Step: 2, Knob: "e", NodeUS: 100, ExactNodeUS: 900},   // alone on its node
	}
	for i := range pairs {
		pairs[i].NodeSpeedup = pairs[i].ExactNodeUS / pairs[i].NodeUS
	}
	steadyExact(pairs, 1.03)
	med := 2750.0 // the upper of the middle two
	for _, c := range []struct {
		i       int
		exact   float64
		speedup float64
		pruned  bool
	}{
		{0, 2700, 1.35, false},
		{1, med, med / 1900, false},
		{2, 2750, 2750 / 2600.0, false},
		{3, med, med / 2900, true},
		{4, 900, 9, false},
	} {
		pp := pairs[c.i]
		if pp.ExactNodeUS != c.exact || math.Abs(pp.NodeSpeedup-c.speedup) > 1e-9 || pp.Pruned != c.pruned {
			t.Errorf("pair %s: exact %v speedup %v pruned %v, want %v %v %v", pp.Knob, pp.ExactNodeUS, pp.NodeSpeedup, pp.Pruned, c.exact, c.speedup, c.pruned)
		}
	}
}

// TestScreenPairs checks the choice of knob pairs to screen: pairs of
// different nodes that the front combines, the most frequent first, each
// family once (represented by its most used choice), at most max.
func TestScreenPairs(t *testing.T) {
	p := syntheticProfile()
	sp := newSpace(p) // three nodes, choices 1..3 each (distinct families)
	front := []point{
		{g: genome{1, 2, 0}},
		{g: genome{1, 2, 3}},
		{g: genome{1, 2, 3}},
		{g: genome{2, 0, 3}},
	}
	got := sp.screenPairs(front, 10)
	// (1,2) is combined three times, (1,3) and (2,3) twice (in an order
	// set by the sizes of their deltas), (2 on node 0, 3) once.
	want := []genome{{1, 2, 0}, {1, 0, 3}, {0, 2, 3}, {2, 0, 3}}
	if len(got) != len(want) || string(got[0]) != string(want[0]) || string(got[3]) != string(want[3]) ||
		!(string(got[1]) == string(want[1]) && string(got[2]) == string(want[2]) || string(got[1]) == string(want[2]) && string(got[2]) == string(want[1])) {
		t.Fatalf("screened %v, want %v (most frequent first)", got, want)
	}
	if got := sp.screenPairs(front, 2); len(got) != 2 || string(got[0]) != string(want[0]) {
		t.Fatalf("max 2: screened %v", got)
	}
	if got := sp.screenPairs([]point{{g: genome{1, 0, 0}}}, 5); len(got) != 0 {
		t.Fatalf("a front of single knobs screened %v", got)
	}
}
