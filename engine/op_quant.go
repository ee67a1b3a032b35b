package engine

import (
	"math"
)

// quantOps are the quantized operators as ONNX Runtime's quantization tools
// write them: QDQ models (QuantizeLinear, DequantizeLinear), QOperator
// models (QLinearConv, QLinearMatMul) and dynamically quantized models
// (DynamicQuantizeLinear, MatMulInteger, ConvInteger). ONNX Runtime's
// com.microsoft contrib ops (QLinearAdd, QLinearSigmoid, ...) are outside
// ai.onnx and refused when the graph is built.
//
// Integer tensors hold their values in Tensor.I. The integer products
// (op_quant_matmul.go, op_quant_conv.go) are exact: their int32 sums wrap
// around as an int32 accumulator does, and run on the int8 GEMM of package
// qgemm (op_quant_int.go). Requantization follows ONNX Runtime: the scale
// products in float32, a float32 multiply, round half to even, saturate.
var quantOps = map[string]*opDef{
	"QuantizeLinear":        &quantizeLinearOp,
	"DequantizeLinear":      &dequantizeLinearOp,
	"DynamicQuantizeLinear": &dynamicQuantizeLinearOp,
	"MatMulInteger":         &matMulIntegerOp,
	"QLinearMatMul":         &qlinearMatMulOp,
	"ConvInteger":           &convIntegerOp,
	"QLinearConv":           &qlinearConvOp,
}

// quantRange returns the range of a quantized integer type, ok false for a
// type the quantized ops do not take.
func quantRange(d DType) (lo, hi int64, ok bool) {
	switch d {
	case Uint8:
		return 0, math.MaxUint8, true
	case Int8:
		return math.MinInt8, math.MaxInt8, true
	case Uint16:
		return 0, math.MaxUint16, true
	case Int16:
		return math.MinInt16, math.MaxInt16, true
	}
	return 0, 0, false
}

// quantTypeName names a data type in errors, the types the engine cannot
// hold (float8, 4-bit) included.
func quantTypeName(d DType) string {
	switch d {
	case 17:
		return "FLOAT8E4M3FN"
	case 18:
		return "FLOAT8E4M3FNUZ"
	case 19:
		return "FLOAT8E5M2"
	case 20:
		return "FLOAT8E5M2FNUZ"
	case 21:
		return "UINT4"
	case 22:
		return "INT4"
	}
	return d.String()
}

// unsupportedQuantType is the error for a quantized type outside uint8,
// int8, uint16 and int16.
func (n *node) unsupportedQuantType(field string, d DType) error {
	if d >= 17 && d <= 22 {
		return n.unsupported("%s of type %s (float8 and 4-bit types are not implemented)", field, quantTypeName(d))
	}
	return n.unsupported("%s of type %s", field, quantTypeName(d))
}

// quantLayout says which scale and zero point element applies to each
// element of x: x is viewed as [outer, d, inner] around the quantization
// axis; the scale is one value (per tensor), d values (per axis), or
// [outer, ceil(d/block), inner] values (blocked, opset 21).
type quantLayout struct {
	mode            int // quantPerTensor, quantPerAxis or quantBlocked
	outer, d, inner int
	block, nb       int
}

const (
	quantPerTensor = iota
	quantPerAxis
	quantBlocked
)

// row returns the scale index of element (o, a, 0) and the step of the
// index along the inner dimension.
func (l *quantLayout) row(o, a int) (base, step int) {
	switch l.mode {
	case quantPerAxis:
		return a, 0
	case quantBlocked:
		return (o*l.nb + a/l.block) * l.inner, 1
	}
	return 0, 0
}

// parseQuantLayout reads the axis and block_size attributes of a
// QuantizeLinear or DequantizeLinear node and checks the shapes of its
// scale and zero point against x.
func parseQuantLayout(n *node, x, scale, zp *value) (*quantLayout, error) {
	l := &quantLayout{outer: 1, d: 1, inner: numel(x.shape)}
	axis, err := n.attrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	block, err := n.attrInt("block_size", 0)
	if err != nil {
		return nil, err
	}
	if block < 0 || block > math.MaxInt32 {
		return nil, n.errorf("block_size %d is out of range", block)
	}
	if block > 0 && n.opset < 21 {
		return nil, n.errorf("block_size needs opset 21 (model has %d)", n.opset)
	}
	if zp != nil && !equalShapes(zp.shape, scale.shape) {
		return nil, n.errorf("zero point shape %v differs from the scale shape %v", zp.shape, scale.shape)
	}
	perTensor := len(scale.shape) == 0 || len(scale.shape) == 1 && scale.shape[0] == 1
	switch {
	case block == 0 && perTensor:
		return l, nil
	case n.opset < 13:
		return nil, n.errorf("scale of shape %v must be a scalar before opset 13", scale.shape)
	}
	a, err := n.normAxis(axis, len(x.shape), "axis")
	if err != nil {
		return nil, err
	}
	l.outer = numel(x.shape[:a])
	l.d = x.shape[a]
	l.inner = numel(x.shape[a+1:])
	if block == 0 {
		if len(scale.shape) != 1 || scale.shape[0] != l.d {
			return nil, n.errorf("scale of shape %v does not match dimension %d (%d) of x %v", scale.shape, a, l.d, x.shape)
		}
		l.mode = quantPerAxis
		return l, nil
	}
	l.mode, l.block = quantBlocked, int(block)
	l.nb = (l.d + l.block - 1) / l.block
	want := append([]int(nil), x.shape...)
	want[a] = l.nb
	if !equalShapes(scale.shape, want) {
		return nil, n.errorf("blocked scale of shape %v, expected %v for x %v with block_size %d on axis %d", scale.shape, want, x.shape, block, a)
	}
	return l, nil
}

// quantizeParams describe a QuantizeLinear node.
type quantizeParams struct {
	layout *quantLayout
	out    DType
	qlo    int64 // the output type's range
	qhi    int64
}

var quantizeLinearOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		x, scale, zp := n.in[0], n.in[1], n.input(2)
		if !x.dtype.IsFloat() && x.dtype != Int32 {
			return n.unsupported("input x of type %v", x.dtype)
		}
		if !scale.dtype.IsFloat() {
			return n.errorf("y_scale has type %v, expected a floating-point type", scale.dtype)
		}
		od, err := n.attrInt("output_dtype", 0)
		if err != nil {
			return err
		}
		out := Uint8
		switch {
		case zp != nil:
			out = zp.dtype
			if od != 0 && DType(od) != out {
				return n.errorf("output_dtype %v differs from the zero point type %v", quantTypeName(DType(od)), out)
			}
		case od != 0:
			if n.opset < 21 {
				return n.errorf("output_dtype needs opset 21 (model has %d)", n.opset)
			}
			out = DType(od)
		}
		lo, hi, ok := quantRange(out)
		if !ok {
			return n.unsupportedQuantType("output", out)
		}
		if _, err := n.attrInt("saturate", 1); err != nil {
			return err // saturate applies to float8 outputs only
		}
		l, err := parseQuantLayout(n, x, scale, zp)
		if err != nil {
			return err
		}
		n.params = &quantizeParams{layout: l, out: out, qlo: lo, qhi: hi}
		n.out[0].dtype = out
		n.out[0].shape = append([]int(nil), x.shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*quantizeParams)
		l := p.layout
		scale := in[1].F
		var zp []int64
		if len(in) > 2 && in[2] != nil {
			zp = in[2].I
		}
		xf, xi, y := in[0].F, in[0].I, out[0].I
		o := 0
		for oi := 0; oi < l.outer; oi++ {
			for a := 0; a < l.d; a++ {
				base, step := l.row(oi, a)
				for i := 0; i < l.inner; i++ {
					s := base + i*step
					var z int64
					if zp != nil {
						z = zp[s]
					}
					var v float32
					if xf != nil {
						v = xf[o]
					} else {
						v = float32(xi[o])
					}
					y[o] = quantizeOne(v, scale[s], z, p.qlo, p.qhi)
					o++
				}
			}
		}
	},
}

// quantizeOne returns saturate(roundEven(x / scale) + zp) in [qlo, qhi], as
// ONNX Runtime computes it: x / scale in float32, clamped to
// [qlo - zp, qhi - zp] before rounding (the same result for integer
// bounds); NaN saturates to qlo as in its vector kernels.
func quantizeOne(x, scale float32, zp, qlo, qhi int64) int64 {
	v := x / scale
	lo, hi := float32(qlo-zp), float32(qhi-zp)
	if !(v >= lo) {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return int64(math.RoundToEven(float64(v))) + zp
}

// requantize returns saturate(roundEven(float32(acc) * mult) + zp) in
// [qlo, qhi]: ONNX Runtime's requantization of an int32 accumulator
// (MlasRequantizeOutput): the product in float32, clamped, rounded half to
// even; NaN saturates to qlo.
func requantize(acc int32, mult float32, zp, qlo, qhi int64) int64 {
	v := float32(acc) * mult
	lo, hi := float32(qlo-zp), float32(qhi-zp)
	if !(v >= lo) {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return int64(math.RoundToEven(float64(v))) + zp
}

// outputScale is ONNX Runtime's requantization multiplier a*b/y, each step
// rounded to float32.
func outputScale(a, b, y float32) float32 {
	ab := a * b
	return ab / y
}

// dequantizeParams describe a DequantizeLinear node.
type dequantizeParams struct {
	layout *quantLayout
	out    DType
}

var dequantizeLinearOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		x, scale, zp := n.in[0], n.in[1], n.input(2)
		if _, _, ok := quantRange(x.dtype); !ok && x.dtype != Int32 {
			return n.unsupportedQuantType("input x", x.dtype)
		}
		if !scale.dtype.IsFloat() {
			return n.errorf("x_scale has type %v, expected a floating-point type", scale.dtype)
		}
		if zp != nil && zp.dtype != x.dtype {
			return n.errorf("zero point type %v differs from the input type %v", zp.dtype, x.dtype)
		}
		if zp != nil && x.dtype == Int32 && zp.isConst() {
			for _, z := range zp.constant.I {
				if z != 0 {
					return n.errorf("an int32 input needs a zero point of 0, not %d", z)
				}
			}
		}
		l, err := parseQuantLayout(n, x, scale, zp)
		if err != nil {
			return err
		}
		out := Float32
		if n.opset >= 19 {
			out = scale.dtype // float16 and bfloat16 scales give outputs of their type
		}
		n.params = &dequantizeParams{layout: l, out: out}
		n.out[0].dtype = out
		n.out[0].shape = append([]int(nil), x.shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*dequantizeParams)
		l := p.layout
		scale := in[1].F
		var zp []int64
		if len(in) > 2 && in[2] != nil {
			zp = in[2].I
		}
		x, y := in[0].I, out[0].F
		o := 0
		for oi := 0; oi < l.outer; oi++ {
			for a := 0; a < l.d; a++ {
				base, step := l.row(oi, a)
				for i := 0; i < l.inner; i++ {
					s := base + i*step
					var z int64
					if zp != nil {
						z = zp[s]
					}
					// (x - zp) in int32, converted to float32, times the scale.
					y[o] = roundToType(p.out, float32(int32(x[o]-z))*scale[s])
					o++
				}
			}
		}
	},
}

// roundToType rounds a float32 result to the precision of a 16-bit float
// type (the engine holds those as float32).
func roundToType(d DType, v float32) float32 {
	switch d {
	case Float16:
		return HalfToFloat(FloatToHalf(v))
	case BFloat16:
		b := math.Float32bits(v)
		if v != v {
			return v
		}
		b += 0x7fff + (b>>16)&1 // round to nearest even on the upper half
		return math.Float32frombits(b &^ 0xffff)
	}
	return v
}

var dynamicQuantizeLinearOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x := n.in[0]
		if !x.dtype.IsFloat() {
			return n.unsupported("input x of type %v", x.dtype)
		}
		if len(n.out) != 3 {
			return n.errorf("has %d outputs, expected 3", len(n.out))
		}
		n.out[0].dtype = Uint8
		n.out[0].shape = append([]int(nil), x.shape...)
		for i, dt := range []DType{Float32, Uint8} {
			if o := n.out[i+1]; o != nil {
				o.dtype, o.shape = dt, []int{}
			}
		}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		x := in[0].F
		scale, zp := dynamicQuantParams(x)
		y := out[0].I
		for i, v := range x {
			y[i] = quantizeOne(v, scale, zp, 0, math.MaxUint8)
		}
		if len(out) > 1 && out[1] != nil {
			out[1].F[0] = scale
		}
		if len(out) > 2 && out[2] != nil {
			out[2].I[0] = zp
		}
	},
}

// dynamicQuantParams returns DynamicQuantizeLinear's uint8 scale and zero
// point for x, as the spec and ONNX Runtime compute them in float32:
//
//	min = min(0, min(x)), max = max(0, max(x))
//	scale = (max - min) / 255            (1 when max == min, as ONNX Runtime)
//	zp = roundEven(clamp(0 - min/scale, 0, 255))
//
// NaN elements are ignored by the range.
func dynamicQuantParams(x []float32) (float32, int64) {
	var lo, hi float32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	scale := float32(1)
	if hi != lo {
		scale = (hi - lo) / 255
	}
	z := 0 - lo/scale
	if z != z {
		z = 0 // a range with an infinity
	}
	z = min(max(z, 0), 255)
	return scale, int64(math.RoundToEven(float64(z)))
}
