package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Formats of the live stream read by `kagen run`.
const (
	formatCSV   = "csv"   // IMU CSV lines with a header (task har)
	formatS16LE = "s16le" // raw signed 16-bit little-endian PCM (task kws)
	formatF32LE = "f32le" // raw 32-bit float little-endian PCM (task kws)
)

// cmdRun classifies a live stream with a policy's controller choosing the
// level of every window.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	model := fs.String("model", "", "ONNX model")
	polPath := fs.String("policy", "", "policy file (kagen policy new)")
	input := fs.String("input", "-", "stream to read; - is standard input")
	format := fs.String("format", "", "stream format: csv (IMU CSV lines with a header; default for har models), s16le or f32le (raw mono PCM; default s16le for kws models)")
	rate := fs.Int("rate", 0, "sample rate of raw PCM in Hz (default: the model's)")
	channels := fs.Int("channels", 1, "interleaved channels of raw PCM, averaged to mono")
	devName := fs.String("device-profile", "phone-big", "device energy profile for the controller's energy signal: "+deviceNames()+", or a JSON file")
	logPath := fs.String("log", "", "append every decision as a JSON line to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen run --model MODEL --policy FILE [--format csv|s16le|f32le] [--rate HZ] [--input FILE]\n\n"+
			"Reads a live stream on standard input and writes one JSON line per window: the prediction, its\n"+
			"confidence, the level it ran at and its latency. IMU CSV needs a header naming the model's columns\n"+
			"and a timestamp column (Unix milliseconds). Stops cleanly at the end of the input or on SIGTERM/SIGINT.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *model == "" || *polPath == "" {
		fs.Usage()
		return usageError{"expected --model and --policy, and no other arguments"}
	}
	dev, err := device.Lookup(*devName)
	if err != nil {
		return usageError{err.Error()}
	}
	m, spec, pol, sels, err := loadPolicy(*model, *polPath)
	if err != nil {
		return err
	}
	if *format == "" {
		*format = formatCSV
		if spec.Task == replay.TaskKWS {
			*format = formatS16LE
		}
	}
	switch {
	case *format == formatCSV && spec.Task != replay.TaskHAR:
		return usageError{fmt.Sprintf("--format csv is for IMU models; this model's task is %s: use s16le or f32le", spec.Task)}
	case (*format == formatS16LE || *format == formatF32LE) && spec.Task != replay.TaskKWS:
		return usageError{fmt.Sprintf("--format %s is for audio models; this model's task is %s: use csv", *format, spec.Task)}
	case *format != formatCSV && *format != formatS16LE && *format != formatF32LE:
		return usageError{fmt.Sprintf("--format %q, expected csv, s16le or f32le", *format)}
	}
	if *rate == 0 {
		*rate = spec.SampleRate
	}
	if *format != formatCSV && (*rate < replay.MinWAVSampleRate || *rate > replay.MaxWAVSampleRate) {
		return usageError{fmt.Sprintf("--rate %d, expected %d..%d Hz", *rate, replay.MinWAVSampleRate, replay.MaxWAVSampleRate)}
	}
	if *channels < 1 || *channels > replay.MaxWAVChannels {
		return usageError{fmt.Sprintf("--channels %d, expected 1..%d", *channels, replay.MaxWAVChannels)}
	}
	ctrl, err := policy.NewController(pol)
	if err != nil {
		return err
	}

	var in io.ReadCloser = os.Stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		in = f
	}
	defer in.Close()
	// The stream is copied through a pipe so that a signal can end it
	// even while a read of the input blocks.
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, in)
		pw.CloseWithError(err) // nil: io.EOF
	}()
	var stopped atomic.Value // the signal's name
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sigs:
			stopped.Store(s.String())
			pw.CloseWithError(io.EOF)
		case <-done:
		}
	}()

	// The replay readers name the stream in their errors and want a
	// file extension: "stdin.csv", or the input's base name.
	base := "stdin"
	if *input != "-" {
		base = strings.TrimSuffix(filepath.Base(*input), filepath.Ext(*input))
	}
	name := base + ".csv"
	var stream io.Reader = pr
	if *format != formatCSV {
		name = base + ".wav"
		stream = io.MultiReader(wavStreamHeader(*format, *rate, *channels), pr)
	}
	src, err := replay.OpenFS(&streamFS{name: name, r: stream}, name, spec, replay.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", *input, err)
	}
	defer src.Close()

	var logw *policy.LogWriter
	if *logPath != "" {
		lf, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("decision log: %w", err)
		}
		defer lf.Close()
		logw = policy.NewLogWriter(lf, pol.Classes)
		defer logw.Flush()
	}

	s := m.NewSession()
	defer s.Close()
	x := engine.NewFloat(make([]float32, spec.InputSize()), spec.InputShape()...)
	tin := []*engine.Tensor{x}
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	level := ctrl.Start()
	perLevel := make([]int, len(pol.Levels))
	n := 0
	var runErr error
	for {
		w, err := src.Next(x.F)
		if err != nil {
			if !errors.Is(err, io.EOF) && stopped.Load() == nil {
				runErr = err
			}
			break
		}
		pred, busy, err := infer(s, tin, sels[level])
		if err != nil {
			runErr = fmt.Errorf("window %d at level %d: %w", w.Index, level, err)
			break
		}
		d := ctrl.Decide(policy.Observation{Index: int64(w.Index), Time: w.End, Level: level, Class: pred.Class,
			Confidence: pred.Confidence, TimeUS: float64(busy) / 1e3, EnergyJ: dev.InferenceEnergy(busy)})
		if logw != nil {
			if err := logw.Write(d); err != nil {
				runErr = err
				break
			}
		}
		line := runLine{Index: w.Index, Start: w.Start, End: w.End, Label: w.Label, Class: pred.Class,
			Confidence: pred.Confidence, Level: level, LatencyUS: float64(busy) / 1e3, Next: d.To, Rule: d.Rule}
		if pred.Class >= 0 && pred.Class < len(spec.Classes) {
			line.Prediction = spec.Classes[pred.Class]
		}
		if err := enc.Encode(&line); err != nil {
			runErr = fmt.Errorf("writing: %w", err)
			break
		}
		if err := out.Flush(); err != nil {
			runErr = fmt.Errorf("writing: %w", err)
			break
		}
		perLevel[level]++
		level = d.To
		n++
	}
	if err := out.Flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("writing: %w", err)
	}
	why := "end of input"
	if s, ok := stopped.Load().(string); ok {
		why = "signal " + s
	}
	fmt.Fprintf(stderr, "kagen run: %d windows, stopped by %s; windows per level %v\n", n, why, perLevel)
	return runErr
}

// runLine is one output line of `kagen run`.
type runLine struct {
	Index      int     `json:"index"`
	Start      float64 `json:"start_s"`
	End        float64 `json:"end_s"`
	Label      string  `json:"label,omitempty"`
	Prediction string  `json:"prediction"`
	Class      int     `json:"class"`
	Confidence float32 `json:"confidence"`
	Level      int     `json:"level"`
	LatencyUS  float64 `json:"latency_us"`
	Next       int     `json:"next_level"`
	Rule       string  `json:"rule"`
}

// wavStreamHeader returns a RIFF/WAVE header of unknown length (data size
// 0xFFFFFFFF) for raw PCM, so that the WAV reader and the resampler of the
// replay package read the stream.
func wavStreamHeader(format string, rate, channels int) io.Reader {
	code, bits := uint16(replay.WAVFormatPCM), 16
	if format == formatF32LE {
		code, bits = replay.WAVFormatFloat, 32
	}
	block := channels * bits / 8
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, 0xFFFFFFFF)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, code)
	h = binary.LittleEndian.AppendUint16(h, uint16(channels))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*block))
	h = binary.LittleEndian.AppendUint16(h, uint16(block))
	h = binary.LittleEndian.AppendUint16(h, uint16(bits))
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, 0xFFFFFFFF)
	return bytes.NewReader(h)
}

// streamFS is a file system holding one file, a stream that can be opened
// once: it lets the replay package's readers, which open traces by name,
// read standard input.
type streamFS struct {
	name   string
	r      io.Reader
	opened bool
}

// Open implements fs.FS.
func (f *streamFS) Open(name string) (fs.File, error) {
	if name != f.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if f.opened {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("a stream can be opened once")}
	}
	f.opened = true
	return &streamFile{r: f.r, info: streamInfo{name}}, nil
}

// Stat implements fs.StatFS without opening the stream.
func (f *streamFS) Stat(name string) (fs.FileInfo, error) {
	if name != f.name {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return streamInfo{name}, nil
}

type streamFile struct {
	r    io.Reader
	info streamInfo
}

func (s *streamFile) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *streamFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *streamFile) Close() error               { return nil }

// streamInfo describes the stream as a named pipe of unknown size.
type streamInfo struct{ name string }

func (i streamInfo) Name() string       { return i.name }
func (i streamInfo) Size() int64        { return 0 }
func (i streamInfo) Mode() fs.FileMode  { return fs.ModeNamedPipe | 0o444 }
func (i streamInfo) ModTime() time.Time { return time.Time{} }
func (i streamInfo) IsDir() bool        { return false }
func (i streamInfo) Sys() any           { return nil }
