// Package approx holds kagen's approximation knobs: a catalog of per-layer
// settings that make a pre-trained model cheaper without retraining, the
// approximate kernels that really do less work, their naive reference
// implementations, and per-model configurations that can be switched between
// any two inferences without allocation or replanning.
package approx

import (
	"fmt"
	"strconv"
	"strings"
)

// Precision is the arithmetic a kernel computes in.
type Precision uint8

// Precisions.
const (
	FP32 Precision = iota
	FP16
	INT8
)

func (p Precision) String() string { return [...]string{"fp32", "fp16", "int8"}[p] }

// Shape is the structural part of a knob: which work is skipped.
type Shape uint8

// Structural approximations.
const (
	Full    Shape = iota // every output and every term computed
	PerfRow              // output perforation of rows (time steps for 1-D)
	PerfCol              // output perforation of columns (2-D only)
	Samp                 // filter sampling: K of the GEMM shrinks
	Red                  // reduction sampling of a dense layer's dot products
	Hold                 // temporal: a recurrent node's state held on every STRIDE-th step
)

// Knob is one approximation setting of one node. The zero Knob is exact
// fp32.
type Knob struct {
	Shape Shape
	// Stride and Offset parameterise perforation, filter sampling and
	// the temporal hold: Stride in {2,3,4}, Offset in [0, Stride).
	Stride, Offset int
	// Keep is the kept fraction of reduction sampling, in percent
	// (50, 60 or 75).
	Keep int
	Prec Precision
}

// Exact is the exact fp32 knob.
var Exact = Knob{}

// IsExact reports whether k changes nothing.
func (k Knob) IsExact() bool { return k == Knob{} }

// String returns the knob's text form, such as "perf-row:2:0+int8".
func (k Knob) String() string {
	var s string
	switch k.Shape {
	case PerfRow:
		s = fmt.Sprintf("perf-row:%d:%d", k.Stride, k.Offset)
	case PerfCol:
		s = fmt.Sprintf("perf-col:%d:%d", k.Stride, k.Offset)
	case Samp:
		s = fmt.Sprintf("samp:%d:%d", k.Stride, k.Offset)
	case Hold:
		s = fmt.Sprintf("hold:%d:%d", k.Stride, k.Offset)
	case Red:
		s = "red:" + strconv.FormatFloat(float64(k.Keep)/100, 'f', -1, 64)
	}
	switch {
	case k.Prec == FP32 && s == "":
		return "fp32"
	case k.Prec == FP32:
		return s
	case s == "":
		return k.Prec.String()
	}
	return s + "+" + k.Prec.String()
}

// IdealSpeedup is the speedup the knob's work reduction promises if nothing
// else cost time: perforation and sampling S/(S-1), reduction sampling 1/R;
// precision changes are counted as 1 (their gain is measured, not assumed).
func (k Knob) IdealSpeedup() float64 {
	switch k.Shape {
	case PerfRow, PerfCol, Samp, Hold:
		return float64(k.Stride) / float64(k.Stride-1)
	case Red:
		return 100 / float64(k.Keep)
	}
	return 1
}

// ParseKnob reads a knob's text form: "fp32", "fp16", "int8",
// "perf-row:S:O", "perf-col:S:O", "samp:S:O", "hold:S:O", "red:R", or a structural knob
// and a precision joined by "+" ("perf-row:2:0+int8").
func ParseKnob(s string) (Knob, error) {
	var k Knob
	parts := strings.Split(strings.TrimSpace(s), "+")
	if len(parts) > 2 {
		return k, fmt.Errorf("knob %q: at most one structural knob and one precision, joined by +", s)
	}
	for _, p := range parts {
		switch p {
		case "fp32":
			continue
		case "fp16", "int8":
			if k.Prec != FP32 {
				return k, fmt.Errorf("knob %q: two precisions", s)
			}
			k.Prec = map[string]Precision{"fp16": FP16, "int8": INT8}[p]
			continue
		}
		if k.Shape != Full {
			return k, fmt.Errorf("knob %q: two structural knobs", s)
		}
		name, args, _ := strings.Cut(p, ":")
		switch name {
		case "perf-row", "perf-col", "samp", "hold":
			so := strings.Split(args, ":")
			if len(so) != 2 {
				return k, fmt.Errorf("knob %q: expected %s:STRIDE:OFFSET with STRIDE in {2,3,4} and OFFSET in [0,STRIDE)", s, name)
			}
			st, err1 := strconv.Atoi(so[0])
			off, err2 := strconv.Atoi(so[1])
			if err1 != nil || err2 != nil || st < 2 || st > 4 || off < 0 || off >= st {
				return k, fmt.Errorf("knob %q: stride %q must be 2, 3 or 4 and offset %q in [0, stride)", s, so[0], so[1])
			}
			k.Shape = map[string]Shape{"perf-row": PerfRow, "perf-col": PerfCol, "samp": Samp, "hold": Hold}[name]
			k.Stride, k.Offset = st, off
		case "red":
			f, err := strconv.ParseFloat(args, 64)
			keep := int(f*100 + 0.5)
			if err != nil || (keep != 50 && keep != 60 && keep != 75) {
				return k, fmt.Errorf("knob %q: the kept fraction must be 0.5, 0.6 or 0.75", s)
			}
			k.Shape, k.Keep = Red, keep
		default:
			return k, fmt.Errorf("unknown knob %q; knobs are %s", s, strings.Join(FamilyNames(), ", "))
		}
	}
	return k, nil
}

// MarshalText implements encoding.TextMarshaler.
func (k Knob) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Knob) UnmarshalText(b []byte) error {
	v, err := ParseKnob(string(b))
	if err == nil {
		*k = v
	}
	return err
}
