package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// TestConvRowsMatchesReference runs stride-1 convolutions through the
// row-table kernel (where the GEMM has one) with batches, groups,
// dilations, asymmetric borders and one or two threads, against the
// reference, and checks that the kernel was the one chosen.
func TestConvRowsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	cases := []struct {
		batch, c, h, w, m, kh, kw, dh, dw, group int
		pads                                     []int
	}{
		{2, 3, 9, 13, 5, 3, 3, 1, 1, 1, []int{1, 1, 1, 1}},
		{1, 8, 17, 17, 24, 3, 3, 1, 1, 2, []int{1, 2, 0, 1}},
		{1, 4, 12, 20, 13, 5, 5, 2, 1, 1, []int{4, 2, 4, 2}},
		{1, 6, 7, 6, 6, 3, 1, 1, 1, 3, []int{1, 0, 1, 0}}, // wp == ow: no copy out
		{3, 2, 5, 40, 7, 2, 3, 1, 2, 1, nil},
		{1, 32, 14, 14, 30, 3, 3, 1, 1, 1, []int{1, 1, 1, 1}}, // K = 288 > one K block
	}
	for _, c := range cases {
		for _, threads := range []int{1, 2} {
			b := newBuilder(13)
			in := []int{c.batch, c.c, c.h, c.w}
			ws := []int{c.m, c.c / c.group, c.kh, c.kw}
			attrs := []*onnx.Attribute{attrInt("group", c.group), attrInts("dilations", c.dh, c.dw)}
			if c.pads != nil {
				attrs = append(attrs, attrInts("pads", c.pads...))
			}
			b.input("x", in...).init("w", randFloats(rng, numel(ws)), ws...).init("b", randFloats(rng, c.m), c.m).
				node("Conv", []string{"x", "w", "b"}, []string{"y"}, attrs...).output("y")
			m := b.load(t, Options{Threads: threads})
			_, rows := m.steps[0].kernel.(*convRowsKernel)
			if want := gemm.RowsKernel() && c.m/c.group <= rowsMaxOutputs; rows != want {
				t.Fatalf("%+v: row-table kernel chosen %v, want %v", c, rows, want)
			}
			checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, numel(in)), in...)}, 1e-5)
		}
	}
}

// BenchmarkConvRows times stride-1 convolutions of common shapes with the
// row-table kernel and with the im2col-gather kernel it replaces, in turn
// (run with -count to interleave them). cpu-us/op is the thread's CPU time,
// steadier than wall time on a shared machine.
func BenchmarkConvRows(b *testing.B) {
	shapes := []struct{ c, hw, m, k int }{
		{16, 64, 16, 3}, {32, 56, 32, 3}, {8, 112, 24, 3}, {64, 28, 32, 3},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		p := s.k / 2
		bl := newBuilder(13).input("x", 1, s.c, s.hw, s.hw).init("w", randFloats(rng, s.m*s.c*s.k*s.k), s.m, s.c, s.k, s.k).
			node("Conv", []string{"x", "w"}, []string{"y"}, attrInts("pads", p, p, p, p)).output("y")
		m := bl.load(b, Options{})
		rk, ok := m.steps[0].kernel.(*convRowsKernel)
		if !ok {
			b.Skip("no row-table kernel on this machine")
		}
		m2 := bl.load(b, Options{})
		n := m2.steps[0].n
		cs, _ := convSpecOf(n)
		ik := &convKernel{p: rk.p, packed: rk.packed, kdim: len(rk.rows), cols: cs.OH * cs.OW, im2col: NewIm2col(cs, nil, nil, nil)}
		ik.padSize = ik.im2col.PaddedSize()
		ik.gemmSize = gemm.ScratchSize(&gemm.Args{M: rk.p.mg, N: ik.cols, K: ik.kdim, PackedA: rk.packed[0], BSource: &im2colSource{}})
		m2.steps[0].kernel = ik
		m2.scratch = max(m2.scratch, ik.ScratchSize())
		in := []*Tensor{NewFloat(randFloats(rng, s.c*s.hw*s.hw), 1, s.c, s.hw, s.hw)}
		flops := 2 * float64(s.m*s.c*s.k*s.k*s.hw*s.hw)
		for _, v := range []struct {
			name string
			m    *Model
		}{{"rows", m}, {"im2col", m2}} {
			b.Run(fmt.Sprintf("c%d_%dx%d_m%d_k%d/%s", s.c, s.hw, s.hw, s.m, s.k, v.name), func(b *testing.B) {
				sess := v.m.NewSession()
				if _, err := sess.Run(in); err != nil {
					b.Fatal(err)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				c0 := threadCPU()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					sess.Run(in)
				}
				b.StopTimer()
				cpu := threadCPU() - c0
				b.ReportMetric(cpu/float64(b.N)*1e6, "cpu-us/op")
				b.ReportMetric(flops*float64(b.N)/cpu/1e9, "cpuGFLOP/s")
			})
		}
	}
}

// threadCPU returns the calling thread's CPU time in seconds.
func threadCPU() float64 {
	var ts syscall.Timespec
	// CLOCK_THREAD_CPUTIME_ID is 3 on Linux.
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// TestConvRowsFusedFunction checks a fused SiLU on the row-table kernel:
// the GEMM hands it each finished tile of the bordered grid.
func TestConvRowsFusedFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	b := newBuilder(13).input("x", 1, 8, 11, 13).init("w", randFloats(rng, 16*8*9), 16, 8, 3, 3).
		node("Conv", []string{"x", "w"}, []string{"c"}, attrInts("pads", 1, 1, 1, 1)).
		node("Sigmoid", []string{"c"}, []string{"s"}).
		node("Mul", []string{"c", "s"}, []string{"y"}).output("y")
	for _, threads := range []int{1, 2} {
		m := b.load(t, Options{Threads: threads})
		if len(m.steps) != 1 {
			t.Fatalf("%d steps, want the Conv with SiLU fused", len(m.steps))
		}
		checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, 8*11*13), 1, 8, 11, 13)}, 1e-5)
	}
}
