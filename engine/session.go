package engine

import (
	"fmt"
	"runtime"
	"time"
)

// Session runs a Model. It owns the activation buffers, so a Session must
// not be used by two goroutines at once; create one Session per goroutine.
//
// Run accepts inputs of shapes other than the planned ones: the model is
// planned again for the new shapes (once per Model and shape set, see
// Model.variant) and the session keeps buffers for the last few shape sets
// it has seen, so that alternating between them allocates nothing.
type Session struct {
	m     *Model
	pool  *pool
	cur   *sessionPlan
	plans []*sessionPlan // plans[0] is the model as loaded
}

// maxSessionPlans bounds the shape sets a session keeps buffers for.
const maxSessionPlans = 8

// sessionPlan is a session's execution context for one planned model.
type sessionPlan struct {
	m  *Model
	x  Exec
	st *planState
}

// planState is one session's buffers for a compiled graph: the main graph
// or a subgraph.
type planState struct {
	arena     []float32
	tensors   []*Tensor
	ins, outs [][]*Tensor
	inputs    []*Tensor
	results   []*Tensor
	// Subgraphs: the stand-ins for outer values, bound to the owner's
	// inputs on each run, and the buffers of loop-carried values.
	captured []*Tensor
	carry    []*Tensor
}

// Selector chooses the kernel of each step for one call, which is how the
// approximation knobs replace exact kernels per inference. Kernel returns
// nil to run the exact kernel of that step.
type Selector interface {
	Kernel(step int) Kernel
}

// NewSession allocates the buffers of one execution context.
func (m *Model) NewSession() *Session {
	s := &Session{m: m}
	if t := max(1, m.opts.Threads); t > 1 {
		s.pool = newPool(t)
		// The workers hold the pool, not the session: a session dropped
		// without Close stops them when it is collected.
		runtime.AddCleanup(s, (*pool).close, s.pool)
	}
	s.cur = m.newSessionPlan(s.pool)
	s.plans = []*sessionPlan{s.cur}
	return s
}

// newSessionPlan allocates a session's buffers for m and its subgraphs.
func (m *Model) newSessionPlan(p *pool) *sessionPlan {
	sp := &sessionPlan{m: m, st: newPlanState(m.steps, &m.plan, false)}
	sp.x = Exec{scratch: make([]float32, m.scratch), threads: max(1, m.opts.Threads)}
	if p != nil {
		sp.x.pool = p
		sp.x.par = p.run
	}
	for _, sub := range m.subs {
		sp.x.sub = append(sp.x.sub, sub.newState())
	}
	return sp
}

// newPlanState allocates the tensors of a compiled graph. With own, the
// graph inputs get buffers of their own (a subgraph's formal inputs, which
// its owner fills); otherwise they are bound to the caller's tensors.
func newPlanState(steps []step, p *memPlan, own bool) *planState {
	st := &planState{arena: make([]float32, p.arenaSize)}
	st.tensors = make([]*Tensor, len(p.slots))
	for i, sl := range p.slots {
		v := sl.v
		switch sl.kind {
		case slotConst:
			st.tensors[i] = v.constant
		case slotInput:
			st.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape}
		case slotArena:
			st.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape, F: st.arena[sl.offset : sl.offset+v.numel() : sl.offset+v.numel()]}
		case slotInt:
			st.tensors[i] = &Tensor{DType: v.dtype, Shape: v.shape, I: make([]int64, v.numel())}
		}
	}
	for i, sl := range p.slots { // views after their roots exist
		if sl.kind == slotView {
			r := st.tensors[sl.root]
			st.tensors[i] = &Tensor{DType: sl.v.dtype, Shape: sl.v.shape, F: r.F, I: r.I}
		}
	}
	pick := func(idx []int) []*Tensor {
		ts := make([]*Tensor, len(idx))
		for j, i := range idx {
			if i >= 0 {
				ts[j] = st.tensors[i]
			}
		}
		return ts
	}
	for _, s := range steps {
		st.ins = append(st.ins, pick(s.in))
		st.outs = append(st.outs, pick(s.out))
	}
	st.inputs = pick(p.inputs)
	st.results = pick(p.outputs)
	st.captured = pick(p.captured)
	if own {
		for _, t := range st.inputs {
			if t.DType.IsInt() {
				t.I = make([]int64, numel(t.Shape))
			} else {
				t.F = make([]float32, numel(t.Shape))
			}
		}
	}
	return st
}

// run runs the steps of a compiled graph with their own kernels.
func (st *planState) run(x *Exec, steps []step) {
	for i := range steps {
		if k := steps[i].kernel; k != nil {
			k.Run(x, st.ins[i], st.outs[i])
		}
	}
}

// Close stops the session's worker goroutines (sessions with more than one
// thread; between runs they spin for a few microseconds and then park, and
// a session that is collected without Close stops them too). The session
// must not be used afterwards.
func (s *Session) Close() {
	if s.pool != nil {
		s.pool.close()
	}
}

// Model returns the model the session runs.
func (s *Session) Model() *Model { return s.m }

// Run runs exact inference. The returned tensors belong to the session and
// stay valid until its next Run; inputs are not modified. Inputs whose
// shapes differ from the planned ones are run with a plan for their shapes.
func (s *Session) Run(inputs []*Tensor) ([]*Tensor, error) {
	return s.RunWith(inputs, nil)
}

// RunWith runs inference with the kernels chosen by sel (nil: exact). A
// Selector's step numbers belong to the model as planned, so with one the
// inputs must have the planned shapes.
func (s *Session) RunWith(inputs []*Tensor, sel Selector) ([]*Tensor, error) {
	sp, err := s.bound(inputs, sel == nil)
	if err != nil {
		return nil, err
	}
	for i := range sp.m.steps {
		if k := stepKernel(sp, i, sel); k != nil {
			k.Run(&sp.x, sp.st.ins[i], sp.st.outs[i])
		}
	}
	return sp.st.results, nil
}

// bound returns the session plan for the shapes of inputs (see planFor)
// with inputs bound to it.
func (s *Session) bound(inputs []*Tensor, replan bool) (*sessionPlan, error) {
	sp, err := s.planFor(inputs, replan)
	if err != nil {
		return nil, err
	}
	if err := sp.bind(inputs); err != nil {
		return nil, err
	}
	return sp, nil
}

// stepKernel returns the kernel that runs step i: sel's when it has one
// for the step, else the plan's (nil for a view that needs no work).
func stepKernel(sp *sessionPlan, i int, sel Selector) Kernel {
	if sel != nil {
		if k := sel.Kernel(i); k != nil {
			return k
		}
	}
	return sp.m.steps[i].kernel
}

// RunTimed is RunWith that also records each step's wall time in
// nanoseconds into stepNanos (one entry per step; views record 0). It
// allocates nothing. The inputs must have the planned shapes.
func (s *Session) RunTimed(inputs []*Tensor, sel Selector, stepNanos []int64) ([]*Tensor, error) {
	if len(stepNanos) < len(s.m.steps) {
		return nil, fmt.Errorf("stepNanos has %d entries for %d steps", len(stepNanos), len(s.m.steps))
	}
	sp, err := s.bound(inputs, false)
	if err != nil {
		return nil, err
	}
	for i := range sp.m.steps {
		k := stepKernel(sp, i, sel)
		if k == nil {
			stepNanos[i] = 0
			continue
		}
		t0 := time.Now()
		k.Run(&sp.x, sp.st.ins[i], sp.st.outs[i])
		stepNanos[i] = int64(time.Since(t0))
	}
	return sp.st.results, nil
}

// Steps returns the number of planned steps (the length RunTimed needs).
func (m *Model) Steps() int { return len(m.steps) }

// planFor returns the session plan for the shapes of inputs: the current
// one, another the session has, or (with replan) a new one.
func (s *Session) planFor(inputs []*Tensor, replan bool) (*sessionPlan, error) {
	if len(inputs) != len(s.m.inputs) {
		return nil, fmt.Errorf("got %d inputs, the model takes %d", len(inputs), len(s.m.inputs))
	}
	for i, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("input %d (%s) is nil", i, s.m.inputs[i].Name)
		}
	}
	if !replan {
		base := s.plans[0]
		for i, t := range inputs {
			if want := base.st.inputs[i].Shape; !equalShapes(t.Shape, want) {
				return nil, fmt.Errorf("input %d (%s) has shape %v, the model was planned for %v", i, s.m.inputs[i].Name, t.Shape, want)
			}
		}
		s.cur = base
		return base, nil
	}
	if s.cur.matches(inputs) {
		return s.cur, nil
	}
	for _, sp := range s.plans {
		if sp.matches(inputs) {
			s.cur = sp
			return sp, nil
		}
	}
	for i, t := range inputs {
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("input %d (%s) has shape %v", i, s.m.inputs[i].Name, t.Shape)
			}
		}
	}
	vm, err := s.m.variant(inputs)
	if err != nil {
		return nil, err
	}
	sp := vm.newSessionPlan(s.pool)
	if len(s.plans) >= maxSessionPlans {
		s.plans = append(s.plans[:1], s.plans[2:]...) // drop the oldest, keep the model as loaded
	}
	s.plans = append(s.plans, sp)
	s.cur = sp
	return sp, nil
}

// matches reports whether inputs have the shapes sp was planned for.
func (sp *sessionPlan) matches(inputs []*Tensor) bool {
	for i, t := range inputs {
		if !equalShapes(t.Shape, sp.st.inputs[i].Shape) {
			return false
		}
	}
	return true
}

// bind points the plan's input tensors at the caller's data.
func (sp *sessionPlan) bind(inputs []*Tensor) error {
	for i, t := range inputs {
		dst := sp.st.inputs[i]
		name := sp.m.inputs[i].Name
		n := numel(dst.Shape)
		if dst.DType.IsInt() {
			if len(t.I) != n {
				if len(t.I) == 0 && len(t.F) > 0 {
					return fmt.Errorf("input %d (%s) is %v: give its values in Tensor.I", i, name, dst.DType)
				}
				return fmt.Errorf("input %d (%s) holds %d integers, shape %v needs %d", i, name, len(t.I), t.Shape, n)
			}
			dst.I = t.I
		} else {
			if len(t.F) != n {
				if len(t.F) == 0 && len(t.I) > 0 {
					return fmt.Errorf("input %d (%s) is %v: give its values in Tensor.F", i, name, dst.DType)
				}
				return fmt.Errorf("input %d (%s) holds %d floats, shape %v needs %d", i, name, len(t.F), t.Shape, n)
			}
			dst.F = t.F
		}
	}
	return nil
}
