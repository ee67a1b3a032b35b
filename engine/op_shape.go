package engine

import "math"

// copyData copies a tensor's elements (for views that could not alias).
func copyData(dst, src *Tensor) {
	if src.DType.IsInt() {
		copy(dst.I, src.I)
	} else {
		copy(dst.F, src.F)
	}
}

func evalCopy(_ *node, in, out []*Tensor) { copyData(out[0], in[0]) }

// reshapeTo sets the output shape of a view op after checking the count.
func reshapeTo(n *node, shape []int) error {
	x := n.in[0]
	if numel(shape) != x.numel() {
		return n.errorf("cannot reshape %v (%d elements) to %v", x.shape, x.numel(), shape)
	}
	n.out[0].dtype = x.dtype
	n.out[0].shape = shape
	return nil
}

var reshapeOp = opDef{
	view: true,
	infer: func(n *node) error {
		var spec []int64
		allowZero := int64(0)
		if n.opset < 5 {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			s, ok, err := n.attrInts("shape")
			if err != nil {
				return err
			}
			if !ok {
				return n.errorf("attribute shape is missing")
			}
			spec = s
		} else {
			if err := n.needInputs(2, 2); err != nil {
				return err
			}
			var err error
			if spec, err = n.constInts(1, "shape"); err != nil {
				return err
			}
			if allowZero, err = n.attrInt("allowzero", 0); err != nil {
				return err
			}
		}
		x := n.in[0]
		shape := make([]int, len(spec))
		infer, known := -1, 1
		for i, d := range spec {
			switch {
			case d == 0 && allowZero == 0:
				if i >= len(x.shape) {
					return n.errorf("shape[%d] = 0 copies a dimension the input %v does not have", i, x.shape)
				}
				shape[i] = x.shape[i]
			case d == -1:
				if infer >= 0 {
					return n.errorf("shape %v has more than one -1", spec)
				}
				infer = i
				continue
			case d < 0 || d > math.MaxInt32:
				return n.errorf("shape[%d] = %d is invalid", i, d)
			default:
				shape[i] = int(d)
			}
			known *= shape[i]
		}
		if infer >= 0 {
			if known == 0 || x.numel()%known != 0 {
				return n.errorf("cannot infer the -1 in shape %v from %v", spec, x.shape)
			}
			shape[infer] = x.numel() / known
		}
		return reshapeTo(n, shape)
	},
	eval: evalCopy,
}

var flattenOp = opDef{
	view: true,
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		axis, err := n.attrInt("axis", 1)
		if err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if axis < 0 {
			axis += int64(r)
		}
		if axis < 0 || axis > int64(r) {
			return n.errorf("axis %d is out of range for rank %d", axis, r)
		}
		return reshapeTo(n, []int{numel(x.shape[:axis]), numel(x.shape[axis:])})
	},
	eval: evalCopy,
}

// axesArg returns the axes of Squeeze/Unsqueeze/ReduceMean: an attribute
// before opset `since`, an input from then on.
func axesArg(n *node, since int64) ([]int64, bool, error) {
	if n.opset < since {
		return n.attrInts("axes")
	}
	v := n.input(1)
	if v == nil {
		return nil, false, nil
	}
	a, err := n.constInts(1, "axes")
	return a, true, err
}

var squeezeOp = opDef{
	view: true,
	infer: func(n *node) error {
		if err := n.needInputs(1, 2); err != nil {
			return err
		}
		axes, ok, err := axesArg(n, 13)
		if err != nil {
			return err
		}
		x := n.in[0]
		drop := make([]bool, len(x.shape))
		if !ok {
			for i, d := range x.shape {
				drop[i] = d == 1
			}
		}
		for _, a := range axes {
			i, err := n.normAxis(a, len(x.shape), "axis")
			if err != nil {
				return err
			}
			if x.shape[i] != 1 {
				return n.errorf("cannot squeeze axis %d of size %d", a, x.shape[i])
			}
			drop[i] = true
		}
		shape := []int{}
		for i, d := range x.shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
		return reshapeTo(n, shape)
	},
	eval: evalCopy,
}

var unsqueezeOp = opDef{
	view: true,
	infer: func(n *node) error {
		if err := n.needInputs(1, 2); err != nil {
			return err
		}
		axes, ok, err := axesArg(n, 13)
		if err != nil {
			return err
		}
		if !ok {
			return n.errorf("axes are missing")
		}
		x := n.in[0]
		r := len(x.shape) + len(axes)
		ins := make([]bool, r)
		for _, a := range axes {
			i, err := n.normAxis(a, r, "axis")
			if err != nil {
				return err
			}
			if ins[i] {
				return n.errorf("axis %d is repeated", a)
			}
			ins[i] = true
		}
		shape := make([]int, 0, r)
		j := 0
		for i := 0; i < r; i++ {
			if ins[i] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, x.shape[j])
				j++
			}
		}
		return reshapeTo(n, shape)
	},
	eval: evalCopy,
}

var identityOp = opDef{
	view: true,
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		sameType(n.out[0], n.in[0])
		return nil
	},
	eval: evalCopy,
}

var dropoutOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 3); err != nil {
			return err
		}
		if t := n.input(2); t != nil {
			if t.constant == nil {
				return n.needConstant(t)
			}
			if len(t.constant.I) > 0 && t.constant.I[0] != 0 {
				ratio := float32(0.5)
				if r := n.input(1); r != nil {
					if r.constant == nil {
						return n.needConstant(r)
					}
					if len(r.constant.F) > 0 {
						ratio = r.constant.F[0]
					}
				}
				if ratio != 0 {
					return n.unsupported("training_mode (random masks)")
				}
			}
		}
		if is, err := n.attrInt("is_test", 1); err != nil || is == 0 && n.opset < 7 {
			if err != nil {
				return err
			}
			return n.unsupported("is_test=0")
		}
		sameType(n.out[0], n.in[0])
		if len(n.out) > 1 && n.out[1] != nil {
			n.out[1].dtype = Bool
			if n.opset < 10 {
				n.out[1].dtype = n.in[0].dtype
			}
			n.out[1].shape = append([]int(nil), n.in[0].shape...)
		}
		return nil
	},
	eval: func(_ *node, in, out []*Tensor) {
		copyData(out[0], in[0])
		if len(out) > 1 && out[1] != nil {
			for i := range out[1].I {
				out[1].I[i] = 1
			}
			for i := range out[1].F {
				out[1].F[i] = 1
			}
		}
	},
}

var shapeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x := n.in[0]
		r := int64(len(x.shape))
		start, err := n.attrInt("start", 0)
		if err != nil {
			return err
		}
		end, err := n.attrInt("end", r)
		if err != nil {
			return err
		}
		clamp := func(v int64) int64 {
			if v < 0 {
				v += r
			}
			return min(max(v, 0), r)
		}
		start, end = clamp(start), clamp(end)
		dims := []int64{}
		for i := start; i < end; i++ {
			dims = append(dims, int64(x.shape[i]))
		}
		o := n.out[0]
		o.dtype = Int64
		o.shape = []int{len(dims)}
		o.constant = NewInt(dims, len(dims))
		return nil
	},
	eval: func(n *node, _, out []*Tensor) { copy(out[0].I, n.out[0].constant.I) },
}

var constantOp = opDef{
	infer: func(n *node) error {
		if len(n.in) != 0 || len(n.out) != 1 || n.out[0] == nil {
			return n.errorf("expected no inputs and one output")
		}
		var t *Tensor
		for name, a := range n.attrs {
			switch name {
			case "value":
				if a.T == nil {
					return n.errorf("attribute value holds no tensor")
				}
				ct, err := convertTensor(a.T, DefaultMaxBytes)
				if err != nil {
					return n.errorf("attribute value: %w", err)
				}
				t = ct
			case "value_float":
				t = &Tensor{DType: Float32, Shape: []int{}, F: []float32{a.F}}
			case "value_floats":
				t = NewFloat(append([]float32(nil), a.Floats...), len(a.Floats))
			case "value_int":
				t = &Tensor{DType: Int64, Shape: []int{}, I: []int64{a.I}}
			case "value_ints":
				t = NewInt(append([]int64(nil), a.Ints...), len(a.Ints))
			default:
				return n.unsupported("attribute %s", name)
			}
		}
		if t == nil {
			return n.errorf("no value attribute")
		}
		o := n.out[0]
		o.dtype, o.shape, o.constant = t.DType, t.Shape, t
		return nil
	},
	eval: func(n *node, _, out []*Tensor) { copyData(out[0], n.out[0].constant) },
}

// castParams is the target type of a Cast.
type castParams struct{ to DType }

var castOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		to, err := n.attrInt("to", 0)
		if err != nil {
			return err
		}
		dt := DType(to)
		if !dt.Supported() {
			return n.unsupported("to=%v", dt)
		}
		if !n.in[0].dtype.Supported() {
			return n.unsupported("input type %v", n.in[0].dtype)
		}
		n.params = &castParams{to: dt}
		n.out[0].dtype = dt
		n.out[0].shape = append([]int(nil), n.in[0].shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		to := n.params.(*castParams).to
		x, o := in[0], out[0]
		switch {
		case x.DType.IsFloat() && to.IsFloat():
			for i, v := range x.F {
				o.F[i] = roundTo(to, v)
			}
		case x.DType.IsFloat():
			for i, v := range x.F {
				o.I[i] = castFloatToInt(to, v)
			}
		case to.IsFloat():
			for i, v := range x.I {
				o.F[i] = roundTo(to, float32(v))
			}
		default:
			for i, v := range x.I {
				o.I[i] = wrapInt(to, v)
			}
		}
	},
}

// roundTo rounds a float32 to the precision of a floating type.
func roundTo(d DType, v float32) float32 {
	switch d {
	case Float16:
		return HalfToFloat(FloatToHalf(v))
	case BFloat16:
		// Truncation, as the ONNX 1.12 reference (and its backend test
		// data) converts to bfloat16.
		return math.Float32frombits(math.Float32bits(v) &^ 0xffff)
	}
	return v
}

func castFloatToInt(d DType, v float32) int64 {
	if d == Bool {
		if v != 0 {
			return 1
		}
		return 0
	}
	if v != v {
		return 0
	}
	f := math.Trunc(float64(v))
	if f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return wrapInt(d, int64(f))
}

// shapeOps are the shape and data-movement operators (this file and
// op_layout.go).
var shapeOps = map[string]*opDef{
	"Flatten": &flattenOp, "Reshape": &reshapeOp, "Squeeze": &squeezeOp, "Unsqueeze": &unsqueezeOp,
	"Transpose": &transposeOp, "Concat": &concatOp, "Pad": &padOp,
	"Identity": &identityOp, "Dropout": &dropoutOp,
	"Constant": &constantOp, "Shape": &shapeOp, "Gather": &gatherOp, "Cast": &castOp,
	// op_slice.go, op_shape2.go, op_layout.go
	"Slice": &sliceOp, "Split": &splitOp, "Expand": &expandOp, "Tile": &tileOp,
	"ConstantOfShape": &constantOfShapeOp, "Range": &rangeOp, "Size": &sizeOp,
	"Trilu": &triluOp, "EyeLike": &eyeLikeOp, "CastLike": &castLikeOp, "OneHot": &oneHotOp,
	"CumSum": &cumSumOp, "ReverseSequence": &reverseSequenceOp, "NonZero": &nonZeroOp,
	"Compress": &compressOp, "DepthToSpace": &depthToSpaceOp, "SpaceToDepth": &spaceToDepthOp,
	// op_index.go
	"GatherElements": &gatherElementsOp, "GatherND": &gatherNDOp, "ScatterND": &scatterNDOp,
	"ScatterElements": &scatterElementsOp, "Scatter": &scatterOp,
	// op_sort.go
	"ArgMax": &argMaxOp, "ArgMin": &argMinOp, "TopK": &topKOp, "Unique": &uniqueOp,
	"NonMaxSuppression": &nonMaxSuppressionOp,
}
