package main

import (
	"math"
	"os"
	"testing"
	"time"

	"github.com/gomlx/onnx-gomlx/onnx"
)

// The hand-written protobuf must parse as a valid ONNX model.
func TestMatMulModelParses(t *testing.T) {
	for _, constB := range []bool{false, true} {
		var b []float32
		if constB {
			b = make([]float32, 3*5)
		}
		m, err := onnx.Parse(matMulModel(2, 3, 5, b))
		if err != nil {
			t.Fatalf("constB=%v: %v", constB, err)
		}
		names, shapes := m.Inputs()
		want := 2
		if constB {
			want = 1
		}
		if len(names) != want || names[0] != "A" || shapes[0].String() == "" {
			t.Errorf("constB=%v: inputs %v %v", constB, names, shapes)
		}
		if outs, _ := m.Outputs(); len(outs) != 1 || outs[0] != "Y" {
			t.Errorf("constB=%v: outputs %v", constB, outs)
		}
		if constB && len(m.Proto.Graph.Initializer) != 1 {
			t.Errorf("initializer missing")
		}
	}
}

func TestSummarise(t *testing.T) {
	var ts []time.Duration
	for i := 10; i >= 1; i-- {
		ts = append(ts, time.Duration(i)*time.Microsecond)
	}
	s := summarise(ts)
	if s.min != 1 || s.median != 5.5 || s.p90 != 9 {
		t.Errorf("got %+v", s)
	}
}

func TestCompare(t *testing.T) {
	if d, ok := compare([]float32{1, 2.001}, []float32{1, 2}, 1e-3, 1e-4); !ok || math.Abs(d-0.001) > 1e-6 {
		t.Errorf("within tolerance: %v %v", d, ok)
	}
	if _, ok := compare([]float32{1, 2.01}, []float32{1, 2}, 1e-3, 1e-4); ok {
		t.Error("outside tolerance accepted")
	}
	if _, ok := compare([]float32{float32(math.NaN())}, []float32{0}, 1e-3, 1e-4); ok {
		t.Error("NaN accepted")
	}
}

// With ORT_LIB set, the ORT adapter runs the generated MatMul model.
func TestORTMatMul(t *testing.T) {
	lib := os.Getenv("ORT_LIB")
	if lib == "" {
		t.Skip("ORT_LIB not set (bench/fetch_ort.sh prints the path)")
	}
	if err := initORT(lib); err != nil {
		t.Fatal(err)
	}
	a := []float32{1, 2, 3, 4, 5, 6} // 2x3
	b := []float32{1, 0, 0, 1, 1, 1} // 3x2
	e, err := newORTMulti(matMulModel(2, 3, 2, nil), [][]float32{a, b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	want := []float32{4, 5, 10, 11}
	if d, ok := compare(e.firstOutput(), want, 0, 0); !ok {
		t.Errorf("got %v want %v (diff %g)", e.firstOutput(), want, d)
	}
}
