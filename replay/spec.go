package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// SpecKey is the key under which a model's front-end spec is stored, as JSON,
// in the ONNX model's metadata_props.
const SpecKey = "kagen.frontend"

// SpecVersion is the version of the spec JSON format this package reads and
// writes.
const SpecVersion = 1

// Task names.
const (
	TaskHAR = "har" // human activity recognition from IMU traces
	TaskKWS = "kws" // keyword spotting from audio traces
)

// Feature types.
const (
	FeatIMURaw    = "imu-raw"    // selected CSV columns as they are
	FeatIMUOrient = "imu-orient" // orientation-invariant channels, see doc.go
	FeatLogMel    = "logmel"     // log mel filterbank energies
	FeatMFCC      = "mfcc"       // DCT-II of the log mel energies
)

// SilenceLabel is the label of audio windows whose centre no keyword covers.
const SilenceLabel = "_silence_"

// Orientation-invariant IMU channel names (feature type imu-orient).
const (
	ChanAccAlongG   = "acc_along_g"   // a·ĝ − |g|
	ChanAccAcrossG  = "acc_across_g"  // |a − (a·ĝ)ĝ|
	ChanAccNorm     = "acc_norm"      // |a|
	ChanGyroAlongG  = "gyro_along_g"  // w·ĝ
	ChanGyroAcrossG = "gyro_across_g" // |w − (w·ĝ)ĝ|
	ChanGyroNorm    = "gyro_norm"     // |w|
)

// OrientChannels lists the channels of feature type imu-orient in their
// canonical order. It returns a new slice on every call.
func OrientChannels() []string {
	return []string{ChanAccAlongG, ChanAccAcrossG, ChanAccNorm, ChanGyroAlongG, ChanGyroAcrossG, ChanGyroNorm}
}

// Limits enforced by ParseSpec. They bound every buffer a front-end allocates.
const (
	MaxSampleRate   = 384000
	MaxWindow       = 1 << 21 // samples per window
	MaxChannels     = 64
	MaxClasses      = 4096
	MaxNFFT         = 1 << 16
	MaxMels         = 512
	MaxInputElems   = 1 << 24 // product of the input shape
	MaxSpecJSONSize = 1 << 20 // bytes
)

// Spec describes a model's front-end: how a trace becomes the model's input
// tensor and what its outputs mean. Its JSON form is documented in doc.go.
type Spec struct {
	// Version is SpecVersion.
	Version int `json:"version"`
	// Task is TaskHAR or TaskKWS.
	Task string `json:"task"`
	// SampleRate is the rate, in Hz, traces are resampled to.
	SampleRate int `json:"sample_rate"`
	// Channels names the model's input channels (IMU only): CSV column
	// names for imu-raw, names from OrientChannels for imu-orient.
	Channels []string `json:"channels,omitempty"`
	// Window is the analysis window length in samples at SampleRate.
	Window int `json:"window"`
	// Hop is the default distance between window starts in samples.
	Hop int `json:"hop"`
	// Features names the feature type and its parameters.
	Features Features `json:"features"`
	// Norm holds the per-channel (IMU) or per-feature-row (audio)
	// normalisation; nil means none.
	Norm *Norm `json:"norm,omitempty"`
	// Classes are the model's output classes, by output index.
	Classes []string `json:"classes"`
	// Shape is the model input shape the front-end produces (JSON
	// input_shape). ParseSpec checks it against the other fields; Marshal
	// always writes it. Use the InputShape method to compute it.
	Shape []int `json:"input_shape"`
}

// Features names a feature type and its parameters. Fields that do not apply
// to the type must be left zero.
type Features struct {
	// Type is one of FeatIMURaw, FeatIMUOrient, FeatLogMel, FeatMFCC.
	Type string `json:"type"`

	// AccColumns names the CSV columns of the x, y and z acceleration
	// (imu-orient, required when an acc_* channel is used).
	AccColumns []string `json:"acc_columns,omitempty"`
	// GyroColumns names the CSV columns of the x, y and z angular rate
	// (imu-orient, required when a gyro_* channel is used).
	GyroColumns []string `json:"gyro_columns,omitempty"`

	// FrameLength is the analysis frame length in samples (audio).
	FrameLength int `json:"frame_length,omitempty"`
	// FrameHop is the distance between frame starts in samples (audio).
	FrameHop int `json:"frame_hop,omitempty"`
	// NFFT is the FFT size, a power of two >= FrameLength (audio).
	NFFT int `json:"n_fft,omitempty"`
	// NMels is the number of mel bands (audio).
	NMels int `json:"n_mels,omitempty"`
	// FMin and FMax bound the mel filterbank in Hz (audio).
	FMin float64 `json:"fmin,omitempty"`
	FMax float64 `json:"fmax,omitempty"`
	// NMFCC is the number of cepstral coefficients kept (mfcc only).
	NMFCC int `json:"n_mfcc,omitempty"`
	// WindowFn is "hann" (periodic, the default), "hamming" or
	// "rectangular" (audio).
	WindowFn string `json:"window_fn,omitempty"`
	// MelScale is "htk" (the default and only scale supported): see doc.go.
	MelScale string `json:"mel_scale,omitempty"`
	// LogFloor is added protection against log(0): features are
	// ln(max(energy, LogFloor)) (audio).
	LogFloor float64 `json:"log_floor,omitempty"`
}

// Norm is an affine normalisation: x' = (x - Mean[i]) / Std[i], with i the
// IMU channel or the audio feature row (mel band or cepstral coefficient).
type Norm struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// DefaultHARSpec returns the default activity-recognition front-end for the
// shared smartphone traces: 50 Hz, imu-orient channels, 128-sample windows
// with hop 64, no normalisation (training computes it).
func DefaultHARSpec() *Spec {
	s := &Spec{
		Version:    SpecVersion,
		Task:       TaskHAR,
		SampleRate: 50,
		Channels:   OrientChannels(),
		Window:     128,
		Hop:        64,
		Features: Features{
			Type:        FeatIMUOrient,
			AccColumns:  []string{"x_acc", "y_acc", "z_acc"},
			GyroColumns: []string{"x_gyro", "y_gyro", "z_gyro"},
		},
		Classes: []string{"SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"},
	}
	s.Shape = s.computeShape()
	return s
}

// DefaultKWSSpec returns the default keyword-spotting front-end: 8 kHz, 1 s
// windows with hop 0.5 s, 25 ms Hann frames every 10 ms, 256-point FFT, 40
// HTK log-mel bands from 20 Hz to 4 kHz: 98 frames x 40 bands. Classes are
// _silence_ and the digits 0-9; no normalisation (training computes it).
func DefaultKWSSpec() *Spec {
	s := &Spec{
		Version:    SpecVersion,
		Task:       TaskKWS,
		SampleRate: 8000,
		Window:     8000,
		Hop:        4000,
		Features: Features{
			Type:        FeatLogMel,
			FrameLength: 200,
			FrameHop:    80,
			NFFT:        256,
			NMels:       40,
			FMin:        20,
			FMax:        4000,
			WindowFn:    "hann",
			MelScale:    "htk",
			LogFloor:    1e-6,
		},
		Classes: []string{SilenceLabel, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	}
	s.Shape = s.computeShape()
	return s
}

// ParseSpec decodes and validates a front-end spec. Unknown fields are an
// error; every error names the offending field and what was expected.
func ParseSpec(data []byte) (*Spec, error) {
	if len(data) > MaxSpecJSONSize {
		return nil, fmt.Errorf("front-end spec: %d bytes, limit %d", len(data), MaxSpecJSONSize)
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("front-end spec: %s", jsonErr(data, err))
	}
	if dec.More() {
		line, col := lineCol(data, dec.InputOffset())
		return nil, fmt.Errorf("front-end spec: line %d column %d: unexpected data after the JSON object", line, col)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func jsonErr(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, max(se.Offset-1, 0)) // Offset is just past the bad byte
		return fmt.Sprintf("line %d column %d: invalid JSON: %v", line, col, se)
	case errors.As(err, &te):
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("line %d column %d: field %q: expected %s, got JSON %s", line, col, te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "empty input, expected a JSON object"
	}
	return err.Error()
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// Marshal returns the spec as indented JSON with input_shape filled in. It
// validates the spec first.
func (s *Spec) Marshal() ([]byte, error) {
	c := *s
	if c.Features.Type == FeatLogMel || c.Features.Type == FeatMFCC {
		if c.Features.WindowFn == "" {
			c.Features.WindowFn = "hann"
		}
		if c.Features.MelScale == "" {
			c.Features.MelScale = "htk"
		}
	}
	c.Shape = nil
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Shape = c.computeShape()
	return json.MarshalIndent(&c, "", "  ")
}

// InputShape returns the model input shape the front-end produces:
// [1, C, Window] for IMU (Conv1d layout) and [1, 1, frames, features] for
// audio (time x frequency, Conv2d layout). It returns a new slice; the spec
// must be valid.
func (s *Spec) InputShape() []int { return s.computeShape() }

// InputSize is the number of float32 elements of one input tensor, the
// product of InputShape.
func (s *Spec) InputSize() int {
	n := 1
	for _, d := range s.computeShape() {
		n *= d
	}
	return n
}

// Frames returns the number of audio frames per window (0 for IMU specs).
func (s *Spec) Frames() int {
	f := s.Features
	if f.FrameLength <= 0 || f.FrameHop <= 0 || s.Window < f.FrameLength {
		return 0
	}
	return 1 + (s.Window-f.FrameLength)/f.FrameHop
}

// FeatureRows returns the number of channels (IMU) or features per frame
// (audio): the length Norm.Mean and Norm.Std must have.
func (s *Spec) FeatureRows() int {
	switch s.Features.Type {
	case FeatLogMel:
		return s.Features.NMels
	case FeatMFCC:
		return s.Features.NMFCC
	}
	return len(s.Channels)
}

// ClassIndex returns the index of label in Classes, or -1.
func (s *Spec) ClassIndex(label string) int {
	for i, c := range s.Classes {
		if c == label {
			return i
		}
	}
	return -1
}

func (s *Spec) computeShape() []int {
	if s.Task == TaskHAR {
		return []int{1, len(s.Channels), s.Window}
	}
	return []int{1, 1, s.Frames(), s.FeatureRows()}
}

// Validate checks every field of the spec and returns the first problem.
func (s *Spec) Validate() error {
	e := func(format string, a ...any) error {
		return fmt.Errorf("front-end spec: "+format, a...)
	}
	if s.Version != SpecVersion {
		return e("version: got %d, expected %d", s.Version, SpecVersion)
	}
	f := &s.Features
	switch s.Task {
	case TaskHAR:
		if s.SampleRate < 1 || s.SampleRate > 10000 {
			return e("sample_rate: got %d, expected 1..10000 Hz for task %q", s.SampleRate, s.Task)
		}
		if f.Type != FeatIMURaw && f.Type != FeatIMUOrient {
			return e("features.type: got %q, expected %q or %q for task %q", f.Type, FeatIMURaw, FeatIMUOrient, s.Task)
		}
	case TaskKWS:
		if s.SampleRate < 1000 || s.SampleRate > MaxSampleRate {
			return e("sample_rate: got %d, expected 1000..%d Hz for task %q", s.SampleRate, MaxSampleRate, s.Task)
		}
		if f.Type != FeatLogMel && f.Type != FeatMFCC {
			return e("features.type: got %q, expected %q or %q for task %q", f.Type, FeatLogMel, FeatMFCC, s.Task)
		}
	default:
		return e("task: got %q, expected %q or %q", s.Task, TaskHAR, TaskKWS)
	}
	if s.Window < 1 || s.Window > MaxWindow {
		return e("window: got %d, expected 1..%d samples", s.Window, MaxWindow)
	}
	if s.Hop < 1 || s.Hop > MaxWindow {
		return e("hop: got %d, expected 1..%d samples", s.Hop, MaxWindow)
	}
	var err error
	if s.Task == TaskHAR {
		err = s.validateIMU()
	} else {
		err = s.validateAudio()
	}
	if err != nil {
		return err
	}
	if n := s.FeatureRows(); s.Norm != nil {
		if len(s.Norm.Mean) != n || len(s.Norm.Std) != n {
			return e("norm: got %d means and %d stds, expected %d of each (one per %s)",
				len(s.Norm.Mean), len(s.Norm.Std), n, map[bool]string{true: "channel", false: "feature row"}[s.Task == TaskHAR])
		}
		for i := range n {
			if !finite(s.Norm.Mean[i]) {
				return e("norm.mean[%d]: got %v, expected a finite number", i, s.Norm.Mean[i])
			}
			if !finite(s.Norm.Std[i]) || s.Norm.Std[i] <= 0 {
				return e("norm.std[%d]: got %v, expected a finite number > 0", i, s.Norm.Std[i])
			}
		}
	}
	if len(s.Classes) < 1 || len(s.Classes) > MaxClasses {
		return e("classes: got %d, expected 1..%d class names", len(s.Classes), MaxClasses)
	}
	seen := make(map[string]int, len(s.Classes))
	for i, c := range s.Classes {
		if c == "" || strings.TrimSpace(c) != c || strings.ContainsAny(c, ",\n\r\"") {
			return e("classes[%d]: got %q, expected a non-empty name without surrounding spaces, commas, quotes or newlines", i, c)
		}
		if j, ok := seen[c]; ok {
			return e("classes[%d]: %q repeats classes[%d]", i, c, j)
		}
		seen[c] = i
	}
	want := s.computeShape()
	size := 1
	for _, d := range want {
		size *= d
	}
	if size > MaxInputElems {
		return e("input shape %v has %d elements, limit %d", want, size, MaxInputElems)
	}
	if s.Shape != nil && !equalInts(s.Shape, want) {
		return e("input_shape: got %v, expected %v from the other fields", s.Shape, want)
	}
	return nil
}

func (s *Spec) validateIMU() error {
	e := func(format string, a ...any) error {
		return fmt.Errorf("front-end spec: "+format, a...)
	}
	f := &s.Features
	if f.FrameLength != 0 || f.FrameHop != 0 || f.NFFT != 0 || f.NMels != 0 || f.FMin != 0 || f.FMax != 0 ||
		f.NMFCC != 0 || f.WindowFn != "" || f.MelScale != "" || f.LogFloor != 0 {
		return e("features: audio parameters given for IMU feature type %q", f.Type)
	}
	if len(s.Channels) < 1 || len(s.Channels) > MaxChannels {
		return e("channels: got %d, expected 1..%d channel names", len(s.Channels), MaxChannels)
	}
	seen := map[string]bool{}
	for i, c := range s.Channels {
		if c == "" || c == "timestamp" || c == "label" || strings.ContainsAny(c, ",\"\n\r") {
			return e("channels[%d]: got %q, expected a column name other than timestamp or label", i, c)
		}
		if seen[c] {
			return e("channels[%d]: %q repeats", i, c)
		}
		seen[c] = true
	}
	if f.Type == FeatIMURaw {
		if f.AccColumns != nil || f.GyroColumns != nil {
			return e("features: acc_columns and gyro_columns apply to %q only", FeatIMUOrient)
		}
		return nil
	}
	var needGyro bool
	for i, c := range s.Channels {
		switch c {
		case ChanAccAlongG, ChanAccAcrossG, ChanAccNorm:
		case ChanGyroAlongG, ChanGyroAcrossG, ChanGyroNorm:
			needGyro = true
		default:
			return e("channels[%d]: got %q, expected one of %s for %q", i, c, strings.Join(OrientChannels(), ", "), FeatIMUOrient)
		}
	}
	check := func(name string, cols []string, need bool) error {
		if len(cols) == 0 && !need {
			return nil
		}
		if len(cols) != 3 {
			return e("features.%s: got %d names, expected 3 (x, y, z CSV columns)", name, len(cols))
		}
		for i, c := range cols {
			if c == "" || c == "timestamp" || c == "label" || strings.ContainsAny(c, ",\"\n\r") {
				return e("features.%s[%d]: got %q, expected a column name", name, i, c)
			}
		}
		return nil
	}
	// Acc columns are always needed: gravity is estimated from them.
	if err := check("acc_columns", f.AccColumns, true); err != nil {
		return err
	}
	if err := check("gyro_columns", f.GyroColumns, needGyro); err != nil {
		return err
	}
	all := append(append([]string{}, f.AccColumns...), f.GyroColumns...)
	for i := range all {
		for j := range i {
			if all[i] == all[j] {
				return e("features: column %q named twice in acc_columns/gyro_columns", all[i])
			}
		}
	}
	return nil
}

func (s *Spec) validateAudio() error {
	e := func(format string, a ...any) error {
		return fmt.Errorf("front-end spec: "+format, a...)
	}
	f := &s.Features
	if len(s.Channels) != 0 {
		return e("channels: must be empty for task %q (audio is mixed down to mono)", s.Task)
	}
	if f.AccColumns != nil || f.GyroColumns != nil {
		return e("features: acc_columns and gyro_columns apply to %q only", FeatIMUOrient)
	}
	if f.FrameLength < 2 || f.FrameLength > s.Window {
		return e("features.frame_length: got %d, expected 2..window (%d) samples", f.FrameLength, s.Window)
	}
	if f.FrameHop < 1 || f.FrameHop > s.Window {
		return e("features.frame_hop: got %d, expected 1..window (%d) samples", f.FrameHop, s.Window)
	}
	if f.NFFT < f.FrameLength || f.NFFT > MaxNFFT || f.NFFT&(f.NFFT-1) != 0 {
		return e("features.n_fft: got %d, expected a power of two from frame_length (%d) to %d", f.NFFT, f.FrameLength, MaxNFFT)
	}
	if f.NMels < 1 || f.NMels > MaxMels {
		return e("features.n_mels: got %d, expected 1..%d", f.NMels, MaxMels)
	}
	nyq := float64(s.SampleRate) / 2
	if !finite(f.FMin) || f.FMin < 0 {
		return e("features.fmin: got %v, expected >= 0 Hz", f.FMin)
	}
	if !finite(f.FMax) || f.FMax <= f.FMin || f.FMax > nyq {
		return e("features.fmax: got %v, expected fmin (%v) < fmax <= sample_rate/2 (%v) Hz", f.FMax, f.FMin, nyq)
	}
	// Every mel filter must cover at least one FFT bin, or its energy is 0.
	if m := emptyMelBand(s.SampleRate, f.NFFT, f.NMels, f.FMin, f.FMax); m >= 0 {
		return e("features.n_mels: mel band %d of %d between %v and %v Hz covers no FFT bin (bins are %.4g Hz apart); use fewer bands, a larger n_fft or a higher fmin",
			m, f.NMels, f.FMin, f.FMax, float64(s.SampleRate)/float64(f.NFFT))
	}
	if f.Type == FeatMFCC {
		if f.NMFCC < 1 || f.NMFCC > f.NMels {
			return e("features.n_mfcc: got %d, expected 1..n_mels (%d)", f.NMFCC, f.NMels)
		}
	} else if f.NMFCC != 0 {
		return e("features.n_mfcc: got %d, expected 0 (unset) for %q", f.NMFCC, f.Type)
	}
	switch f.WindowFn {
	case "", "hann", "hamming", "rectangular":
	default:
		return e("features.window_fn: got %q, expected \"hann\", \"hamming\" or \"rectangular\"", f.WindowFn)
	}
	switch f.MelScale {
	case "", "htk":
	default:
		return e("features.mel_scale: got %q, expected \"htk\"", f.MelScale)
	}
	if !finite(f.LogFloor) || f.LogFloor <= 0 || f.LogFloor > 1 {
		return e("features.log_floor: got %v, expected 0 < log_floor <= 1", f.LogFloor)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// emptyMelBand returns the index of the first mel filter that has no FFT bin
// strictly inside its support, or -1.
func emptyMelBand(rate, nFFT, nMels int, fmin, fmax float64) int {
	lo, hi := hzToMel(fmin), hzToMel(fmax)
	binHz := float64(rate) / float64(nFFT)
	edge := func(i int) float64 { return melToHz(lo + (hi-lo)*float64(i)/float64(nMels+1)) }
	for m := range nMels {
		l, r := edge(m), edge(m+2)
		k := math.Floor(l/binHz) + 1
		if k*binHz >= r || int(k) > nFFT/2 {
			return m
		}
	}
	return -1
}
