package engine

import (
	"fmt"
	"math"
)

// NonFinite says where a run first produced a NaN or an infinity: in an
// input (Step -1) or in the output of a step.
type NonFinite struct {
	// Step is the step whose output first held a non-finite value, -1
	// when an input held one.
	Step int
	// Node and Op name the step's node ("" for an input); Value names the
	// input or output value, Index the element and Got what it held.
	Node, Op, Value string
	Index           int
	Got             float32
}

func (n *NonFinite) String() string {
	if n.Step < 0 {
		return fmt.Sprintf("input %s[%d] is %v", n.Value, n.Index, n.Got)
	}
	return fmt.Sprintf("node %s (%s, step %d) output %s[%d] is %v", n.Node, n.Op, n.Step, n.Value, n.Index, n.Got)
}

// IsFinite reports whether x is neither a NaN nor an infinity.
func IsFinite(x float32) bool { return x == x && x <= math.MaxFloat32 && x >= -math.MaxFloat32 }

// firstNonFinite returns the index of the first non-finite element of a
// floating-point tensor, or -1.
func firstNonFinite(t *Tensor) int {
	if t == nil || t.DType.IsInt() {
		return -1
	}
	for i, x := range t.F {
		if !IsFinite(x) {
			return i
		}
	}
	return -1
}

// FirstNonFinite runs the model on inputs with the kernels of sel (nil:
// exact) one step at a time and returns where a NaN or an infinity first
// appears: in an input, or in the output of the first step that produced
// one; nil when every value is finite. It costs one inference and a scan
// of every step's outputs, so callers run it once a run's outputs were
// found non-finite, to name the node at fault. The session's buffers are
// overwritten as by RunWith.
func (s *Session) FirstNonFinite(inputs []*Tensor, sel Selector) (*NonFinite, error) {
	for i, t := range inputs {
		if j := firstNonFinite(t); j >= 0 {
			name := fmt.Sprint(i)
			if i < len(s.m.inputs) {
				name = s.m.inputs[i].Name
			}
			return &NonFinite{Step: -1, Value: name, Index: j, Got: t.F[j]}, nil
		}
	}
	sp, err := s.bound(inputs, sel == nil)
	if err != nil {
		return nil, err
	}
	steps := sp.m.steps
	for i := range steps {
		k := stepKernel(sp, i, sel)
		if k == nil {
			continue // a view: its input was checked where it was made
		}
		k.Run(&sp.x, sp.st.ins[i], sp.st.outs[i])
		for o, t := range sp.st.outs[i] {
			if j := firstNonFinite(t); j >= 0 {
				n := steps[i].n
				value := ""
				if o < len(n.out) && n.out[o] != nil {
					value = n.out[o].name
				}
				return &NonFinite{Step: i, Node: n.name, Op: n.op, Value: value, Index: j, Got: t.F[j]}, nil
			}
		}
	}
	return nil, nil
}
