package engine

import (
	"math"
	"sort"
)

// Selection and ordering: ArgMax, ArgMin, TopK, Unique, NonMaxSuppression.

// argParams describe ArgMax and ArgMin.
type argParams struct {
	axis int
	last bool // select_last_index
	max  bool
}

func argDef(isMax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			x := n.in[0]
			axis, err := n.attrInt("axis", 0)
			if err != nil {
				return err
			}
			a, err := n.normAxis(axis, len(x.shape), "axis")
			if err != nil {
				return err
			}
			if x.shape[a] == 0 {
				return n.errorf("axis %d is empty", a)
			}
			keep, err := n.attrInt("keepdims", 1)
			if err != nil {
				return err
			}
			last, err := n.attrInt("select_last_index", 0)
			if err != nil {
				return err
			}
			n.params = &argParams{axis: a, last: last != 0, max: isMax}
			shape := append([]int(nil), x.shape...)
			if keep != 0 {
				shape[a] = 1
			} else {
				shape = append(shape[:a], shape[a+1:]...)
			}
			n.out[0].dtype = Int64
			n.out[0].shape = shape
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*argParams)
			x, o := in[0], out[0]
			outer := numel(x.Shape[:p.axis])
			inner := numel(x.Shape[p.axis+1:])
			dim := x.Shape[p.axis]
			for a := 0; a < outer; a++ {
				for b := 0; b < inner; b++ {
					best := 0
					bv := elemAsFloat64(x, a*dim*inner+b)
					if x.DType.IsInt() {
						bi := x.I[a*dim*inner+b]
						for t := 1; t < dim; t++ {
							v := x.I[(a*dim+t)*inner+b]
							if p.max && v > bi || !p.max && v < bi || p.last && v == bi {
								best, bi = t, v
							}
						}
					} else {
						for t := 1; t < dim; t++ {
							v := elemAsFloat64(x, (a*dim+t)*inner+b)
							if p.max && v > bv || !p.max && v < bv || p.last && v == bv {
								best, bv = t, v
							}
						}
					}
					o.I[a*inner+b] = int64(best)
				}
			}
		},
	}
}

var (
	argMaxOp = argDef(true)
	argMinOp = argDef(false)
)

// topKParams describe a TopK.
type topKParams struct {
	axis, k int
	largest bool
}

// topKBefore reports whether element (va, ia) comes before (vb, ib) in a
// TopK's output: by value (NaN above every number), ties by lower index,
// as ONNX Runtime orders them. It is a strict total order.
func topKBefore[T float32 | int64](largest bool, va T, ia int, vb T, ib int) bool {
	if !largest {
		va, vb = vb, va
	}
	if va > vb || va != va && vb == vb {
		return true
	}
	if vb > va || vb != vb && va == va {
		return false
	}
	return ia < ib
}

var topKOp = opDef{
	infer: func(n *node) error {
		var k int64
		if n.opset < 10 {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			var err error
			if k, err = n.attrInt("k", -1); err != nil {
				return err
			}
			if _, ok := n.attrs["k"]; !ok {
				return n.errorf("attribute k is missing")
			}
		} else {
			if err := n.needInputs(2, 2); err != nil {
				return err
			}
			ks, err := n.constInts(1, "K")
			if err != nil {
				return err
			}
			if len(ks) != 1 {
				return n.errorf("K has %d elements, expected 1", len(ks))
			}
			k = ks[0]
		}
		x := n.in[0]
		axis, err := n.attrInt("axis", -1)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, len(x.shape), "axis")
		if err != nil {
			return err
		}
		if k < 0 || k > int64(x.shape[a]) {
			return n.errorf("K = %d is out of range for an axis of %d", k, x.shape[a])
		}
		largest, err := n.attrInt("largest", 1)
		if err != nil {
			return err
		}
		// sorted=0 leaves the order unspecified: the sorted order is one.
		if _, err := n.attrInt("sorted", 1); err != nil {
			return err
		}
		n.params = &topKParams{axis: a, k: int(k), largest: largest != 0}
		shape := append([]int(nil), x.shape...)
		shape[a] = int(k)
		n.out[0].dtype, n.out[0].shape = x.dtype, shape
		if len(n.out) > 1 && n.out[1] != nil {
			n.out[1].dtype, n.out[1].shape = Int64, append([]int(nil), shape...)
		}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*topKParams)
		var idx []int64
		if len(out) > 1 && out[1] != nil {
			idx = out[1].I
		}
		if in[0].DType.IsInt() {
			topKReference(p, in[0].Shape, in[0].I, out[0].I, idx)
		} else {
			topKReference(p, in[0].Shape, in[0].F, out[0].F, idx)
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*topKParams)
		x := n.in[0]
		if p.axis != len(x.shape)-1 || len(n.out) < 2 || n.out[1] == nil {
			return nil, nil
		}
		return &topKKernel{p: *p, rows: numel(x.shape[:p.axis]), dim: x.shape[p.axis]}, nil
	},
}

// topKReference picks, k times per row, the first element in output
// order among those after the previous pick.
func topKReference[T float32 | int64](p *topKParams, shape []int, x, vals []T, idx []int64) {
	outer := numel(shape[:p.axis])
	inner := numel(shape[p.axis+1:])
	dim := shape[p.axis]
	for a := 0; a < outer; a++ {
		for b := 0; b < inner; b++ {
			prev := -1
			for i := 0; i < p.k; i++ {
				best := -1
				for t := 0; t < dim; t++ {
					v := x[(a*dim+t)*inner+b]
					if prev >= 0 && !topKBefore(p.largest, x[(a*dim+prev)*inner+b], prev, v, t) {
						continue
					}
					if best < 0 || topKBefore(p.largest, v, t, x[(a*dim+best)*inner+b], best) {
						best = t
					}
				}
				at := (a*p.k+i)*inner + b
				vals[at] = x[(a*dim+best)*inner+b]
				if idx != nil {
					idx[at] = int64(best)
				}
				prev = best
			}
		}
	}
}

// topKKernel selects along the last axis with a heap of k indices kept
// in the output index row: O(n log k) per row, nothing allocated.
type topKKernel struct {
	p         topKParams
	rows, dim int
}

func (k *topKKernel) Run(_ *Exec, in, out []*Tensor) {
	if in[0].DType.IsInt() {
		topKRows(k, in[0].I, out[0].I, out[1].I)
	} else {
		topKRows(k, in[0].F, out[0].F, out[1].I)
	}
}

func topKRows[T float32 | int64](k *topKKernel, x, vals []T, idx []int64) {
	kk, dim, largest := k.p.k, k.dim, k.p.largest
	if kk == 0 {
		return
	}
	// worse(i, j): element i comes after element j in output order; the
	// heap keeps the worst of the selected at its root.
	for r := 0; r < k.rows; r++ {
		row := x[r*dim : (r+1)*dim]
		h := idx[r*kk : (r+1)*kk]
		worse := func(i, j int64) bool {
			return topKBefore(largest, row[j], int(j), row[i], int(i))
		}
		down := func(i, n int) {
			for {
				c := 2*i + 1
				if c >= n {
					return
				}
				if c+1 < n && worse(h[c+1], h[c]) {
					c++
				}
				if !worse(h[c], h[i]) {
					return
				}
				h[i], h[c] = h[c], h[i]
				i = c
			}
		}
		for t := 0; t < kk; t++ {
			h[t] = int64(t)
		}
		for i := kk/2 - 1; i >= 0; i-- {
			down(i, kk)
		}
		for t := kk; t < dim; t++ {
			if worse(h[0], int64(t)) {
				h[0] = int64(t)
				down(0, kk)
			}
		}
		for n := kk - 1; n > 0; n-- { // worst to the back
			h[0], h[n] = h[n], h[0]
			down(0, n)
		}
		v := vals[r*kk : (r+1)*kk]
		for i, j := range h {
			v[i] = row[j]
		}
	}
}

var uniqueOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x, err := n.constInput(0)
		if err != nil {
			return err
		}
		sorted, err := n.attrInt("sorted", 1)
		if err != nil {
			return err
		}
		// Without an axis the flattened input is a column of 1-element slices.
		outer, dim, inner := 1, x.Len(), 1
		axis := -1
		if _, ok := n.attrs["axis"]; ok {
			av, err := n.attrInt("axis", 0)
			if err != nil {
				return err
			}
			if axis, err = n.normAxis(av, len(x.Shape), "axis"); err != nil {
				return err
			}
			outer, dim, inner = numel(x.Shape[:axis]), x.Shape[axis], numel(x.Shape[axis+1:])
		}
		// cmp orders slices i and j lexicographically.
		cmp := func(i, j int) int {
			for a := 0; a < outer; a++ {
				for b := 0; b < inner; b++ {
					s, t := (a*dim+i)*inner+b, (a*dim+j)*inner+b
					var c int
					if x.DType.IsInt() {
						c = compareOrdered(x.I[s], x.I[t])
					} else {
						c = compareOrdered(x.F[s], x.F[t])
					}
					if c != 0 {
						return c
					}
				}
			}
			return 0
		}
		order := make([]int, dim) // stable: equal slices keep their first occurrence first
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return cmp(order[a], order[b]) < 0 })
		// Group equal slices; first[g] is the group's first occurrence.
		group := make([]int, dim)
		var first, counts []int
		for i, j := range order {
			if i == 0 || cmp(order[i-1], j) != 0 {
				first = append(first, j)
				counts = append(counts, 0)
			}
			group[j] = len(first) - 1
			counts[len(counts)-1]++
		}
		u := len(first)
		rank := make([]int, u) // output position of each group
		for g := range rank {
			rank[g] = g
		}
		if sorted == 0 {
			byFirst := make([]int, u)
			for g := range byFirst {
				byFirst[g] = g
			}
			sort.Slice(byFirst, func(a, b int) bool { return first[byFirst[a]] < first[byFirst[b]] })
			for pos, g := range byFirst {
				rank[g] = pos
			}
		}
		yShape := []int{u}
		if axis >= 0 {
			yShape = append([]int(nil), x.Shape...)
			yShape[axis] = u
		}
		y := allocTensor(&value{dtype: x.DType, shape: yShape})
		ind, inv, cnt := NewInt(nil, u), NewInt(nil, dim), NewInt(nil, u)
		for g, f := range first {
			pos := rank[g]
			ind.I[pos] = int64(f)
			cnt.I[pos] = int64(counts[g])
			for a := 0; a < outer; a++ {
				for b := 0; b < inner; b++ {
					copyElemAt(y, (a*u+pos)*inner+b, x, (a*dim+f)*inner+b)
				}
			}
		}
		for i := range inv.I {
			inv.I[i] = int64(rank[group[i]])
		}
		for i, t := range []*Tensor{y, ind, inv, cnt} {
			if i < len(n.out) && n.out[i] != nil {
				n.out[i].dtype, n.out[i].shape, n.out[i].constant = t.DType, t.Shape, t
			}
		}
		return nil
	},
	eval: evalConstantOutputs,
}

var nonMaxSuppressionOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 5); err != nil {
			return err
		}
		var ts [5]*Tensor
		for i := range ts {
			t, err := n.constInput(i)
			if err != nil {
				return err
			}
			ts[i] = t
		}
		boxes, scores := ts[0], ts[1]
		if len(boxes.Shape) != 3 || boxes.Shape[2] != 4 || !boxes.DType.IsFloat() {
			return n.errorf("boxes have shape %v, expected float [batches, boxes, 4]", boxes.Shape)
		}
		nb, nbox := boxes.Shape[0], boxes.Shape[1]
		if len(scores.Shape) != 3 || scores.Shape[0] != nb || scores.Shape[2] != nbox || !scores.DType.IsFloat() {
			return n.errorf("scores have shape %v, expected float [%d, classes, %d]", scores.Shape, nb, nbox)
		}
		center, err := n.attrInt("center_point_box", 0)
		if err != nil {
			return err
		}
		if center != 0 && center != 1 {
			return n.errorf("center_point_box %d is neither 0 nor 1", center)
		}
		maxOut := int64(0)
		if t := ts[2]; t != nil && t.Len() > 0 {
			if !t.DType.IsInt() {
				return n.errorf("max_output_boxes_per_class must be an integer")
			}
			maxOut = t.I[0]
		}
		iou, scoreMin, haveScore := 0.0, 0.0, false
		if t := ts[3]; t != nil && t.Len() > 0 {
			iou = scalarAsFloat64(t)
		}
		if t := ts[4]; t != nil && t.Len() > 0 {
			scoreMin, haveScore = scalarAsFloat64(t), true
		}
		if iou < 0 || iou > 1 {
			return n.errorf("iou_threshold %v is outside [0, 1]", iou)
		}
		var sel []int64
		ncls := scores.Shape[1]
		for b := 0; b < nb && maxOut > 0; b++ {
			for c := 0; c < ncls; c++ {
				sel = nmsClass(sel, boxes.F[b*nbox*4:(b+1)*nbox*4], scores.F[(b*ncls+c)*nbox:(b*ncls+c+1)*nbox], b, c, center != 0, maxOut, iou, scoreMin, haveScore)
			}
		}
		t := NewInt(sel, len(sel)/3, 3)
		o := n.out[0]
		o.dtype, o.shape, o.constant = Int64, t.Shape, t
		return nil
	},
	eval: evalConstantOutputs,
}

// nmsClass appends the selections [batch, class, box] of one class, as
// ONNX Runtime makes them: candidates above the score threshold taken by
// decreasing score (ties by lower index), each kept unless its IoU with
// a kept box exceeds the threshold, at most maxOut of them.
func nmsClass(sel []int64, boxes, scores []float32, b, c int, center bool, maxOut int64, iou, scoreMin float64, haveScore bool) []int64 {
	var cand []int
	for i, s := range scores {
		if !haveScore || float64(s) > scoreMin {
			cand = append(cand, i)
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return scores[cand[i]] > scores[cand[j]] })
	var kept []int
	for _, i := range cand {
		if int64(len(kept)) >= maxOut {
			break
		}
		ok := true
		for _, j := range kept {
			if nmsIoU(boxes[i*4:i*4+4], boxes[j*4:j*4+4], center) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, i)
			sel = append(sel, int64(b), int64(c), int64(i))
		}
	}
	return sel
}

// nmsIoU is the intersection over union of two boxes given as corners
// [y1, x1, y2, x2] (in either order) or centers [xc, yc, w, h]; 0 when
// either box or the union is empty.
func nmsIoU(a, b []float32, center bool) float64 {
	corners := func(v []float32) (y1, x1, y2, x2 float64) {
		if center {
			xc, yc, w, h := float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
			return yc - h/2, xc - w/2, yc + h/2, xc + w/2
		}
		y1, x1, y2, x2 = float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
		return math.Min(y1, y2), math.Min(x1, x2), math.Max(y1, y2), math.Max(x1, x2)
	}
	ay1, ax1, ay2, ax2 := corners(a)
	by1, bx1, by2, bx2 := corners(b)
	iw := math.Min(ax2, bx2) - math.Max(ax1, bx1)
	ih := math.Min(ay2, by2) - math.Max(ay1, by1)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	areaA := (ay2 - ay1) * (ax2 - ax1)
	areaB := (by2 - by1) * (bx2 - bx1)
	union := areaA + areaB - inter
	if areaA <= 0 || areaB <= 0 || union <= 0 {
		return 0
	}
	return inter / union
}

// compareOrdered compares two numbers (NaN equal to NaN and above numbers).
func compareOrdered[T float32 | int64](a, b T) int {
	switch {
	case a < b || a == a && b != b:
		return -1
	case a > b || a != a && b == b:
		return 1
	}
	return 0
}
