package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// fusedActs are epilogues beyond a clamp, as fuse-activation leaves them on
// convolutions and dense layers (EfficientNet's SiLU, MobileNetV3's
// hard-swish, a Relu6 then tanh).
var fusedActs = []engine.Activation{
	{Fn: engine.ActSiLU},
	{Fn: engine.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
	{Fn: engine.ActHardSigmoid, Alpha: 0.2, Beta: 0.5},
	{On: true, Lo: 0, Hi: 6, Fn: engine.ActTanh},
	{On: true, Lo: -0.5, Hi: float32(math.Inf(1)), Fn: engine.ActSigmoid},
	{Fn: engine.ActGelu},
}

// TestKnobsApplyFusedActivations checks every approximate convolution and
// dense kernel against the naive definition when the node carries a fused
// function, not only a clamp: perforated outputs are rebuilt before it,
// GEMM epilogues clamp and the function follows.
func TestKnobsApplyFusedActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	specs := []*engine.ConvSpec{
		convSpec(rng, false, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1, true, false),
		convSpec(rng, false, 8, 6, 9, 4, 1, 1, 1, 0, 1, 1, true, false),       // 1x1
		convSpec(rng, false, 2, 12, 37, 5, 3, 4, 1, 1, 1, 1, true, false),     // rows of 36
		convSpec(rng, false, 6, 10, 10, 6, 3, 3, 1, 2, 2, 6, true, false),     // depthwise, dilated
		convSpec(rng, false, 4, 5, 16, 4, 3, 3, 1, 1, 1, 4, true, false),      // depthwise, whole-vector rows
		convSpec(rng, true, 8, 1, 20, 8, 1, 3, 1, 1, 1, 8, false, false),      // 1-D depthwise, flat
		convSpec(rng, false, 160, 6, 5, 160, 3, 3, 1, 1, 1, 160, true, false), // depthwise, two groups of planes
	}
	for si, cs0 := range specs {
		x := randFloats(rng, cs0.Batch*cs0.C*cs0.H*cs0.W)
		for i := range x {
			x[i] *= 4 // reach both ends of the hard sigmoid and the clamps
		}
		for ai, act := range fusedActs {
			cs := *cs0
			cs.Act = act
			for _, k := range append(convKnobs(&cs), Exact) {
				t.Run(fmt.Sprintf("spec%d/act%d/%s", si, ai, k), func(t *testing.T) {
					want := ReferenceConv(&cs, k, x)
					got := run(newConvKernel(&cs, k), x, len(want), 1, cs.C, cs.H, cs.W)
					if d := maxRelDiff(got, want); d > 1e-5 {
						t.Fatalf("max relative difference %g", d)
					}
				})
			}
			for _, p := range []Precision{FP16, INT8} {
				if act.Fn == engine.ActTanh || act.Fn == engine.ActSigmoid || act.Fn == engine.ActHardSigmoid {
					// Bounded outputs of large sums: the tolerance, a
					// fraction of the largest output, does not apply (on
					// arm64's half arithmetic especially).
					continue
				}
				k := Knob{Prec: p}
				want := ReferenceConv(&cs, Knob{}, x)
				got := run(newConvKernel(&cs, k), x, len(want), 1, cs.C, cs.H, cs.W)
				if d, tol := maxRelDiff(got, want), map[Precision]float64{FP16: 2e-3, INT8: 6e-2}[p]; d > tol {
					t.Errorf("spec%d/act%d/%s: max relative difference %g > %g", si, ai, k, d, tol)
				}
			}
		}
	}
	for _, act := range fusedActs {
		for _, c := range []struct{ m, n, k int }{{1, 11, 300}, {4, 16, 100}} {
			ds := &engine.DenseSpec{M: c.m, N: c.n, K: c.k, Weights: randFloats(rng, c.k*c.n), Bias: randFloats(rng, c.n), Act: act}
			x := randFloats(rng, c.m*c.k)
			for _, k := range []Knob{{Shape: Red, Keep: 50}, {Shape: Red, Keep: 75}, {Prec: FP16}, {Prec: INT8}} {
				want := ReferenceDense(ds, Knob{Shape: k.Shape, Keep: k.Keep}, x)
				out := engine.NewFloat(make([]float32, c.m*c.n), c.m, c.n)
				newDenseKernel(ds, k).Run(&engine.Exec{}, []*engine.Tensor{engine.NewFloat(x, len(x))}, []*engine.Tensor{out})
				tol := map[Precision]float64{FP32: 1e-5, FP16: 2e-3, INT8: 6e-2}[k.Prec]
				if d := maxRelDiff(out.F, want); d > tol {
					t.Errorf("dense %dx%dx%d %v %s: max relative difference %g > %g", c.m, c.n, c.k, act, k, d, tol)
				}
			}
		}
	}
}
