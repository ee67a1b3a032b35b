package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readAllWAV(t *testing.T, data []byte) (WAVInfo, []float32) {
	t.Helper()
	w, err := NewWAVReader(bytes.NewReader(data), "t.wav")
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	buf := make([]float32, 7)
	for {
		n, err := w.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return w.Info(), out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWAVFormats(t *testing.T) {
	ramp := make([]float64, 101)
	for i := range ramp {
		ramp[i] = -1 + 2*float64(i)/float64(len(ramp)) // in [-1, 1)
	}
	stereo := make([][]float64, len(ramp))
	for i, v := range ramp {
		stereo[i] = []float64{v, -v / 2}
	}
	list := chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00kagen\x00"))
	odd := chunk("junk", []byte{1, 2, 3})
	tests := []struct {
		name   string
		ws     wavSpec
		frames [][]float64
		want   []float64
		tol    float64
	}{
		{"pcm8", wavSpec{format: 1, bits: 8, channels: 1, rate: 8000}, mono(ramp), ramp, 1.0 / 128},
		{"pcm16", wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(ramp), ramp, 1.0 / 32768},
		{"pcm24", wavSpec{format: 1, bits: 24, channels: 1, rate: 44100}, mono(ramp), ramp, 1e-6},
		{"pcm32", wavSpec{format: 1, bits: 32, channels: 1, rate: 16000}, mono(ramp), ramp, 1e-7},
		{"float32", wavSpec{format: 3, bits: 32, channels: 1, rate: 8000}, mono(ramp), ramp, 1e-7},
		{"float64", wavSpec{format: 3, bits: 64, channels: 1, rate: 8000}, mono(ramp), ramp, 1e-7},
		{"extensible pcm16", wavSpec{format: 1, bits: 16, channels: 1, rate: 8000, extensible: true}, mono(ramp), ramp, 1.0 / 32768},
		{"extensible float32", wavSpec{format: 3, bits: 32, channels: 1, rate: 8000, extensible: true}, mono(ramp), ramp, 1e-7},
		{"stereo mixed down", wavSpec{format: 1, bits: 16, channels: 2, rate: 8000}, stereo, scaled(ramp, 0.25), 1.0 / 32768},
		{"unknown chunks with odd padding", wavSpec{format: 1, bits: 16, channels: 1, rate: 8000, extra: append(odd, list...)}, mono(ramp), ramp, 1.0 / 32768},
		{"odd-sized 8-bit data", wavSpec{format: 1, bits: 8, channels: 1, rate: 8000}, mono(ramp[:7]), ramp[:7], 1.0 / 128},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, got := readAllWAV(t, encodeWAV(tc.ws, tc.frames))
			if info.Channels != tc.ws.channels || info.SampleRate != tc.ws.rate || info.BitsPerSample != tc.ws.bits || info.Format != tc.ws.format {
				t.Errorf("info %+v does not match %+v", info, tc.ws)
			}
			if info.Frames() != int64(len(tc.frames)) {
				t.Errorf("Frames() = %d, want %d", info.Frames(), len(tc.frames))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d samples, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !approx(float64(got[i]), tc.want[i], tc.tol+1e-7) {
					t.Fatalf("sample %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func scaled(x []float64, k float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * k
	}
	return y
}

func TestWAVErrors(t *testing.T) {
	good := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono([]float64{0, 0.5, -0.5, 0.25}))
	le := binary.LittleEndian
	patch := func(off int, v uint16) []byte {
		b := bytes.Clone(good)
		le.PutUint16(b[off:], v)
		return b
	}
	patch32 := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		le.PutUint32(b[off:], v)
		return b
	}
	adpcm := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono([]float64{0}))
	le.PutUint16(adpcm[20:], 2)
	extBad := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000, extensible: true}, mono([]float64{0}))
	extBad[44+3] ^= 0xFF // corrupt the sub-format GUID
	dataFirst := append([]byte("RIFF\x00\x00\x00\x00WAVE"), chunk("data", []byte{0, 0})...)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "t.wav: byte offset 0: empty file"},
		{"truncated RIFF header", good[:7], "byte offset 0: truncated RIFF header: expected 12 bytes, got 7"},
		{"not RIFF", append([]byte("RIFX"), good[4:]...), "not a RIFF/WAVE file"},
		{"truncated chunk header", good[:15], "byte offset 12: truncated chunk header: expected 8 bytes, got 3"},
		{"truncated fmt", good[:30], "byte offset 20: truncated fmt chunk: expected 16 bytes, got 10"},
		{"no data", good[:36], "byte offset 36: no data chunk"},
		{"data before fmt", dataFirst, "byte offset 12: data chunk before the fmt chunk"},
		{"non-PCM", adpcm, "byte offset 20: unsupported audio format code 2 (Microsoft ADPCM)"},
		{"zero channels", patch(22, 0), "byte offset 22: 0 channels, expected 1..32"},
		{"zero rate", patch32(24, 0), "byte offset 24: sample rate 0 Hz"},
		{"bits", patch(34, 12), "byte offset 34: PCM with 12 bits per sample"},
		{"block align", patch(32, 3), "byte offset 32: block align 3, expected 2"},
		{"huge fmt", patch32(16, 1<<30), `byte offset 12: chunk "fmt " claims 1073741824 bytes, but only 32 remain`},
		{"small fmt", patch32(16, 8), "byte offset 12: fmt chunk of 8 bytes, expected 16..1024"},
		{"absurd chunk size", patch32(40, 1<<31), `byte offset 36: chunk "data" claims 2147483648 bytes, but only 8 remain`},
		{"partial frame", patch32(40, 7), "byte offset 36: data chunk of 7 bytes is not a whole number of 2-byte frames"},
		{"extensible GUID", extBad, "sub-format GUID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWAVReader(bytes.NewReader(tc.data), "t.wav")
			if err == nil {
				buf := make([]float32, 64)
				for err == nil {
					_, err = w.Read(buf)
				}
				if err == io.EOF {
					t.Fatalf("no error, want %q", tc.want)
				}
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T %v is not an *InputError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestWAVTruncatedData checks a data chunk cut short, read from a file so
// that the reader knows its size, and from a stream that does not.
func TestWAVTruncatedData(t *testing.T) {
	good := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(make([]float64, 100)))
	cut := good[:len(good)-10]
	p := writeFile(t, t.TempDir(), "cut.wav", cut)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := NewWAVReader(f, p); err == nil || !strings.Contains(err.Error(), `chunk "data" claims 200 bytes, but only 190 remain in the file`) {
		t.Fatalf("file: error %v", err)
	}
	// As a stream the RIFF size is believed and the data ends early.
	w, err := NewWAVReader(io.MultiReader(bytes.NewReader(cut)), "s.wav")
	if err != nil {
		t.Fatalf("stream header: %v", err)
	}
	buf := make([]float32, 1000)
	_, err = w.Read(buf)
	if err == nil || !strings.Contains(err.Error(), "s.wav: byte offset 44: truncated data: the data chunk promised 200 more bytes, got 190") {
		t.Fatalf("stream: error %v", err)
	}
}

func TestWAVUnknownDataSize(t *testing.T) {
	b := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono([]float64{0.5, 0.25, -0.5}))
	binary.LittleEndian.PutUint32(b[4:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(b[40:], 0xFFFFFFFF)
	info, got := readAllWAV(t, b)
	if info.DataBytes != -1 || info.Frames() != -1 || len(got) != 3 || got[2] != -0.5 {
		t.Fatalf("info %+v, samples %v", info, got)
	}
}

func TestWriteWAV(t *testing.T) {
	x := sine(800, 8000, 440, 0.9)
	var b bytes.Buffer
	if err := WriteWAV(&b, 8000, x); err != nil {
		t.Fatal(err)
	}
	info, got := readAllWAV(t, b.Bytes())
	if info.SampleRate != 8000 || len(got) != len(x) {
		t.Fatalf("info %+v, %d samples", info, len(got))
	}
	for i := range x {
		if math.Abs(float64(got[i]-x[i])) > 1.0/32768 {
			t.Fatalf("sample %d: %v, want %v", i, got[i], x[i])
		}
	}
}

// TestSharedFSDD reads a sample of the shared spoken-digit clips.
func TestSharedFSDD(t *testing.T) {
	dir := sharedData(t, "fsdd/recordings")
	files, _ := filepath.Glob(filepath.Join(dir, "*_jackson_1*.wav"))
	if len(files) == 0 {
		t.Fatal("no clips")
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWAVReader(f, p)
		if err != nil {
			t.Fatal(err)
		}
		info := w.Info()
		if info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 {
			t.Errorf("%s: %+v", p, info)
		}
		buf := make([]float32, 4096)
		total := 0
		for {
			n, err := w.Read(buf)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if int64(total) != info.Frames() || total == 0 {
			t.Errorf("%s: read %d of %d frames", p, total, info.Frames())
		}
		f.Close()
	}
}
