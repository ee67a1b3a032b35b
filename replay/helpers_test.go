package replay

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData returns the shared data directory, skipping the test if it is
// not there.
func sharedData(t testing.TB, sub string) string {
	t.Helper()
	for _, d := range []string{"../../shared/data", "/work/shared/data"} {
		p := filepath.Join(d, sub)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared data %s not found", sub)
	return ""
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wavSpec describes a WAV file to build in tests.
type wavSpec struct {
	format     int // 1 or 3
	bits       int
	channels   int
	rate       int
	extensible bool
	extra      []byte // chunks inserted before data (already framed)
}

// encodeWAV encodes frames (frames x channels, values in [-1, 1)) as a WAV.
func encodeWAV(ws wavSpec, frames [][]float64) []byte {
	le := binary.LittleEndian
	var data bytes.Buffer
	for _, fr := range frames {
		for _, v := range fr {
			switch {
			case ws.format == 3 && ws.bits == 32:
				binary.Write(&data, le, math.Float32bits(float32(v)))
			case ws.format == 3:
				binary.Write(&data, le, math.Float64bits(v))
			case ws.bits == 8:
				data.WriteByte(byte(int(math.Round(v*128)) + 128))
			case ws.bits == 16:
				binary.Write(&data, le, int16(math.Round(v*32768)))
			case ws.bits == 24:
				x := int32(math.Round(v * (1 << 23)))
				data.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
			default:
				binary.Write(&data, le, int32(math.Round(v*(1<<31))))
			}
		}
	}
	var fmtc bytes.Buffer
	code := uint16(ws.format)
	if ws.extensible {
		code = 0xFFFE
	}
	block := ws.channels * ws.bits / 8
	binary.Write(&fmtc, le, code)
	binary.Write(&fmtc, le, uint16(ws.channels))
	binary.Write(&fmtc, le, uint32(ws.rate))
	binary.Write(&fmtc, le, uint32(ws.rate*block))
	binary.Write(&fmtc, le, uint16(block))
	binary.Write(&fmtc, le, uint16(ws.bits))
	if ws.extensible {
		binary.Write(&fmtc, le, uint16(22))
		binary.Write(&fmtc, le, uint16(ws.bits))
		binary.Write(&fmtc, le, uint32(0))
		binary.Write(&fmtc, le, uint16(ws.format))
		fmtc.Write(extGUIDTail)
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	body.Write(chunk("fmt ", fmtc.Bytes()))
	body.Write(ws.extra)
	body.Write(chunk("data", data.Bytes()))
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, le, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// chunk frames a RIFF chunk, with its pad byte if the size is odd.
func chunk(id string, b []byte) []byte {
	out := []byte(id)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
	out = append(out, b...)
	if len(b)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// mono turns samples into single-channel frames.
func mono(x []float64) [][]float64 {
	f := make([][]float64, len(x))
	for i, v := range x {
		f[i] = []float64{v}
	}
	return f
}

// imuCSV builds an IMU trace with the HAR columns: rows of 6 values, a
// timestamp and a label.
func imuCSV(rows [][]float64, ts []int64, labels []string) []byte {
	var b strings.Builder
	b.WriteString("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n")
	for i, r := range rows {
		for _, v := range r {
			b.WriteString(fmtNum(v))
			b.WriteByte(',')
		}
		b.WriteString(fmtNum(float64(ts[i])))
		b.WriteByte(',')
		b.WriteString(labels[i])
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
