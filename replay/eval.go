package replay

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/engine"
)

// ClassResult is the recall of one class.
type ClassResult struct {
	N       int     `json:"n"`
	Correct int     `json:"correct"`
	Recall  float64 `json:"recall"`
}

// QoS names what a result's accuracy is measured against.
const (
	// QoSAccuracy compares predictions with the traces' labels.
	QoSAccuracy = "accuracy"
	// QoSAgreement compares them with the exact model's own predictions
	// on the same windows (top-1 agreement): no labels are needed, and
	// the exact model agrees with itself 100% of the time.
	QoSAgreement = "agreement"
)

// CheckQoS refuses a QoS name other than QoSAccuracy and QoSAgreement
// ("" is QoSAccuracy).
func CheckQoS(qos string) error {
	switch qos {
	case "", QoSAccuracy, QoSAgreement:
		return nil
	}
	return fmt.Errorf("QoS %q, expected %s (against the traces' labels) or %s (against the exact model's predictions, no labels needed)", qos, QoSAccuracy, QoSAgreement)
}

// EvalResult is the accuracy of a model over labelled windows, or with
// QoS QoSAgreement its top-1 agreement with the exact model over every
// window.
type EvalResult struct {
	// QoS is QoSAccuracy or QoSAgreement: with agreement, Accuracy,
	// Correct, PerClass and Confusion count the exact model's
	// predictions as the true classes.
	QoS      string                 `json:"qos"`
	Accuracy float64                `json:"accuracy"`
	N        int                    `json:"n"`
	Correct  int                    `json:"correct"`
	PerClass map[string]ClassResult `json:"per_class"`
	Classes  []string               `json:"classes"`
	// Confusion[i][j] counts windows of class i predicted as class j.
	Confusion [][]int `json:"confusion"`
	// Skipped counts windows whose label is not one of the classes.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Gaps counts the gaps longer than Options.MaxGap at which the
	// traces were split.
	Gaps int `json:"gaps_split,omitempty"`
	// NonFinite counts the windows whose outputs held a NaN or an
	// infinity: they are in N and count as wrong, in no confusion cell.
	NonFinite int `json:"non_finite,omitempty"`
	// FirstNonFinite names the first such window and where the value
	// first appeared (an input, or the node that produced it).
	FirstNonFinite string `json:"first_non_finite,omitempty"`
	// Read is what the traces held: files by kind and the windows read
	// from each (labelled with a class or not).
	Read *Inventory `json:"read,omitempty"`
	// RelErr is, with QoSAgreement, the mean over windows of the relative
	// error of the outputs, ||y - y_exact|| / ||y_exact|| (Euclidean
	// norms; 0 where both are zero): the QoS of regression-like outputs.
	RelErr float64 `json:"rel_err,omitempty"`
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
	// QoS is QoSAccuracy ("") or QoSAgreement: every window, labelled or
	// not, is run exactly and with Selector, and the exact prediction is
	// the true class.
	QoS string
}

// Evaluate runs the front-end and the model over traces (files or folders)
// and counts correct predictions per class. Audio clip folders are
// evaluated one window per clip.
func Evaluate(m *engine.Model, spec *Spec, traces []Trace, opts EvalOptions) (*EvalResult, error) {
	if err := CheckModel(spec, m); err != nil {
		return nil, err
	}
	if err := CheckQoS(opts.QoS); err != nil {
		return nil, err
	}
	agree := opts.QoS == QoSAgreement
	nc := len(spec.Classes)
	r := &EvalResult{QoS: QoSAccuracy, PerClass: map[string]ClassResult{}, Classes: spec.Classes, Confusion: make([][]int, nc), Skipped: map[string]int{}}
	if agree {
		r.QoS = QoSAgreement
	}
	var exactOut []float32 // the exact outputs of the window (agreement)
	var relErr float64
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
	var nw NoWindows
	r.Read = Survey(spec, traces, opts.Options)
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
			nw.Windows++
			r.Read.Count(w.File)
			want := spec.ClassIndex(w.Label)
			if agree {
				if want, exactOut, err = exactClass(s, in, exactOut); err != nil {
					src.Close()
					return nil, fmt.Errorf("%s window %d exact: %w", w.File, w.Index, err)
				}
			}
			if want < 0 {
				key := w.Label
				if agree {
					key = "exact output not finite"
				}
				r.Skipped[key]++
				continue
			}
			outs, err := s.RunWith(in, opts.Selector)
			if err != nil {
				src.Close()
				return nil, fmt.Errorf("%s window %d: %w", w.File, w.Index, err)
			}
			if !allFinite(outs[0].F) {
				r.N++
				if r.NonFinite++; r.FirstNonFinite == "" {
					r.FirstNonFinite = fmt.Sprintf("%s window %d", w.File, w.Index)
					if nf, err := s.FirstNonFinite(in, opts.Selector); err == nil && nf != nil {
						r.FirstNonFinite += ": " + nf.String()
					}
				}
				continue
			}
			got := Predict(outs[0].F).Class
			if agree {
				relErr += RelativeError(outs[0].F, exactOut)
			}
			r.Confusion[want][got]++
			r.N++
			if got == want {
				r.Correct++
			}
		}
		st := StatsOf(src)
		nw.Short = append(nw.Short, st.Short...)
		r.Gaps += st.Gaps
		src.Close()
	}
	if r.N == 0 {
		nw.Skipped = r.Skipped
		return nil, nw.Error(spec, names)
	}
	r.Accuracy = float64(r.Correct) / float64(r.N)
	r.RelErr = relErr / float64(r.N)
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

// exactClass runs the window in in exactly, copies its outputs into buf
// (grown as needed) and returns the exact prediction: -1 (the window is
// skipped as "no label") when they are not finite.
func exactClass(s *engine.Session, in []*engine.Tensor, buf []float32) (int, []float32, error) {
	outs, err := s.RunWith(in, nil)
	if err != nil {
		return -1, buf, err
	}
	buf = append(buf[:0], outs[0].F...)
	if !allFinite(buf) {
		return -1, buf, nil
	}
	return Predict(buf).Class, buf, nil
}

// RelativeError is ||y - ref|| / ||ref|| in Euclidean norms, the
// relative-error QoS of regression-like outputs: 0 when both are zero,
// +Inf when only ref is (or the lengths differ).
func RelativeError(y, ref []float32) float64 {
	if len(y) != len(ref) {
		return math.Inf(1)
	}
	var num, den float64
	for i, v := range ref {
		d := float64(y[i]) - float64(v)
		num += d * d
		den += float64(v) * float64(v)
	}
	switch {
	case num == 0:
		return 0
	case den == 0:
		return math.Inf(1)
	}
	return math.Sqrt(num / den)
}

// NoWindows is what was read from traces that gave no window labelled
// with a class, to say why in words (NoWindows.Error).
type NoWindows struct {
	Windows int            // windows read, labelled or not
	Skipped map[string]int // windows per label that is not a class
	Short   []string       // Stats.Short of the sources
}

// Error says why traces named names gave no window labelled with one of
// spec's classes: too short (and why: timestamps in seconds or all
// equal, an empty file), no labels at all, or labels that are not
// classes.
func (n NoWindows) Error(spec *Spec, names []string) error {
	what := strings.Join(names, ", ")
	if n.Windows == 0 {
		if len(n.Short) > 0 {
			return fmt.Errorf("no windows: %s", strings.Join(n.Short, "; "))
		}
		return fmt.Errorf("no windows in %s: shorter than one window (%d samples, %s s at %d Hz)",
			what, spec.Window, fmtNum(float64(spec.Window)/float64(spec.SampleRate)), spec.SampleRate)
	}
	if len(n.Skipped) == 1 && n.Skipped[""] > 0 {
		how := `a "label" column`
		if spec.Task == TaskKWS {
			how = "a NAME.labels.csv beside each NAME.wav, or clips named LABEL_*.wav in a folder"
		}
		return fmt.Errorf("the %d windows of %s have no label: labelled traces need %s (the model's classes: %s)",
			n.Windows, what, how, strings.Join(spec.Classes, ", "))
	}
	labels := make([]string, 0, len(n.Skipped))
	for l := range n.Skipped {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var seen []string
	for _, l := range labels {
		name := strconv.Quote(l)
		if l == "" {
			name = "no label"
		}
		seen = append(seen, fmt.Sprintf("%s (%d windows)", name, n.Skipped[l]))
	}
	return fmt.Errorf("no window of %s is labelled with one of the model's classes (%s); labels seen: %s",
		what, strings.Join(spec.Classes, ", "), strings.Join(seen, ", "))
}

// allFinite reports whether every value of x is a number.
func allFinite(x []float32) bool {
	for _, v := range x {
		if !engine.IsFinite(v) {
			return false
		}
	}
	return true
}
