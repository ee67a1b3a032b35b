package vec

import (
	"math"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
	"testing"
)

// TestDepthwiseSame3 compares DepthwiseSame3 with a direct float64 sum
// over plane shapes (one row or column, shorter and longer than a vector,
// ragged tails, the DS-CNN's 25x20, 12x10 and 6x5), plane counts that
// leave every tail block (1 to 7 vectors), clamps, with NaN in the input,
// and checks nothing is written past the planes: the slices end at the
// last plane, so a tap or store not masked reads or writes past them.
func TestDepthwiseSame3(t *testing.T) {
	if !HasDepthwiseSame3() {
		t.Skip("no AVX-512 on this CPU")
	}
	shapes := [][2]int{{1, 1}, {1, 7}, {7, 1}, {2, 2}, {3, 3}, {4, 4}, {4, 5}, {5, 4}, {6, 5}, {5, 6}, {7, 7}, {8, 16}, {9, 17}, {12, 10}, {14, 14}, {25, 20}, {16, 16}, {11, 13}, {33, 3}}
	for _, s := range shapes {
		h, w := s[0], s[1]
		n := h * w
		for _, planes := range []int{1, 2, 3, 7} {
			for _, clamp := range []bool{false, true} {
				src := make([]float32, planes*n)
				for i := range src {
					src[i] = float32((i*7919)%201-100) / 64
				}
				nanAt := -1
				if n > 4 && planes > 1 {
					nanAt = n + n/2 // in plane 1
					src[nanAt] = float32(math.NaN())
				}
				wt := make([]float32, planes*9)
				for i := range wt {
					wt[i] = float32((i*31)%17-8) / 16
				}
				bias := make([]float32, planes)
				for i := range bias {
					bias[i] = float32(i%3) - 0.75
				}
				lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
				if clamp {
					lo, hi = 0, 0.75
				}
				buf := make([]float32, planes*n+32)
				for i := range buf {
					buf[i] = -9
				}
				dst := buf[: planes*n : planes*n]
				if !DepthwiseSame3(dst, src, planes, h, w, Same3Masks(h, w), wt, bias, lo, hi) {
					t.Fatal("no assembly")
				}
				for i := planes * n; i < len(buf); i++ {
					if buf[i] != -9 {
						t.Fatalf("%dx%d planes %d: wrote past the planes at %d", h, w, planes, i)
					}
				}
				for p := 0; p < planes; p++ {
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							want := float64(bias[p])
							nan := false
							for ky := 0; ky < 3; ky++ {
								for kx := 0; kx < 3; kx++ {
									iy, ix := y+ky-1, x+kx-1
									if iy < 0 || iy >= h || ix < 0 || ix >= w {
										continue
									}
									j := p*n + iy*w + ix
									if j == nanAt {
										nan = true
									}
									want += float64(wt[p*9+ky*3+kx]) * float64(src[j])
								}
							}
							want = max(float64(lo), min(float64(hi), want))
							g := dst[p*n+y*w+x]
							switch {
							case nan:
								if !math.IsNaN(float64(g)) && !clamp {
									t.Fatalf("%dx%d planes %d: (%d,%d,%d) = %v, want NaN", h, w, planes, p, y, x, g)
								}
							case math.Abs(float64(g)-want) > 1e-5*(1+math.Abs(want)):
								t.Fatalf("%dx%d planes %d clamp %v: (%d,%d,%d) = %v, want %v", h, w, planes, clamp, p, y, x, g, want)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkDepthwiseSame3 times kws-ds's depthwise layers (160 channels
// of 25x20, 12x10, 6x5).
func BenchmarkDepthwiseSame3(b *testing.B) {
	if !HasDepthwiseSame3() {
		b.Skip("no AVX-512 on this CPU")
	}
	for _, s := range [][2]int{{25, 20}, {12, 10}, {6, 5}} {
		h, w, planes := s[0], s[1], 160
		n := h * w
		src := make([]float32, planes*n)
		dst := make([]float32, planes*n)
		wt := make([]float32, planes*9)
		bias := make([]float32, planes)
		masks := Same3Masks(h, w)
		b.Run(strconv.Itoa(h)+"x"+strconv.Itoa(w), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for b.Loop() {
				DepthwiseSame3(dst, src, planes, h, w, masks, wt, bias, 0, 6)
			}
			if c := threadCPU() - t0; c > 0 {
				b.ReportMetric(c*1e9/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// threadCPU is the calling thread's CPU time in seconds (0 if unknown):
// on a loaded machine wall time counts the waits for a core.
func threadCPU() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
