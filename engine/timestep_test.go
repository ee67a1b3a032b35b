package engine

import (
	"math/rand/v2"
	"testing"
)

// TestTimeStep times one step alone: it leaves the step's output as a
// full run computes it (its inputs were intact), records a time for
// every run of both kernels, refuses a bad step or unequal slots, and
// allocates nothing.
func TestTimeStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := newBuilder(17)
	b.input("x", 1, 3, 10)
	b.init("w", randFloats(rng, 4*3*3), 4, 3, 3)
	b.node("Conv", []string{"x", "w"}, []string{"c"}, attrInts("pads", 1, 1))
	b.node("Relu", []string{"c"}, []string{"r"})
	b.init("w2", randFloats(rng, 2*4*1), 2, 4, 1)
	b.node("Conv", []string{"r", "w2"}, []string{"y"})
	b.output("y")
	m := b.load(t, Options{})
	s := m.NewSession()
	defer s.Close()
	in := []*Tensor{NewFloat(randFloats(rng, 30), 1, 3, 10)}
	out, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), out[0].F...)
	last := m.Steps() - 1
	na, nb := make([]int64, 5), make([]int64, 5)
	if err := s.TimeStep(in, last, nil, nil, na, nb); err != nil {
		t.Fatal(err)
	}
	for i := range na {
		if na[i] <= 0 || nb[i] <= 0 {
			t.Fatalf("run %d: %d and %d ns", i, na[i], nb[i])
		}
	}
	for i, v := range out[0].F {
		if v != want[i] {
			t.Fatalf("output %d is %v after TimeStep, %v after Run", i, v, want[i])
		}
	}
	if err := s.TimeStep(in, m.Steps(), nil, nil, na, nb); err == nil {
		t.Fatal("a step past the end was timed")
	}
	if err := s.TimeStep(in, 0, nil, nil, na, nb[:2]); err == nil {
		t.Fatal("unequal timing slots were accepted")
	}
	if allocs := testing.AllocsPerRun(10, func() { s.TimeStep(in, last, nil, nil, na, nb) }); allocs != 0 {
		t.Fatalf("TimeStep allocates %.1f times", allocs)
	}
}
