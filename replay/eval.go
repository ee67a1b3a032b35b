package replay

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/kagen-ai/kagen/engine"
)

// ClassResult is the recall of one class.
type ClassResult struct {
	N       int     `json:"n"`
	Correct int     `json:"correct"`
	Recall  float64 `json:"recall"`
}

// EvalResult is the accuracy of a model over labelled windows.
type EvalResult struct {
	Accuracy float64                `json:"accuracy"`
	N        int                    `json:"n"`
	Correct  int                    `json:"correct"`
	PerClass map[string]ClassResult `json:"per_class"`
	Classes  []string               `json:"classes"`
	// Confusion[i][j] counts windows of class i predicted as class j.
	Confusion [][]int `json:"confusion"`
	// Skipped counts windows whose label is not one of the classes.
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Prediction is the model's decision on one window.
type Prediction struct {
	Class      int     // index into the spec's classes
	Confidence float32 // softmax probability of Class
}

// Predict turns a model output (logits or probabilities) into a prediction.
// Outputs that already sum to 1 and lie in [0, 1] are taken as
// probabilities; others go through a softmax.
func Predict(out []float32) Prediction {
	best := 0
	var sum float64
	probs := true
	for i, v := range out {
		if v > out[best] {
			best = i
		}
		if v < 0 || v > 1 {
			probs = false
		}
		sum += float64(v)
	}
	if probs && math.Abs(sum-1) < 1e-3 {
		return Prediction{best, out[best]}
	}
	var z float64
	for _, v := range out {
		z += math.Exp(float64(v - out[best]))
	}
	return Prediction{best, float32(1 / z)}
}

// EvalOptions control Evaluate.
type EvalOptions struct {
	Options
	// Selector chooses approximate kernels (nil: exact).
	Selector engine.Selector
	// Extra are the model's inputs after the first, which the front-end
	// fills: fed as they are with every window (a model with state or
	// parameter inputs).
	Extra []*engine.Tensor
}

// Evaluate runs the front-end and the model over traces (files or folders)
// and counts correct predictions per class. Audio clip folders are
// evaluated one window per clip.
func Evaluate(m *engine.Model, spec *Spec, traces []Trace, opts EvalOptions) (*EvalResult, error) {
	if err := CheckModel(spec, m); err != nil {
		return nil, err
	}
	nc := len(spec.Classes)
	r := &EvalResult{PerClass: map[string]ClassResult{}, Classes: spec.Classes, Confusion: make([][]int, nc), Skipped: map[string]int{}}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, nc)
	}
	s := m.NewSession()
	defer s.Close()
	x := engine.NewFloat(nil, spec.InputShape()...)
	in := append([]*engine.Tensor{x}, opts.Extra...)
	var names []string
	for _, t := range traces {
		names = append(names, t.Name)
	}
	for _, t := range traces {
		src, err := t.Open(spec, DatasetOptions(spec, t, opts.Options))
		if err != nil {
			return nil, err
		}
		for {
			w, err := src.Next(x.F)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return nil, err
			}
			want := spec.ClassIndex(w.Label)
			if want < 0 {
				r.Skipped[w.Label]++
				continue
			}
			outs, err := s.RunWith(in, opts.Selector)
			if err != nil {
				src.Close()
				return nil, fmt.Errorf("%s window %d: %w", w.File, w.Index, err)
			}
			got := Predict(outs[0].F).Class
			r.Confusion[want][got]++
			r.N++
			if got == want {
				r.Correct++
			}
		}
		src.Close()
	}
	if r.N == 0 {
		return nil, fmt.Errorf("no labelled windows in %v (labels seen but not classes: %v)", names, r.Skipped)
	}
	r.Accuracy = float64(r.Correct) / float64(r.N)
	for i, c := range spec.Classes {
		cr := ClassResult{}
		for j := range r.Confusion[i] {
			cr.N += r.Confusion[i][j]
		}
		cr.Correct = r.Confusion[i][i]
		if cr.N > 0 {
			cr.Recall = float64(cr.Correct) / float64(cr.N)
		}
		r.PerClass[c] = cr
	}
	return r, nil
}
