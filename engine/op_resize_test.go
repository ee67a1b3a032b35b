package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// resizeOracle is an independent port of the ONNX reference's resize
// (onnx/reference/ops/op_resize.py): a recursive 1-D interpolation over
// every axis, the coordinate computed per output element, the neighbours
// picked by sorting the indices of an edge-padded copy by distance.
type resizeOracle struct {
	mode, coord, nearest string
	a                    float64
	exclude, antialias   bool
	extrapolation        float64
	scales               []float64
	outSize              []int
	roi                  []float64 // starts then ends, one per axis
}

func (r *resizeOracle) coeffs(ratio, scale float64) []float64 {
	switch r.mode {
	case "nearest":
		if ratio == math.Floor(ratio) {
			return []float64{0, 1}
		}
		b := func(v bool) float64 {
			if v {
				return 1
			}
			return 0
		}
		switch r.nearest {
		case "round_prefer_ceil":
			return []float64{b(ratio < 0.5), b(ratio >= 0.5)}
		case "floor":
			return []float64{1, 0}
		case "ceil":
			return []float64{0, 1}
		}
		return []float64{b(ratio <= 0.5), b(ratio > 0.5)}
	case "linear":
		if !r.antialias {
			return []float64{1 - ratio, ratio}
		}
		scale = math.Min(scale, 1)
		start := int(math.Floor(-1/scale) + 1)
		var c []float64
		var sum float64
		for i := start; i < start+2-2*start; i++ {
			v := math.Max(0, math.Min(1, 1-math.Abs((float64(i)-ratio)*scale)))
			c = append(c, v)
			sum += v
		}
		for i := range c {
			c[i] /= sum
		}
		return c
	}
	a := r.a
	if !r.antialias {
		return []float64{
			((a*(ratio+1)-5*a)*(ratio+1)+8*a)*(ratio+1) - 4*a,
			((a+2)*ratio-(a+3))*ratio*ratio + 1,
			((a+2)*(1-ratio)-(a+3))*(1-ratio)*(1-ratio) + 1,
			((a*((1-ratio)+1)-5*a)*((1-ratio)+1)+8*a)*((1-ratio)+1) - 4*a,
		}
	}
	scale = math.Min(scale, 1)
	f := func(x float64) float64 {
		x = math.Abs(x)
		if x <= 1 {
			return (a+2)*x*x*x - (a+3)*x*x + 1
		}
		if x < 2 {
			return a*x*x*x - 5*a*x*x + 8*a*x - 4*a
		}
		return 0
	}
	start := int(math.Floor(-2/scale) + 1)
	var c []float64
	var sum float64
	for i := start; i < 2-start; i++ {
		c = append(c, f(scale*(float64(i)-ratio)))
		sum += c[len(c)-1]
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}

func (r *resizeOracle) interp1d(data []float64, scale float64, outInt int, x float64, roi [2]float64) float64 {
	in := len(data)
	outW := scale * float64(in)
	var xo float64
	switch r.coord {
	case "align_corners":
		if outW != 1 {
			xo = x * float64(in-1) / (outW - 1)
		}
	case "asymmetric":
		xo = x / scale
	case "tf_crop_and_resize":
		if outW == 1 {
			xo = (roi[1] - roi[0]) * float64(in-1) / 2
		} else {
			xo = x * (roi[1] - roi[0]) * float64(in-1) / (outW - 1)
		}
		xo += roi[0] * float64(in-1)
		if xo < 0 || xo > float64(in-1) {
			return r.extrapolation
		}
	case "pytorch_half_pixel":
		if outInt > 1 { // ONNX Runtime's 0 for a single output; the reference's -0.5 differs only for cubic
			xo = (x+0.5)/scale - 0.5
		}
	case "half_pixel_symmetric":
		adj := float64(outInt) / outW
		xo = float64(in)/2*(1-adj) + (x+0.5)/scale - 0.5
	case "tf_half_pixel_for_nn":
		xo = (x + 0.5) / scale
	default:
		xo = (x+0.5)/scale - 0.5
	}
	ratio := 1.0
	if xo != math.Floor(xo) {
		ratio = xo - math.Floor(xo)
	}
	c := r.coeffs(ratio, scale)
	n := len(c)
	pad := (n + 1) / 2
	padded := make([]float64, in+2*pad)
	for i := range padded {
		padded[i] = data[min(max(i-pad, 0), in-1)]
	}
	xp := xo + float64(pad)
	idx := make([]int, len(padded))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		di, dj := math.Abs(xp-float64(idx[i])), math.Abs(xp-float64(idx[j]))
		if di != dj {
			return di < dj
		}
		return idx[i] < idx[j]
	})
	idx = idx[:n]
	sort.Ints(idx)
	if r.exclude {
		var sum float64
		for i, j := range idx {
			if j-pad < 0 || j-pad >= in {
				c[i] = 0
			}
			sum += c[i]
		}
		for i := range c {
			c[i] /= sum
		}
	}
	var s float64
	for i, j := range idx {
		s += c[i] * padded[j]
	}
	return s
}

// interpND interpolates the tensor data of shape at output coordinate x.
func (r *resizeOracle) interpND(data []float64, shape []int, axis int, x []int) float64 {
	roi := [2]float64{0, 1}
	if r.roi != nil {
		roi = [2]float64{r.roi[axis], r.roi[len(shape)+axis]}
	}
	if axis == len(shape)-1 {
		return r.interp1d(data, r.scales[axis], r.outSize[axis], float64(x[axis]), roi)
	}
	inner := numel(shape[axis+1:])
	vals := make([]float64, shape[axis])
	for i := range vals {
		vals[i] = r.interpND(data[i*inner:(i+1)*inner], shape, axis+1, x)
	}
	return r.interp1d(vals, r.scales[axis], r.outSize[axis], float64(x[axis]), roi)
}

func (r *resizeOracle) run(x *Tensor) []float32 {
	data := make([]float64, len(x.F))
	for i, v := range x.F {
		data[i] = float64(v)
	}
	out := make([]float32, numel(r.outSize))
	pos := make([]int, len(r.outSize))
	for i := range out {
		rem := i
		for d := len(pos) - 1; d >= 0; d-- {
			pos[d] = rem % r.outSize[d]
			rem /= r.outSize[d]
		}
		out[i] = float32(r.interpND(data, x.Shape, 0, pos))
	}
	return out
}

// resizeCase is one Resize configuration.
type resizeCase struct {
	shape          []int
	mode, coord    string
	nearest        string
	a              float32
	exclude        bool
	antialias      bool
	scales         []float32
	sizes          []int64
	axes           []int
	policy         string
	roi            []float32
	extrapolation  float32
	opset          int64
	wantFast       bool
	noOracleReason string
}

func (c resizeCase) String() string {
	return fmt.Sprintf("%v_%s_%s_%s_a%g_ex%v_aa%v_sc%v_sz%v_ax%v_%s", c.shape, c.mode, c.coord, c.nearest, c.a, c.exclude, c.antialias, c.scales, c.sizes, c.axes, c.policy)
}

func (c resizeCase) model(t testing.TB) *Model {
	opset := c.opset
	if opset == 0 {
		opset = 19
	}
	attrs := []*onnx.Attribute{strAttr("mode", c.mode)}
	if c.coord != "" {
		attrs = append(attrs, strAttr("coordinate_transformation_mode", c.coord))
	}
	if c.nearest != "" {
		attrs = append(attrs, strAttr("nearest_mode", c.nearest))
	}
	if c.a != 0 {
		attrs = append(attrs, attrFloat("cubic_coeff_a", c.a))
	}
	if c.exclude {
		attrs = append(attrs, attrInt("exclude_outside", 1))
	}
	if c.antialias {
		attrs = append(attrs, attrInt("antialias", 1))
	}
	if c.axes != nil {
		attrs = append(attrs, attrInts("axes", c.axes...))
	}
	if c.policy != "" {
		attrs = append(attrs, strAttr("keep_aspect_ratio_policy", c.policy))
	}
	if c.extrapolation != 0 {
		attrs = append(attrs, attrFloat("extrapolation_value", c.extrapolation))
	}
	b := newBuilder(opset).input("x", c.shape...)
	ins := []string{"x", "", "", ""}
	if c.roi != nil {
		b.init("roi", c.roi, len(c.roi))
		ins[1] = "roi"
	}
	if c.scales != nil {
		b.init("scales", c.scales, len(c.scales))
		ins[2] = "scales"
	} else {
		b.initInts("sizes", c.sizes, len(c.sizes))
		ins[3] = "sizes"
	}
	for len(ins) > 1 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	return b.node("Resize", ins, []string{"y"}, attrs...).output("y").load(t, Options{})
}

// oracle returns the reference port's settings for the case, expanding
// axes, sizes and the aspect ratio policy as the reference does.
func (c resizeCase) oracle() *resizeOracle {
	rank := len(c.shape)
	r := &resizeOracle{mode: c.mode, coord: c.coord, nearest: c.nearest, a: -0.75, exclude: c.exclude, antialias: c.antialias, extrapolation: float64(c.extrapolation)}
	if r.coord == "" {
		r.coord = "half_pixel"
	}
	if c.a != 0 {
		r.a = float64(c.a)
	}
	var axes []int
	for _, d := range c.axes {
		axes = append(axes, (d+rank)%rank)
	}
	if axes == nil {
		for i := 0; i < rank; i++ {
			axes = append(axes, i)
		}
	}
	r.scales = make([]float64, rank)
	r.outSize = append([]int(nil), c.shape...)
	for i := range r.scales {
		r.scales[i] = 1
	}
	if c.roi != nil {
		r.roi = make([]float64, 2*rank)
		for i := 0; i < rank; i++ {
			r.roi[rank+i] = 1
		}
		for i, d := range axes {
			r.roi[d], r.roi[rank+d] = float64(c.roi[i]), float64(c.roi[len(axes)+i])
		}
	}
	if c.scales != nil {
		for i, d := range axes {
			r.scales[d] = float64(c.scales[i])
			r.outSize[d] = int(float64(c.scales[i]) * float64(c.shape[d]))
		}
		return r
	}
	for i, d := range axes {
		r.outSize[d] = int(c.sizes[i])
		r.scales[d] = float64(c.sizes[i]) / float64(c.shape[d])
	}
	if c.policy == "not_larger" || c.policy == "not_smaller" {
		s := r.scales[axes[0]]
		for _, d := range axes {
			if c.policy == "not_larger" {
				s = math.Min(s, r.scales[d])
			} else {
				s = math.Max(s, r.scales[d])
			}
		}
		for _, d := range axes {
			r.scales[d] = s
			r.outSize[d] = int(s*float64(c.shape[d]) + 0.5)
		}
	}
	return r
}

func TestResizeMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	cases := []resizeCase{
		{shape: []int{1, 1, 4, 4}, mode: "linear", scales: []float32{1, 1, 0.6, 0.6}, antialias: true},
		{shape: []int{1, 1, 4, 4}, mode: "cubic", scales: []float32{1, 1, 0.6, 0.6}, antialias: true},
		{shape: []int{1, 1, 7, 9}, mode: "cubic", sizes: []int64{1, 1, 3, 4}, antialias: true, exclude: true, a: -0.5},
		{shape: []int{2, 3, 5, 6}, mode: "linear", sizes: []int64{2, 3, 11, 3}, antialias: true},
		{shape: []int{1, 2, 4, 5}, mode: "linear", sizes: []int64{3, 3}, axes: []int{2, 3}, policy: "not_larger"},
		{shape: []int{1, 2, 4, 5}, mode: "nearest", sizes: []int64{3, 3}, axes: []int{-1, -2}, policy: "not_smaller"},
		{shape: []int{1, 1, 4, 4}, mode: "linear", coord: "tf_crop_and_resize", roi: []float32{0.6, 0.4, 0.8, 0.6}, sizes: []int64{3, 3}, axes: []int{3, 2}},
		{shape: []int{1, 1, 4, 4}, mode: "cubic", coord: "tf_crop_and_resize", roi: []float32{0, 0, 0.4, 0.6, 1, 1, 1.3, 1.7}, sizes: []int64{1, 1, 5, 3}, extrapolation: 10},
		{shape: []int{1, 1, 4, 4}, mode: "nearest", coord: "tf_crop_and_resize", roi: []float32{0, 0, -0.2, 0.6, 1, 1, 1.3, 1.2}, sizes: []int64{1, 1, 5, 3}, extrapolation: -3},
		{shape: []int{1, 1, 5, 4}, mode: "linear", coord: "half_pixel_symmetric", scales: []float32{1, 1, 1.37, 0.61}},
		{shape: []int{1, 1, 5, 4}, mode: "nearest", coord: "half_pixel_symmetric", scales: []float32{1, 1, 2.37, 0.61}, nearest: "ceil"},
		{shape: []int{3, 4, 5}, mode: "linear", coord: "align_corners", scales: []float32{1.5, 0.75, 1.4}},              // trilinear
		{shape: []int{2, 3, 4, 5, 3}, mode: "cubic", coord: "asymmetric", sizes: []int64{2, 3, 6, 3, 5}, exclude: true}, // 3-D cubic
		{shape: []int{7}, mode: "cubic", coord: "pytorch_half_pixel", sizes: []int64{1}},
		{shape: []int{1, 1, 1, 6}, mode: "linear", coord: "align_corners", sizes: []int64{1, 1, 1, 1}},
	}
	modes := []string{"nearest", "linear", "cubic"}
	coords := []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"}
	nearests := []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
	for i := 0; i < 60; i++ {
		c := resizeCase{mode: modes[rng.IntN(3)], coord: coords[rng.IntN(len(coords))]}
		rank := 1 + rng.IntN(4)
		for d := 0; d < rank; d++ {
			c.shape = append(c.shape, 1+rng.IntN(6))
		}
		if c.mode == "nearest" {
			c.nearest = nearests[rng.IntN(4)]
		} else {
			c.antialias = rng.IntN(3) == 0
			c.exclude = c.mode == "cubic" && rng.IntN(2) == 0
		}
		if c.mode == "cubic" && rng.IntN(2) == 0 {
			c.a = -0.5
		}
		if rng.IntN(2) == 0 {
			for _, d := range c.shape {
				c.sizes = append(c.sizes, int64(1+rng.IntN(2*d+2)))
			}
		} else {
			for range c.shape {
				c.scales = append(c.scales, float32(0.3+rng.Float64()*2.5))
			}
			for d, s := range c.scales {
				if int(float64(s)*float64(c.shape[d])) == 0 {
					c.scales[d] = 1
				}
			}
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			m := c.model(t)
			r := c.oracle()
			x := NewFloat(randFloats(rng, numel(c.shape)), c.shape...)
			got, err := m.NewSession().RunWith([]*Tensor{x}, referenceSelector{m})
			if err != nil {
				t.Fatal(err)
			}
			if !equalShapes(got[0].Shape, r.outSize) {
				t.Fatalf("shape %v, want %v", got[0].Shape, r.outSize)
			}
			compareFloats(t, got[0].F, r.run(x), 1e-5)
			checkAgainstReference(t, m, []*Tensor{x}, 1e-5)
		})
	}
}

// TestResizeAntialiasByHand pins a 1-D antialiased downsampling worked
// out by hand: [1 2 3 4] to 2 with half_pixel puts output 0 at 0.5; the
// triangle filter stretched by 2 covers taps -1..2 at distances
// 1.5, 0.5, 0.5, 1.5, weights 0.25 0.75 0.75 0.25 over 2, the tap -1 being
// the edge: 0.125*1 + 0.375*1 + 0.375*2 + 0.125*3 = 1.625; output 1 at
// 2.5 gives 0.125*2 + 0.375*3 + 0.375*4 + 0.125*4 = 3.375. Without
// antialias the outputs are the plain interpolations 1.5 and 3.5.
func TestResizeAntialiasByHand(t *testing.T) {
	x := NewFloat([]float32{1, 2, 3, 4}, 4)
	for _, tc := range []struct {
		aa   bool
		want []float32
	}{{true, []float32{1.625, 3.375}}, {false, []float32{1.5, 3.5}}} {
		m := resizeCase{shape: []int{4}, mode: "linear", scales: []float32{0.5}, antialias: tc.aa}.model(t)
		compareFloats(t, runModel(t, m, x)[0].F, tc.want, 1e-6)
	}
	// The expected outputs of ONNX's (opset 18) backend tests
	// test_resize_downsample_scales_{linear,cubic}_antialias: 1..16 as 4x4,
	// scales 0.6.
	x = NewFloat([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 1, 1, 4, 4)
	for _, tc := range []struct {
		mode string
		want []float32
	}{{"linear", []float32{2.875, 4.5, 9.375, 11}}, {"cubic", []float32{2.5180721, 4.2858863, 9.589329, 11.357142}}} {
		m := resizeCase{shape: []int{1, 1, 4, 4}, mode: tc.mode, scales: []float32{1, 1, 0.6, 0.6}, antialias: true}.model(t)
		compareFloats(t, runModel(t, m, x)[0].F, tc.want, 1e-6)
	}
}

// TestResizeLegacy pins Upsample (opsets 7 and 9) and Resize-10: the
// asymmetric transform and ONNX Runtime's nearest rounding, down when
// upsampling and up when downsampling.
func TestResizeLegacy(t *testing.T) {
	x := NewFloat([]float32{1, 2, 3, 4, 5, 6}, 1, 6)
	// Upsample-7, scales attribute, nearest x1.5: outputs 0..8 read
	// floor(o/1.5) = 0 0 1 2 2 3 4 4 5.
	m := newBuilder(7).input("x", 1, 6).
		node("Upsample", []string{"x"}, []string{"y"}, &onnx.Attribute{Name: "scales", Type: 6, Floats: []float32{1, 1.5}}).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, x)[0].F, []float32{1, 1, 2, 3, 3, 4, 5, 5, 6}, 0)
	// Upsample-9 linear x2: asymmetric, o/2: 1 1.5 2 ... 6 6 (the last
	// clamps to the edge).
	m = newBuilder(9).input("x", 1, 6).init("s", []float32{1, 2}, 2).
		node("Upsample", []string{"x", "s"}, []string{"y"}, strAttr("mode", "linear")).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, x)[0].F, []float32{1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6}, 1e-6)
	// Resize-10 nearest x0.5: ceil(o/0.5) = 0 2 4; nearest_mode is ignored.
	m = newBuilder(10).input("x", 1, 6).init("s", []float32{1, 0.5}, 2).
		node("Resize", []string{"x", "s"}, []string{"y"}, strAttr("nearest_mode", "floor")).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, x)[0].F, []float32{1, 3, 5}, 0)
}

func TestResizeNearestIntegers(t *testing.T) {
	b := newBuilder(13).inputOf("x", Uint8, 1, 1, 2, 3).init("s", []float32{1, 1, 2, 1.5}, 4).
		node("Resize", []string{"x", "", "s"}, []string{"y"}, strAttr("nearest_mode", "floor"), strAttr("coordinate_transformation_mode", "asymmetric")).output("y")
	m := b.load(t, Options{})
	x := &Tensor{DType: Uint8, Shape: []int{1, 1, 2, 3}, I: []int64{1, 2, 3, 4, 5, 6}}
	got := runModel(t, m, x)[0]
	want := []int64{1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6, 4, 4, 5, 6}
	for i, v := range want {
		if got.I[i] != v {
			t.Fatalf("got %v, want %v", got.I, want)
		}
	}
	if _, fast := m.steps[0].kernel.(*resize2DKernel); !fast {
		t.Error("integer nearest does not use the fast kernel")
	}
	ref, err := m.NewSession().RunWith([]*Tensor{x}, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		if ref[0].I[i] != v {
			t.Fatalf("reference %v, want %v", ref[0].I, want)
		}
	}
}

func TestResizeFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	coords := []string{"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"}
	nearests := []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
	var cases []resizeCase
	cases = append(cases,
		resizeCase{shape: []int{1, 3, 8, 8}, mode: "linear", scales: []float32{1, 1, 2, 2}, wantFast: true},
		resizeCase{shape: []int{1, 3, 8, 8}, mode: "nearest", scales: []float32{1, 1, 2, 2}, coord: "asymmetric", nearest: "floor", wantFast: true},
		resizeCase{shape: []int{2, 4, 9, 7}, mode: "linear", sizes: []int64{2, 4, 4, 15}, coord: "align_corners", wantFast: true},
		resizeCase{shape: []int{5, 7}, mode: "linear", sizes: []int64{5, 3}, wantFast: true}, // only columns
		resizeCase{shape: []int{2, 3, 5, 7}, mode: "linear", sizes: []int64{7, 7}, axes: []int{2, 3}, wantFast: true},
		resizeCase{shape: []int{1, 3, 8, 8}, mode: "linear", scales: []float32{1, 1, 0.5, 0.5}, antialias: true},                                                      // antialias: reference
		resizeCase{shape: []int{1, 3, 8, 8}, mode: "linear", scales: []float32{1, 1, 2, 2}, antialias: true, wantFast: true},                                          // upsampling: no antialias
		resizeCase{shape: []int{2, 3, 4}, mode: "linear", scales: []float32{1, 2, 2}, wantFast: true},                                                                 // rank 3
		resizeCase{shape: []int{2, 3, 4}, mode: "linear", scales: []float32{2, 1, 2}},                                                                                 // a leading axis changes
		resizeCase{shape: []int{1, 1, 4, 4}, mode: "cubic", scales: []float32{1, 1, 2, 2}},                                                                            // cubic: reference
		resizeCase{shape: []int{1, 1, 4, 4}, mode: "linear", coord: "tf_crop_and_resize", sizes: []int64{1, 1, 3, 3}, roi: []float32{0, 0, 0.2, 0.2, 1, 1, 0.8, 0.8}}, // crop: reference
	)
	for i := 0; i < 30; i++ {
		c := resizeCase{mode: "linear", coord: coords[rng.IntN(len(coords))], wantFast: true}
		if rng.IntN(2) == 0 {
			c.mode, c.nearest = "nearest", nearests[rng.IntN(4)]
		}
		c.shape = []int{1 + rng.IntN(2), 1 + rng.IntN(3), 1 + rng.IntN(9), 1 + rng.IntN(9)}
		c.sizes = []int64{int64(c.shape[0]), int64(c.shape[1]), int64(1 + rng.IntN(17)), int64(1 + rng.IntN(17))}
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			m := c.model(t)
			_, fast := m.steps[0].kernel.(*resize2DKernel)
			if fast != c.wantFast {
				t.Fatalf("fast kernel %v, want %v", fast, c.wantFast)
			}
			x := NewFloat(randFloats(rng, numel(c.shape)), c.shape...)
			checkAgainstReference(t, m, []*Tensor{x}, 1e-5)
		})
	}
	// Infinities stay infinite through single taps (an output on an input
	// sample), and NaN spreads only to the outputs that read it.
	m := resizeCase{shape: []int{1, 1, 2, 3}, mode: "linear", scales: []float32{1, 1, 1, 2}, coord: "align_corners", wantFast: true}.model(t)
	inf := float32(math.Inf(1))
	x := NewFloat([]float32{inf, 1, 2, 3, 4, float32(math.NaN())}, 1, 1, 2, 3)
	got := runModel(t, m, x)[0].F
	if !math.IsInf(float64(got[0]), 1) || !math.IsNaN(float64(got[len(got)-1])) || math.IsNaN(float64(got[6])) {
		t.Fatalf("got %v", got)
	}
}

func TestResizeRunAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	b := newBuilder(19).input("x", 1, 3, 6, 6).init("s1", []float32{1, 1, 2, 2}, 4).init("s2", []float32{1, 1, 0.5, 0.5}, 4).
		init("s3", []float32{1, 1, 1.5, 1.5}, 4).
		node("Resize", []string{"x", "", "s1"}, []string{"a"}, strAttr("mode", "linear")).
		node("Resize", []string{"a", "", "s2"}, []string{"b"}, strAttr("mode", "nearest")).
		node("Resize", []string{"b", "", "s3"}, []string{"c"}, strAttr("mode", "cubic")).
		node("Resize", []string{"c", "", "s2"}, []string{"y"}, strAttr("mode", "linear"), attrInt("antialias", 1)).output("y")
	m := b.load(t, Options{Threads: 2})
	s := m.NewSession()
	x := []*Tensor{NewFloat(randFloats(rng, 3*36), 1, 3, 6, 6)}
	if _, err := s.Run(x); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(x) }); a != 0 {
		t.Fatalf("Run allocates %.0f times per call", a)
	}
}

func TestResizeErrors(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want string
	}{
		{"mode", newBuilder(13).input("x", 1, 4).init("s", []float32{1, 2}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}, strAttr("mode", "area")), "mode"},
		{"coord", newBuilder(13).input("x", 1, 4).init("s", []float32{1, 2}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}, strAttr("coordinate_transformation_mode", "corner")), "coordinate_transformation_mode"},
		{"nearest", newBuilder(13).input("x", 1, 4).init("s", []float32{1, 2}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}, strAttr("nearest_mode", "up")), "nearest_mode"},
		{"scales count", newBuilder(13).input("x", 1, 4).init("s", []float32{2}, 1).node("Resize", []string{"x", "", "s"}, []string{"y"}), "scales has 1 entries"},
		{"zero scale", newBuilder(13).input("x", 1, 4).init("s", []float32{1, 0}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}), "positive"},
		{"NaN scale", newBuilder(13).input("x", 1, 4).init("s", []float32{1, float32(math.NaN())}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}), "positive"},
		{"huge scale", newBuilder(13).input("x", 1, 4).init("s", []float32{1e30, 1e30}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}), "too large"},
		{"huge sizes", newBuilder(13).input("x", 1, 4).initInts("s", []int64{1 << 30, 1 << 30}, 2).node("Resize", []string{"x", "", "", "s"}, []string{"y"}), "too large"},
		{"negative size", newBuilder(13).input("x", 1, 4).initInts("s", []int64{1, -2}, 2).node("Resize", []string{"x", "", "", "s"}, []string{"y"}), "non-negative"},
		{"both", newBuilder(13).input("x", 1, 4).init("s", []float32{1, 2}, 2).initInts("z", []int64{1, 8}, 2).node("Resize", []string{"x", "", "s", "z"}, []string{"y"}), "both scales and sizes"},
		{"neither", newBuilder(13).input("x", 1, 4).node("Resize", []string{"x"}, []string{"y"}), "neither"},
		{"axes", newBuilder(18).input("x", 1, 4).init("s", []float32{2}, 1).node("Resize", []string{"x", "", "s"}, []string{"y"}, attrInts("axes", 2)), "axes 2 is out of range"},
		{"repeated axes", newBuilder(18).input("x", 1, 4).init("s", []float32{2, 2}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}, attrInts("axes", 1, -1)), "repeat"},
		{"policy", newBuilder(18).input("x", 1, 4).initInts("s", []int64{1, 8}, 2).node("Resize", []string{"x", "", "", "s"}, []string{"y"}, strAttr("keep_aspect_ratio_policy", "fit")), "keep_aspect_ratio_policy"},
		{"roi", newBuilder(13).input("x", 1, 4).init("r", []float32{0, 1}, 2).initInts("s", []int64{1, 8}, 2).node("Resize", []string{"x", "r", "", "s"}, []string{"y"}, strAttr("coordinate_transformation_mode", "tf_crop_and_resize")), "roi has 2 entries"},
		{"upsample below 1", newBuilder(9).input("x", 1, 4).init("s", []float32{1, 0.5}, 2).node("Upsample", []string{"x", "s"}, []string{"y"}), "at least 1"},
		{"int linear", newBuilder(13).inputOf("x", Int32, 1, 4).init("s", []float32{1, 2}, 2).node("Resize", []string{"x", "", "s"}, []string{"y"}, strAttr("mode", "linear")), "unsupported Resize/linear mode on INT32"},
	}
	for _, tc := range tests {
		_, err := loadDecoded(tc.b.output("y").m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node"`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
	// scales computed at run time must be bound.
	b := newBuilder(13).input("x", 1, 4).input("s", 2).node("Resize", []string{"x", "", "s"}, []string{"y"}).output("y")
	_, err := loadDecoded(b.m, "", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a ConstantInputError", err)
	}
}
