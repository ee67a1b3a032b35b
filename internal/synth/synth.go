// Package synth writes the synthetic sensor traces the tests of several
// packages share (IMU CSV with the columns the HAR front-end reads), so
// that each test does not carry its own generator.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
)

// imuHeader is the header of an IMU CSV trace.
const imuHeader = "x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n"

// SineIMU returns an IMU CSV trace of rows samples 10 ms apart: sines
// whose frequency depends on variant (so that two files differ), labelled
// in stretches of stretch samples cycling through labels.
func SineIMU(rows, variant, stretch int, labels []string) string {
	var b strings.Builder
	b.WriteString(imuHeader)
	for i := 0; i < rows; i++ {
		ph := float64(i) / 100
		b.WriteString(strconv.FormatFloat(math.Sin(ph*float64(3+variant)), 'f', 4, 64) + "," + strconv.FormatFloat(9.8+math.Cos(ph*2), 'f', 4, 64) + ",0.1,0.01,0.02," +
			strconv.FormatFloat(0.3*math.Sin(ph), 'f', 4, 64) + "," + strconv.Itoa(1700000000000+i*10) + "," + labels[(i/stretch)%len(labels)] + "\n")
	}
	return b.String()
}

// WalkIMU returns an IMU CSV trace of rows samples 20 ms apart in three
// stretches, SEATED, WALKING and TURNING, with seeded noise (the seed is
// rows): movement a classifier can tell apart.
func WalkIMU(rows int) string {
	r := rand.New(rand.NewPCG(uint64(rows), 1))
	var b strings.Builder
	b.WriteString(imuHeader)
	for i := 0; i < rows; i++ {
		label, amp := "SEATED", 0.05
		switch {
		case i > 2*rows/3:
			label, amp = "TURNING", 1.5
		case i > rows/3:
			label, amp = "WALKING", 3
		}
		bob := amp * math.Sin(float64(i)/4)
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%d,%s\n", 0.5+amp*r.NormFloat64()*0.3, -1+bob, 9.7+bob/2,
			amp*r.NormFloat64()*0.2, 0.1+bob/5, amp*r.NormFloat64()*0.1, 1657533977000+20*int64(i), label)
	}
	return b.String()
}

// Level is one level of a test Pareto file: a configuration with made-up
// statistics.
type Level struct {
	Config          string
	Speedup, LossPP float64
}

// ParetoSpec describes a test Pareto file.
type ParetoSpec struct {
	// SHA256 and Classes bind it to a model.
	SHA256  string
	Classes []string
	// ExactAccuracy is level 0's; level i's is ExactAccuracy - LossPP/100.
	ExactAccuracy float64
	// Correct and Wrong are every class's mean confidence of correct and
	// wrong predictions at every level, over CorrectN and WrongN of them.
	Correct, Wrong   float64
	CorrectN, WrongN int
	Levels           []Level
}

// Pareto returns a valid Pareto file: level i takes 100/speedup µs and
// 3e-4/speedup J, and its predicted loss is its loss.
func Pareto(s ParetoSpec) *policy.Pareto {
	p := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: s.SHA256,
		Device: device.Fingerprint{GOOS: "linux", GOARCH: "amd64", CPU: "AMD EPYC", Features: []string{"avx2", "fma"}, Kagen: "dev"},
		Meter:  "phone-big (modelled)", Objective: policy.ObjectiveTime, ExactAccuracy: s.ExactAccuracy, Classes: s.Classes}
	for i, l := range s.Levels {
		lv := policy.Level{Level: i, Config: l.Config, Speedup: l.Speedup, QoSLossPP: l.LossPP, Accuracy: s.ExactAccuracy - l.LossPP/100,
			PredictedLossPP: l.LossPP, TimeUS: 100 / l.Speedup, EnergyJ: 3 * (100 / l.Speedup) * 1e-6}
		for range s.Classes {
			lv.Confidence.CorrectMean = append(lv.Confidence.CorrectMean, s.Correct)
			lv.Confidence.WrongMean = append(lv.Confidence.WrongMean, s.Wrong)
			lv.Confidence.CorrectN = append(lv.Confidence.CorrectN, s.CorrectN)
			lv.Confidence.WrongN = append(lv.Confidence.WrongN, s.WrongN)
		}
		p.Configs = append(p.Configs, lv)
	}
	return p
}

// L is a Level.
func L(config string, speedup, lossPP float64) Level {
	return Level{Config: config, Speedup: speedup, LossPP: lossPP}
}
