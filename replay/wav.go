package replay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
)

// WAV format codes.
const (
	WAVFormatPCM        = 1
	WAVFormatFloat      = 3
	WAVFormatExtensible = 0xFFFE
)

// Limits of the WAV reader.
const (
	MaxWAVChannels   = 32
	MinWAVSampleRate = 1000
	MaxWAVSampleRate = 1536000
	MaxWAVFmtChunk   = 1024 // bytes
	MaxWAVChunks     = 1024 // chunks before the data chunk
	// MaxFloatSample bounds |sample| of IEEE float WAV data (full scale is
	// 1; a little over-range is normal, 120 dB over is corrupt).
	MaxFloatSample = 1e6
)

// WAVInfo describes the audio of a WAV file.
type WAVInfo struct {
	Format        int   // WAVFormatPCM or WAVFormatFloat (extensible is resolved)
	Channels      int   // interleaved channels, mixed down to mono on reading
	SampleRate    int   // Hz
	BitsPerSample int   // 8 (unsigned), 16, 24, 32 for PCM; 32, 64 for float
	DataOffset    int64 // byte offset of the first sample
	DataBytes     int64 // size of the data chunk, -1 if unknown (read to EOF)
}

// Frames returns the number of sample frames, or -1 if unknown.
func (i WAVInfo) Frames() int64 {
	if i.DataBytes < 0 {
		return -1
	}
	return i.DataBytes / int64(i.Channels*i.BitsPerSample/8)
}

// Duration returns the length of the audio in seconds, or -1 if unknown.
func (i WAVInfo) Duration() float64 {
	if i.DataBytes < 0 {
		return -1
	}
	return float64(i.Frames()) / float64(i.SampleRate)
}

// WAVReader streams the samples of a RIFF/WAVE file as mono float32 in
// [-1, 1): channels are averaged, 8-bit samples are unsigned with 128 as
// zero, integers are divided by 2^(bits-1). Unknown chunks before the data
// chunk are skipped.
type WAVReader struct {
	r         io.Reader
	name      string
	info      WAVInfo
	off       int64 // byte offset of the next byte of r
	remaining int64 // data bytes left, -1 unknown
	block     int   // bytes per frame
	buf       []byte
}

// NewWAVReader reads the header of a WAV file from r up to the start of the
// samples. name is used in error messages. If r has a Stat method (an
// *os.File or fs.File), chunk sizes are checked against the file size.
func NewWAVReader(r io.Reader, name string) (*WAVReader, error) {
	size := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	w := &WAVReader{r: bufio.NewReaderSize(r, 32<<10), name: name}
	var hdr [12]byte
	if n, err := io.ReadFull(w.r, hdr[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, offErr(name, 0, "empty file, expected a RIFF/WAVE header")
		}
		return nil, w.readErr(err, "truncated RIFF header: expected 12 bytes, got %d", n)
	}
	w.off = 12
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, offErr(name, 0, "not a RIFF/WAVE file: got %q...%q, expected \"RIFF\"...\"WAVE\"", hdr[0:4], hdr[8:12])
	}
	// Chunk sizes are checked against the file size when it is known (the
	// RIFF size is often wrong in files written as a stream), else against
	// a plausible RIFF size.
	limit := size
	if rs := int64(binary.LittleEndian.Uint32(hdr[4:8])); limit < 0 && rs >= 4 && rs != 0xFFFFFFFF {
		limit = 8 + rs
	}
	haveFmt := false
	for chunks := 0; ; chunks++ {
		if chunks >= MaxWAVChunks {
			return nil, offErr(name, w.off, "more than %d chunks before the data chunk", MaxWAVChunks)
		}
		start := w.off
		var ch [8]byte
		if n, err := io.ReadFull(w.r, ch[:]); err != nil {
			if n == 0 && err == io.EOF {
				return nil, offErr(name, start, "no data chunk: reached the end of the file")
			}
			return nil, w.readErr(err, "truncated chunk header: expected 8 bytes, got %d", n)
		}
		w.off += 8
		id := string(ch[0:4])
		csize := int64(binary.LittleEndian.Uint32(ch[4:8]))
		unknownSize := id == "data" && csize == 0xFFFFFFFF
		if !unknownSize && limit >= 0 && w.off+csize > limit {
			return nil, offErr(name, start, "chunk %q claims %d bytes, but only %d remain in the file", id, csize, max(limit-w.off, 0))
		}
		switch id {
		case "fmt ":
			if haveFmt {
				return nil, offErr(name, start, "second fmt chunk")
			}
			if csize < 16 || csize > MaxWAVFmtChunk {
				return nil, offErr(name, start, "fmt chunk of %d bytes, expected 16..%d", csize, MaxWAVFmtChunk)
			}
			b := make([]byte, csize+csize&1)
			if n, err := io.ReadFull(w.r, b); err != nil && !(err == io.ErrUnexpectedEOF && int64(n) == csize) {
				return nil, w.readErr(err, "truncated fmt chunk: expected %d bytes, got %d", csize, n)
			}
			if err := w.parseFmt(b[:csize], w.off); err != nil {
				return nil, err
			}
			w.off += int64(len(b))
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, offErr(name, start, "data chunk before the fmt chunk")
			}
			w.info.DataOffset = w.off
			w.remaining = csize
			if unknownSize {
				w.remaining = -1
			} else if csize%int64(w.block) != 0 {
				return nil, offErr(name, start, "data chunk of %d bytes is not a whole number of %d-byte frames", csize, w.block)
			}
			w.info.DataBytes = w.remaining
			w.buf = make([]byte, 4096*w.block)
			return w, nil
		default:
			skip := csize + csize&1
			n, err := io.CopyN(io.Discard, w.r, skip)
			if err != nil && !(err == io.EOF && n == csize) {
				return nil, w.readErr(err, "truncated %q chunk: expected %d bytes, got %d", id, csize, n)
			}
			w.off += n
		}
	}
}

func (w *WAVReader) readErr(err error, format string, a ...any) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return offErr(w.name, w.off, format, a...)
	}
	return &InputError{File: w.name, Offset: w.off, Msg: fmt.Sprintf(format, a...), Err: err}
}

var extGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

func (w *WAVReader) parseFmt(b []byte, off int64) error {
	le := binary.LittleEndian
	format := int(le.Uint16(b[0:2]))
	channels := int(le.Uint16(b[2:4]))
	rate := int64(le.Uint32(b[4:8]))
	blockAlign := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))
	if format == WAVFormatExtensible {
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return offErr(w.name, off+16, "WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, expected at least 40 with cbSize >= 22", len(b))
		}
		guid := b[24:40]
		if string(guid[2:]) != string(extGUIDTail) {
			return offErr(w.name, off+24, "WAVE_FORMAT_EXTENSIBLE sub-format GUID %x is not a standard format GUID", guid)
		}
		format = int(le.Uint16(guid[0:2]))
	}
	switch format {
	case WAVFormatPCM:
		if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
			return offErr(w.name, off+14, "PCM with %d bits per sample, expected 8, 16, 24 or 32", bits)
		}
	case WAVFormatFloat:
		if bits != 32 && bits != 64 {
			return offErr(w.name, off+14, "IEEE float with %d bits per sample, expected 32 or 64", bits)
		}
	default:
		return offErr(w.name, off, "unsupported audio format code %d (%s), expected PCM (1), IEEE float (3) or extensible (0xFFFE) of these", format, formatName(format))
	}
	if channels < 1 || channels > MaxWAVChannels {
		return offErr(w.name, off+2, "%d channels, expected 1..%d", channels, MaxWAVChannels)
	}
	if rate < MinWAVSampleRate || rate > MaxWAVSampleRate {
		return offErr(w.name, off+4, "sample rate %d Hz, expected %d..%d", rate, MinWAVSampleRate, MaxWAVSampleRate)
	}
	if blockAlign != channels*bits/8 {
		return offErr(w.name, off+12, "block align %d, expected %d (channels x bytes per sample)", blockAlign, channels*bits/8)
	}
	w.info.Format, w.info.Channels, w.info.SampleRate, w.info.BitsPerSample = format, channels, int(rate), bits
	w.block = blockAlign
	return nil
}

func formatName(f int) string {
	switch f {
	case 2:
		return "Microsoft ADPCM"
	case 6:
		return "A-law"
	case 7:
		return "mu-law"
	case 0x11:
		return "IMA ADPCM"
	case 0x55:
		return "MP3"
	}
	return "not PCM"
}

// Info returns the format of the audio.
func (w *WAVReader) Info() WAVInfo { return w.info }

// Read decodes up to len(dst) mono samples into dst. It returns io.EOF
// after the last sample, and an error naming the byte offset if the data
// is truncated or holds a non-finite float sample.
func (w *WAVReader) Read(dst []float32) (int, error) {
	if w.remaining == 0 {
		return 0, io.EOF
	}
	frames := min(len(dst), len(w.buf)/w.block)
	if w.remaining > 0 {
		frames = int(min(int64(frames), w.remaining/int64(w.block)))
	}
	if frames == 0 {
		return 0, nil
	}
	b := w.buf[:frames*w.block]
	n, err := io.ReadFull(w.r, b)
	if err != nil {
		if w.remaining < 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			if n%w.block != 0 {
				return 0, offErr(w.name, w.off+int64(n-n%w.block), "data ends inside a %d-byte frame (at its start)", w.block)
			}
			frames = n / w.block
			w.remaining = 0
			if frames == 0 {
				return 0, io.EOF
			}
			b = b[:n]
		} else {
			if w.remaining < 0 { // a stream of unknown length
				return 0, w.readErr(err, "reading the data")
			}
			return 0, w.readErr(err, "truncated data: the data chunk promised %d more bytes, got %d", w.remaining, n)
		}
	} else if w.remaining > 0 {
		w.remaining -= int64(n)
	}
	ch := w.info.Channels
	bps := w.info.BitsPerSample / 8
	scale := 1 / float64(ch)
	le := binary.LittleEndian
	for i := range frames {
		var acc float64
		for c := range ch {
			p := b[(i*ch+c)*bps:]
			var v float64
			switch {
			case w.info.Format == WAVFormatFloat && bps == 4:
				v = float64(math.Float32frombits(le.Uint32(p)))
			case w.info.Format == WAVFormatFloat:
				v = math.Float64frombits(le.Uint64(p))
			case bps == 1:
				v = (float64(p[0]) - 128) / 128
			case bps == 2:
				v = float64(int16(le.Uint16(p))) / (1 << 15)
			case bps == 3:
				v = float64(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24)>>8) / (1 << 23)
			default:
				v = float64(int32(le.Uint32(p))) / (1 << 31)
			}
			if math.IsNaN(v) || math.Abs(v) > MaxFloatSample {
				return 0, offErr(w.name, w.off+int64((i*ch+c)*bps), "float sample %g, expected a finite number of magnitude at most %g", v, float64(MaxFloatSample))
			}
			acc += v
		}
		dst[i] = float32(acc * scale)
	}
	w.off += int64(len(b))
	return frames, nil
}

// WriteWAV writes samples (mono, nominally in [-1, 1], clipped) as a 16-bit
// PCM WAV file at the given rate.
func WriteWAV(w io.Writer, rate int, samples []float32) error {
	if rate < MinWAVSampleRate || rate > MaxWAVSampleRate {
		return fmt.Errorf("write WAV: sample rate %d Hz, expected %d..%d", rate, MinWAVSampleRate, MaxWAVSampleRate)
	}
	if int64(len(samples))*2 > math.MaxUint32-36 {
		return fmt.Errorf("write WAV: %d samples do not fit a 4 GiB RIFF file", len(samples))
	}
	le := binary.LittleEndian
	data := uint32(2 * len(samples))
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], WAVFormatPCM)
	le.PutUint16(h[22:], 1)
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*2))
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], data)
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(h); err != nil {
		return fmt.Errorf("write WAV: %w", err)
	}
	var s [2]byte
	for _, x := range samples {
		v := math.Round(float64(x) * 32768)
		v = max(-32768, min(32767, v))
		le.PutUint16(s[:], uint16(int16(v)))
		bw.Write(s[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write WAV: %w", err)
	}
	return nil
}
