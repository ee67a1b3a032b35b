package replay

import (
	"errors"
	"io"
	"math"
)

// imuResampler turns the irregular samples of a csvReader into samples at
// a fixed rate by linear interpolation between the two samples around each
// output time. Rows that share a timestamp are averaged into one sample
// (with the label of the last of them). The first output sample is at the
// first timestamp; output stops at the last one (no extrapolation). An
// output sample's label is that of the nearer input sample. A gap longer
// than maxGap between two samples is not interpolated across: next
// returns errSplit after the last sample before it, and the output goes
// on from the first sample after it.
type imuResampler struct {
	src    *csvReader
	step   float64 // ms per output sample
	maxGap float64 // ms
	gap    bool    // the time from ta to tb is a gap longer than maxGap
	gaps   int     // gaps split
	first  float64 // the first timestamp
	k      int64   // index of the next output sample
	t0     float64
	ta, tb float64
	va, vb []float64
	la, lb int32
	bEOF   bool
	start  bool
	// lookahead row
	havePend bool
	pt       float64
	pv       []float64
	pl       int32
	srcEOF   bool
}

// errSplit is returned by imuResampler.next at a gap it does not
// interpolate across.
var errSplit = errors.New("gap in the trace")

func newIMUResampler(src *csvReader, rate int, maxGap float64) *imuResampler {
	n := len(src.vals)
	return &imuResampler{
		src:    src,
		maxGap: maxGap,
		step:   1000 / float64(rate),
		va:     make([]float64, n),
		vb:     make([]float64, n),
		pv:     make([]float64, n),
	}
}

// group reads the next run of rows sharing a timestamp.
func (r *imuResampler) group(t *float64, v []float64, l *int32) error {
	if !r.havePend {
		if r.srcEOF {
			return io.EOF
		}
		ts, vals, lab, err := r.src.next()
		if err != nil {
			if err == io.EOF {
				r.srcEOF = true
			}
			return err
		}
		r.pt, r.pl = ts, lab
		copy(r.pv, vals)
	}
	r.havePend = false
	*t, *l = r.pt, r.pl
	copy(v, r.pv)
	cnt := 1
	for !r.srcEOF {
		ts, vals, lab, err := r.src.next()
		if err == io.EOF {
			r.srcEOF = true
			break
		}
		if err != nil {
			return err
		}
		if ts == *t {
			for i := range v {
				v[i] += vals[i]
			}
			*l = lab
			cnt++
			continue
		}
		r.pt, r.pl = ts, lab
		copy(r.pv, vals)
		r.havePend = true
		break
	}
	if cnt > 1 {
		for i := range v {
			v[i] /= float64(cnt)
		}
	}
	return nil
}

// next writes the next output sample to out and returns its label id.
func (r *imuResampler) next(out []float64) (int32, error) {
	if !r.start {
		if err := r.group(&r.ta, r.va, &r.la); err != nil {
			return -1, err
		}
		r.t0, r.first = r.ta, r.ta
		r.start = true
		if err := r.readB(); err != nil {
			return -1, err
		}
	}
	t := r.t0 + float64(r.k)*r.step
	for !r.bEOF && !r.gap && t > r.tb {
		if err := r.shift(); err != nil {
			return -1, err
		}
	}
	if r.bEOF || r.gap {
		if t > r.ta {
			if r.bEOF {
				return -1, io.EOF
			}
			// start again at the first sample after the gap
			r.gaps++
			r.t0, r.k = r.tb, 0
			if err := r.shift(); err != nil {
				return -1, err
			}
			return -1, errSplit
		}
		copy(out, r.va)
		r.k++
		return r.la, nil
	}
	frac := (t - r.ta) / (r.tb - r.ta)
	for i := range out {
		out[i] = r.va[i] + frac*(r.vb[i]-r.va[i])
	}
	r.k++
	if frac <= 0.5 {
		return r.la, nil
	}
	return r.lb, nil
}

// shift makes sample b sample a and reads the next b.
func (r *imuResampler) shift() error {
	r.ta, r.tb = r.tb, r.ta
	r.va, r.vb = r.vb, r.va
	r.la, r.lb = r.lb, r.la
	return r.readB()
}

// readB reads sample b, noting the end of the input or a gap before it.
func (r *imuResampler) readB() error {
	r.gap = false
	err := r.group(&r.tb, r.vb, &r.lb)
	if err == io.EOF {
		r.bEOF = true
		return nil
	}
	if err != nil {
		return err
	}
	r.gap = r.tb-r.ta > r.maxGap
	return nil
}

// monoReader yields mono float32 samples; Read returns io.EOF at the end.
type monoReader interface {
	Read(dst []float32) (int, error)
}

// Parameters of the windowed-sinc resampler.
const (
	sincZeros = 16  // zero crossings of the sinc on each side
	sincRes   = 128 // kernel table entries per unit of the sinc argument
)

// sincResampler converts a mono stream from rate in to rate out with a
// windowed-sinc (Kaiser, beta 8.6) low-pass interpolator whose cutoff is the
// lower of the two Nyquist frequencies, scaled by 0.95 when downsampling to
// leave room for the transition band. Output sample n is at input position
// n*in/out; samples before the start and after the end are zero.
type sincResampler struct {
	src     monoReader
	in, out int64
	cutoff  float64 // relative to the input Nyquist
	half    int     // kernel half-width in input samples
	table   []float64
	buf     []float32 // input samples buf[0] = x[base]
	base    int64
	n       int64 // next output index
	srcEOF  bool
	total   int64 // input samples read so far
	chunk   []float32
}

func newSincResampler(src monoReader, in, out int) *sincResampler {
	r := &sincResampler{src: src, in: int64(in), out: int64(out), cutoff: 1}
	if out < in {
		r.cutoff = 0.95 * float64(out) / float64(in)
	}
	r.half = int(math.Ceil(sincZeros / r.cutoff))
	// table[i] = kernel at distance i/sincRes input samples... scaled so that
	// the argument of the sinc is cutoff*d.
	n := r.half*sincRes + 2
	r.table = make([]float64, n)
	i0b := besselI0(8.6)
	for i := range r.table {
		d := float64(i) / sincRes
		if d >= float64(r.half) {
			continue
		}
		x := r.cutoff * d
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		q := d / float64(r.half)
		w := besselI0(8.6*math.Sqrt(1-q*q)) / i0b
		r.table[i] = r.cutoff * s * w
	}
	r.chunk = make([]float32, 1024)
	r.buf = make([]float32, 0, 2*r.half+2*len(r.chunk)+2)
	return r
}

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

func (r *sincResampler) kernel(d float64) float64 {
	if d < 0 {
		d = -d
	}
	p := d * sincRes
	i := int(p)
	if i+1 >= len(r.table) {
		return 0
	}
	f := p - float64(i)
	return r.table[i] + f*(r.table[i+1]-r.table[i])
}

// Read fills dst with resampled samples.
func (r *sincResampler) Read(dst []float32) (int, error) {
	for i := range dst {
		// input position of output sample n
		num := r.n * r.in
		ip := num / r.out
		frac := float64(num%r.out) / float64(r.out)
		need := ip + int64(r.half) + 1 // exclusive end of input needed
		for !r.srcEOF && r.base+int64(len(r.buf)) < need {
			if err := r.fill(ip - int64(r.half)); err != nil {
				return i, err
			}
		}
		if r.srcEOF && num > (r.total-1)*r.out { // past the last input sample
			if i == 0 {
				return 0, io.EOF
			}
			return i, nil
		}
		lo := ip - int64(r.half) + 1
		hi := ip + int64(r.half)
		var acc float64
		for k := lo; k <= hi; k++ {
			j := k - r.base
			if j < 0 || j >= int64(len(r.buf)) {
				continue
			}
			acc += float64(r.buf[j]) * r.kernel(float64(k-ip)-frac)
		}
		dst[i] = float32(acc)
		r.n++
	}
	return len(dst), nil
}

// fill drops input samples before keep and reads one more chunk.
func (r *sincResampler) fill(keep int64) error {
	if drop := keep - r.base; drop > 0 {
		if drop > int64(len(r.buf)) {
			drop = int64(len(r.buf))
		}
		m := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:m]
		r.base += drop
	}
	room := cap(r.buf) - len(r.buf)
	if room > len(r.chunk) {
		room = len(r.chunk)
	}
	n, err := r.src.Read(r.chunk[:room])
	if n == 0 && err == nil {
		return io.ErrNoProgress
	}
	r.buf = append(r.buf, r.chunk[:n]...)
	r.total += int64(n)
	if err == io.EOF {
		r.srcEOF = true
		return nil
	}
	return err
}
