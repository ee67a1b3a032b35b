package replay

import (
	"fmt"
	"math"
)

// IMUFrontEnd turns a window of resampled IMU samples into the model's input
// tensor [1, C, T]: channel c of sample t is at dst[c*T+t].
type IMUFrontEnd struct {
	spec   *Spec
	cols   []string // raw CSV columns, in the order of a raw row
	rawIdx []int    // imu-raw: column index of each channel
	kind   []string // imu-orient: channel names
	acc    int      // imu-orient: index of x acc in a raw row
	gyro   int      // imu-orient: index of x gyro in a raw row, -1 if none
	mean   []float64
	invStd []float64
}

// NewIMUFrontEnd returns the front-end of a valid IMU spec.
func NewIMUFrontEnd(spec *Spec) (*IMUFrontEnd, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Task != TaskHAR {
		return nil, fmt.Errorf("IMU front-end: spec task is %q, expected %q", spec.Task, TaskHAR)
	}
	f := &IMUFrontEnd{spec: spec, gyro: -1}
	switch spec.Features.Type {
	case FeatIMURaw:
		f.cols = append([]string(nil), spec.Channels...)
		for i := range spec.Channels {
			f.rawIdx = append(f.rawIdx, i)
		}
	case FeatIMUOrient:
		f.cols = append([]string(nil), spec.Features.AccColumns...)
		if len(spec.Features.GyroColumns) == 3 {
			f.gyro = 3
			f.cols = append(f.cols, spec.Features.GyroColumns...)
		}
		f.kind = spec.Channels
	}
	c := len(spec.Channels)
	f.mean = make([]float64, c)
	f.invStd = make([]float64, c)
	for i := range c {
		f.invStd[i] = 1
		if spec.Norm != nil {
			f.mean[i] = spec.Norm.Mean[i]
			f.invStd[i] = 1 / spec.Norm.Std[i]
		}
	}
	return f, nil
}

// Columns returns the CSV columns a raw row holds, in order: the channels for
// imu-raw; x, y, z acceleration then (if any gyro channel is used) x, y, z
// angular rate for imu-orient.
func (f *IMUFrontEnd) Columns() []string { return append([]string(nil), f.cols...) }

// Compute writes the normalised features of one window into dst. raw holds
// spec.Window rows of len(Columns()) values, row-major; dst has
// spec.InputSize() elements. It allocates nothing.
func (f *IMUFrontEnd) Compute(raw []float64, dst []float32) error {
	T := f.spec.Window
	nc := len(f.cols)
	C := len(f.spec.Channels)
	if len(raw) != T*nc {
		return fmt.Errorf("IMU front-end: got %d raw values, expected %d (%d samples x %d columns)", len(raw), T*nc, T, nc)
	}
	if len(dst) != C*T {
		return fmt.Errorf("IMU front-end: destination has %d elements, expected %d (%d channels x %d samples)", len(dst), C*T, C, T)
	}
	if f.spec.Features.Type == FeatIMURaw {
		for c, j := range f.rawIdx {
			m, s := f.mean[c], f.invStd[c]
			out := dst[c*T : (c+1)*T]
			for t := range out {
				out[t] = float32((raw[t*nc+j] - m) * s)
			}
		}
		return nil
	}
	// Gravity: the mean acceleration over the window.
	var gx, gy, gz float64
	for t := range T {
		r := raw[t*nc:]
		gx += r[f.acc]
		gy += r[f.acc+1]
		gz += r[f.acc+2]
	}
	gx, gy, gz = gx/float64(T), gy/float64(T), gz/float64(T)
	gn := math.Sqrt(gx*gx + gy*gy + gz*gz)
	var ux, uy, uz float64 // unit vector along gravity, 0 if there is none
	if gn > 1e-9 {
		ux, uy, uz = gx/gn, gy/gn, gz/gn
	}
	for c, name := range f.kind {
		m, s := f.mean[c], f.invStd[c]
		out := dst[c*T : (c+1)*T]
		off, isGyro := f.acc, false
		switch name {
		case ChanGyroAlongG, ChanGyroAcrossG, ChanGyroNorm:
			off, isGyro = f.gyro, true
		}
		for t := range out {
			r := raw[t*nc+off:]
			x, y, z := r[0], r[1], r[2]
			var v float64
			switch name {
			case ChanAccAlongG, ChanGyroAlongG:
				v = x*ux + y*uy + z*uz
				if !isGyro {
					v -= gn
				}
			case ChanAccAcrossG, ChanGyroAcrossG:
				p := x*ux + y*uy + z*uz
				hx, hy, hz := x-p*ux, y-p*uy, z-p*uz
				v = math.Sqrt(hx*hx + hy*hy + hz*hz)
			default: // norms
				v = math.Sqrt(x*x + y*y + z*z)
			}
			out[t] = float32((v - m) * s)
		}
	}
	return nil
}
