// Package search finds the approximation configurations of a model worth
// validating. It works on what profiling measured of each (node, knob)
// pair alone, an Input: a Space predicts the accuracy loss and the time
// of any combination of those knobs (Predict), a seeded evolutionary
// search collects the configurations that are best by those predictions
// (Search), ScreenPairs picks the two-knob configurations worth measuring
// first, and Calibrate fits the predictor to the losses measured of the
// configurations validated. The validation itself (running the
// configurations) is the caller's: package profile's tuner.
package search

import (
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/approx"
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

// Input is what the search knows of a model: its exact figures on the
// profile windows and, per node worth approximating, the knobs it can
// take with what each did alone.
type Input struct {
	// ExactUS is the exact model's time; ExactAccuracy its accuracy on
	// the profile windows.
	ExactUS       float64
	ExactAccuracy float64
	// Classes is the number of outputs per window, Labels the class of
	// each profile window, ExactOutputs the exact model's outputs on them
	// ([windows x classes]).
	Classes      int
	Labels       []int
	ExactOutputs []float32
	// Nodes are the searchable nodes, in step order.
	Nodes []Node
}

// Node is a searchable node: its step in the model and its knobs (exact
// not among them).
type Node struct {
	Step    int      // the node's step in the model's plan
	Choices []Choice // its knobs: a Genome picks Choices[c-1] by c
}

// Choice is one knob of a node with its profiled effects.
type Choice struct {
	Knob approx.Knob // not exact
	// SaveUS is the node's exact time less its time with the knob.
	SaveUS float64
	// LossPP is the accuracy loss with only this knob approximated, in
	// percentage points (P2's input).
	LossPP float64
	// Delta is the change of the outputs on the profile windows with only
	// this knob approximated, as Input.ExactOutputs (P1's input).
	Delta []float32
}

// Space is the search space of an Input and its predictor's state. It is
// not safe for concurrent use.
type Space struct {
	in      *Input
	steps   []int
	choices [][]Choice // choices[i][0] is exact
	// bias is added to every predicted loss: the median of measured minus
	// additive predicted loss over the configurations validated so far.
	// The search picks configurations whose additive prediction is low,
	// so it favours those the prediction flatters (on interacting knobs
	// the sum of separate effects is mostly optimistic); the bias
	// corrects for that from the second validation round on.
	bias float64
	// kappa scales each window's uncertainty in P1 (see softLoss).
	kappa   float64
	var2    []float64 // softLoss scratch
	scratch []float32 // Predict's scratch
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

// NewSpace returns the space of in's nodes and knobs, with the predictor
// uncalibrated (see Calibrate).
func NewSpace(in *Input) *Space {
	s := &Space{in: in, kappa: defaultKappa}
	nodes := append([]Node(nil), in.Nodes...)
	sort.SliceStable(nodes, func(a, b int) bool { return nodes[a].Step < nodes[b].Step })
	for _, n := range nodes {
		s.steps = append(s.steps, n.Step)
		cs := append([]Choice{{Knob: approx.Exact}}, n.Choices...)
		s.choices = append(s.choices, cs)
		fam := make([]int, len(cs))
		ids := map[string]int{}
		for c := 1; c < len(cs); c++ {
			name, _, _ := strings.Cut(cs[c].Knob.String(), "+")
			if _, ok := ids[name]; !ok {
				ids[name] = len(ids) + 1
			}
			fam[c] = ids[name]
		}
		s.family = append(s.family, fam)
	}
	return s
}

// Genome is a configuration of a Space: per searchable node (in step
// order), the index of its choice, 0 for exact and c for the node's
// Choices[c-1].
type Genome []uint8

func (g Genome) key() string { return string(g) }

// Text returns a configuration's text form (approx.Approximator.Text) for
// the model a profiled.
func (s *Space) Text(a *approx.Approximator, g Genome) string {
	c := a.NewConfig()
	for i, ch := range g {
		c = c.With(s.steps[i], s.choices[i][ch].Knob)
	}
	return a.Text(c)
}
