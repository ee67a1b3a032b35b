package search

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
)

// syntheticInput builds the input of 3 nodes with known additive effects.
func syntheticInput() *Input {
	rng := rand.New(rand.NewPCG(1, 1))
	in := &Input{ExactUS: 1000, Classes: 3}
	const windows = 50
	for i := 0; i < windows; i++ {
		in.Labels = append(in.Labels, i%3)
		for c := 0; c < 3; c++ {
			v := float32(rng.Float64())
			if c == i%3 {
				v += 1.5
			}
			in.ExactOutputs = append(in.ExactOutputs, v)
		}
	}
	in.ExactAccuracy = dataset.Accuracy(in.ExactOutputs, in.Labels, 3)
	for step := 0; step < 3; step++ {
		n := Node{Step: step}
		for j, k := range []string{"perf-row:2:0", "samp:2:0", "samp:3:0"} {
			d := make([]float32, len(in.ExactOutputs))
			for i := range d {
				d[i] = float32(rng.NormFloat64()) * 0.2 * float32(j+1)
				if i%3 == in.Labels[i/3] {
					d[i] = -float32(math.Abs(float64(d[i]))) * 2 // hurts the true class
				}
			}
			knob, err := approx.ParseKnob(k)
			if err != nil {
				panic(err)
			}
			acc := dataset.Accuracy(addTo(in.ExactOutputs, d), in.Labels, 3)
			nodeUS := 300 / (2 - 0.3*float64(j))
			n.Choices = append(n.Choices, Choice{Knob: knob, SaveUS: 300 - nodeUS, LossPP: 100 * (in.ExactAccuracy - acc), Delta: d})
		}
		in.Nodes = append(in.Nodes, n)
	}
	return in
}

func addTo(a, d []float32) []float32 {
	out := append([]float32(nil), a...)
	for i := range d {
		out[i] += d[i]
	}
	return out
}

func TestSearchIsReproducibleAndFindsTheFront(t *testing.T) {
	in := syntheticInput()
	sp := NewSpace(in)
	opts := Options{Budget: 200 * time.Millisecond, Predictor: P1, Seed: 7}
	a1, n1 := sp.Search(context.Background(), opts, 100, 0)
	a2, _ := sp.Search(context.Background(), opts, 100, 0)
	if len(a1) < 3 || n1 < 20 {
		t.Fatalf("archive %d points after %d evaluations", len(a1), n1)
	}
	// The space has 4^3 = 64 configurations: the archive must be their
	// exact Pareto front, found whatever the timing.
	if len(a1) != len(a2) {
		t.Fatalf("two searches with one seed found %d and %d points", len(a1), len(a2))
	}
	var all []Point
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			for c := 0; c < 4; c++ {
				g := Genome{uint8(a), uint8(b), uint8(c)}
				l, us := sp.Predict(g, P1)
				all = append(all, Point{g, l, us})
			}
		}
	}
	for _, q := range all {
		for _, pt := range a1 {
			if q.LossPP < pt.LossPP && q.US < pt.US {
				t.Fatalf("archive point %v (loss %.2f, %.0f us) is dominated by %v (%.2f, %.0f)", pt.Genome, pt.LossPP, pt.US, q.Genome, q.LossPP, q.US)
			}
		}
	}
	// P2 is additive in the pairs' losses.
	l, _ := sp.Predict(Genome{1, 2, 0}, P2)
	if want := sp.choices[0][1].LossPP + sp.choices[1][2].LossPP; math.Abs(l-want) > 1e-9 {
		t.Fatalf("P2 loss %v, want %v", l, want)
	}
	// Predicted time subtracts each pair's saving.
	_, us := sp.Predict(Genome{1, 1, 1}, P1)
	if want := 1000 - 3*(300-150.0); math.Abs(us-want) > 1e-9 {
		t.Fatalf("predicted %v us, want %v", us, want)
	}
}

// TestSearchStopsAtMaxEvaluations checks that a search bounded by
// evaluations scores that many configurations whatever its budget, and
// finds the same ones each time.
func TestSearchStopsAtMaxEvaluations(t *testing.T) {
	sp := NewSpace(syntheticInput())
	opts := Options{Predictor: P1, Seed: 3, MaxEvaluations: 30}
	a1, n1 := sp.Search(context.Background(), opts, 100, 10)
	a2, n2 := sp.Search(context.Background(), opts, 100, 10)
	if n1 != 30 || n2 != 30 {
		t.Fatalf("%d and %d evaluations, want 30", n1, n2)
	}
	if len(a1) != len(a2) {
		t.Fatalf("two searches found %d and %d points", len(a1), len(a2))
	}
	for i := range a1 {
		if string(a1[i].Genome) != string(a2[i].Genome) {
			t.Fatalf("point %d: %v and %v", i, a1[i].Genome, a2[i].Genome)
		}
	}
}

func TestFrontsTakeWholeFrontsInOrder(t *testing.T) {
	pts := []Point{
		{LossPP: 0, US: 10}, {LossPP: 1, US: 5}, {LossPP: 2, US: 1}, // front 1
		{LossPP: 0.5, US: 10}, {LossPP: 1.5, US: 6}, // front 2
		{LossPP: 3, US: 9}, // front 3
	}
	for _, c := range []struct{ want, n int }{{0, 3}, {1, 3}, {3, 3}, {4, 5}, {5, 5}, {6, 6}, {10, 6}} {
		got := fronts(pts, c.want)
		if len(got) != c.n {
			t.Fatalf("want %d: got %d points, expected %d", c.want, len(got), c.n)
		}
		for i := 1; i < len(got); i++ {
			if got[i].LossPP < got[i-1].LossPP {
				t.Fatalf("want %d: not in order of loss: %v", c.want, got)
			}
		}
	}
}

// TestSoftLoss checks P1's scoring: kappa 0 counts windows as Accuracy
// does, a larger kappa moves every window's count towards one half, and a
// single pair's prediction with kappa 0 is its profiled loss.
func TestSoftLoss(t *testing.T) {
	in := syntheticInput()
	sp := NewSpace(in)
	if l := sp.softLoss(Genome{0, 0, 0}, 0.3); l != 0 {
		t.Fatalf("exact configuration: predicted loss %v, want 0 (no delta, no uncertainty)", l)
	}
	g := Genome{1, 2, 3}
	hard := sp.softLoss(g, 0)
	out := append([]float32(nil), in.ExactOutputs...)
	for i, c := range g {
		out = addTo(out, sp.choices[i][c].Delta)
	}
	if want := 100 * (in.ExactAccuracy - dataset.Accuracy(out, in.Labels, in.Classes)); math.Abs(hard-want) > 1e-9 {
		t.Fatalf("kappa 0: loss %v, want the plain count's %v", hard, want)
	}
	for i := range sp.choices {
		for c := 1; c < len(sp.choices[i]); c++ {
			g := make(Genome, len(sp.choices))
			g[i] = uint8(c)
			if l, want := sp.softLoss(g, 0), sp.choices[i][c].LossPP; math.Abs(l-want) > 1e-9 {
				t.Fatalf("pair (%d,%d): loss %v, want its profiled %v", i, c, l, want)
			}
		}
	}
	// With a huge deviation every window is a coin toss.
	if l, want := sp.softLoss(g, 1e9), 100*(in.ExactAccuracy-0.5); math.Abs(l-want) > 1e-6 {
		t.Fatalf("kappa 1e9: loss %v, want %v", l, want)
	}
}

// TestCalibrateRecoversKappaAndBias feeds Calibrate losses made by a known
// predictor and checks that it finds it.
func TestCalibrateRecoversKappaAndBias(t *testing.T) {
	in := syntheticInput()
	sp := NewSpace(in)
	var gs []Genome
	var measured []float64
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			g := Genome{uint8(a), uint8(b), uint8((a + b) % 4)}
			gs = append(gs, g)
			measured = append(measured, sp.softLoss(g, 0.2)+0.7)
		}
	}
	sp.Calibrate(P1, gs, measured)
	if sp.kappa != 0.2 || math.Abs(sp.bias-0.7) > 1e-9 {
		t.Fatalf("calibrated kappa %v bias %v, want 0.2 and 0.7", sp.kappa, sp.bias)
	}
	l, _ := sp.Predict(gs[5], P1)
	if math.Abs(l-measured[5]) > 1e-9 {
		t.Fatalf("calibrated prediction %v, want %v", l, measured[5])
	}
	// P2 and too few measurements only move the bias.
	sp = NewSpace(in)
	sp.Calibrate(P1, gs[:2], []float64{5, 5})
	if sp.kappa != defaultKappa {
		t.Fatalf("two measurements changed kappa to %v", sp.kappa)
	}
	sp = NewSpace(in)
	sp.Calibrate(P2, gs, measured)
	var resid []float64
	for i, g := range gs {
		resid = append(resid, measured[i]-sp.predictLoss(g, P2))
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
	in := syntheticInput()
	// node 1 also offers samp:3:0 at int8: the same family as samp:3:0.
	c := in.Nodes[1].Choices[2]
	c.Knob.Prec = approx.INT8
	in.Nodes[1].Choices = append(in.Nodes[1].Choices, c)
	sp := NewSpace(in)
	if sp.family[1][3] != sp.family[1][4] || sp.family[1][3] == sp.family[1][2] {
		t.Fatalf("node 1 families %v, want samp:3:0 and samp:3:0+int8 alike, samp:2:0 apart", sp.family[1])
	}
	const extra = 4.0
	var gs []Genome
	var measured []float64
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			g := Genome{uint8(a), uint8(b), 0}
			l := sp.softLoss(g, defaultKappa)
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
	sp.Calibrate(P1, gs, measured)
	for _, c := range []struct {
		g        Genome
		min, max float64
	}{
		{Genome{2, 3, 1}, extra / 2, extra * 1.1}, // the pair, with a third node
		{Genome{2, 4, 0}, extra / 2, extra * 1.1}, // the pair, samp:3:0 at int8
		{Genome{1, 3, 1}, 0, 0.5},                 // node 1's knob with another
		{Genome{1, 1, 0}, 0, 0.5},                 // the pair that did better
		{Genome{0, 0, 2}, 0, 0},                   // one knob: nothing to interact
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
	sp.Calibrate(P1, gs, measured)
	if got := sp.interaction(Genome{2, 3, 1}); math.Abs(got) > 1e-9 {
		t.Errorf("additive losses: interaction %v, want 0", got)
	}
}

// TestScreenPairs checks the choice of knob pairs to screen: pairs of
// different nodes that the front combines, the most frequent first, each
// family once (represented by its most used choice), at most max.
func TestScreenPairs(t *testing.T) {
	sp := NewSpace(syntheticInput()) // three nodes, choices 1..3 each (distinct families)
	front := []Point{
		{Genome: Genome{1, 2, 0}},
		{Genome: Genome{1, 2, 3}},
		{Genome: Genome{1, 2, 3}},
		{Genome: Genome{2, 0, 3}},
	}
	got := sp.ScreenPairs(front, 10)
	// (1,2) is combined three times, (1,3) and (2,3) twice (in an order
	// set by the sizes of their deltas), (2 on node 0, 3) once.
	want := []Genome{{1, 2, 0}, {1, 0, 3}, {0, 2, 3}, {2, 0, 3}}
	if len(got) != len(want) || string(got[0]) != string(want[0]) || string(got[3]) != string(want[3]) ||
		!(string(got[1]) == string(want[1]) && string(got[2]) == string(want[2]) || string(got[1]) == string(want[2]) && string(got[2]) == string(want[1])) {
		t.Fatalf("screened %v, want %v (most frequent first)", got, want)
	}
	if got := sp.ScreenPairs(front, 2); len(got) != 2 || string(got[0]) != string(want[0]) {
		t.Fatalf("max 2: screened %v", got)
	}
	if got := sp.ScreenPairs([]Point{{Genome: Genome{1, 0, 0}}}, 5); len(got) != 0 {
		t.Fatalf("a front of single knobs screened %v", got)
	}
}
