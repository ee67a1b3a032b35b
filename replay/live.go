package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Formats of a live stream (OpenStream).
const (
	FormatCSV   = "csv"   // IMU CSV lines with a header (task har)
	FormatS16LE = "s16le" // raw signed 16-bit little-endian PCM (task kws)
	FormatF32LE = "f32le" // raw 32-bit float little-endian PCM (task kws)
)

// StreamFormat is the format of a live stream read by OpenStream: the
// given one checked against the spec's task, or the task's default (csv
// for IMU models, s16le for audio).
func StreamFormat(spec *Spec, format string) (string, error) {
	if format == "" {
		if spec.Task == TaskKWS {
			return FormatS16LE, nil
		}
		return FormatCSV, nil
	}
	switch {
	case format == FormatCSV && spec.Task != TaskHAR:
		return "", fmt.Errorf("format csv is for IMU models; this model's task is %s: use s16le or f32le", spec.Task)
	case (format == FormatS16LE || format == FormatF32LE) && spec.Task != TaskKWS:
		return "", fmt.Errorf("format %s is for audio models; this model's task is %s: use csv", format, spec.Task)
	case format != FormatCSV && format != FormatS16LE && format != FormatF32LE:
		return "", fmt.Errorf("format %q, expected csv, s16le or f32le", format)
	}
	return format, nil
}

// CheckStream checks the settings of a live stream: its format (see
// StreamFormat), and for raw PCM its rate and channels. Its messages start
// with the setting's name.
func CheckStream(spec *Spec, format string, rate, channels int) error {
	format, err := StreamFormat(spec, format)
	if err != nil {
		return err
	}
	if format != FormatCSV && (rate < MinWAVSampleRate || rate > MaxWAVSampleRate) {
		return fmt.Errorf("rate %d, expected %d..%d Hz", rate, MinWAVSampleRate, MaxWAVSampleRate)
	}
	if channels < 1 || channels > MaxWAVChannels {
		return fmt.Errorf("channels %d, expected 1..%d", channels, MaxWAVChannels)
	}
	return nil
}

// OpenStream reads a live stream (standard input, a pipe) through spec's
// front-end: IMU CSV lines with a header naming the model's columns and a
// timestamp column, or raw mono PCM (interleaved channels are averaged)
// at rate Hz. name names the stream in errors. opts is used as Open
// uses it (MaxGap, SkipBadLines).
func OpenStream(r io.Reader, name string, spec *Spec, format string, rate, channels int, opts Options) (Source, error) {
	if err := CheckStream(spec, format, rate, channels); err != nil {
		return nil, err
	}
	format, _ = StreamFormat(spec, format)
	// The readers name the stream in their errors and want a file
	// extension.
	file := name + ".csv"
	if format != FormatCSV {
		file = name + ".wav"
		r = io.MultiReader(wavStreamHeader(format, rate, channels), r)
	}
	src, err := OpenFS(&streamFS{name: file, r: r}, file, spec, opts)
	if err != nil {
		return nil, streamErr(err, file, name, format)
	}
	return &liveSource{Source: src, file: file, name: name, format: format}, nil
}

// liveSource is a stream's Source whose errors name the stream as the
// user gave it (not the file name the readers were given) and, for raw
// PCM, give byte offsets in the stream (without the header the readers
// were fed).
type liveSource struct {
	Source
	file, name, format string
}

// Next implements Source.
func (s *liveSource) Next(dst []float32) (Window, error) {
	w, err := s.Source.Next(dst)
	if err != nil && err != io.EOF {
		err = streamErr(err, s.file, s.name, s.format)
	}
	return w, err
}

func (s *liveSource) stats() Stats {
	st := StatsOf(s.Source)
	for i, e := range st.FirstBad {
		st.FirstBad[i] = streamErr(e, s.file, s.name, s.format)
	}
	return st
}

// streamErr rewrites an InputError of file as one of the stream name.
func streamErr(err error, file, name, format string) error {
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != file {
		return err
	}
	e := *ie
	e.File = name
	if format != FormatCSV && e.Offset >= wavStreamHeaderSize {
		e.Offset -= wavStreamHeaderSize
	}
	return &e
}

// wavStreamHeaderSize is the size of wavStreamHeader's header.
const wavStreamHeaderSize = 44

// wavStreamHeader returns a RIFF/WAVE header of unknown length (data size
// 0xFFFFFFFF) for raw PCM, so that the WAV reader and the resampler of the
// replay package read the stream.
func wavStreamHeader(format string, rate, channels int) io.Reader {
	code, bits := uint16(WAVFormatPCM), 16
	if format == FormatF32LE {
		code, bits = WAVFormatFloat, 32
	}
	block := channels * bits / 8
	h := make([]byte, 0, wavStreamHeaderSize)
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
