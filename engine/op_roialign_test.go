package engine

import (
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// roiX is a 4x4 map holding 4y+x: bilinear samples of it are exact.
func roiX() *Tensor {
	x := NewFloat(nil, 1, 1, 4, 4)
	for i := range x.F {
		x.F[i] = float32(i)
	}
	return x
}

func roiModel(t *testing.T, opset int64, attrs ...*onnx.Attribute) *Model {
	return newBuilder(opset).input("x", 1, 1, 4, 4).input("rois", 2, 4).inputOf("b", Int64, 2).
		node("RoiAlign", []string{"x", "rois", "b"}, []string{"y"}, attrs...).output("y").load(t, Options{})
}

// TestRoiAlign pins RoiAlign by hand on the map 4y+x, where every bilinear
// sample is exact. The region [0,0]-[3,3] with one sample per bin: with
// half_pixel it spans [-0.5, 2.5] and the sample sits at (1, 1): 5; with
// output_half_pixel (opset 10's only mode) it spans [0, 3], the sample at
// (1.5, 1.5): 7.5. The adaptive grid (ceil(3/1) = 3 samples per axis) at
// 0.5, 1.5, 2.5 averages to 7.5 too. The max mode takes the largest
// weighted corner of each sample, as ONNX Runtime does: 0.25*10 = 2.5. The
// second region's batch index is outside the batch: zeros.
func TestRoiAlign(t *testing.T) {
	x := roiX()
	rois := NewFloat([]float32{0, 0, 3, 3, 0, 0, 3, 3}, 2, 4)
	b := NewInt([]int64{0, 5}, 2)
	tests := []struct {
		opset int64
		attrs []*onnx.Attribute
		want  float32
	}{
		{16, []*onnx.Attribute{attrInt("sampling_ratio", 1)}, 5},
		{16, []*onnx.Attribute{attrInt("sampling_ratio", 1), strAttr("coordinate_transformation_mode", "output_half_pixel")}, 7.5},
		{10, []*onnx.Attribute{attrInt("sampling_ratio", 1)}, 7.5},
		{10, nil, 7.5},
		{10, []*onnx.Attribute{attrInt("sampling_ratio", 1), strAttr("mode", "max")}, 2.5},
		// spatial_scale 0.5 halves the region to [0, 1.5] with half_pixel
		// [-0.5, 1]: the sample at (0.25, 0.25) reads 4*0.25+0.25.
		{16, []*onnx.Attribute{attrInt("sampling_ratio", 1), attrFloat("spatial_scale", 0.5)}, 1.25},
	}
	for _, tc := range tests {
		got := runModel(t, roiModel(t, tc.opset, tc.attrs...), x, rois, b)[0]
		if !equalShapes(got.Shape, []int{2, 1, 1, 1}) {
			t.Fatalf("shape %v", got.Shape)
		}
		compareFloats(t, got.F, []float32{tc.want, 0}, 1e-6)
	}
	// A 2x2 output of the region [0,0]-[2,2] (output_half_pixel), two
	// samples per bin: bin (0,0) samples 0.25 and 0.75 on each axis,
	// averaging (0.5, 0.5): 2.5; the others shift by 1 per bin.
	got := runModel(t, roiModel(t, 16, attrInt("output_height", 2), attrInt("output_width", 2), attrInt("sampling_ratio", 2), strAttr("coordinate_transformation_mode", "output_half_pixel")),
		x, NewFloat([]float32{0, 0, 2, 2, 0, 0, 2, 2}, 2, 4), NewInt([]int64{0, 0}, 2))[0]
	compareFloats(t, got.F, []float32{2.5, 3.5, 6.5, 7.5, 2.5, 3.5, 6.5, 7.5}, 1e-6)
	// Samples beyond [-1, h] have zero weight: a region far outside is 0,
	// and NaN or huge regions neither panic nor hang.
	got = runModel(t, roiModel(t, 16, attrInt("sampling_ratio", 1)), x, NewFloat([]float32{10, 10, 12, 12, 0, 0, 3e30, float32(nanF())}, 2, 4), NewInt([]int64{0, 0}, 2))[0]
	if got.F[0] != 0 {
		t.Fatalf("outside region gives %v", got.F[0])
	}
	runModel(t, roiModel(t, 16), x, NewFloat([]float32{0, 0, 3e30, 3e30, -3e30, float32(nanF()), 1, 1}, 2, 4), NewInt([]int64{0, 0}, 2))
}

func nanF() float64 {
	var z float64
	return z / z
}

func TestRoiAlignErrorsAndAllocs(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want string
	}{
		{"mode", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}, strAttr("mode", "sum")), "mode"},
		{"rois", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 5).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}), "rois [2 5]"},
		{"indices", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 3).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}), "batch_indices"},
		{"rank", newBuilder(16).input("x", 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}), "rank 4"},
		{"output", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}, attrInt("output_height", 0)), "must be positive"},
		{"huge", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}, attrInt("output_height", 1<<30), attrInt("output_width", 1<<30)), "too large"},
		{"ctm", newBuilder(16).input("x", 1, 1, 4, 4).input("r", 2, 4).inputOf("b", Int64, 2).node("RoiAlign", []string{"x", "r", "b"}, []string{"y"}, strAttr("coordinate_transformation_mode", "asymmetric")), "coordinate_transformation_mode"},
	}
	for _, tc := range tests {
		_, err := loadDecoded(tc.b.output("y").m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node" (RoiAlign)`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
	m := roiModel(t, 16, attrInt("output_height", 3), attrInt("output_width", 2))
	s := m.NewSession()
	in := []*Tensor{roiX(), NewFloat([]float32{0, 0, 3, 2, 1, 0.5, 2.5, 3}, 2, 4), NewInt([]int64{0, 0}, 2)}
	if _, err := s.Run(in); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(in) }); a != 0 {
		t.Fatalf("Run allocates %.0f times per call", a)
	}
}
