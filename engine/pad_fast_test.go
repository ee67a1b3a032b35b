package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPadFastMatchesReference compares the row-copying Pad with the
// reference over ranks, modes, positive and negative pads.
func TestPadFastMatchesReference(t *testing.T) {
	cases := []struct {
		shape []int
		pads  []int
		mode  string
		value float32
	}{
		{[]int{7}, []int{2, 3}, "constant", 0},
		{[]int{7}, []int{-2, 1}, "constant", 1.5},
		{[]int{1, 3, 5, 6}, []int{0, 0, 1, 2, 0, 0, 2, 1}, "constant", 0},
		{[]int{1, 3, 5, 6}, []int{0, 1, 1, 2, 0, 2, 2, 1}, "constant", -3},
		{[]int{2, 3, 5, 6}, []int{0, 0, 2, 3, 0, 0, 1, 4}, "edge", 0},
		{[]int{2, 3, 5, 6}, []int{0, 0, 2, 3, 0, 0, 4, 2}, "reflect", 0},
		{[]int{1, 2, 4, 9}, []int{0, 0, -1, -2, 0, 0, 1, -3}, "constant", 0},
		{[]int{3, 1, 8}, []int{1, 0, 2, 1, 0, 5}, "edge", 0},
		{[]int{2, 2, 3, 4, 5}, []int{0, 1, 1, 0, 2, 1, 0, 1, 2, 0}, "reflect", 0},
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%v/%s", c.shape, c.pads, c.mode), func(t *testing.T) {
			n := 1
			for _, d := range c.shape {
				n *= d
			}
			b := newBuilder(13).input("x", c.shape...).
				initInts("pads", toInt64s(c.pads), len(c.pads)).
				init("v", []float32{c.value}).
				node("Pad", []string{"x", "pads", "v"}, []string{"y"}, strAttr("mode", c.mode)).output("y")
			m := b.load(t, Options{})
			if _, ok := m.steps[0].kernel.(*padKernel); !ok {
				t.Fatalf("Pad runs %T, want the fast kernel", m.steps[0].kernel)
			}
			checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, n), c.shape...)}, 0)
		})
	}
}

func toInt64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// TestFoldPad checks that a zero Pad of the spatial axes merges into the
// Conv reading it, computing what the Conv with the summed pads computes,
// and that the cases it must leave alone are left alone.
func TestFoldPad(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randFloats(rng, 1*3*9*8)
	w := randFloats(rng, 4*3*3*3)
	convWith := func(pads ...int) *Model {
		return newBuilder(13).input("x", 1, 3, 9, 8).init("w", w, 4, 3, 3, 3).
			node("Conv", []string{"x", "w"}, []string{"y"}, attrInts("pads", pads...)).output("y").load(t, Options{})
	}
	cases := []struct {
		name   string
		pads   []int
		mode   string
		value  float32
		extra  bool // the Pad's output is also a graph output
		folded bool
		equiv  []int // the Conv pads that compute the same, when folded
	}{
		{"spatial zeros", []int{0, 0, 1, 2, 0, 0, 3, 0}, "constant", 0, false, true, []int{2, 3, 4, 1}},
		{"nonzero value", []int{0, 0, 1, 1, 0, 0, 1, 1}, "constant", 1, false, false, nil},
		{"reflect", []int{0, 0, 1, 1, 0, 0, 1, 1}, "reflect", 0, false, false, nil},
		{"channel axis", []int{0, 1, 1, 1, 0, 0, 1, 1}, "constant", 0, false, false, nil},
		{"negative", []int{0, 0, -1, 1, 0, 0, 1, 1}, "constant", 0, false, false, nil},
		{"pad is an output", []int{0, 0, 1, 1, 0, 0, 1, 1}, "constant", 0, true, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cin := 3
			if c.pads[1]+c.pads[5] != 0 {
				cin += c.pads[1] + c.pads[5]
			}
			wc := randFloats(rng, 4*cin*3*3)
			b := newBuilder(13).input("x", 1, 3, 9, 8).init("w", wc, 4, cin, 3, 3).
				initInts("pads", toInt64s(c.pads), 8).init("v", []float32{c.value}).
				node("Pad", []string{"x", "pads", "v"}, []string{"p"}, strAttr("mode", c.mode)).
				node("Conv", []string{"p", "w"}, []string{"y"}, attrInts("pads", 1, 1, 1, 1)).output("y")
			if c.extra {
				b.output("p")
			}
			m := b.load(t, Options{})
			changed := -1
			for _, ps := range m.Passes() {
				if ps.Name == "fold-pad" {
					changed = ps.Changed
				}
			}
			if want := b2i(c.folded); changed != want {
				t.Fatalf("fold-pad changed %d nodes, want %d", changed, want)
			}
			in := []*Tensor{NewFloat(x, 1, 3, 9, 8)}
			checkAgainstReference(t, m, in, 1e-5)
			if c.equiv == nil {
				return
			}
			w = wc
			got, err := m.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := convWith(c.equiv...).NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			compareFloats(t, got[0].F, want[0].F, 1e-6)
		})
	}
}

// TestZeroPadRemoved checks that a Pad of all-zero pads (MLPerf Tiny's
// DS-CNN has one before its pooling) is removed as an identity, in every
// mode, and that the output stays the reference's; a Pad that pads is
// kept.
func TestZeroPadRemoved(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	x := randFloats(rng, 2*3*5)
	for _, c := range []struct {
		mode string
		pads []int
		gone bool
	}{
		{"constant", []int{0, 0, 0, 0, 0, 0}, true},
		{"edge", []int{0, 0, 0, 0, 0, 0}, true},
		{"reflect", []int{0, 0, 0, 0, 0, 0}, true},
		{"constant", []int{0, 0, 1, 0, 0, 0}, false},
		{"constant", []int{0, 0, 1, 0, 0, -1}, false}, // same shape, shifted
	} {
		t.Run(fmt.Sprintf("%s/%v", c.mode, c.pads), func(t *testing.T) {
			m := newBuilder(13).input("x", 2, 3, 5).initInts("pads", toInt64s(c.pads), 6).
				node("Pad", []string{"x", "pads"}, []string{"p"}, strAttr("mode", c.mode)).
				node("Relu", []string{"p"}, []string{"y"}).output("y").load(t, Options{})
			removed := -1
			for _, ps := range m.Passes() {
				if ps.Name == "remove-identity" {
					removed = ps.Changed
				}
			}
			if want := b2i(c.gone); removed != want {
				t.Fatalf("remove-identity changed %d nodes, want %d", removed, want)
			}
			checkAgainstReference(t, m, []*Tensor{NewFloat(x, 2, 3, 5)}, 0)
		})
	}
}
