package engine

import (
	"fmt"
	"time"
)

// Session runs a Model. It owns the activation buffers, so a Session must
// not be used by two goroutines at once; create one Session per goroutine.
type Session struct {
	m       *Model
	x       Exec
	arena   []float32
	tensors []*Tensor
	ins     [][]*Tensor
	outs    [][]*Tensor
	inputs  []*Tensor
	results []*Tensor
}

// Selector chooses the kernel of each step for one call, which is how the
// approximation knobs replace exact kernels per inference. Kernel returns
// nil to run the exact kernel of that step.
type Selector interface {
	Kernel(step int) Kernel
}

// NewSession allocates the buffers of one execution context.
func (m *Model) NewSession() *Session {
	p := &m.plan
	s := &Session{m: m, arena: make([]float32, p.arenaSize)}
	s.x = Exec{scratch: make([]float32, m.scratch), threads: max(1, m.opts.Threads)}
	if s.x.threads > 1 {
		s.x.pool = newPool(s.x.threads)
		s.x.par = s.x.pool.run
	}
	s.tensors = make([]*Tensor, len(p.slots))
	for i, sl := range p.slots {
		v := sl.v
		switch sl.kind {
		case slotConst:
			s.tensors[i] = v.constant
		case slotInput:
			s.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape}
		case slotArena:
			s.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape, F: s.arena[sl.offset : sl.offset+v.numel() : sl.offset+v.numel()]}
		case slotInt:
			s.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape, I: make([]int64, v.numel())}
		}
	}
	for i, sl := range p.slots { // views after their roots exist
		if sl.kind == slotView {
			r := s.tensors[sl.root]
			s.tensors[i] = &Tensor{DType: sl.v.dtype, Shape: sl.v.shape, F: r.F, I: r.I}
		}
	}
	pick := func(idx []int) []*Tensor {
		ts := make([]*Tensor, len(idx))
		for j, i := range idx {
			if i >= 0 {
				ts[j] = s.tensors[i]
			}
		}
		return ts
	}
	for _, st := range m.steps {
		s.ins = append(s.ins, pick(st.in))
		s.outs = append(s.outs, pick(st.out))
	}
	s.inputs = pick(p.inputs)
	s.results = pick(p.outputs)
	return s
}

// Close stops the session's worker goroutines (sessions with more than one
// thread). The session must not be used afterwards.
func (s *Session) Close() {
	if s.x.pool != nil {
		s.x.pool.close()
	}
}

// Model returns the model the session runs.
func (s *Session) Model() *Model { return s.m }

// Run runs exact inference. The returned tensors belong to the session and
// stay valid until its next Run; inputs are not modified.
func (s *Session) Run(inputs []*Tensor) ([]*Tensor, error) {
	return s.RunWith(inputs, nil)
}

// RunWith runs inference with the kernels chosen by sel (nil: exact).
func (s *Session) RunWith(inputs []*Tensor, sel Selector) ([]*Tensor, error) {
	if err := s.bind(inputs); err != nil {
		return nil, err
	}
	for i := range s.m.steps {
		k := s.m.steps[i].kernel
		if sel != nil {
			if o := sel.Kernel(i); o != nil {
				k = o
			}
		}
		if k != nil {
			k.Run(&s.x, s.ins[i], s.outs[i])
		}
	}
	return s.results, nil
}

// RunTimed is RunWith that also records each step's wall time in
// nanoseconds into stepNanos (one entry per step; views record 0). It
// allocates nothing.
func (s *Session) RunTimed(inputs []*Tensor, sel Selector, stepNanos []int64) ([]*Tensor, error) {
	if len(stepNanos) < len(s.m.steps) {
		return nil, fmt.Errorf("stepNanos has %d entries for %d steps", len(stepNanos), len(s.m.steps))
	}
	if err := s.bind(inputs); err != nil {
		return nil, err
	}
	for i := range s.m.steps {
		k := s.m.steps[i].kernel
		if sel != nil {
			if o := sel.Kernel(i); o != nil {
				k = o
			}
		}
		if k == nil {
			stepNanos[i] = 0
			continue
		}
		t0 := time.Now()
		k.Run(&s.x, s.ins[i], s.outs[i])
		stepNanos[i] = int64(time.Since(t0))
	}
	return s.results, nil
}

// Steps returns the number of planned steps (the length RunTimed needs).
func (m *Model) Steps() int { return len(m.steps) }

func (s *Session) bind(inputs []*Tensor) error {
	if len(inputs) != len(s.inputs) {
		return fmt.Errorf("got %d inputs, the model takes %d", len(inputs), len(s.inputs))
	}
	for i, t := range inputs {
		dst := s.inputs[i]
		if t == nil {
			return fmt.Errorf("input %d (%s) is nil", i, s.m.inputs[i].Name)
		}
		if !equalShapes(t.Shape, dst.Shape) {
			return fmt.Errorf("input %d (%s) has shape %v, the model was planned for %v", i, s.m.inputs[i].Name, t.Shape, dst.Shape)
		}
		n := numel(dst.Shape)
		if dst.DType.IsInt() {
			if len(t.I) != n {
				return fmt.Errorf("input %d (%s) holds %d integers, shape %v needs %d", i, s.m.inputs[i].Name, len(t.I), t.Shape, n)
			}
			dst.I = t.I
		} else {
			if len(t.F) != n {
				return fmt.Errorf("input %d (%s) holds %d floats, shape %v needs %d", i, s.m.inputs[i].Name, len(t.F), t.Shape, n)
			}
			dst.F = t.F
		}
	}
	return nil
}
