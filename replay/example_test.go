package replay_test

import (
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kagen-ai/kagen/replay"
)

func ExampleParseSpec() {
	data, err := replay.DefaultHARSpec().Marshal()
	if err != nil {
		log.Fatal(err)
	}
	spec, err := replay.ParseSpec(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec.Task, spec.SampleRate, spec.Features.Type, spec.InputShape())

	_, err = replay.ParseSpec([]byte(`{"version": 1, "task": "asr"}`))
	fmt.Println(err)
	// Output:
	// har 50 imu-orient [1 6 128]
	// front-end spec: task: got "asr", expected "har" or "kws"
}

func ExampleDefaultKWSSpec() {
	spec := replay.DefaultKWSSpec()
	fmt.Println(spec.InputShape(), spec.Frames(), spec.Classes[0])
	// Output: [1 1 98 40] 98 _silence_
}

// writeTrace writes a 3-second IMU trace at 100 Hz: seated, then walking.
func writeTrace(dir string) string {
	var b strings.Builder
	b.WriteString("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n")
	for i := range 300 {
		label, bob := "SEATED", 0.0
		if i >= 100 {
			label, bob = "WALKING", math.Sin(float64(i)/5)
		}
		fmt.Fprintf(&b, "0.5,%g,9.7,0,0.1,%g,%d,%s\n", -1+bob, bob/3, 1657533977813+10*i, label)
	}
	p := filepath.Join(dir, "s99_01_sp.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	return p
}

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "replay")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	trace := writeTrace(dir)

	spec := replay.DefaultHARSpec()
	spec.Window, spec.Hop, spec.Shape = 50, 25, nil // 1 s windows every 0.5 s
	src, err := replay.Open(trace, spec, replay.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	x := make([]float32, spec.InputSize()) // reused: Next does not allocate
	for {
		w, err := src.Next(x)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %.1f-%.1f s %s\n", w.Index, w.Start, w.End, w.Label)
	}
	// Window 1 is half seated, half walking: a tie goes to the label that
	// comes first.
	// Output:
	// 0 0.0-1.0 s SEATED
	// 1 0.5-1.5 s SEATED
	// 2 1.0-2.0 s WALKING
	// 3 1.5-2.5 s WALKING
	// 4 2.0-3.0 s WALKING
}

func ExampleWriteFeatures() {
	dir, err := os.MkdirTemp("", "replay")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	trace := writeTrace(dir)

	spec := replay.DefaultHARSpec()
	spec.Window, spec.Hop, spec.Shape = 50, 50, nil
	sum, err := replay.WriteFeatures(spec, []string{trace}, filepath.Join(dir, "features"), replay.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.Shape, sum.PerClass, sum.Groups)
	// Output: [3 6 50] map[SEATED:1 WALKING:2] [s99]
}

func ExampleNewAudioFrontEnd() {
	spec := replay.DefaultKWSSpec()
	fe, err := replay.NewAudioFrontEnd(spec)
	if err != nil {
		log.Fatal(err)
	}
	samples := make([]float32, spec.Window) // one second of silence
	x := make([]float32, spec.InputSize())
	if err := fe.Compute(samples, x); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d values, all ln(log_floor) = %.3f\n", len(x), x[0])
	// Output: 3920 values, all ln(log_floor) = -13.816
}
