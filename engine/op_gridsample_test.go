package engine

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// TestGridSample1D pins an opset-20 1-D GridSample worked out by hand over
// X = [0 10 20 30]. align_corners=1 maps -1, 0, 1 to 0, 1.5, 3;
// align_corners=0 maps them to -0.5, 1.5, 3.5, where the padding decides:
// zeros blends half of a zero in, border clamps the taps, reflection folds
// tap -1 to 0 and tap 4 to 3. Nearest rounds half to even (-0.5 to 0, 1.5
// to 2, 3.5 to 4) before the padding.
func TestGridSample1D(t *testing.T) {
	x := NewFloat([]float32{0, 10, 20, 30}, 1, 1, 4)
	grid := NewFloat([]float32{-1, 0, 1}, 1, 3, 1)
	tests := []struct {
		mode, pad string
		align     int
		want      []float32
	}{
		{"linear", "zeros", 1, []float32{0, 15, 30}},
		{"linear", "zeros", 0, []float32{0, 15, 15}},
		{"linear", "border", 0, []float32{0, 15, 30}},
		{"linear", "reflection", 0, []float32{0, 15, 30}},
		{"nearest", "zeros", 0, []float32{0, 20, 0}},
		{"nearest", "border", 0, []float32{0, 20, 30}},
		{"nearest", "zeros", 1, []float32{0, 20, 30}},
		// Cubic at 1.5 (align_corners=1): taps 0..3 with weights
		// -0.09375 0.59375 0.59375 -0.09375 over a line: 15.
		{"cubic", "border", 1, []float32{0, 15, 30}},
	}
	for _, tc := range tests {
		m := newBuilder(20).input("x", 1, 1, 4).input("g", 1, 3, 1).
			node("GridSample", []string{"x", "g"}, []string{"y"}, strAttr("mode", tc.mode), strAttr("padding_mode", tc.pad), attrInt("align_corners", tc.align)).
			output("y").load(t, Options{})
		got := runModel(t, m, x, grid)[0]
		if !equalShapes(got.Shape, []int{1, 1, 3}) {
			t.Fatalf("shape %v", got.Shape)
		}
		compareFloats(t, got.F, tc.want, 1e-6)
	}
}

// TestGridSample3DMatches2D checks the N-D path on a depth-1 volume, where
// the depth coordinate 0 lands on the only slice, against the 2-D one.
func TestGridSample3DMatches2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, mode := range []string{"linear", "cubic", "nearest"} {
		for _, pad := range []string{"zeros", "border", "reflection"} {
			for _, align := range []int{0, 1} {
				x := randFloats(rng, 2*3*5*6)
				g2 := make([]float32, 2*4*7*2)
				for i := range g2 {
					g2[i] = rng.Float32()*3 - 1.5 // some outside [-1, 1]
				}
				g3 := make([]float32, 0, 2*4*7*3)
				for i := 0; i < len(g2); i += 2 {
					g3 = append(g3, g2[i], g2[i+1], 0)
				}
				if align == 1 {
					// With align_corners the only slice sits at -1..1's
					// denormalised (n+1)/2*0 = 0 for any n.
					for i := 2; i < len(g3); i += 3 {
						g3[i] = rng.Float32()*2 - 1
					}
				}
				attrs := []*onnx.Attribute{strAttr("mode", mode), strAttr("padding_mode", pad), attrInt("align_corners", align)}
				m2 := newBuilder(20).input("x", 2, 3, 5, 6).input("g", 2, 4, 7, 2).node("GridSample", []string{"x", "g"}, []string{"y"}, attrs...).output("y").load(t, Options{})
				m3 := newBuilder(20).input("x", 2, 3, 1, 5, 6).input("g", 2, 1, 4, 7, 3).node("GridSample", []string{"x", "g"}, []string{"y"}, attrs...).output("y").load(t, Options{})
				y2 := runModel(t, m2, NewFloat(x, 2, 3, 5, 6), NewFloat(g2, 2, 4, 7, 2))[0]
				y3 := runModel(t, m3, NewFloat(x, 2, 3, 1, 5, 6), NewFloat(g3, 2, 1, 4, 7, 3))[0]
				if !equalShapes(y3.Shape, []int{2, 3, 1, 4, 7}) {
					t.Fatalf("shape %v", y3.Shape)
				}
				compareFloats(t, y3.F, y2.F, 1e-5)
			}
		}
	}
}

func TestGridSampleErrorsAndAllocs(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want string
	}{
		{"mode", newBuilder(16).input("x", 1, 1, 3, 3).input("g", 1, 2, 2, 2).node("GridSample", []string{"x", "g"}, []string{"y"}, strAttr("mode", "area")), "mode"},
		{"padding", newBuilder(16).input("x", 1, 1, 3, 3).input("g", 1, 2, 2, 2).node("GridSample", []string{"x", "g"}, []string{"y"}, strAttr("padding_mode", "wrap")), "padding_mode"},
		{"grid", newBuilder(16).input("x", 1, 1, 3, 3).input("g", 1, 2, 2, 3).node("GridSample", []string{"x", "g"}, []string{"y"}), "grid [1 2 2 3]"},
		{"batch", newBuilder(16).input("x", 2, 1, 3, 3).input("g", 1, 2, 2, 2).node("GridSample", []string{"x", "g"}, []string{"y"}), "does not match"},
		{"3-D before 20", newBuilder(16).input("x", 1, 1, 3, 3, 3).input("g", 1, 2, 2, 2, 3).node("GridSample", []string{"x", "g"}, []string{"y"}), "rank 4 before opset 20"},
	}
	for _, tc := range tests {
		_, err := loadDecoded(tc.b.output("y").m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node" (GridSample)`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(53, 54))
	m := newBuilder(20).input("x", 1, 2, 4, 5).input("g", 1, 3, 3, 2).
		node("GridSample", []string{"x", "g"}, []string{"a"}, strAttr("mode", "cubic"), strAttr("padding_mode", "reflection")).
		node("GridSample", []string{"a", "g"}, []string{"y"}, strAttr("mode", "nearest")).output("y").load(t, Options{Threads: 2})
	s := m.NewSession()
	in := []*Tensor{NewFloat(randFloats(rng, 40), 1, 2, 4, 5), NewFloat(randFloats(rng, 18), 1, 3, 3, 2)}
	if _, err := s.Run(in); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(in) }); a != 0 {
		t.Fatalf("Run allocates %.0f times per call", a)
	}
}
