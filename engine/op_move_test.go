package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// Test helpers of the shape, index, sort and reduction ops.

// shInput declares a graph input of any type.
func (b *builder) shInput(name string, dt DType, shape ...int) *builder {
	b.input(name, shape...)
	b.m.Graph.Inputs[len(b.m.Graph.Inputs)-1].ElemType = int32(dt)
	return b
}

// shInit adds an integer initializer of type dt.
func (b *builder) shInit(name string, dt DType, data []int64, shape ...int) *builder {
	b.initInts(name, data, shape...)
	b.m.Graph.Initializers[len(b.m.Graph.Initializers)-1].DataType = int32(dt)
	return b
}

func shAttrString(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 3, S: []byte(v)}
}

// shRunBoth runs m with its kernels and with every node's reference and
// returns both outputs.
func shRunBoth(t *testing.T, m *Model, inputs ...*Tensor) (fast, ref []*Tensor) {
	t.Helper()
	f, err := m.NewSession().Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.NewSession().RunWith(inputs, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	return f, r
}

// shSame checks two tensors are identical (NaN equal to NaN).
func shSame(t *testing.T, what string, got, want *Tensor) {
	t.Helper()
	if !equalShapes(got.Shape, want.Shape) || got.DType != want.DType {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if len(got.I) != len(want.I) || len(got.F) != len(want.F) {
		t.Fatalf("%s: got %d+%d elements, want %d+%d", what, len(got.F), len(got.I), len(want.F), len(want.I))
	}
	for i := range want.I {
		if got.I[i] != want.I[i] {
			t.Fatalf("%s: element %d is %d, want %d\ngot  %v\nwant %v", what, i, got.I[i], want.I[i], got.I, want.I)
		}
	}
	for i := range want.F {
		g, w := got.F[i], want.F[i]
		if g != w && !(g != g && w != w) {
			t.Fatalf("%s: element %d is %g, want %g\ngot  %v\nwant %v", what, i, g, w, got.F, want.F)
		}
	}
}

// shCheckExact runs m both ways and requires identical outputs.
func shCheckExact(t *testing.T, m *Model, inputs ...*Tensor) []*Tensor {
	t.Helper()
	f, r := shRunBoth(t, m, inputs...)
	for i := range r {
		shSame(t, fmt.Sprintf("output %d", i), f[i], r[i])
	}
	return f
}

// shSeq returns 0, 1, 2, ... as float32s.
func shSeq(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i)
	}
	return out
}

func shLoadErr(b *builder) error {
	_, err := loadDecoded(b.m, "test", Options{MaxBytes: 1 << 26})
	return err
}

// shWantErr checks that loading fails with an error naming want.
func shWantErr(t *testing.T, b *builder, want ...string) {
	t.Helper()
	err := shLoadErr(b)
	if err == nil {
		t.Fatalf("loaded, want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not contain %q", err, w)
		}
	}
}

func TestMovePlanCoalesce(t *testing.T) {
	for _, c := range []struct {
		in, want movePlan
	}{
		{movePlan{dims: []int{2, 3, 4}, src: []int{12, 4, 1}}, movePlan{dims: []int{24}, src: []int{1}}},
		{movePlan{dims: []int{2, 1, 4}, src: []int{4, 99, 1}}, movePlan{dims: []int{8}, src: []int{1}}},
		{movePlan{dims: []int{2, 3, 4}, src: []int{0, 0, 1}}, movePlan{dims: []int{6, 4}, src: []int{0, 1}}},
		{movePlan{dims: []int{2, 3, 4}, src: []int{1, 8, 2}}, movePlan{dims: []int{2, 12}, src: []int{1, 2}}},
		{movePlan{dims: []int{3, 4}, src: []int{-4, -1}, base: 11}, movePlan{dims: []int{12}, src: []int{-1}, base: 11}},
		{movePlan{dims: []int{1, 1}, src: []int{5, 7}}, movePlan{}},
	} {
		got := c.in.coalesce()
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("coalesce(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestMoveKernel runs random plans (broadcast, reversed, permuted
// strides) through both kernel paths and checks every element against
// the plan's definition.
func TestMoveKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for it := 0; it < 400; it++ {
		r := 1 + rng.IntN(6)
		var p movePlan
		lo, hi := 0, 0
		for d := 0; d < r; d++ {
			n := 1 + rng.IntN(5)
			if rng.IntN(10) == 0 {
				n = 0
			}
			if rng.IntN(6) == 0 {
				n = 17 + rng.IntN(20) // long rows
			}
			s := rng.IntN(40) - 10
			if rng.IntN(3) == 0 {
				s = 1
			}
			if rng.IntN(5) == 0 {
				s = 0
			}
			p.dims = append(p.dims, n)
			p.src = append(p.src, s)
			if n > 0 {
				if s < 0 {
					lo += s * (n - 1)
				} else {
					hi += s * (n - 1)
				}
			}
		}
		p.base = -lo
		if numel(p.dims) > 1<<16 {
			continue
		}
		src := shSeq(hi - lo + 1)
		want := make([]float32, numel(p.dims))
		var idx [8]int
		for o := range want {
			off := p.base
			for d := range p.dims {
				off += idx[d] * p.src[d]
			}
			want[o] = src[off]
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.dims[d] {
					break
				}
				idx[d] = 0
			}
		}
		for _, table := range []int{moveTableRuns, 3} {
			k := newMoveKernel(p, table)
			got := make([]float32, len(want))
			k.Run(nil, []*Tensor{{DType: Float32, F: src}}, []*Tensor{{DType: Float32, F: got}})
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("plan %+v (table %d, kernel %+v): element %d is %g, want %g", p, table, *k, i, got[i], want[i])
				}
			}
			gi := make([]int64, len(want))
			si := make([]int64, len(src))
			for i, v := range src {
				si[i] = int64(v)
			}
			k.Run(nil, []*Tensor{{DType: Int64, I: si}}, []*Tensor{{DType: Int64, I: gi}})
			for i := range want {
				if gi[i] != int64(want[i]) {
					t.Fatalf("plan %+v int64: element %d is %d, want %g", p, i, gi[i], want[i])
				}
			}
		}
	}
}

// TestMoveKernelTurnsShortRows checks that a plan whose innermost rows
// are short and strided loops over the input-contiguous dimension.
func TestMoveKernelTurnsShortRows(t *testing.T) {
	// DepthToSpace DCR, N=1 C=8 H=3 W=20 b=2: [1, 2, 3, 2, 20, 2].
	p := movePlan{dims: []int{1, 2, 3, 2, 20, 2}, src: []int{480, 60, 20, 240, 1, 120}}
	k := newMoveKernel(p, moveTableRuns)
	if k.inner != 20 || k.ss != 1 || k.ds != 2 {
		t.Fatalf("inner loop %d elements, strides %d/%d; want 20 elements read contiguously", k.inner, k.ss, k.ds)
	}
}

// TestMoveOpsMatchReference checks the move kernels of Slice, Expand,
// Tile, Transpose, DepthToSpace and SpaceToDepth against their references
// on float and integer tensors.
func TestMoveOpsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type tc struct {
		name  string
		shape []int
		build func(b *builder)
	}
	slice := func(starts, ends, axes, steps []int64) func(b *builder) {
		return func(b *builder) {
			ins := []string{"x", "s", "e"}
			b.initInts("s", starts, len(starts)).initInts("e", ends, len(ends))
			if axes != nil {
				b.initInts("a", axes, len(axes))
				ins = append(ins, "a")
			}
			if steps != nil {
				b.initInts("st", steps, len(steps))
				ins = append(ins, "st")
			}
			b.node("Slice", ins, []string{"y"})
		}
	}
	expand := func(shape ...int64) func(b *builder) {
		return func(b *builder) {
			b.initInts("sh", shape, len(shape)).node("Expand", []string{"x", "sh"}, []string{"y"})
		}
	}
	tile := func(reps ...int64) func(b *builder) {
		return func(b *builder) {
			b.initInts("r", reps, len(reps)).node("Tile", []string{"x", "r"}, []string{"y"})
		}
	}
	transpose := func(perm ...int) func(b *builder) {
		return func(b *builder) { b.node("Transpose", []string{"x"}, []string{"y"}, attrInts("perm", perm...)) }
	}
	d2s := func(bs int, mode string) func(b *builder) {
		return func(b *builder) {
			b.node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", bs), shAttrString("mode", mode))
		}
	}
	s2d := func(bs int) func(b *builder) {
		return func(b *builder) { b.node("SpaceToDepth", []string{"x"}, []string{"y"}, attrInt("blocksize", bs)) }
	}
	const big, small = math.MaxInt64, math.MinInt64
	cases := []tc{
		{"slice_rows", []int{6, 5}, slice([]int64{1}, []int64{4}, []int64{0}, nil)},
		{"slice_cols", []int{6, 5}, slice([]int64{1}, []int64{-1}, []int64{1}, nil)},
		{"slice_all_axes", []int{4, 5, 6}, slice([]int64{1, 0, 2}, []int64{3, 5, 5}, nil, nil)},
		{"slice_steps", []int{7, 9, 10}, slice([]int64{0, 1, 2}, []int64{7, 9, 10}, []int64{0, 1, 2}, []int64{2, 3, 4})},
		{"slice_reverse", []int{5, 8}, slice([]int64{-1, big}, []int64{small, small}, []int64{0, 1}, []int64{-1, -1})},
		{"slice_reverse_step", []int{5, 33}, slice([]int64{30}, []int64{2}, []int64{-1}, []int64{-3})},
		{"slice_out_of_range", []int{4, 4}, slice([]int64{-100, 2}, []int64{100, 1000}, []int64{1, 0}, []int64{1, 1})},
		{"slice_empty", []int{4, 4}, slice([]int64{3}, []int64{1}, []int64{0}, []int64{1})},
		{"slice_qkv", []int{2, 7, 96}, slice([]int64{32}, []int64{64}, []int64{-1}, nil)},
		{"slice_class_token", []int{2, 17, 48}, slice([]int64{0}, []int64{1}, []int64{1}, nil)},
		{"expand_bidirectional", []int{3, 1}, expand(2, 1, 6)},
		{"expand_rows", []int{1, 40}, expand(5, 40)},
		{"expand_keep", []int{3, 4}, expand(1, 1)},
		{"expand_cls", []int{1, 1, 64}, expand(3, 1, 64)},
		{"expand_middle", []int{2, 1, 3}, expand(2, 4, 3)},
		{"tile", []int{2, 3}, tile(2, 3)},
		{"tile_rank3", []int{2, 1, 5}, tile(1, 4, 2)},
		{"tile_zero", []int{2, 3}, tile(0, 2)},
		{"transpose_2d", []int{7, 9}, transpose(1, 0)},
		{"transpose_4d", []int{2, 3, 4, 5}, transpose(0, 2, 3, 1)},
		{"transpose_heads", []int{2, 5, 4, 16}, transpose(0, 2, 1, 3)},
		{"d2s_dcr", []int{2, 8, 3, 4}, d2s(2, "DCR")},
		{"d2s_crd", []int{2, 8, 3, 4}, d2s(2, "CRD")},
		{"d2s_wide", []int{1, 18, 5, 40}, d2s(3, "DCR")},
		{"d2s_crd_wide", []int{1, 18, 5, 40}, d2s(3, "CRD")},
		{"s2d", []int{2, 3, 4, 6}, s2d(2)},
		{"s2d_wide", []int{1, 2, 6, 48}, s2d(3)},
	}
	for _, c := range cases {
		for _, dt := range []DType{Float32, Int32} {
			t.Run(fmt.Sprintf("%s_%v", c.name, dt), func(t *testing.T) {
				b := newBuilder(13).shInput("x", dt, c.shape...)
				c.build(b)
				m := b.output("y").load(t, Options{})
				x := &Tensor{DType: dt, Shape: c.shape}
				if dt.IsInt() {
					x.I = make([]int64, numel(c.shape))
					for i := range x.I {
						x.I[i] = int64(rng.IntN(1000)) - 500
					}
				} else {
					x.F = randFloats(rng, numel(c.shape))
				}
				shCheckExact(t, m, x)
			})
		}
	}
}

// TestDepthSpaceByHand pins the channel order of the two DepthToSpace
// modes and checks SpaceToDepth inverts DepthToSpace DCR.
func TestDepthSpaceByHand(t *testing.T) {
	// 8 channels of one pixel, values 0..7, block 2: C' = 2. DCR reads
	// channel (i*2+j)*2 + c, CRD reads channel c*4 + i*2 + j.
	x := NewFloat(shSeq(8), 1, 8, 1, 1)
	for mode, want := range map[string][]float32{"DCR": {0, 2, 4, 6, 1, 3, 5, 7}, "CRD": {0, 1, 2, 3, 4, 5, 6, 7}} {
		m := newBuilder(13).input("x", 1, 8, 1, 1).
			node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", 2), shAttrString("mode", mode)).output("y").load(t, Options{})
		got := shCheckExact(t, m, x)[0]
		shSame(t, mode, got, NewFloat(want, 1, 2, 2, 2))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	in := NewFloat(randFloats(rng, 2*3*6*4), 2, 3, 6, 4)
	m := newBuilder(13).input("x", 2, 3, 6, 4).
		node("SpaceToDepth", []string{"x"}, []string{"s"}, attrInt("blocksize", 2)).
		node("DepthToSpace", []string{"s"}, []string{"y"}, attrInt("blocksize", 2)).output("y").load(t, Options{})
	shSame(t, "roundtrip", shCheckExact(t, m, in)[0], in)
}

// TestShapeOpsAllocateNothing runs a model using the ops of this branch,
// with fast kernels and reference paths, and checks steady-state Run
// allocates nothing, with one and with two threads.
func TestShapeOpsAllocateNothing(t *testing.T) {
	build := func() *builder {
		return newBuilder(18).input("x", 2, 8, 4, 6).
			initInts("s", []int64{1}, 1).initInts("e", []int64{7}, 1).initInts("ax1", []int64{1}, 1).
			initInts("sp", []int64{2, 4}, 2).initInts("ax3", []int64{3}, 1).initInts("ax02", []int64{0, 2}, 2).
			initInts("shape", []int64{2, 3, 4, 6}, 4).initInts("reps", []int64{1, 2, 1, 1}, 4).
			initInts("k3", []int64{3}, 1).initInts("k2", []int64{2}, 1).initInts("c2", []int64{2}).
			initInts("depth", []int64{6}).init("onoff", []float32{0, 1}, 2).initInts("nd", []int64{0, 1}, 1, 2).
			node("Slice", []string{"x", "s", "e", "ax1"}, []string{"sl"}).
			node("Split", []string{"sl", "sp"}, []string{"a", "b"}, attrInt("axis", 1)).
			node("DepthToSpace", []string{"b"}, []string{"d2s"}, attrInt("blocksize", 2)).
			node("SpaceToDepth", []string{"d2s"}, []string{"s2d"}, attrInt("blocksize", 2)).
			node("Transpose", []string{"a"}, []string{"tr"}, attrInts("perm", 0, 1, 3, 2)).
			node("ReduceMean", []string{"a", "ax1"}, []string{"mean"}).
			node("Expand", []string{"mean", "shape"}, []string{"ex"}).
			node("Tile", []string{"a", "reps"}, []string{"ti"}).
			node("ReduceSum", []string{"s2d", "ax3"}, []string{"rs"}).
			node("ReduceMax", []string{"ti", "ax02"}, []string{"rmax"}).
			node("ReduceLogSumExp", []string{"ti", "ax1"}, []string{"lse"}).
			node("ArgMax", []string{"ti"}, []string{"am"}, attrInt("axis", 3)).
			node("ReduceSum", []string{"am", "ax1"}, []string{"amsum"}).
			node("TopK", []string{"ex", "k3"}, []string{"tkv", "tki"}).
			node("TopK", []string{"ex", "k2"}, []string{"tk0v", "tk0i"}, attrInt("axis", 1)).
			node("GatherElements", []string{"ex", "tki"}, []string{"ge"}, attrInt("axis", -1)).
			node("ScatterElements", []string{"ex", "tki", "tkv"}, []string{"sc"}, attrInt("axis", -1), shAttrString("reduction", "add")).
			node("CumSum", []string{"ti", "c2"}, []string{"cs"}).
			node("Trilu", []string{"cs"}, []string{"tri"}).
			node("OneHot", []string{"tki", "depth", "onoff"}, []string{"oh"}).
			node("GatherND", []string{"x", "nd"}, []string{"gnd"}).
			output("tr", "rs", "rmax", "lse", "amsum", "tk0v", "ge", "sc", "tri", "oh", "gnd")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	x := NewFloat(randFloats(rng, 2*8*4*6), 2, 8, 4, 6)
	for _, threads := range []int{1, 2} {
		m := build().load(t, Options{Threads: threads})
		f, r := shRunBoth(t, m, x)
		for i := range r {
			if r[i].DType.IsInt() {
				shSame(t, m.Outputs()[i].Name, f[i], r[i])
			} else {
				compareFloats(t, f[i].F, r[i].F, 1e-5)
			}
		}
		s := m.NewSession()
		in := []*Tensor{x}
		if a := testing.AllocsPerRun(20, func() { s.Run(in) }); a != 0 {
			t.Errorf("threads %d: Run allocates %v times", threads, a)
		}
		ref := referenceSelector{m}
		if a := testing.AllocsPerRun(20, func() { s.RunWith(in, ref) }); a != 0 {
			t.Errorf("threads %d: the references allocate %v times", threads, a)
		}
		s.Close()
	}
}

// BenchmarkShapeKernels times each fast kernel of this branch and its
// reference on one shape (go test -run XXX -bench ShapeKernels).
func BenchmarkShapeKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name  string
		shape []int
		build func(bb *builder)
	}{
		{"slice_qkv", []int{1, 197, 2304}, func(bb *builder) {
			bb.initInts("s", []int64{768}, 1).initInts("e", []int64{1536}, 1).initInts("a", []int64{2}, 1).
				node("Slice", []string{"x", "s", "e", "a"}, []string{"y"})
		}},
		{"split_qkv", []int{1, 197, 2304}, func(bb *builder) {
			bb.node("Split", []string{"x"}, []string{"y", "y1", "y2"}, attrInt("axis", 2))
		}},
		{"expand_rows", []int{1, 1, 768}, func(bb *builder) {
			bb.initInts("sh", []int64{1, 197, 768}, 3).node("Expand", []string{"x", "sh"}, []string{"y"})
		}},
		{"tile", []int{1, 64, 32, 32}, func(bb *builder) {
			bb.initInts("r", []int64{1, 1, 2, 2}, 4).node("Tile", []string{"x", "r"}, []string{"y"})
		}},
		{"depthtospace", []int{1, 64, 56, 56}, func(bb *builder) {
			bb.node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", 2))
		}},
		{"transpose_heads", []int{1, 197, 12, 64}, func(bb *builder) {
			bb.node("Transpose", []string{"x"}, []string{"y"}, attrInts("perm", 0, 2, 1, 3))
		}},
		{"reducemean_last", []int{197, 768}, func(bb *builder) {
			bb.node("ReduceMean", []string{"x"}, []string{"y"}, attrInts("axes", -1))
		}},
		{"reducesum_outer", []int{64, 4096}, func(bb *builder) {
			bb.node("ReduceSum", []string{"x"}, []string{"y"}, attrInts("axes", 0))
		}},
		{"reducemax_last", []int{197, 768}, func(bb *builder) {
			bb.node("ReduceMax", []string{"x"}, []string{"y"}, attrInts("axes", -1))
		}},
		{"topk", []int{64, 1000}, func(bb *builder) {
			bb.initInts("k", []int64{5}, 1).node("TopK", []string{"x", "k"}, []string{"y", "i"})
		}},
	}
	for _, c := range cases {
		bb := newBuilder(11).input("x", c.shape...)
		c.build(bb)
		m, err := loadDecoded(bb.output("y").m, "bench", Options{})
		if err != nil {
			b.Fatal(err)
		}
		in := []*Tensor{NewFloat(randFloats(rng, numel(c.shape)), c.shape...)}
		s := m.NewSession()
		b.Run(c.name+"/fast", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s.Run(in)
			}
		})
		b.Run(c.name+"/reference", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s.RunWith(in, referenceSelector{m})
			}
		})
	}
}
