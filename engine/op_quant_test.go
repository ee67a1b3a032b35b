package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// typedInput declares a graph input of type dt.
func (b *builder) typedInput(name string, dt DType, shape ...int) *builder {
	b.input(name, shape...)
	b.m.Graph.Inputs[len(b.m.Graph.Inputs)-1].ElemType = int32(dt)
	return b
}

// typedInit adds an integer initializer of type dt.
func (b *builder) typedInit(name string, dt DType, data []int64, shape ...int) *builder {
	b.initInts(name, data, shape...)
	b.m.Graph.Initializers[len(b.m.Graph.Initializers)-1].DataType = int32(dt)
	return b
}

// floatInit adds a floating-point initializer of type dt.
func (b *builder) floatInit(name string, dt DType, data []float32, shape ...int) *builder {
	b.init(name, data, shape...)
	b.m.Graph.Initializers[len(b.m.Graph.Initializers)-1].DataType = int32(dt)
	return b
}

func intTensor(dt DType, data []int64, shape ...int) *Tensor {
	t := NewInt(data, shape...)
	t.DType = dt
	return t
}

// randInts returns n values in [lo, hi].
func randInts(rng *rand.Rand, n int, lo, hi int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = lo + rng.Int64N(hi-lo+1)
	}
	return out
}

// runBoth runs m with its fast kernels (with threads) and its reference
// kernels and requires bit-identical outputs.
func runBoth(t *testing.T, m *Model, threads int, inputs []*Tensor, what string) []*Tensor {
	t.Helper()
	s := m.NewSession()
	defer s.Close()
	fast, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.NewSession().RunWith(inputs, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	for o := range ref {
		if fast[o].DType.IsInt() {
			for i := range ref[o].I {
				if fast[o].I[i] != ref[o].I[i] {
					t.Fatalf("%s (threads %d): output %d element %d: fast %d, reference %d", what, threads, o, i, fast[o].I[i], ref[o].I[i])
				}
			}
			continue
		}
		for i := range ref[o].F {
			if math.Float32bits(fast[o].F[i]) != math.Float32bits(ref[o].F[i]) {
				t.Fatalf("%s: output %d element %d: fast %v, reference %v", what, o, i, fast[o].F[i], ref[o].F[i])
			}
		}
	}
	return fast
}

// intMatMulCase is one integer matrix product.
type intMatMulCase struct {
	batch   []int
	m, k, n int
	aT, bT  DType
	aZP     string // "", "tensor", "row" (one per row of A)
	bZP     string // "", "tensor", "col"
	bVals   string // "centered" (within 127 of the zero point), "random", "full" (every column spans all 256 codes)
	aSmall  bool   // A+shift below 128: no top-bit product
	zpInput bool   // zero points fed at run time
	qlinear bool
	aRank1  bool
	threads int
}

func (c intMatMulCase) String() string {
	return fmt.Sprintf("%v_%dx%dx%d_%v%v_za%s_zb%s_%s_small%v_in%v_q%v_r1%v_t%d", c.batch, c.m, c.k, c.n, c.aT, c.bT, c.aZP, c.bZP, c.bVals, c.aSmall, c.zpInput, c.qlinear, c.aRank1, c.threads)
}

func typeRange(dt DType) (int64, int64) {
	lo, hi, _ := quantRange(dt)
	return lo, hi
}

// intMatMulModel builds the case's model and inputs.
func intMatMulModel(t *testing.T, c intMatMulCase, rng *rand.Rand) (*Model, []*Tensor) {
	aShape := append(append([]int(nil), c.batch...), c.m, c.k)
	if c.aRank1 {
		aShape = []int{c.k}
	}
	alo, ahi := typeRange(c.aT)
	blo, bhi := typeRange(c.bT)
	a := randInts(rng, numel(aShape), alo, ahi)
	if c.aSmall {
		for i := range a {
			a[i] = alo + rng.Int64N(128)
		}
	}
	var za, zb []int64
	var zaShape, zbShape []int
	switch c.aZP {
	case "tensor":
		za, zaShape = randInts(rng, 1, alo, ahi), []int{}
	case "row":
		za, zaShape = randInts(rng, c.m, alo, ahi), []int{c.m}
	}
	switch c.bZP {
	case "tensor":
		zb, zbShape = randInts(rng, 1, blo, bhi), []int{1}
	case "col":
		zb, zbShape = randInts(rng, c.n, blo, bhi), []int{c.n}
	}
	b := make([]int64, c.k*c.n)
	for kk := 0; kk < c.k; kk++ {
		for j := 0; j < c.n; j++ {
			v := blo + rng.Int64N(bhi-blo+1)
			switch c.bVals {
			case "centered":
				var z int64
				if zb != nil {
					z = zb[min(j, len(zb)-1)]
				}
				v = min(max(z+rng.Int64N(255)-127, blo), bhi)
			case "full":
				switch kk {
				case 0:
					v = blo
				case 1:
					v = bhi
				}
			}
			b[kk*c.n+j] = v
		}
	}
	bl := newBuilder(13).typedInput("a", c.aT, aShape...).typedInit("b", c.bT, b, c.k, c.n)
	inputs := []*Tensor{intTensor(c.aT, a, aShape...)}
	zpName := func(name string, dt DType, v []int64, shape []int) string {
		if v == nil {
			return ""
		}
		if c.zpInput {
			bl.typedInput(name, dt, shape...)
			inputs = append(inputs, intTensor(dt, v, shape...))
		} else {
			bl.typedInit(name, dt, v, shape...)
		}
		return name
	}
	if !c.qlinear {
		ins := []string{"a", "b", zpName("za", c.aT, za, zaShape), zpName("zb", c.bT, zb, zbShape)}
		for len(ins) > 2 && ins[len(ins)-1] == "" {
			ins = ins[:len(ins)-1]
		}
		bl.node("MatMulInteger", ins, []string{"y"}).output("y")
	} else {
		if za == nil {
			za, zaShape = []int64{0}, []int{}
		}
		if zb == nil {
			zb, zbShape = []int64{0}, []int{}
		}
		as := make([]float32, max(1, numel(zaShape)))
		for i := range as {
			as[i] = 0.01 + rng.Float32()*0.05
		}
		bs := make([]float32, max(1, numel(zbShape)))
		for i := range bs {
			bs[i] = 0.001 + rng.Float32()*0.01
		}
		yT := c.aT
		ylo, yhi := typeRange(yT)
		bl.init("as", as, zaShape...).init("bs", bs, zbShape...).init("ys", []float32{0.02 + rng.Float32()*0.5}).
			typedInit("yz", yT, randInts(rng, 1, ylo, yhi))
		bl.node("QLinearMatMul", []string{"a", "as", zpName("za", c.aT, za, zaShape), "b", "bs", zpName("zb", c.bT, zb, zbShape), "ys", "yz"}, []string{"y"}).output("y")
	}
	return bl.load(t, Options{Threads: c.threads}), inputs
}

func TestIntMatMulFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var cases []intMatMulCase
	for _, types := range [][2]DType{{Uint8, Uint8}, {Uint8, Int8}, {Int8, Int8}, {Int8, Uint8}} {
		for _, bVals := range []string{"centered", "random", "full"} {
			for _, zps := range [][2]string{{"", ""}, {"tensor", "tensor"}, {"row", "col"}, {"tensor", "col"}} {
				cases = append(cases, intMatMulCase{m: 7, k: 33, n: 19, aT: types[0], bT: types[1], aZP: zps[0], bZP: zps[1], bVals: bVals})
			}
		}
		cases = append(cases,
			intMatMulCase{m: 5, k: 16, n: 16, aT: types[0], bT: types[1], aZP: "tensor", bZP: "col", bVals: "centered", aSmall: true},
			intMatMulCase{batch: []int{2, 3}, m: 4, k: 70, n: 11, aT: types[0], bT: types[1], aZP: "tensor", bZP: "tensor", bVals: "random", zpInput: true},
			intMatMulCase{m: 1, k: 300, n: 40, aT: types[0], bT: types[1], aZP: "tensor", bZP: "col", bVals: "centered", qlinear: true},
			intMatMulCase{batch: []int{3}, m: 9, k: 45, n: 20, aT: types[0], bT: types[1], aZP: "row", bZP: "col", bVals: "random", qlinear: true, zpInput: true},
			intMatMulCase{m: 6, k: 64, n: 33, aT: types[0], bT: types[1], aZP: "tensor", bZP: "tensor", bVals: "full", qlinear: true},
			intMatMulCase{m: 1, k: 17, n: 5, aT: types[0], bT: types[1], aZP: "tensor", bZP: "col", bVals: "random", aRank1: true},
			intMatMulCase{m: 40, k: 129, n: 50, aT: types[0], bT: types[1], aZP: "tensor", bZP: "col", bVals: "random", threads: 2},
			intMatMulCase{m: 40, k: 129, n: 50, aT: types[0], bT: types[1], aZP: "tensor", bZP: "col", bVals: "centered", qlinear: true, threads: 2},
			intMatMulCase{m: 3, k: 0, n: 4, aT: types[0], bT: types[1], aZP: "tensor", bZP: "tensor", bVals: "random"},
		)
	}
	for _, c := range cases {
		m, inputs := intMatMulModel(t, c, rng)
		k, ok := m.steps[len(m.steps)-1].kernel.(*intDenseKernel)
		if !ok {
			t.Fatalf("%v: the fast kernel was not planned", c)
		}
		if split := k.w.nch - k.w.ch; c.bVals == "full" && c.k > 1 && split != c.n || c.bVals == "centered" && split != 0 {
			t.Fatalf("%v: %d channels split", c, split)
		}
		runBoth(t, m, c.threads, inputs, c.String())
	}
}

// TestIntMatMulWraps checks sums beyond int32: the result wraps as an int32
// accumulator does (the spec's "accumulation may overflow if and only if in
// 32 bits").
func TestIntMatMulWraps(t *testing.T) {
	k := 70000 // 70000 * 255 * 255 > 2^31
	a := make([]int64, k)
	b := make([]int64, k)
	for i := range a {
		a[i], b[i] = 255, 255
	}
	m := newBuilder(13).typedInput("a", Uint8, 1, k).typedInit("b", Uint8, b, k, 1).
		node("MatMulInteger", []string{"a", "b"}, []string{"y"}).output("y").load(t, Options{})
	out := runBoth(t, m, 1, []*Tensor{intTensor(Uint8, a, 1, k)}, "wrap")
	if want := int64(int32(int64(k) * 255 * 255)); out[0].I[0] != want {
		t.Fatalf("got %d, want %d", out[0].I[0], want)
	}
}

// TestIntMatMulByHand pins values computed by hand: MatMulInteger with a
// per-row A zero point and a per-column B zero point, and QLinearMatMul's
// rounding (half to even) and saturation.
func TestIntMatMulByHand(t *testing.T) {
	// A = [[1 2] [3 4]], za = [1 2] per row; B = [[5 6] [7 8]], zb = [5 0].
	// A-za = [[0 1] [1 2]]; B-zb = [[0 6] [2 8]];
	// Y = [[0*0+1*2, 0*6+1*8] [1*0+2*2, 1*6+2*8]] = [[2 8] [4 22]].
	m := newBuilder(10).typedInput("a", Uint8, 2, 2).typedInit("b", Uint8, []int64{5, 6, 7, 8}, 2, 2).
		typedInit("za", Uint8, []int64{1, 2}, 2).typedInit("zb", Uint8, []int64{5, 0}, 2).
		node("MatMulInteger", []string{"a", "b", "za", "zb"}, []string{"y"}).output("y").load(t, Options{})
	out := runBoth(t, m, 1, []*Tensor{intTensor(Uint8, []int64{1, 2, 3, 4}, 2, 2)}, "by hand")
	if got := fmt.Sprint(out[0].I); got != "[2 8 4 22]" || out[0].DType != Int32 {
		t.Fatalf("MatMulInteger: %v %v, want INT32 [2 8 4 22]", out[0].DType, got)
	}
	// QLinearMatMul: a = [1 1 1 1] (za 0) against b columns summing to
	// 5, 7, -9, 300 (int8, zb 0... 300 needs four rows of 75); scales 1,
	// 1, y_scale 2, y zero point 10 (uint8): 5/2 = 2.5 -> 2, 7/2 = 3.5 -> 4,
	// -9/2 = -4.5 -> -4, 300/2 = 150 -> 160 saturates at 255? 150+10 = 160.
	b := []int64{
		1, 1, -3, 75,
		1, 2, -2, 75,
		1, 2, -2, 75,
		2, 2, -2, 75,
	}
	q := newBuilder(10).typedInput("a", Uint8, 1, 4).init("as", []float32{1}).typedInit("za", Uint8, []int64{0}).
		typedInit("b", Int8, b, 4, 4).init("bs", []float32{1}).typedInit("zb", Int8, []int64{0}).
		init("ys", []float32{2}).typedInit("yz", Uint8, []int64{10}).
		node("QLinearMatMul", []string{"a", "as", "za", "b", "bs", "zb", "ys", "yz"}, []string{"y"}).output("y").load(t, Options{})
	out = runBoth(t, q, 1, []*Tensor{intTensor(Uint8, []int64{1, 1, 1, 1}, 1, 4)}, "qlinear by hand")
	if got := fmt.Sprint(out[0].I); got != "[12 14 6 160]" {
		t.Fatalf("QLinearMatMul: %v, want [12 14 6 160]", got)
	}
	out = runBoth(t, q, 1, []*Tensor{intTensor(Uint8, []int64{2, 2, 2, 2}, 1, 4)}, "qlinear saturating")
	// 10/2 = 5 -> 15, 14/2 = 7 -> 17, -18/2 = -9 -> 1, 600/2 = 300 -> 255.
	if got := fmt.Sprint(out[0].I); got != "[15 17 1 255]" {
		t.Fatalf("QLinearMatMul: %v, want [15 17 1 255]", got)
	}
}

// intConvCase is one integer convolution.
type intConvCase struct {
	conv    convCase // geometry (c.bias adds QLinearConv's int32 bias)
	batch   int
	xT, wT  DType
	wZP     string // "", "tensor", "chan"
	wVals   string // "centered", "random", "full"
	xSmall  bool
	zpInput bool
	qlinear bool
	threads int
}

func (c intConvCase) String() string {
	return fmt.Sprintf("%v_n%d_%v%v_zw%s_%s_small%v_in%v_q%v_t%d", c.conv, c.batch, c.xT, c.wT, c.wZP, c.wVals, c.xSmall, c.zpInput, c.qlinear, c.threads)
}

func intConvModel(t *testing.T, c intConvCase, rng *rand.Rand) (*Model, []*Tensor) {
	g := c.conv
	oneD := g.h == 0
	inShape := []int{c.batch, g.c, g.h, g.w}
	wShape := []int{g.m, g.c / g.group, g.kh, g.kw}
	attrs := []*onnx.Attribute{attrInt("group", g.group)}
	if oneD {
		inShape = []int{c.batch, g.c, g.w}
		wShape = []int{g.m, g.c / g.group, g.kw}
		attrs = append(attrs, attrInts("strides", g.sw), attrInts("dilations", g.dw))
	} else {
		attrs = append(attrs, attrInts("strides", g.sh, g.sw), attrInts("dilations", g.dh, g.dw))
	}
	if g.autoPad != "" {
		attrs = append(attrs, &onnx.Attribute{Name: "auto_pad", Type: 3, S: []byte(g.autoPad)})
	} else if g.pads != nil {
		attrs = append(attrs, attrInts("pads", g.pads...))
	}
	xlo, xhi := typeRange(c.xT)
	wlo, whi := typeRange(c.wT)
	x := randInts(rng, numel(inShape), xlo, xhi)
	if c.xSmall {
		for i := range x {
			x[i] = xlo + rng.Int64N(128)
		}
	}
	zx := randInts(rng, 1, xlo, xhi)
	var zw []int64
	var zwShape []int
	switch c.wZP {
	case "tensor":
		zw, zwShape = randInts(rng, 1, wlo, whi), []int{}
	case "chan":
		zw, zwShape = randInts(rng, g.m, wlo, whi), []int{g.m}
	}
	per := numel(wShape) / g.m
	w := make([]int64, numel(wShape))
	for oc := 0; oc < g.m; oc++ {
		for i := 0; i < per; i++ {
			v := wlo + rng.Int64N(whi-wlo+1)
			switch c.wVals {
			case "centered":
				var z int64
				if zw != nil {
					z = zw[min(oc, len(zw)-1)]
				}
				v = min(max(z+rng.Int64N(255)-127, wlo), whi)
			case "full":
				switch i {
				case 0:
					v = wlo
				case 1:
					v = whi
				}
			}
			w[oc*per+i] = v
		}
	}
	b := newBuilder(13).typedInput("x", c.xT, inShape...).typedInit("w", c.wT, w, wShape...)
	inputs := []*Tensor{intTensor(c.xT, x, inShape...)}
	zp := func(name string, dt DType, v []int64, shape []int) string {
		if v == nil {
			return ""
		}
		if c.zpInput {
			b.typedInput(name, dt, shape...)
			inputs = append(inputs, intTensor(dt, v, shape...))
		} else {
			b.typedInit(name, dt, v, shape...)
		}
		return name
	}
	if !c.qlinear {
		ins := []string{"x", "w", zp("zx", c.xT, zx, []int{}), zp("zw", c.wT, zw, zwShape)}
		for len(ins) > 2 && ins[len(ins)-1] == "" {
			ins = ins[:len(ins)-1]
		}
		b.node("ConvInteger", ins, []string{"y"}, attrs...).output("y")
	} else {
		if zw == nil {
			zw, zwShape = []int64{0}, []int{}
		}
		ws := make([]float32, max(1, numel(zwShape)))
		for i := range ws {
			ws[i] = 0.001 + rng.Float32()*0.01
		}
		ylo, yhi := typeRange(c.xT)
		b.init("xs", []float32{0.01 + rng.Float32()*0.05}).init("ws", ws, zwShape...).
			init("ys", []float32{0.05 + rng.Float32()*0.5}).typedInit("yz", c.xT, randInts(rng, 1, ylo, yhi))
		ins := []string{"x", "xs", zp("zx", c.xT, zx, []int{}), "w", "ws", zp("zw", c.wT, zw, zwShape), "ys", "yz"}
		if g.bias {
			b.typedInit("bias", Int32, randInts(rng, g.m, -5000, 5000), g.m)
			ins = append(ins, "bias")
		}
		b.node("QLinearConv", ins, []string{"y"}, attrs...).output("y")
	}
	return b.load(t, Options{Threads: c.threads}), inputs
}

func TestIntConvFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	geoms := []convCase{
		{c: 1, h: 5, w: 5, m: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, group: 1},
		{c: 3, h: 8, w: 7, m: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 1, bias: true},
		{c: 4, h: 9, w: 11, m: 6, kh: 3, kw: 2, sh: 2, sw: 3, dh: 1, dw: 1, pads: []int{0, 1, 2, 0}, group: 2, bias: true},
		{c: 6, h: 10, w: 10, m: 6, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pads: []int{2, 2, 2, 2}, group: 6, bias: true},
		{c: 8, h: 7, w: 6, m: 16, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 8},
		{c: 16, h: 5, w: 5, m: 24, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, bias: true},
		{c: 5, h: 6, w: 9, m: 7, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, group: 1, autoPad: "SAME_UPPER"},
		{c: 6, w: 40, m: 9, kw: 5, sw: 2, dw: 1, pads: []int{2, 2}, group: 1, bias: true},
		{c: 12, w: 30, m: 12, kw: 3, sw: 1, dw: 3, pads: []int{3, 3}, group: 12},
		{c: 32, h: 12, w: 12, m: 40, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 1, bias: true},
	}
	var cases []intConvCase
	for gi, g := range geoms {
		for _, types := range [][2]DType{{Uint8, Uint8}, {Uint8, Int8}, {Int8, Int8}, {Int8, Uint8}} {
			for vi, vals := range []string{"centered", "random", "full"} {
				zws := []string{"", "tensor", "chan"}[(gi+vi)%3]
				c := intConvCase{conv: g, batch: 1 + (gi+vi)%2, xT: types[0], wT: types[1], wZP: zws, wVals: vals}
				cases = append(cases, c)
				c.qlinear = true
				c.zpInput = vi == 1
				c.xSmall = vi == 2
				c.threads = 1 + gi%2
				cases = append(cases, c)
			}
		}
	}
	for _, c := range cases {
		m, inputs := intConvModel(t, c, rng)
		k, ok := m.steps[len(m.steps)-1].kernel.(*intConvKernel)
		if !ok {
			t.Fatalf("%v: the fast kernel was not planned", c)
		}
		if !k.depthwise && c.wVals == "centered" {
			for _, w := range k.ws {
				if w.nch != w.ch {
					t.Fatalf("%v: centered weights were split", c)
				}
			}
		}
		runBoth(t, m, c.threads, inputs, c.String())
	}
}

// runSingle loads a one-node model and runs it once with the reference and
// fast kernels, returning the outputs.
func runSingle(t *testing.T, b *builder, inputs ...*Tensor) []*Tensor {
	t.Helper()
	return runBoth(t, b.load(t, Options{}), 1, inputs, "single")
}

func float32s(v ...float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestQuantizeLinearSemantics pins QuantizeLinear's rounding (half to
// even), saturation, NaN, per-axis with a negative axis, blocked scales
// (opset 21) and output_dtype, with values worked out by hand.
func TestQuantizeLinearSemantics(t *testing.T) {
	nan := math.NaN()
	x := float32s(0, 1, 2.5, 3.5, -2.5, 1000, -1000, nan, 0.5, -0.5)
	// uint8, scale 1, zero point 0: -2.5 -> -2 saturates to 0.
	out := runSingle(t, newBuilder(13).input("x", 10).init("s", []float32{1}).typedInit("z", Uint8, []int64{0}).
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"), NewFloat(x, 10))
	if got := fmt.Sprint(out[0].I); got != "[0 1 2 4 0 255 0 0 0 0]" || out[0].DType != Uint8 {
		t.Errorf("uint8: %v %v", out[0].DType, got)
	}
	// int8, zero point 1: round(x)+1 saturated to [-128, 127]; NaN -> -128.
	out = runSingle(t, newBuilder(13).input("x", 10).init("s", []float32{1}).typedInit("z", Int8, []int64{1}).
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"), NewFloat(x, 10))
	if got := fmt.Sprint(out[0].I); got != "[1 2 3 5 -1 127 -128 -128 1 1]" {
		t.Errorf("int8: %v", got)
	}
	// No zero point: uint8 with zero point 0. Scale 2: 5/2 = 2.5 -> 2, 7/2 -> 4.
	out = runSingle(t, newBuilder(10).input("x", 2).init("s", []float32{2}).
		node("QuantizeLinear", []string{"x", "s"}, []string{"y"}).output("y"), NewFloat(float32s(5, 7), 2))
	if got := fmt.Sprint(out[0].I); got != "[2 4]" || out[0].DType != Uint8 {
		t.Errorf("default type: %v %v", out[0].DType, got)
	}
	// Per axis -1 of [2 3]: scales [1 2 4], zero points [0 1 2].
	// Row 0: 3/1+0 = 3, 3/2 = 1.5 -> 2, +1 = 3, 3/4 = 0.75 -> 1, +2 = 3.
	// Row 1: 10 -> 10, 10/2 = 5 -> 6, 10/4 = 2.5 -> 2 -> 4.
	out = runSingle(t, newBuilder(13).input("x", 2, 3).init("s", []float32{1, 2, 4}, 3).typedInit("z", Uint8, []int64{0, 1, 2}, 3).
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, attrInt("axis", -1)).output("y"), NewFloat(float32s(3, 3, 3, 10, 10, 10), 2, 3))
	if got := fmt.Sprint(out[0].I); got != "[3 3 3 10 6 4]" {
		t.Errorf("per axis: %v", got)
	}
	// Blocked, opset 21: x [2 4], axis 1, block 2, scales [[1 2] [4 8]].
	// Row 0: 6/1, 6/1, 6/2, 6/2 = 6 6 3 3; row 1: 6/4 = 1.5 -> 2 (twice), 6/8 = 0.75 -> 1.
	out = runSingle(t, newBuilder(21).input("x", 2, 4).init("s", []float32{1, 2, 4, 8}, 2, 2).typedInit("z", Uint8, []int64{0, 0, 0, 0}, 2, 2).
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, attrInt("axis", 1), attrInt("block_size", 2)).output("y"), NewFloat(float32s(6, 6, 6, 6, 6, 6, 6, 6), 2, 4))
	if got := fmt.Sprint(out[0].I); got != "[6 6 3 3 2 2 1 1]" {
		t.Errorf("blocked: %v", got)
	}
	// Blocked with a last partial block: x [5], block 2 -> 3 scales.
	out = runSingle(t, newBuilder(21).input("x", 5).init("s", []float32{1, 10, 100}, 3).
		node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 0), attrInt("block_size", 2)).output("y"), NewFloat(float32s(200, 200, 200, 200, 200), 5))
	if got := fmt.Sprint(out[0].I); got != "[200 200 20 20 2]" {
		t.Errorf("partial block: %v", got)
	}
	// output_dtype INT16 (opset 21) without a zero point.
	out = runSingle(t, newBuilder(21).input("x", 3).init("s", []float32{1}).
		node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("output_dtype", int(Int16))).output("y"), NewFloat(float32s(40000, -3.5, -40000), 3))
	if got := fmt.Sprint(out[0].I); got != "[32767 -4 -32768]" || out[0].DType != Int16 {
		t.Errorf("int16: %v %v", out[0].DType, got)
	}
	// An int32 input.
	out = runSingle(t, newBuilder(13).typedInput("x", Int32, 3).init("s", []float32{4}).typedInit("z", Uint8, []int64{100}).
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"), intTensor(Int32, []int64{10, -10, 6}, 3))
	if got := fmt.Sprint(out[0].I); got != "[102 98 102]" {
		t.Errorf("int32 input: %v", got)
	}
}

// TestDequantizeLinearSemantics pins DequantizeLinear: (x - zp) * scale per
// tensor, per axis and blocked, int32 inputs, and outputs of the scale's
// 16-bit float type (opset 19) rounded to it.
func TestDequantizeLinearSemantics(t *testing.T) {
	out := runSingle(t, newBuilder(13).typedInput("x", Int8, 3).init("s", []float32{0.5}).typedInit("z", Int8, []int64{-1}).
		node("DequantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"), intTensor(Int8, []int64{-128, 127, 0}, 3))
	if got := fmt.Sprint(out[0].F); got != "[-63.5 64 0.5]" || out[0].DType != Float32 {
		t.Errorf("int8: %v %v", out[0].DType, got)
	}
	// Per axis 0 of [2 2], blocked (opset 21) along axis 1 with block 1 is the same.
	out = runSingle(t, newBuilder(13).typedInput("x", Uint8, 2, 2).init("s", []float32{2, 3}, 2).typedInit("z", Uint8, []int64{10, 20}, 2).
		node("DequantizeLinear", []string{"x", "s", "z"}, []string{"y"}, attrInt("axis", 0)).output("y"), intTensor(Uint8, []int64{10, 11, 20, 25}, 2, 2))
	if got := fmt.Sprint(out[0].F); got != "[0 2 0 15]" {
		t.Errorf("per axis: %v", got)
	}
	out = runSingle(t, newBuilder(21).typedInput("x", Uint8, 2, 4).init("s", []float32{1, 2, 3, 4}, 2, 2).
		node("DequantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 1), attrInt("block_size", 2)).output("y"), intTensor(Uint8, []int64{1, 1, 1, 1, 1, 1, 1, 1}, 2, 4))
	if got := fmt.Sprint(out[0].F); got != "[1 1 2 2 3 3 4 4]" {
		t.Errorf("blocked: %v", got)
	}
	out = runSingle(t, newBuilder(13).typedInput("x", Int32, 2).init("s", []float32{0.25}).
		node("DequantizeLinear", []string{"x", "s"}, []string{"y"}).output("y"), intTensor(Int32, []int64{-1 << 31, 1000}, 2))
	if got := fmt.Sprint(out[0].F); got != "[-5.368709e+08 250]" {
		t.Errorf("int32: %v", got)
	}
	// uint16 2049 * float16 1 = 2049, which float16 rounds to 2048 (11-bit
	// significand, ties to even); 2051 rounds to 2052.
	out = runSingle(t, newBuilder(21).typedInput("x", Uint16, 2).floatInit("s", Float16, []float32{1}).
		node("DequantizeLinear", []string{"x", "s"}, []string{"y"}).output("y"), intTensor(Uint16, []int64{2049, 2051}, 2))
	if got := fmt.Sprint(out[0].F); got != "[2048 2052]" || out[0].DType != Float16 {
		t.Errorf("float16: %v %v", out[0].DType, got)
	}
}

// TestDynamicQuantizeLinearSemantics pins DynamicQuantizeLinear against
// values computed with the spec's float32 formula (in Python, rounding each
// step to float32): scale = (max(0,max x) - min(0,min x)) / 255, zero point
// = roundEven(clamp(-min/scale, 0, 255)), y = saturate(roundEven(x/scale) +
// zero point); all zeros give scale 1 as in ONNX Runtime.
func TestDynamicQuantizeLinearSemantics(t *testing.T) {
	cases := []struct {
		x     []float32
		y     string
		scale float32
		zp    int64
	}{
		{float32s(-1, 1), "[0 254]", 0.007843137718737125, 127},
		{float32s(0, 0, 0), "[0 0 0]", 1, 0},
		{float32s(1, 2, 3.5), "[73 146 255]", 0.013725490309298038, 0},
		{float32s(-3, -1, -0.25), "[0 170 234]", 0.0117647061124444, 255},
		{float32s(-0.3, 0.7, 0.1), "[0 254 101]", 0.003921568859368563, 76},
	}
	for _, c := range cases {
		n := len(c.x)
		out := runSingle(t, newBuilder(11).input("x", n).node("DynamicQuantizeLinear", []string{"x"}, []string{"y", "s", "z"}).output("y", "s", "z"), NewFloat(c.x, n))
		if got := fmt.Sprint(out[0].I); got != c.y || out[1].F[0] != c.scale || out[2].I[0] != c.zp {
			t.Errorf("%v: y %v scale %v zp %v, want %v %v %v", c.x, got, out[1].F[0], out[2].I[0], c.y, c.scale, c.zp)
		}
	}
}

// TestQuantErrors checks that malformed quantized nodes are refused with
// errors naming the node and the field, and unimplemented types with an
// UnsupportedError.
func TestQuantErrors(t *testing.T) {
	tests := []struct {
		name        string
		b           *builder
		want        string
		unsupported bool
	}{
		{"scale shape", newBuilder(13).input("x", 2, 3).init("s", []float32{1, 2}, 2).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 1)).output("y"),
			`node "y_node" (QuantizeLinear): scale of shape [2] does not match dimension 1`, false},
		{"axis", newBuilder(13).input("x", 2, 3).init("s", []float32{1, 2}, 2).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 2)).output("y"),
			`node "y_node" (QuantizeLinear): axis 2 is out of range`, false},
		{"zero point shape", newBuilder(13).input("x", 2, 3).init("s", []float32{1, 2, 3}, 3).typedInit("z", Uint8, []int64{0}).
			node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"),
			"zero point shape [] differs from the scale shape [3]", false},
		{"block before 21", newBuilder(19).input("x", 4).init("s", []float32{1, 2}, 2).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 0), attrInt("block_size", 2)).output("y"),
			"block_size needs opset 21", false},
		{"negative block", newBuilder(21).input("x", 4).init("s", []float32{1, 2}, 2).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("block_size", -2)).output("y"),
			"block_size -2 is out of range", false},
		{"blocked shape", newBuilder(21).input("x", 2, 4).init("s", []float32{1, 2, 3}, 1, 3).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("axis", 1), attrInt("block_size", 2)).output("y"),
			"blocked scale of shape [1 3], expected [2 2]", false},
		{"per axis before 13", newBuilder(10).input("x", 2, 3).init("s", []float32{1, 2, 3}, 3).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}).output("y"),
			"must be a scalar before opset 13", false},
		{"float8 output", newBuilder(21).input("x", 3).init("s", []float32{1}).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("output_dtype", 17)).output("y"),
			"unsupported QuantizeLinear/output of type FLOAT8E4M3FN (float8 and 4-bit types are not implemented)", true},
		{"int4 output", newBuilder(21).input("x", 3).init("s", []float32{1}).
			node("QuantizeLinear", []string{"x", "s"}, []string{"y"}, attrInt("output_dtype", 22)).output("y"),
			"INT4", true},
		{"output_dtype mismatch", newBuilder(21).input("x", 3).init("s", []float32{1}).typedInit("z", Uint8, []int64{0}).
			node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, attrInt("output_dtype", int(Int8))).output("y"),
			"output_dtype INT8 differs from the zero point type UINT8", false},
		{"dq zero point type", newBuilder(13).typedInput("x", Uint8, 3).init("s", []float32{1}).typedInit("z", Int8, []int64{0}).
			node("DequantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"),
			`node "y_node" (DequantizeLinear): zero point type INT8 differs from the input type UINT8`, false},
		{"dq int32 zero point", newBuilder(13).typedInput("x", Int32, 3).init("s", []float32{1}).typedInit("z", Int32, []int64{3}).
			node("DequantizeLinear", []string{"x", "s", "z"}, []string{"y"}).output("y"),
			"an int32 input needs a zero point of 0", false},
		{"dq float input", newBuilder(13).input("x", 3).init("s", []float32{1}).
			node("DequantizeLinear", []string{"x", "s"}, []string{"y"}).output("y"),
			"unsupported DequantizeLinear/input x of type FLOAT", true},
		{"matmul inner", newBuilder(10).typedInput("a", Uint8, 2, 3).typedInit("b", Uint8, make([]int64, 8), 4, 2).
			node("MatMulInteger", []string{"a", "b"}, []string{"y"}).output("y"),
			`node "y_node" (MatMulInteger): inner dimensions differ`, false},
		{"matmul zero point shape", newBuilder(10).typedInput("a", Uint8, 2, 3).typedInit("b", Uint8, make([]int64, 6), 3, 2).typedInit("za", Uint8, []int64{0, 0, 0}, 3).
			node("MatMulInteger", []string{"a", "b", "za"}, []string{"y"}).output("y"),
			`zero point or scale "za" of shape [3] is neither one value nor one per row of a`, false},
		{"matmul int16", newBuilder(10).typedInput("a", Int16, 2, 3).typedInit("b", Uint8, make([]int64, 6), 3, 2).
			node("MatMulInteger", []string{"a", "b"}, []string{"y"}).output("y"),
			"unsupported MatMulInteger/input a of type INT16", true},
		{"qlinearconv w_scale", newBuilder(10).typedInput("x", Uint8, 1, 2, 4, 4).init("xs", []float32{1}).typedInit("xz", Uint8, []int64{0}).
			typedInit("w", Uint8, make([]int64, 3*2*9), 3, 2, 3, 3).init("ws", []float32{1, 1}, 2).typedInit("wz", Uint8, []int64{0}).
			init("ys", []float32{1}).typedInit("yz", Uint8, []int64{0}).
			node("QLinearConv", []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, []string{"y"}).output("y"),
			`node "y_node" (QLinearConv): w_scale of shape [2] is neither one value nor one per output channel (3)`, false},
		{"qlinearconv bias", newBuilder(10).typedInput("x", Uint8, 1, 2, 4, 4).init("xs", []float32{1}).typedInit("xz", Uint8, []int64{0}).
			typedInit("w", Uint8, make([]int64, 3*2*9), 3, 2, 3, 3).init("ws", []float32{1}).typedInit("wz", Uint8, []int64{0}).
			init("ys", []float32{1}).typedInit("yz", Uint8, []int64{0}).typedInit("bias", Int64, []int64{0, 0, 0}, 3).
			node("QLinearConv", []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, []string{"y"}).output("y"),
			`bias "bias" must be an int32 vector of 3 elements`, false},
		{"convinteger groups", newBuilder(10).typedInput("x", Uint8, 1, 3, 4, 4).typedInit("w", Uint8, make([]int64, 4*3*9), 4, 3, 3, 3).
			node("ConvInteger", []string{"x", "w"}, []string{"y"}, attrInt("group", 2)).output("y"),
			`node "y_node" (ConvInteger): group 2 does not divide`, false},
		{"convinteger x zero point", newBuilder(10).typedInput("x", Uint8, 1, 1, 4, 4).typedInit("w", Uint8, make([]int64, 9), 1, 1, 3, 3).typedInit("xz", Uint8, []int64{1, 2}, 2).
			node("ConvInteger", []string{"x", "w", "xz"}, []string{"y"}).output("y"),
			`x_zero_point "xz" must be one UINT8 value`, false},
		{"convinteger huge", newBuilder(10).typedInput("x", Uint8, 1, 2, 2000, 2000).typedInit("w", Uint8, make([]int64, 18), 1, 2, 3, 3).
			node("ConvInteger", []string{"x", "w"}, []string{"y"}, attrInts("pads", 1, 1, 1, 1)).output("y"),
			"exceeds the size limit", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDecoded(tc.b.m, "test", Options{MaxBytes: 1 << 26})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if IsUnsupported(err) != tc.unsupported {
				t.Fatalf("IsUnsupported(%v) = %v", err, !tc.unsupported)
			}
		})
	}
}

// quantModel is a dynamically quantized dense layer and a QOperator
// convolution block: DynamicQuantizeLinear -> MatMulInteger -> Cast-free
// DequantizeLinear of the int32 sums, and QuantizeLinear -> QLinearConv
// (per-channel) -> QLinearConv (depthwise) -> DequantizeLinear.
func quantModel(t testing.TB, threads int, rng *rand.Rand) (*Model, []*Tensor) {
	c, h, w, m := 16, 12, 12, 32
	b := newBuilder(13).input("x", 1, c, h, w).input("v", 8, 64)
	b.typedInit("wd", Int8, randInts(rng, 64*40, -127, 127), 64, 40).typedInit("wdz", Int8, []int64{0})
	b.node("DynamicQuantizeLinear", []string{"v"}, []string{"vq", "vs", "vz"})
	b.node("MatMulInteger", []string{"vq", "wd", "vz", "wdz"}, []string{"acc"})
	b.init("accs", []float32{0.001})
	b.node("DequantizeLinear", []string{"acc", "accs"}, []string{"dense"})
	b.init("xs", []float32{0.02}).typedInit("xz", Uint8, []int64{128})
	b.node("QuantizeLinear", []string{"x", "xs", "xz"}, []string{"xq"})
	b.typedInit("w1", Int8, randInts(rng, m*c*9, -127, 127), m, c, 3, 3).init("w1s", randFloats(rng, m), m).typedInit("w1z", Int8, make([]int64, m), m)
	b.init("y1s", []float32{0.5}).typedInit("y1z", Uint8, []int64{100}).typedInit("b1", Int32, randInts(rng, m, -1000, 1000), m)
	b.node("QLinearConv", []string{"xq", "xs", "xz", "w1", "w1s", "w1z", "y1s", "y1z", "b1"}, []string{"y1"}, attrInts("pads", 1, 1, 1, 1))
	b.typedInit("w2", Uint8, randInts(rng, m*9, 0, 255), m, 1, 3, 3).init("w2s", []float32{0.01}).typedInit("w2z", Uint8, []int64{120})
	b.init("y2s", []float32{0.3}).typedInit("y2z", Uint8, []int64{90})
	b.node("QLinearConv", []string{"y1", "y1s", "y1z", "w2", "w2s", "w2z", "y2s", "y2z"}, []string{"y2"}, attrInt("group", m), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1))
	b.node("DequantizeLinear", []string{"y2", "y2s", "y2z"}, []string{"out"})
	b.output("out", "dense")
	return b.load(t, Options{Threads: threads}), []*Tensor{NewFloat(randFloats(rng, c*h*w), 1, c, h, w), NewFloat(randFloats(rng, 8*64), 8, 64)}
}

func TestQuantModelAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, threads := range []int{1, 2} {
		m, inputs := quantModel(t, threads, rng)
		runBoth(t, m, threads, inputs, "quant model")
		s := m.NewSession()
		if _, err := s.Run(inputs); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { s.Run(inputs) }); a != 0 && !(raceBuild && threads > 1) {
			t.Errorf("threads %d: %v allocations per run", threads, a)
		}
		s.Close()
	}
}

// BenchmarkQuantOps compares the fast integer kernels with their
// references: go test ./engine -run '^$' -bench QuantOps
func BenchmarkQuantOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(27, 28))
	models := []struct {
		name string
		mk   func() (*Model, []*Tensor)
	}{
		{"MatMulInteger_64x768x768", func() (*Model, []*Tensor) {
			bl := newBuilder(13).typedInput("a", Uint8, 64, 768).typedInit("b", Int8, randInts(rng, 768*768, -127, 127), 768, 768).
				typedInit("za", Uint8, []int64{131}).typedInit("zb", Int8, []int64{0}).
				node("MatMulInteger", []string{"a", "b", "za", "zb"}, []string{"y"}).output("y")
			return bl.load(b, Options{}), []*Tensor{intTensor(Uint8, randInts(rng, 64*768, 0, 255), 64, 768)}
		}},
		{"QLinearConv_64x28x28_3x3", func() (*Model, []*Tensor) {
			bl := newBuilder(13).typedInput("x", Uint8, 1, 64, 28, 28).init("xs", []float32{0.02}).typedInit("xz", Uint8, []int64{128}).
				typedInit("w", Int8, randInts(rng, 64*64*9, -127, 127), 64, 64, 3, 3).init("ws", randFloats(rng, 64), 64).typedInit("wz", Int8, make([]int64, 64), 64).
				init("ys", []float32{0.5}).typedInit("yz", Uint8, []int64{100}).
				node("QLinearConv", []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, []string{"y"}, attrInts("pads", 1, 1, 1, 1)).output("y")
			return bl.load(b, Options{}), []*Tensor{intTensor(Uint8, randInts(rng, 64*28*28, 0, 255), 1, 64, 28, 28)}
		}},
	}
	for _, mc := range models {
		m, inputs := mc.mk()
		for _, ref := range []bool{false, true} {
			name := mc.name + "/fast"
			var sel Selector
			if ref {
				name, sel = mc.name+"/reference", referenceSelector{m}
			}
			b.Run(name, func(b *testing.B) {
				s := m.NewSession()
				for i := 0; i < b.N; i++ {
					if _, err := s.RunWith(inputs, sel); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestQuantConformanceFastPath runs the ONNX backend tests of the integer
// products with every input but the first bound as a constant, so that the
// fast kernels (not the references the conformance runner exercises, since
// the tests feed their weights at run time) produce the expected outputs.
func TestQuantConformanceFastPath(t *testing.T) {
	const root = "/usr/share/libonnx-testdata/data/node/"
	for _, name := range []string{"test_qlinearconv", "test_qlinearmatmul_2D", "test_matmulinteger", "test_basic_convinteger", "test_convinteger_with_padding", "test_convinteger_without_padding"} {
		dir := root + name
		model, err := os.ReadFile(dir + "/model.onnx")
		if err != nil {
			t.Skip(err)
		}
		pm, err := onnx.Decode(model, onnx.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		read := func(file string) *Tensor {
			data, err := os.ReadFile(dir + "/test_data_set_0/" + file)
			if err != nil {
				t.Fatal(err)
			}
			ot, err := onnx.DecodeTensor(data, onnx.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			et, err := FromONNX(ot)
			if err != nil {
				t.Fatal(err)
			}
			return et
		}
		opts := Options{Constants: map[string]*Tensor{}}
		for i, vi := range pm.Graph.Inputs[1:] {
			opts.Constants[vi.Name] = read(fmt.Sprintf("input_%d.pb", i+1))
		}
		m, err := LoadBytes(model, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch m.steps[0].kernel.(type) {
		case *intDenseKernel, *intConvKernel:
		default:
			t.Fatalf("%s: the fast kernel was not planned", name)
		}
		got, err := m.NewSession().Run([]*Tensor{read("input_0.pb")})
		if err != nil {
			t.Fatal(err)
		}
		want := read("output_0.pb")
		if fmt.Sprint(got[0].I) != fmt.Sprint(want.I) {
			t.Errorf("%s: got %v, want %v", name, got[0].I, want.I)
		}
	}
}

// TestContribQuantOpsRefused checks that ONNX Runtime's com.microsoft
// quantized ops (QLinearAdd, ...) are refused as unsupported, naming the
// domain.
func TestContribQuantOpsRefused(t *testing.T) {
	b := newBuilder(13).typedInput("a", Uint8, 4).init("s", []float32{1}).typedInit("z", Uint8, []int64{0}).
		node("QLinearAdd", []string{"a", "s", "z", "a", "s", "z", "s", "z"}, []string{"y"}).output("y")
	b.m.Graph.Nodes[0].Domain = "com.microsoft"
	_, err := loadDecoded(b.m, "test", Options{})
	if !IsUnsupported(err) || !strings.Contains(err.Error(), "unsupported com.microsoft.QLinearAdd") {
		t.Fatalf("got %v", err)
	}
}
