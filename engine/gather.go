package engine

import "unsafe"

//go:generate go run ../tools/asm/engine_amd64 -out asm_amd64.s -stubs asm_stubs_amd64.go -pkg engine

// panelPlan is how one nr-wide panel of an im2col matrix is gathered: the
// same moves for every row k, each copying input floats
// x[kbase[k]+pos...] to panel columns t...: m8 holds the (t, pos) pairs of
// moves of eight consecutive floats (a run of eight or more consecutive
// positions is covered by moves of eight, the last one overlapping), m1
// those of single floats. ok is false for a panel without a plan, gathered
// element by element.
type panelPlan struct {
	m8, m1 []int32
	ok     bool
}

// panelPlans holds the plans of the 16- and 8-wide panels (the amd64 and
// arm64 kernels' widths).
type panelPlans struct {
	p16, p8 []panelPlan
	limit   int32 // largest pos+1 of any position
}

// newPanelPlans cuts the positions into panels of moves.
func newPanelPlans(pos []int32) *panelPlans {
	pp := &panelPlans{}
	for _, v := range pos {
		pp.limit = max(pp.limit, v+1)
	}
	pp.p16 = plansFor(pos, 16)
	pp.p8 = plansFor(pos, 8)
	return pp
}

func plansFor(pos []int32, nr int) []panelPlan {
	var out []panelPlan
	for j0 := 0; j0 < len(pos); j0 += nr {
		var pl panelPlan
		for t := 0; t < nr && j0+t < len(pos); {
			l := 1
			for t+l < nr && j0+t+l < len(pos) && pos[j0+t+l] == pos[j0+t]+int32(l) {
				l++
			}
			p := pos[j0+t]
			if l >= 8 {
				for o := 0; o < l; o += 8 {
					o = min(o, l-8)
					pl.m8 = append(pl.m8, int32(t+o), p+int32(o))
				}
			} else {
				for o := 0; o < l; o++ {
					pl.m1 = append(pl.m1, int32(t+o), p+int32(o))
				}
			}
			t += l
		}
		// Scattered positions (strided or perforated outputs) become
		// moves of one float: still cheaper than the checked gather.
		pl.ok = true
		out = append(out, pl)
	}
	return out
}

// gatherPanel writes len(kbase) rows of an nr-wide panel: row k holds the
// plan's floats from x[kbase[k]:], then zeros past column cnt. The caller
// checked that every kbase[k]+pos of the plan is within x, so the copies
// use unchecked pointers (in assembly where there is a routine): this loop
// is the whole cost of im2col.
func gatherPanel(panel, x []float32, kbase []int32, nr int, pl *panelPlan, cnt int) {
	kn := len(kbase)
	if kn == 0 {
		return
	}
	_ = panel[kn*nr-1]
	if !gatherArch(panel, x, kbase, nr, pl) {
		gatherGo(panel, x, kbase, nr, pl)
	}
	if cnt < nr {
		for k := 0; k < kn; k++ {
			clear(panel[k*nr+cnt : (k+1)*nr])
		}
	}
}

// gatherGo is the portable gatherPanel.
func gatherGo(panel, x []float32, kbase []int32, nr int, pl *panelPlan) {
	base := unsafe.Pointer(unsafe.SliceData(panel))
	xp := unsafe.Pointer(unsafe.SliceData(x))
	for k, b := range kbase {
		// Each row's pointer from the base: advancing one past the last
		// row would leave the allocation (checkptr refuses it).
		dp := unsafe.Add(base, uintptr(k*nr)*4)
		sp := unsafe.Add(xp, uintptr(b)*4)
		for i := 0; i < len(pl.m8); i += 2 {
			// Four 8-byte loads, then four stores: a plain array
			// assignment would call memmove.
			s := (*[4]uint64)(unsafe.Add(sp, uintptr(pl.m8[i+1])*4))
			a, b, c, e := s[0], s[1], s[2], s[3]
			d := (*[4]uint64)(unsafe.Add(dp, uintptr(pl.m8[i])*4))
			d[0], d[1], d[2], d[3] = a, b, c, e
		}
		for i := 0; i < len(pl.m1); i += 2 {
			*(*float32)(unsafe.Add(dp, uintptr(pl.m1[i])*4)) = *(*float32)(unsafe.Add(sp, uintptr(pl.m1[i+1])*4))
		}
	}
}

// gatherBytesGo is the portable byte gather: for every row k of the
// matrix (stride bytes apart in dst), the plan's moves from
// codes[kbase[k]:]. The caller checked the bounds.
func gatherBytesGo(dst, codes []uint8, kbase []int32, stride int, pl *panelPlan) {
	base := unsafe.Pointer(unsafe.SliceData(dst))
	xp := unsafe.Pointer(unsafe.SliceData(codes))
	for k, b := range kbase {
		dp := unsafe.Add(base, uintptr(k*stride))
		sp := unsafe.Add(xp, uintptr(b))
		for i := 0; i < len(pl.m8); i += 2 {
			*(*uint64)(unsafe.Add(dp, uintptr(pl.m8[i]))) = *(*uint64)(unsafe.Add(sp, uintptr(pl.m8[i+1])))
		}
		for i := 0; i < len(pl.m1); i += 2 {
			*(*uint8)(unsafe.Add(dp, uintptr(pl.m1[i]))) = *(*uint8)(unsafe.Add(sp, uintptr(pl.m1[i+1])))
		}
	}
}
