package engine

import "math"

// bnParams describe an inference BatchNormalization.
type bnParams struct {
	eps     float32
	c, size int // channels, elements per channel per batch item
}

var batchNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(5, 5); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) < 2 {
			return n.errorf("input %v has rank below 2", x.shape)
		}
		for i := 0; i < 5; i++ {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		c := x.shape[1]
		for i := 1; i < 5; i++ {
			if n.in[i].numel() != c {
				return n.errorf("input %d has %d elements, expected %d channels", i, n.in[i].numel(), c)
			}
		}
		eps, err := n.attrFloat("epsilon", 1e-5)
		if err != nil {
			return err
		}
		if tm, err := n.attrInt("training_mode", 0); err != nil || tm != 0 {
			if err != nil {
				return err
			}
			return n.unsupported("training_mode=1")
		}
		if n.opset < 9 {
			if sp, err := n.attrInt("spatial", 1); err != nil || sp != 1 {
				if err != nil {
					return err
				}
				return n.unsupported("spatial=0")
			}
		}
		for i := 1; i < len(n.out); i++ {
			if n.out[i] != nil {
				return n.unsupported("training outputs (mean, var)")
			}
		}
		n.params = &bnParams{eps: eps, c: c, size: numel(x.shape[2:])}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*bnParams)
		x, y := in[0].F, out[0].F
		scale, bias, mean, vr := in[1].F, in[2].F, in[3].F, in[4].F
		batch := len(x) / max(1, p.c*p.size)
		for b := 0; b < batch; b++ {
			for c := 0; c < p.c; c++ {
				f := scale[c] / float32(math.Sqrt(float64(vr[c]+p.eps)))
				sh := bias[c] - mean[c]*f
				off := (b*p.c + c) * p.size
				for i := off; i < off+p.size; i++ {
					y[i] = n.act.apply(x[i]*f + sh)
				}
			}
		}
	},
	compile: compileBatchNorm,
}

// bnKernel runs an inference BatchNormalization that could not be folded
// into a producer (it follows a Concat, a pooling, an input) as one
// scale-shift pass per channel plane, the fused activation (DenseNet's
// Relu) applied to each plane while it is in cache.
type bnKernel struct {
	p            *bnParams
	scale, shift []float32 // per channel: y = x*scale + shift
	act          activation
}

func compileBatchNorm(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*bnParams)
	for i := 0; i < 5; i++ {
		if !n.in[i].isConst() && i > 0 || n.in[i].dtype != Float32 {
			return nil, nil // statistics fed at run time, or not float32: the reference
		}
	}
	k := &bnKernel{p: p, scale: make([]float32, p.c), shift: make([]float32, p.c), act: n.act}
	sc, bi, mean, vr := n.in[1].constant.F, n.in[2].constant.F, n.in[3].constant.F, n.in[4].constant.F
	for c := range k.scale {
		f := sc[c] / float32(math.Sqrt(float64(vr[c]+p.eps)))
		k.scale[c], k.shift[c] = f, bi[c]-mean[c]*f
	}
	return k, nil
}

// Run implements Kernel.
func (k *bnKernel) Run(x *Exec, in, out []*Tensor) {
	size := max(1, k.p.size)
	x.split(k, in, out, len(in[0].F)/size, max(1, elemGrain/size))
}

// runRange computes channel planes [lo, hi) of the batch (plane i is
// channel i%c of batch item i/c).
func (k *bnKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	size := k.p.size
	for i := lo; i < hi; i++ {
		c := i % k.p.c
		scaleShift(out[0].F[i*size:(i+1)*size], in[0].F[i*size:(i+1)*size], k.scale[c], k.shift[c])
		k.act.applySlice(out[0].F[i*size : (i+1)*size])
	}
}

// scaleShift stores x[i]*f + sh into y[i].
func scaleShift(y, x []float32, f, sh float32) {
	x = x[:len(y)]
	i := 0
	for ; i+8 <= len(y); i += 8 { // unrolled as mulInPlace
		yy, xx := y[i:i+8:i+8], x[i:i+8:i+8]
		yy[0] = xx[0]*f + sh
		yy[1] = xx[1]*f + sh
		yy[2] = xx[2]*f + sh
		yy[3] = xx[3]*f + sh
		yy[4] = xx[4]*f + sh
		yy[5] = xx[5]*f + sh
		yy[6] = xx[6]*f + sh
		yy[7] = xx[7]*f + sh
	}
	for ; i < len(y); i++ {
		y[i] = x[i]*f + sh
	}
}

// normOps are the normalisation operators (this file, op_softmax.go,
// op_norm.go and op_loss.go).
var normOps = map[string]*opDef{
	"BatchNormalization": &batchNormOp,
	"Softmax":            &softmaxOp, "LogSoftmax": &logSoftmaxOp, "Hardmax": &hardmaxOp,
	// op_norm.go
	"LayerNormalization": &layerNormOp, "InstanceNormalization": &instanceNormOp, "GroupNormalization": &groupNormOp,
	"MeanVarianceNormalization": &mvnOp, "LpNormalization": &lpNormOp, "LRN": &lrnOp,
	// op_loss.go
	"NegativeLogLikelihoodLoss": &nllLossOp, "SoftmaxCrossEntropyLoss": &sceLossOp,
}
