package gemm_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
)

// TestHalfMatchesEngine checks the package's conversions, scalar and
// vector, against engine.FloatToHalf and engine.HalfToFloat: all 65536
// halves, and a spread of float32 bit patterns. The scalar ones must match
// bit for bit; the vector ones (F16C, NEON) may give another NaN payload.
func TestHalfMatchesEngine(t *testing.T) {
	halves := make([]uint16, 1<<16)
	for i := range halves {
		halves[i] = uint16(i)
	}
	floats := make([]float32, len(halves))
	gemm.FromHalfForTest(floats, halves)
	for _, h := range halves {
		want := engine.HalfToFloat(h)
		if got := gemm.HalfToFloatForTest(h); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("halfToFloat(%#04x) = %#08x, engine %#08x", h, math.Float32bits(got), math.Float32bits(want))
		}
		if got := floats[h]; !sameFloat(got, want) {
			t.Fatalf("fromHalf(%#04x) = %#08x, engine %#08x", h, math.Float32bits(got), math.Float32bits(want))
		}
		if f := engine.HalfToFloat(h); gemm.FloatToHalfForTest(f) != engine.FloatToHalf(f) {
			t.Fatalf("floatToHalf(%g) = %#04x, engine %#04x", f, gemm.FloatToHalfForTest(f), engine.FloatToHalf(f))
		}
	}

	step := uint64(97)
	if testing.Short() || runtime.GOARCH != "amd64" {
		step = 4093
	}
	fs := make([]float32, 0, 1<<16)
	hs := make([]uint16, 1<<16)
	check := func() {
		gemm.ToHalfForTest(hs, fs)
		for i, f := range fs {
			want := engine.FloatToHalf(f)
			if got := gemm.FloatToHalfForTest(f); got != want {
				t.Fatalf("floatToHalf(%#08x) = %#04x, engine %#04x", math.Float32bits(f), got, want)
			}
			if got := hs[i]; got != want && !(isHalfNaN(got) && isHalfNaN(want) && got&0x8000 == want&0x8000) {
				t.Fatalf("toHalf(%#08x) = %#04x, engine %#04x", math.Float32bits(f), got, want)
			}
		}
		fs = fs[:0]
	}
	for b := uint64(0); b < 1<<32; b += step {
		fs = append(fs, math.Float32frombits(uint32(b)))
		if len(fs) == cap(fs) {
			check()
		}
	}
	check()
}

func isHalfNaN(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }

// sameFloat reports whether a and b are the same value, any two NaNs of the
// same sign being the same.
func sameFloat(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b && math.Signbit(float64(a)) == math.Signbit(float64(b))
	}
	return math.Float32bits(a) == math.Float32bits(b)
}
