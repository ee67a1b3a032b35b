package engine

// The data-movement kernels of Slice, Expand, Tile, DepthToSpace,
// SpaceToDepth and Transpose share one form: every output element is one
// input element at an affine offset, out[o] = in[base + Σ idx[d]*src[d]]
// for the row-major output index idx. A movePlan describes that map; the
// moveKernel compiled from it copies the longest runs the map allows
// (copy() when the run is contiguous in both tensors, a fill when the
// source stride is 0) from a table of run offsets built at compile.

// movePlan maps a row-major output of shape dims to input offsets. Its
// rank is at most 2*maxRank (Tile doubles the input rank).
type movePlan struct {
	dims []int // output loop dimensions, outermost first
	src  []int // input stride of each dimension (0 broadcasts, <0 reverses)
	base int   // input offset of output element 0
}

// coalesce drops dimensions of size 1 and merges neighbours whose strides
// chain (src[d] == src[d+1]*dims[d+1]), so that contiguous and broadcast
// blocks become single long dimensions.
func (p movePlan) coalesce() movePlan {
	q := movePlan{base: p.base}
	for d, n := range p.dims {
		if n == 1 {
			continue
		}
		q.dims = append(q.dims, n)
		q.src = append(q.src, p.src[d])
	}
	for i := len(q.dims) - 2; i >= 0; i-- {
		if q.src[i] == q.src[i+1]*q.dims[i+1] {
			q.dims[i] *= q.dims[i+1]
			q.src[i] = q.src[i+1]
			q.dims = append(q.dims[:i+1], q.dims[i+2:]...)
			q.src = append(q.src[:i+1], q.src[i+2:]...)
		}
	}
	return q
}

// moveTableRuns bounds the run table of a moveKernel; larger moves step
// through the outer dimensions with an odometer instead.
const moveTableRuns = 1 << 16

// moveKernel runs a movePlan. The inner loop walks dimension k of the
// plan (the innermost one, or a longer one that is contiguous in the
// input when the innermost is short and strided, as in DepthToSpace); the
// outer dimensions are either tabulated (srcOff/dstOff) or walked.
type moveKernel struct {
	total      int
	inner      int // elements per run
	ss, ds     int // input and output stride of the inner loop
	srcOff     []int32
	dstOff     []int32
	outDims    []int // the outer dimensions (odometer path)
	outSrc     []int
	outDst     []int
	base       int
	contiguous bool // runs are back to back in the output (ds == 1, k innermost)
}

// newMoveKernel compiles a plan; tableRuns bounds the run table (tests
// pass small values to exercise the odometer path).
func newMoveKernel(p movePlan, tableRuns int) *moveKernel {
	total := numel(p.dims)
	q := p.coalesce()
	k := &moveKernel{total: total, base: q.base, inner: 1, ds: 1}
	r := len(q.dims)
	if total == 0 || r == 0 {
		return k
	}
	dst := make([]int, r)
	stridesOf(q.dims, dst)
	in := r - 1
	if q.dims[in] < 16 && q.src[in] != 1 {
		// A short strided innermost dimension (DepthToSpace's block
		// columns): loop instead over the longest input-contiguous one.
		for d := 0; d < r-1; d++ {
			if q.src[d] == 1 && q.dims[d] > q.dims[in] {
				in = d
			}
		}
	}
	k.inner, k.ss, k.ds = q.dims[in], q.src[in], dst[in]
	k.contiguous = in == r-1
	for d := 0; d < r; d++ {
		if d != in {
			k.outDims = append(k.outDims, q.dims[d])
			k.outSrc = append(k.outSrc, q.src[d])
			k.outDst = append(k.outDst, dst[d])
		}
	}
	runs := total / k.inner
	if runs > tableRuns || total > 1<<31-1 {
		return k
	}
	k.srcOff = make([]int32, runs)
	if !k.contiguous {
		k.dstOff = make([]int32, runs)
	}
	k.walk(func(i, s, d int) {
		k.srcOff[i] = int32(s)
		if k.dstOff != nil {
			k.dstOff[i] = int32(d)
		}
	})
	return k
}

// walk calls fn(run, srcOffset, dstOffset) for every run in order.
func (k *moveKernel) walk(fn func(i, s, d int)) {
	var idx [2 * maxRank]int
	r := len(k.outDims)
	s, d := k.base, 0
	runs := k.total / k.inner
	for i := 0; i < runs; i++ {
		fn(i, s, d)
		for j := r - 1; j >= 0; j-- {
			idx[j]++
			s += k.outSrc[j]
			d += k.outDst[j]
			if idx[j] < k.outDims[j] {
				break
			}
			s -= k.outSrc[j] * k.outDims[j]
			d -= k.outDst[j] * k.outDims[j]
			idx[j] = 0
		}
	}
}

func (k *moveKernel) Run(_ *Exec, in, out []*Tensor) {
	if out[0].DType.IsInt() {
		moveRun(k, out[0].I, in[0].I)
	} else {
		moveRun(k, out[0].F, in[0].F)
	}
}

// moveRun copies the runs of k from src into dst.
func moveRun[T float32 | int64](k *moveKernel, dst, src []T) {
	if k.total == 0 {
		return
	}
	if k.srcOff != nil {
		for i, s := range k.srcOff {
			d := i * k.inner
			if k.dstOff != nil {
				d = int(k.dstOff[i])
			}
			moveOne(k, dst, src, int(s), d)
		}
		return
	}
	// Odometer over the outer dimensions (no closure: Run allocates nothing).
	var idx [2 * maxRank]int
	r := len(k.outDims)
	s, d := k.base, 0
	runs := k.total / k.inner
	for i := 0; i < runs; i++ {
		moveOne(k, dst, src, s, d)
		for j := r - 1; j >= 0; j-- {
			idx[j]++
			s += k.outSrc[j]
			d += k.outDst[j]
			if idx[j] < k.outDims[j] {
				break
			}
			s -= k.outSrc[j] * k.outDims[j]
			d -= k.outDst[j] * k.outDims[j]
			idx[j] = 0
		}
	}
}

// moveOne copies one run of k.inner elements.
func moveOne[T float32 | int64](k *moveKernel, dst, src []T, s, d int) {
	n := k.inner
	switch {
	case k.ss == 1 && k.ds == 1:
		copy(dst[d:d+n], src[s:s+n])
	case k.ss == 0 && k.ds == 1:
		v := src[s]
		row := dst[d : d+n]
		for i := range row {
			row[i] = v
		}
	default:
		for i := 0; i < n; i++ {
			dst[d] = src[s]
			s += k.ss
			d += k.ds
		}
	}
}
