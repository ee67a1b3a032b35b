package ondevice_test

import (
	"fmt"
	"os"

	"github.com/kagen-ai/kagen/ondevice"
)

// An app opens the model and its policy once, then pushes IMU rows as
// the sensor delivers them (timestamps in Unix ms, then the values of
// Columns() for each row) and acts on each window's result.
func Example() {
	h, err := ondevice.Open("../demo/data/har.onnx", "../examples/har.policy.json", ondevice.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	fmt.Println("columns:", h.Columns())
	// 50 Hz rows of a phone lying still, screen up.
	ts := make([]float64, 200)
	vals := make([]float64, 0, 200*6)
	for i := range ts {
		ts[i] = 1657630123000 + 20*float64(i)
		vals = append(vals, 0, 0, 9.81, 0, 0, 0)
	}
	results, err := h.PushIMU(ts, vals)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("window %d: %s (%.2f) at level %d, next %d: %s\n", r.Seq, r.Prediction, r.Confidence, r.Level, r.Next, r.Rule)
	}
	st := h.Stats()
	fmt.Printf("%d windows, %d switches, energy %s\n", st.Windows, st.Switches, st.Meter)
	// Output:
	// columns: [x_acc y_acc z_acc x_gyro y_gyro z_gyro]
	// window 0: SEATED (0.91) at level 0, next 1: confidence: above the calibrated more threshold -> more
	// window 1: SEATED (0.86) at level 1, next 2: confidence: above the calibrated more threshold -> more
	// window 2: SEATED (0.89) at level 2, next 2: confidence: above the calibrated more threshold -> more
	// window 3: SEATED (0.89) at level 2, next 2: confidence: above the calibrated more threshold -> more
	// window 4: SEATED (0.89) at level 2, next 2: confidence: above the calibrated more threshold -> more
	// 5 windows, 2 switches, energy phone-big (modelled)
}

// A model and policy shipped inside the app (assets, not files) open
// from memory; feature windows computed elsewhere are pushed ready.
func ExampleOpenBytes() {
	model, _ := os.ReadFile("../demo/data/har.onnx")
	pol, _ := os.ReadFile("../examples/har.policy.json")
	h, err := ondevice.OpenBytes(model, "har.onnx", pol, "har.policy.json", ondevice.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	x := make([]float32, h.WindowSize()) // the model's input: 6 channels x 64 samples
	r, err := h.PushWindow(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d scores; class %s at level %d, next level %d\n", len(r.Scores), r.Prediction, r.Level, r.Next)
	// Output: 5 scores; class SITTING_DOWN at level 0, next level 1
}

// The controller's goal changes while the app runs: here the accuracy
// floor, from the policy's 1 pp to 0.5 pp.
func ExampleHandle_SetFloor() {
	h, err := ondevice.Open("../demo/data/har.onnx", "../examples/har.policy.json", ondevice.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	fmt.Println(h.Params())
	if err := h.SetFloor(0.5); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Params())
	fmt.Println(h.SetFloor(-2) == nil, h.Params())
	// Output:
	// confidence less_frac=0.5 more_frac=0.75 factor=1 + floor 1pp hard_frac=0
	// confidence less_frac=0.5 more_frac=0.75 factor=1 + floor 0.5pp hard_frac=0
	// true confidence less_frac=0.5 more_frac=0.75 factor=1
}
