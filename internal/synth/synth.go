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
