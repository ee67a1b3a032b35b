// Package dataset holds labelled feature windows in memory, read from
// traces through a model's front-end, and evaluates a model over them on
// several goroutines. The profiler, the tuner, the workbench and the
// report read their windows through Load, so that they see the same
// windows.
package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// Dataset is a set of labelled feature windows held in memory.
type Dataset struct {
	Shape []int       // model input shape
	X     [][]float32 // one feature tensor per window
	Y     []int       // class index per window
	Files []string    // source file per window
}

// Len returns the number of windows.
func (d *Dataset) Len() int { return len(d.Y) }

// Load runs the model's front-end over traces (files or folders, read
// with replay.DatasetOptions: audio clip folders give one window per clip)
// and keeps the windows whose label is one of the classes, at most limit
// of them (0: all).
func Load(spec *replay.Spec, traces []replay.Trace, limit int) (*Dataset, error) {
	return load(spec, traces, limit, false)
}

// LoadAll is Load keeping every window, labelled or not: windows whose
// label is not one of the classes get class -1. Relabel then gives them
// the exact model's predictions (the agreement QoS).
func LoadAll(spec *replay.Spec, traces []replay.Trace, limit int) (*Dataset, error) {
	return load(spec, traces, limit, true)
}

func load(spec *replay.Spec, traces []replay.Trace, limit int, all bool) (*Dataset, error) {
	d := &Dataset{Shape: spec.InputShape()}
	size := spec.InputSize()
	names := make([]string, len(traces))
	for i, t := range traces {
		names[i] = t.Name
	}
	nw := replay.NoWindows{Skipped: map[string]int{}}
	for _, t := range traces {
		src, err := t.Open(spec, replay.DatasetOptions(spec, t, replay.Options{}))
		if err != nil {
			return nil, err
		}
		for limit <= 0 || d.Len() < limit {
			x := make([]float32, size)
			w, err := src.Next(x)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return nil, err
			}
			nw.Windows++
			c := spec.ClassIndex(w.Label)
			if c < 0 && !all {
				nw.Skipped[w.Label]++
				continue
			}
			d.X = append(d.X, x)
			d.Y = append(d.Y, c)
			d.Files = append(d.Files, w.File)
		}
		nw.Short = append(nw.Short, replay.StatsOf(src).Short...)
		src.Close()
	}
	if d.Len() == 0 {
		return nil, nw.Error(spec, names)
	}
	return d, nil
}

// Relabel replaces every window's class by the model's own top-1
// prediction with the kernels of sel (nil: the exact model), run by ev:
// the reference of the agreement QoS, under which a configuration's
// "accuracy" is its top-1 agreement with that model. Windows whose
// outputs hold a NaN or an infinity name no class and are dropped; it
// returns how many were, and an error when none is left.
func (d *Dataset) Relabel(ev *Evaluator, sel engine.Selector) (dropped int, err error) {
	nc := ev.Classes()
	if nc < 2 {
		return 0, fmt.Errorf("the model has %d output per window: top-1 agreement needs at least 2 (a classifier's scores)", nc)
	}
	outs := make([]float32, d.Len()*nc)
	if err := ev.Outputs(d, sel, outs); err != nil {
		return 0, fmt.Errorf("exact predictions: %w", err)
	}
	keep := 0
	for i := range d.Y {
		c := Argmax(outs[i*nc : (i+1)*nc])
		if c < 0 {
			dropped++
			continue
		}
		d.X[keep], d.Y[keep], d.Files[keep] = d.X[i], c, d.Files[i]
		keep++
	}
	d.X, d.Y, d.Files = d.X[:keep], d.Y[:keep], d.Files[:keep]
	if keep == 0 {
		return dropped, fmt.Errorf("all %d windows gave NaN or infinite exact outputs: no reference to agree with", dropped)
	}
	return dropped, nil
}

// Split cuts the dataset in two halves by source file (alternate files),
// or by alternate windows when there is one file: the tune split and the
// calibration split.
func (d *Dataset) Split() (a, b *Dataset) {
	a, b = &Dataset{Shape: d.Shape}, &Dataset{Shape: d.Shape}
	files := map[string]int{}
	for _, f := range d.Files {
		if _, ok := files[f]; !ok {
			files[f] = len(files)
		}
	}
	for i := range d.Y {
		side := i % 2
		if len(files) > 1 {
			side = files[d.Files[i]] % 2
		}
		dst := a
		if side == 1 {
			dst = b
		}
		dst.X = append(dst.X, d.X[i])
		dst.Y = append(dst.Y, d.Y[i])
		dst.Files = append(dst.Files, d.Files[i])
	}
	return a, b
}

// Digest is the hex SHA-256 of the windows: their shape, features and
// labels, in order (not the file names, so that a folder moved elsewhere
// keeps its digest). A profile and a tune's saved work are bound to it.
func (d *Dataset) Digest() string {
	h := sha256.New()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(len(d.Shape)))
	for _, s := range d.Shape {
		put(uint64(s))
	}
	put(uint64(d.Len()))
	buf := make([]byte, 0, 4096)
	for i, x := range d.X {
		put(uint64(d.Y[i]))
		put(uint64(len(x)))
		for _, v := range x {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ClassCounts returns the number of windows of each class, for classes
// classes (labels outside 0..classes-1 are not counted).
func (d *Dataset) ClassCounts(classes int) []int {
	n := make([]int, max(classes, 0))
	for _, y := range d.Y {
		if y >= 0 && y < classes {
			n[y]++
		}
	}
	return n
}

// Subset returns every step-th window, at most n of them.
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	out := &Dataset{Shape: d.Shape}
	step := float64(d.Len()) / float64(n)
	for i := 0; i < n; i++ {
		j := int(float64(i) * step)
		out.X = append(out.X, d.X[j])
		out.Y = append(out.Y, d.Y[j])
		out.Files = append(out.Files, d.Files[j])
	}
	return out
}

// Evaluator computes a model's outputs over datasets on several
// goroutines, one session each.
type Evaluator struct {
	m        *engine.Model
	sessions []*engine.Session
	ins      [][]*engine.Tensor
	classes  int
}

// NewEvaluator returns an evaluator using workers goroutines (0: every
// core).
func NewEvaluator(m *engine.Model, workers int) *Evaluator {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r := &Evaluator{m: m, classes: numel(m.Outputs()[0].Shape)}
	for i := 0; i < workers; i++ {
		r.sessions = append(r.sessions, m.NewSession())
		r.ins = append(r.ins, []*engine.Tensor{{DType: engine.Float32, Shape: m.Inputs()[0].Shape}})
	}
	return r
}

// Classes returns the number of model outputs per window.
func (r *Evaluator) Classes() int { return r.classes }

// Outputs runs every window with the kernels of sel (nil: exact) and
// writes the model's outputs, Classes() per window, into dst.
func (r *Evaluator) Outputs(d *Dataset, sel engine.Selector, dst []float32) error {
	n := d.Len()
	var wg sync.WaitGroup
	errs := make([]error, len(r.sessions))
	for w := range r.sessions {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, in := r.sessions[w], r.ins[w]
			for i := w; i < n; i += len(r.sessions) {
				in[0].F = d.X[i]
				out, err := s.RunWith(in, sel)
				if err != nil {
					errs[w] = err
					return
				}
				copy(dst[i*r.classes:(i+1)*r.classes], out[0].F)
			}
		}(w)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close releases the sessions.
func (r *Evaluator) Close() {
	for _, s := range r.sessions {
		s.Close()
	}
}

// NonFinite counts the windows of outputs ([n x classes]) that hold a NaN
// or an infinity, and returns the index of the first (-1: none).
func NonFinite(outs []float32, classes int) (n, first int) {
	first = -1
	for i := 0; classes > 0 && (i+1)*classes <= len(outs); i++ {
		for _, x := range outs[i*classes : (i+1)*classes] {
			if !engine.IsFinite(x) {
				if n++; first < 0 {
					first = i
				}
				break
			}
		}
	}
	return n, first
}

// Locate runs window i of d with the kernels of sel and says where a NaN
// or an infinity first appears in it (engine.Session.FirstNonFinite), as
// "FILE window I: node ...", or "FILE window I (finite when run again
// here)" when it does not reproduce.
func Locate(m *engine.Model, d *Dataset, i int, sel engine.Selector) string {
	if i < 0 || i >= d.Len() {
		return ""
	}
	s := m.NewSession()
	defer s.Close()
	in := []*engine.Tensor{{DType: engine.Float32, Shape: m.Inputs()[0].Shape, F: d.X[i]}}
	nf, err := s.FirstNonFinite(in, sel)
	where := fmt.Sprintf("%s window %d", d.Files[i], i)
	switch {
	case err != nil:
		return where + ": " + err.Error()
	case nf == nil:
		return where + " (finite when run again here)"
	}
	return where + ": " + nf.String()
}

// Accuracy scores outputs ([n x classes]) against labels.
func Accuracy(outs []float32, y []int, classes int) float64 {
	correct := 0
	for i, c := range y {
		if Argmax(outs[i*classes:(i+1)*classes]) == c {
			correct++
		}
	}
	return float64(correct) / float64(len(y))
}

// Argmax returns the index of the largest value (the first of equals),
// or -1 when v holds a NaN or an infinity: such outputs name no class,
// and Accuracy scores them wrong.
func Argmax(v []float32) int {
	b := 0
	for i, x := range v {
		if !engine.IsFinite(x) {
			return -1
		}
		if x > v[b] {
			b = i
		}
	}
	return b
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
