package engine

// window is the geometry of a 1-D or 2-D sliding window (convolution or
// pooling). 1-D windows are held as 2-D with a height of 1.
type window struct {
	nd              int // 1 or 2 spatial dimensions
	batch, c        int
	ih, iw, oh, ow  int
	kh, kw          int
	sh, sw          int
	dh, dw          int
	padT, padL      int
	padB, padR      int
	countIncludePad bool
	ceil            bool
	kernelGiven     bool
	spatialIn       []int
	spatialOut      []int
}

// parseWindow reads kernel_shape, strides, dilations, pads, auto_pad and
// ceil_mode for an input of shape [N, C, spatial...]. kernel is used when
// kernel_shape is absent (Conv reads it from the weights).
func parseWindow(n *node, shape []int, kernel []int, ceilAllowed bool) (*window, error) {
	nd := len(shape) - 2
	if nd < 1 || nd > 2 {
		if nd > 2 {
			return nil, n.unsupported("%d-D window", nd)
		}
		return nil, n.errorf("input of shape %v has no spatial dimensions", shape)
	}
	w := &window{nd: nd, batch: shape[0], c: shape[1]}
	geti := func(name string, def int) ([]int, error) {
		v, ok, err := n.attrInts(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out := make([]int, nd)
			for i := range out {
				out[i] = def
			}
			return out, nil
		}
		if name == "pads" {
			if len(v) != 2*nd {
				return nil, n.errorf("pads has %d entries, expected %d", len(v), 2*nd)
			}
		} else if len(v) != nd {
			return nil, n.errorf("%s has %d entries, expected %d", name, len(v), nd)
		}
		return n.ints(name, v)
	}
	ks, ok, err := n.attrInts("kernel_shape")
	if err != nil {
		return nil, err
	}
	if ok {
		if len(ks) != nd {
			return nil, n.errorf("kernel_shape has %d entries, expected %d", len(ks), nd)
		}
		if kernel, err = n.ints("kernel_shape", ks); err != nil {
			return nil, err
		}
		w.kernelGiven = true
	}
	if kernel == nil {
		return nil, n.errorf("attribute kernel_shape is missing")
	}
	strides, err := geti("strides", 1)
	if err != nil {
		return nil, err
	}
	dil, err := geti("dilations", 1)
	if err != nil {
		return nil, err
	}
	pads, err := geti("pads", 0)
	if err != nil {
		return nil, err
	}
	if len(pads) == nd {
		pads = append(pads, pads...)
	}
	autoPad, err := n.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	ceil, err := n.attrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if ceil != 0 && !ceilAllowed {
		return nil, n.unsupported("ceil_mode")
	}
	w.ceil = ceil != 0
	in := shape[2:]
	out := make([]int, nd)
	for i := 0; i < nd; i++ {
		k, s, d := kernel[i], strides[i], dil[i]
		if k < 1 || s < 1 || d < 1 {
			return nil, n.errorf("kernel %v, strides %v and dilations %v must be positive", kernel, strides, dil)
		}
		if pads[i] < 0 || pads[i+nd] < 0 {
			return nil, n.errorf("pads %v must not be negative", pads)
		}
		ext := (k-1)*d + 1
		switch autoPad {
		case "NOTSET", "":
			span := in[i] + pads[i] + pads[i+nd] - ext
			if span < 0 {
				return nil, n.errorf("window %d (dilated) is larger than the padded input %d", ext, in[i]+pads[i]+pads[i+nd])
			}
			if w.ceil {
				out[i] = (span+s-1)/s + 1
				if (out[i]-1)*s >= in[i]+pads[i] {
					out[i]--
				}
			} else {
				out[i] = span/s + 1
			}
		case "VALID":
			pads[i], pads[i+nd] = 0, 0
			if in[i] < ext {
				return nil, n.errorf("window %d is larger than the input %d", ext, in[i])
			}
			out[i] = (in[i]-ext)/s + 1
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (in[i] + s - 1) / s
			total := max(0, (out[i]-1)*s+ext-in[i])
			if autoPad == "SAME_UPPER" {
				pads[i], pads[i+nd] = total/2, total-total/2
			} else {
				pads[i], pads[i+nd] = total-total/2, total/2
			}
		default:
			return nil, n.errorf("auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", autoPad)
		}
	}
	w.spatialIn, w.spatialOut = in, out
	if nd == 1 {
		w.ih, w.iw, w.oh, w.ow = 1, in[0], 1, out[0]
		w.kh, w.kw, w.sh, w.sw, w.dh, w.dw = 1, kernel[0], 1, strides[0], 1, dil[0]
		w.padL, w.padR = pads[0], pads[1]
	} else {
		w.ih, w.iw, w.oh, w.ow = in[0], in[1], out[0], out[1]
		w.kh, w.kw, w.sh, w.sw, w.dh, w.dw = kernel[0], kernel[1], strides[0], strides[1], dil[0], dil[1]
		w.padT, w.padL, w.padB, w.padR = pads[0], pads[1], pads[2], pads[3]
	}
	return w, nil
}

// outShape returns [N, channels, spatial out...].
func (w *window) outShape(channels int) []int {
	return append([]int{w.batch, channels}, w.spatialOut...)
}
