package engine

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// splitModel is a chain of the kernels that split their work between
// threads (convolution, element-wise binary and unary ops, clamps, the
// pools), over tensors large enough to be split.
func splitModel(t *testing.T, threads int) *Model {
	rng := rand.New(rand.NewPCG(7, 7))
	return newBuilder(13).input("x", 1, 16, 40, 40).
		init("w", randFloats(rng, 32*16*9), 32, 16, 3, 3).
		init("cb", randFloats(rng, 32), 32, 1, 1).
		init("row", randFloats(rng, 40), 40).
		init("lo", []float32{-0.5}).init("hi", []float32{0.75}).
		node("Conv", []string{"x", "w"}, []string{"c"}, attrInts("pads", 1, 1, 1, 1)).
		node("Add", []string{"c", "cb"}, []string{"a"}).
		node("Relu", []string{"a"}, []string{"r"}).
		node("Mul", []string{"r", "row"}, []string{"m"}).
		node("Sub", []string{"a", "m"}, []string{"s"}).
		node("Clip", []string{"s", "lo", "hi"}, []string{"k"}).
		node("Sigmoid", []string{"k"}, []string{"g"}).
		node("Div", []string{"a", "g"}, []string{"d"}).
		node("MaxPool", []string{"d"}, []string{"p2"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).
		node("MaxPool", []string{"d"}, []string{"p3"}, attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)).
		node("AveragePool", []string{"p3"}, []string{"p4"}, attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2)).
		node("GlobalAveragePool", []string{"p4"}, []string{"gp"}).
		output("p2", "p4", "gp").
		load(t, Options{Threads: threads})
}

// TestThreadsBitwise checks that the split kernels give at 2, 3 and 4
// threads the bits they give at one (every split is over independent
// outputs, and the GEMM's over whole micro-panels), that they match the
// reference, and that a run allocates nothing.
func TestThreadsBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := NewFloat(randFloats(rng, 16*40*40), 1, 16, 40, 40)
	x.F[5] = float32(math.NaN())
	x.F[777] = float32(math.Inf(1))
	m1 := splitModel(t, 1)
	s1 := m1.NewSession()
	want, err := s1.Run([]*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m1.NewSession().RunWith([]*Tensor{x}, referenceSelector{m1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref {
		for j, r := range ref[i].F {
			g := want[i].F[j]
			if g != r && !(g != g && r != r) && math.Abs(float64(g-r)) > 1e-4*max(1, math.Abs(float64(r))) {
				t.Fatalf("output %d element %d: %v, the reference %v", i, j, g, r)
			}
		}
	}
	for _, threads := range []int{2, 3, 4} {
		m := splitModel(t, threads)
		s := m.NewSession()
		for rep := 0; rep < 3; rep++ {
			got, err := s.Run([]*Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				sameBits(t, threads, i, got[i].F, want[i].F)
			}
		}
		if !raceBuild {
			if a := testing.AllocsPerRun(10, func() { s.Run([]*Tensor{x}) }); a != 0 {
				t.Errorf("threads %d: %v allocations per run", threads, a)
			}
		}
		s.Close()
	}
}

func sameBits(t *testing.T, threads, out int, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("threads %d output %d: %d elements, want %d", threads, out, len(got), len(want))
	}
	for j := range want {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			t.Fatalf("threads %d output %d element %d: %v, want %v (one thread)", threads, out, j, got[j], want[j])
		}
	}
}

// TestThreadsShippedModels runs the shipped models at 1 to 4 threads: the
// same bits as at one thread, and no allocation per run.
func TestThreadsShippedModels(t *testing.T) {
	for _, name := range []string{"kws.onnx", "kws-ds.onnx", "har.onnx"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open("../models/" + name)
			if err != nil {
				t.Skip(err)
			}
			f.Close()
			load := func(threads int) *Model {
				f, _ := os.Open("../models/" + name)
				defer f.Close()
				m, err := Load(f, Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			m1 := load(1)
			rng := rand.New(rand.NewPCG(3, 4))
			var ins []*Tensor
			for _, vi := range m1.Inputs() {
				ins = append(ins, NewFloat(randFloats(rng, numel(vi.Shape)), vi.Shape...))
			}
			want, err := m1.NewSession().Run(ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{2, 3, 4} {
				s := load(threads).NewSession()
				got, err := s.Run(ins)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					sameBits(t, threads, i, got[i].F, want[i].F)
				}
				if !raceBuild {
					if a := testing.AllocsPerRun(5, func() { s.Run(ins) }); a != 0 {
						t.Errorf("threads %d: %v allocations per run", threads, a)
					}
				}
				s.Close()
			}
		})
	}
}

// TestThreadsRows checks the row splits (Softmax, LayerNormalization) at 2
// to 4 threads against one thread, bit for bit, and their allocations.
func TestThreadsRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	scale, bias := randFloats(rng, 512), randFloats(rng, 512)
	build := func(threads int) *Model {
		return newBuilder(17).input("x", 64, 512).
			init("s", scale, 512).init("b", bias, 512).
			node("Softmax", []string{"x"}, []string{"p"}, attrInt("axis", -1)).
			node("LayerNormalization", []string{"x", "s", "b"}, []string{"n"}, attrInt("axis", -1)).
			output("p", "n").load(t, Options{Threads: threads})
	}
	x := NewFloat(randFloats(rng, 64*512), 64, 512)
	m1 := build(1)
	want, err := m1.NewSession().Run([]*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range m1.steps {
		if _, ok := st.kernel.(rangeKernel); !ok {
			t.Errorf("step %d (%s) runs %T, not a split kernel", i, st.n.op, st.kernel)
		}
	}
	for _, threads := range []int{2, 3, 4} {
		s := build(threads).NewSession()
		got, err := s.Run([]*Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			sameBits(t, threads, i, got[i].F, want[i].F)
		}
		if !raceBuild {
			if a := testing.AllocsPerRun(10, func() { s.Run([]*Tensor{x}) }); a != 0 {
				t.Errorf("threads %d: %v allocations per run", threads, a)
			}
		}
		s.Close()
	}
}
