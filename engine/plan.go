package engine

import (
	"fmt"
	"sort"

	"github.com/kagen-ai/kagen/engine/gemm"
)

// slotKind says where a value's elements live in a session.
type slotKind uint8

const (
	slotConst slotKind = iota // a model constant shared by all sessions
	slotInput                 // a graph input: the caller's tensor
	slotArena                 // a float activation in the session arena
	slotView                  // the buffer of another slot with its own shape
	slotInt                   // an integer activation with its own buffer
)

// slot is one value of the planned model.
type slot struct {
	v      *value
	kind   slotKind
	root   int // for slotView: the slot whose buffer it shares
	offset int // for slotArena: offset in the arena
}

// step is one planned node.
type step struct {
	n       *node
	kernel  Kernel // nil for a view that needs no work
	in, out []int  // slot indices, -1 for an absent optional value
}

// memPlan is the arena layout of a model or subgraph.
type memPlan struct {
	slots     []slot
	arenaSize int // float32 elements
	inputs    []int
	outputs   []int
	captured  []int // a subgraph's stand-ins for outer values
}

// compiler is what op compile functions may use. It compiles the main
// graph and, through the control-flow ops, their subgraphs.
type compiler struct {
	opts *Options
	// subs collects the subgraph plans; a plan's id is its index.
	subs []*subPlan
	// scratch is the largest ScratchSize of all kernels.
	scratch int
	// arena sums the arenas of all plans.
	arena int64
}

// gemmScratch returns the scratch a GEMM call needs with the session's
// thread count.
func (c *compiler) gemmScratch(a gemm.Args) int {
	if t := c.opts.Threads; t > 1 {
		a.Parallel, a.Tasks = func(int, func(int)) {}, t
	}
	return gemm.ScratchSize(&a)
}

const arenaAlign = 16 // float32 elements (64 bytes)

// compile builds kernels, orders the steps and plans the arena.
func (m *Model) compile() error {
	c := &compiler{opts: &m.opts}
	steps, p, err := c.compileGraph(m.g)
	if err != nil {
		return err
	}
	m.steps, m.plan, m.subs, m.scratch = steps, *p, c.subs, c.scratch
	for _, i := range p.inputs {
		v := p.slots[i].v
		m.inputs = append(m.inputs, ValueInfo{Name: v.name, DType: v.dtype, Shape: v.shape})
	}
	for _, i := range p.outputs {
		v := p.slots[i].v
		m.outputs = append(m.outputs, ValueInfo{Name: v.name, DType: v.dtype, Shape: v.shape})
	}
	m.nodeIndex = map[string]int{}
	for i, st := range m.steps {
		m.nodeIndex[st.n.name] = i
	}
	return nil
}

// compileGraph builds the kernels, steps and arena plan of one graph. The
// slots of a subgraph's stand-ins for outer values follow its inputs.
func (c *compiler) compileGraph(g *graph) ([]step, *memPlan, error) {
	slotOf := map[*value]int{}
	p := &memPlan{}
	var steps []step
	addSlot := func(v *value) int {
		if i, ok := slotOf[v]; ok {
			return i
		}
		s := slot{v: v, root: -1}
		switch {
		case v.constant != nil:
			s.kind = slotConst
		case v.input:
			s.kind = slotInput
		case v.dtype.IsInt():
			s.kind = slotInt
		default:
			s.kind = slotArena
		}
		p.slots = append(p.slots, s)
		slotOf[v] = len(p.slots) - 1
		return len(p.slots) - 1
	}
	for _, v := range g.inputs {
		p.inputs = append(p.inputs, addSlot(v))
	}
	for _, v := range g.captured {
		p.captured = append(p.captured, addSlot(v))
	}
	for _, n := range g.nodes {
		st := step{n: n}
		for _, v := range n.in {
			if v == nil {
				st.in = append(st.in, -1)
				continue
			}
			i, ok := slotOf[v]
			if !ok {
				if v.constant == nil {
					return nil, nil, n.errorf("input %q is used before it is computed", v.name)
				}
				i = addSlot(v)
			}
			st.in = append(st.in, i)
		}
		for _, v := range n.out {
			if v == nil {
				st.out = append(st.out, -1)
				continue
			}
			st.out = append(st.out, addSlot(v))
		}
		if n.def.view && st.in[0] >= 0 && p.slots[st.in[0]].kind == slotArena || n.def.view && st.in[0] >= 0 && p.slots[st.in[0]].kind == slotView {
			o := &p.slots[st.out[0]]
			o.kind = slotView
			o.root = st.in[0]
			if r := p.slots[o.root]; r.kind == slotView {
				o.root = r.root
			}
		} else {
			var k Kernel
			if n.def.compile != nil {
				var err error
				if k, err = n.def.compile(n, c); err != nil {
					return nil, nil, err
				}
			}
			if k == nil {
				k = evalKernel{n}
			}
			if su, ok := k.(scratchUser); ok {
				c.scratch = max(c.scratch, su.ScratchSize())
			}
			st.kernel = k
		}
		steps = append(steps, st)
	}
	for _, v := range g.outputs {
		i, ok := slotOf[v]
		if !ok {
			i = addSlot(v) // a constant output
		}
		p.outputs = append(p.outputs, i)
	}
	if err := planArena(steps, p); err != nil {
		return nil, nil, err
	}
	c.arena += int64(p.arenaSize) * 4
	if c.arena > c.opts.limit() {
		return nil, nil, fmt.Errorf("activation arena of %d bytes exceeds the size limit of %d bytes", c.arena, c.opts.limit())
	}
	return steps, p, nil
}

// planArena assigns arena offsets so that buffers are reused after their
// last reader has run. Views extend the life of the buffer they share.
func planArena(steps []step, p *memPlan) error {
	root := func(i int) int {
		if p.slots[i].kind == slotView {
			return p.slots[i].root
		}
		return i
	}
	last := make([]int, len(p.slots))
	for i := range last {
		last[i] = -1
	}
	for si, st := range steps {
		for _, i := range st.in {
			if i >= 0 {
				last[root(i)] = max(last[root(i)], si)
			}
		}
		for _, i := range st.out {
			if i >= 0 {
				last[root(i)] = max(last[root(i)], si)
			}
		}
	}
	for _, i := range p.outputs {
		last[root(i)] = len(steps)
	}
	type block struct{ off, size, slot int }
	var live []block // sorted by offset
	end := 0
	for si, st := range steps {
		for _, i := range st.out {
			if i < 0 || p.slots[i].kind != slotArena {
				continue
			}
			size := (p.slots[i].v.numel() + arenaAlign - 1) / arenaAlign * arenaAlign
			off, at := 0, len(live)
			for j, b := range live {
				if b.off-off >= size {
					at = j
					break
				}
				off = b.off + b.size
			}
			p.slots[i].offset = off
			live = append(live, block{})
			copy(live[at+1:], live[at:])
			live[at] = block{off, size, i}
			end = max(end, off+size)
		}
		kept := live[:0]
		for _, b := range live {
			if last[b.slot] > si {
				kept = append(kept, b)
			}
		}
		live = kept
		sort.Slice(live, func(a, b int) bool { return live[a].off < live[b].off })
	}
	p.arenaSize = end
	return nil
}

// ArenaBytes returns the size of one session's activation arenas (the
// main graph's and its subgraphs').
func (m *Model) ArenaBytes() int {
	n := m.plan.arenaSize
	for _, sp := range m.subs {
		n += sp.mem.arenaSize
	}
	return n * 4
}
