package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

var reduceOpNames = []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
	"ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}

// reduceModel builds one reduction at opset 18 (axes as an input) or 13
// (axes as an attribute, except for ReduceSum).
func reduceModel(op string, opset int64, dt DType, shape []int, axes []int64, keep int, extra ...string) *builder {
	b := newBuilder(opset).shInput("x", dt, shape...)
	ins := []string{"x"}
	attrs := []*onnx.Attribute{attrInt("keepdims", keep)}
	if axes != nil {
		if opset >= 18 || op == "ReduceSum" && opset >= 13 {
			b.initInts("axes", axes, len(axes))
			ins = append(ins, "axes")
		} else {
			a := attrInts("axes")
			a.Ints = axes
			attrs = append(attrs, a)
		}
	}
	for _, e := range extra {
		if e == "noop" {
			attrs = append(attrs, attrInt("noop_with_empty_axes", 1))
		}
	}
	return b.node(op, ins, []string{"y"}, attrs...).output("y")
}

// TestReduceKernelsMatchReference checks the fast reduction kernel (one
// reduced block: innermost rows or whole rows combined) against the
// float64 reference, and that other axis sets run the reference.
func TestReduceKernelsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shape := []int{2, 3, 4, 5}
	axesSets := [][]int64{{3}, {-1}, {0}, {1}, {1, 2}, {2, 3}, {0, 1, 2, 3}, nil, {0, 2}, {1, 3}}
	for _, op := range reduceOpNames {
		for _, axes := range axesSets {
			for keep := 0; keep < 2; keep++ {
				for _, opset := range []int64{13, 18} {
					name := fmt.Sprintf("%s_%v_keep%d_opset%d", op, axes, keep, opset)
					t.Run(name, func(t *testing.T) {
						m := reduceModel(op, opset, Float32, shape, axes, keep).load(t, Options{})
						x := NewFloat(randFloats(rng, numel(shape)), shape...)
						if op == "ReduceLogSum" || op == "ReduceProd" {
							for i := range x.F {
								x.F[i] = 0.5 + x.F[i]*x.F[i]
							}
						}
						fast, ref := shRunBoth(t, m, x)
						if op == "ReduceSum" || op == "ReduceMean" {
							// Sums cancel: the rounding error of another
							// summation order is relative to the sum of |x|.
							xa := NewFloat(nil, shape...)
							for i, v := range x.F {
								xa.F[i] = float32(abs64(float64(v)))
							}
							_, scale := shRunBoth(t, m, xa)
							for i := range ref[0].F {
								if d := abs64(float64(fast[0].F[i] - ref[0].F[i])); d > 2e-6*max(1e-3, float64(scale[0].F[i])) {
									t.Fatalf("element %d: got %g, want %g (|d| %g, sum of |x| %g)", i, fast[0].F[i], ref[0].F[i], d, scale[0].F[i])
								}
							}
						} else {
							compareFloats(t, fast[0].F, ref[0].F, 2e-6)
						}
						p := m.steps[0].n.params.(*reduceParams)
						_, isFast := m.steps[0].kernel.(*reduceKernel)
						if isFast != p.block {
							t.Fatalf("fast kernel %v for block %v", isFast, p.block)
						}
					})
				}
			}
		}
	}
	// Long rows (vec.SumPlanes and the unrolled loops) and odd sizes.
	for _, op := range reduceOpNames {
		for _, c := range []struct {
			shape []int
			axes  []int64
		}{{[]int{3, 1000}, []int64{1}}, {[]int{257, 33}, []int64{0}}, {[]int{4, 37, 9}, []int64{1}}, {[]int{1, 1, 7}, []int64{0, 1}}} {
			m := reduceModel(op, 18, Float32, c.shape, c.axes, 0).load(t, Options{})
			x := NewFloat(randFloats(rng, numel(c.shape)), c.shape...)
			for i := range x.F {
				x.F[i] = 0.5 + x.F[i]*x.F[i]
			}
			fast, ref := shRunBoth(t, m, x)
			tol := 2e-6
			if op == "ReduceProd" {
				tol = 1e-4 // a thousand float32 products
			}
			compareFloats(t, fast[0].F, ref[0].F, tol)
		}
	}
}

// TestReduceByHand pins empty reductions, noop_with_empty_axes, NaN,
// LogSumExp's shift and integer types.
func TestReduceByHand(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	empty := map[string]float32{"ReduceSum": 0, "ReduceMean": nan, "ReduceMax": -inf, "ReduceMin": inf, "ReduceProd": 1,
		"ReduceL1": 0, "ReduceL2": 0, "ReduceLogSum": -inf, "ReduceLogSumExp": -inf, "ReduceSumSquare": 0}
	for op, want := range empty {
		m := reduceModel(op, 18, Float32, []int{2, 0, 3}, []int64{1}, 0).load(t, Options{})
		got := shCheckExact(t, m, &Tensor{DType: Float32, Shape: []int{2, 0, 3}, F: []float32{}})[0]
		w := NewFloat(nil, 2, 3)
		for i := range w.F {
			w.F[i] = want
		}
		shSame(t, op+" empty", got, w)
	}
	m := reduceModel("ReduceMax", 18, Int32, []int{2, 0}, []int64{1}, 0).load(t, Options{})
	shSame(t, "int max empty", shCheckExact(t, m, &Tensor{DType: Int32, Shape: []int{2, 0}, I: []int64{}})[0],
		&Tensor{DType: Int32, Shape: []int{2}, I: []int64{math.MinInt32, math.MinInt32}})

	// noop_with_empty_axes: each element reduced alone.
	x := NewFloat([]float32{-2, 0.5, 3}, 3)
	noop := map[string][]float32{"ReduceSum": {-2, 0.5, 3}, "ReduceL1": {2, 0.5, 3}, "ReduceL2": {2, 0.5, 3},
		"ReduceSumSquare": {4, 0.25, 9}, "ReduceMax": {-2, 0.5, 3}, "ReduceMean": {-2, 0.5, 3}}
	for op, want := range noop {
		m := reduceModel(op, 18, Float32, []int{3}, []int64{}, 1, "noop").load(t, Options{})
		shSame(t, op+" noop", shCheckExact(t, m, x)[0], NewFloat(want, 3))
	}
	// Max and Min propagate NaN; LogSumExp does not overflow.
	m = reduceModel("ReduceMax", 18, Float32, []int{2, 3}, []int64{1}, 0).load(t, Options{})
	shSame(t, "max nan", shCheckExact(t, m, NewFloat([]float32{1, nan, 3, 4, 5, 6}, 2, 3))[0], NewFloat([]float32{nan, 6}, 2))
	m = reduceModel("ReduceMin", 18, Float32, []int{3, 2}, []int64{0}, 0).load(t, Options{})
	shSame(t, "min nan", shCheckExact(t, m, NewFloat([]float32{1, 2, nan, 0, 3, -1}, 3, 2))[0], NewFloat([]float32{nan, -1}, 2))
	for _, axis := range []int64{0, 1} {
		m = reduceModel("ReduceLogSumExp", 18, Float32, []int{2, 2}, []int64{axis}, 0).load(t, Options{})
		got := shCheckExact(t, m, NewFloat([]float32{1000, 1000, 1000, 1000}, 2, 2))[0]
		for _, v := range got.F {
			if math.Abs(float64(v)-(1000+math.Ln2)) > 1e-3 {
				t.Fatalf("logsumexp of 1000, 1000 is %g, want %g", v, 1000+math.Ln2)
			}
		}
	}
	// Integer types: int8 sums wrap, means truncate, products.
	ints := func(dt DType, v ...int64) *Tensor { return &Tensor{DType: dt, Shape: []int{len(v)}, I: v} }
	for _, c := range []struct {
		op   string
		dt   DType
		in   *Tensor
		want int64
	}{
		{"ReduceSum", Int8, ints(Int8, 100, 100), -56},
		{"ReduceMean", Int64, ints(Int64, 1, 2), 1},
		{"ReduceMean", Int32, ints(Int32, -1, -2), -1},
		{"ReduceProd", Int32, ints(Int32, 3, -4, 5), -60},
		{"ReduceMax", Int64, ints(Int64, -5, 7, math.MaxInt64), math.MaxInt64},
		{"ReduceMin", Uint8, ints(Uint8, 5, 0, 255), 0},
		{"ReduceL1", Int32, ints(Int32, -3, 4), 7},
		{"ReduceL2", Int32, ints(Int32, -3, 4), 5},
		{"ReduceSumSquare", Int64, ints(Int64, -3, 4), 25},
	} {
		m := reduceModel(c.op, 18, c.dt, c.in.Shape, nil, 0).load(t, Options{})
		shSame(t, c.op+" "+c.dt.String(), shCheckExact(t, m, c.in)[0], &Tensor{DType: c.dt, Shape: []int{}, I: []int64{c.want}})
	}
	// Float16 outputs are rounded to half precision.
	m = reduceModel("ReduceSum", 13, Float16, []int{3}, nil, 0).load(t, Options{})
	got := shCheckExact(t, m, &Tensor{DType: Float16, Shape: []int{3}, F: []float32{1, 1.0 / 3, 1.0 / 3}})[0]
	if got.F[0] != roundTo(Float16, float32(1+2.0/3)) {
		t.Fatalf("float16 sum %g is not rounded", got.F[0])
	}
}

func TestReduceErrors(t *testing.T) {
	shWantErr(t, newBuilder(11).input("x", 2, 3).initInts("a", []int64{1}, 1).node("ReduceSum", []string{"x", "a"}, []string{"y"}).output("y"),
		`"y_node"`, "axes are an attribute before opset 13")
	shWantErr(t, reduceModel("ReduceMax", 13, Float32, []int{2, 3}, []int64{2}, 1), `"y_node"`, "axis 2 is out of range")
	shWantErr(t, reduceModel("ReduceL2", 18, Float32, []int{2, 3}, []int64{-3}, 1), `"y_node"`, "axis -3 is out of range")
	err := shLoadErr(newBuilder(18).input("x", 2, 3).shInput("a", Int64, 1).node("ReduceMean", []string{"x", "a"}, []string{"y"}).output("y"))
	if _, ok := err.(*ConstantInputError); !ok {
		t.Fatalf("got %v, want a ConstantInputError for run-time axes", err)
	}
}
