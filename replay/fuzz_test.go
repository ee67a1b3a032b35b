package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
	"testing/fstest"
)

// FuzzCSV replays arbitrary bytes as an IMU trace through the raw and the
// orientation-invariant front-ends: it must never panic or loop, every
// error must be an *InputError, and features must be finite.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n1,2,9.8,0,0,0,1000,A\n1,2,9.8,0,0,1,1010,A\n1,2,9.8,0,0,1,1010,B\n0,0,0,0,0,0,1030,B\n"))
	f.Add([]byte("timestamp,x_acc,y_acc,z_acc\n0,0,0,0\n20,1,1,1\n"))
	f.Add([]byte("\ufefftimestamp,\"x_acc\",y_acc,z_acc,x_gyro,y_gyro,z_gyro\r\n1,1,1,1,1,1,1\r\n"))
	f.Add([]byte("timestamp,x_acc\n5,1\n4,1\n"))
	f.Add([]byte(""))
	f.Add(labelledCSV("A", "A", "B", "C", "C", "C"))
	orient := DefaultHARSpec()
	orient.Window, orient.Hop, orient.SampleRate, orient.Shape = 3, 2, 100, nil
	raw := rawSpec(2, 1, "A", "B")
	raw.Channels = []string{"x_acc"}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"t.csv": {Data: data}}
		for _, spec := range []*Spec{orient, raw} {
			src, err := OpenFS(fsys, "t.csv", spec, Options{})
			if err != nil {
				t.Fatal(err) // opening reads nothing yet
			}
			dst := make([]float32, spec.InputSize())
			for n := 0; ; n++ {
				if n > 1e6 {
					t.Fatal("more than a million windows")
				}
				_, err := src.Next(dst)
				if err == io.EOF {
					break
				}
				if err != nil {
					var ie *InputError
					if !errors.As(err, &ie) {
						t.Fatalf("error %T %v is not an *InputError", err, err)
					}
					break
				}
				for _, v := range dst {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("non-finite feature %v", v)
					}
				}
			}
			src.Close()
		}
	})
}

// FuzzWAV reads arbitrary bytes as a WAV file and resamples what it
// decodes: it must never panic, every error must be an *InputError, and
// samples must be finite.
func FuzzWAV(f *testing.F) {
	for _, ws := range []wavSpec{
		{format: 1, bits: 8, channels: 1, rate: 8000},
		{format: 1, bits: 16, channels: 2, rate: 44100},
		{format: 1, bits: 24, channels: 1, rate: 16000, extra: chunk("LIST", []byte("abc"))},
		{format: 3, bits: 32, channels: 1, rate: 11025, extensible: true},
		{format: 3, bits: 64, channels: 2, rate: 8000},
	} {
		f.Add(encodeWAV(ws, mono([]float64{0, 0.5, -0.5, 0.25, -1})[:5/ws.channels]))
	}
	unknown := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono([]float64{0.1, 0.2}))
	binary.LittleEndian.PutUint32(unknown[40:], 0xFFFFFFFF)
	f.Add(unknown)
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := NewWAVReader(bytes.NewReader(data), "f.wav")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			return
		}
		var src monoReader = w
		if r := w.Info().SampleRate; r != 8000 {
			src = newSincResampler(w, r, 8000)
		}
		buf := make([]float32, 333)
		total := 0
		for {
			n, err := src.Read(buf)
			total += n
			for _, v := range buf[:n] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite sample %v", v)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %T %v is not an *InputError", err, err)
				}
				break
			}
			if total > 200*len(data)+10000 {
				t.Fatalf("%d samples from %d bytes", total, len(data))
			}
		}
	})
}

// FuzzLabels reads arbitrary bytes as a sidecar label file: no panic, errors
// are *InputError, intervals are sorted and well formed.
func FuzzLabels(f *testing.F) {
	f.Add([]byte("start_s,end_s,label\n0.5,1.2,7\n2,2.75,\"3\"\n"))
	f.Add([]byte("start_s,end_s,label\r\n1,2,x\r\n1.5,3,y\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		iv, err := ReadLabels(bytes.NewReader(data), "f.labels.csv")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			return
		}
		for i, v := range iv {
			if !(v.Start >= 0 && v.End > v.Start) || v.Label == "" || (i > 0 && v.Start < iv[i-1].End) {
				t.Fatalf("bad interval %d: %+v", i, v)
			}
		}
	})
}
