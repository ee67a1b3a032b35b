package tui

import "math"

// rolling is the mean of the last n samples.
type rolling struct {
	buf  []float64
	pos  int
	full bool
	sum  float64
}

func newRolling(n int) rolling { return rolling{buf: make([]float64, n)} }

func (r *rolling) add(v float64) {
	if r.full {
		r.sum -= r.buf[r.pos]
	}
	r.buf[r.pos] = v
	r.sum += v
	r.pos++
	if r.pos == len(r.buf) {
		r.pos, r.full = 0, true
	}
	if r.pos == 0 {
		// recompute now and then so that rounding does not drift
		r.sum = 0
		for _, x := range r.buf {
			r.sum += x
		}
	}
}

func (r *rolling) len() int {
	if r.full {
		return len(r.buf)
	}
	return r.pos
}

// mean is NaN when there are no samples.
func (r *rolling) mean() float64 {
	n := r.len()
	if n == 0 {
		return math.NaN()
	}
	return r.sum / float64(n)
}

// series keeps the last max values of a curve, oldest first. Adding is
// amortised O(1): the slice grows to twice max before it is compacted.
type series struct {
	max  int
	vals []float64
}

func (s *series) add(v float64) {
	s.vals = append(s.vals, v)
	if len(s.vals) >= 2*s.max {
		n := copy(s.vals, s.vals[len(s.vals)-s.max:])
		s.vals = s.vals[:n]
	}
}

// get returns the last max values (not a copy).
func (s *series) get() []float64 {
	if len(s.vals) > s.max {
		return s.vals[len(s.vals)-s.max:]
	}
	return s.vals
}

// tally counts a fraction over a stretch.
type tally struct{ hit, n int }

func (t *tally) add(ok bool) {
	t.n++
	if ok {
		t.hit++
	}
}

func (t tally) frac() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return float64(t.hit) / float64(t.n)
}

// sparkline renders values in [lo, hi] as block characters, at most w of
// them (the last ones).
func sparkline(vals []float64, lo, hi float64, w int) string {
	const blocks = "▁▂▃▄▅▆▇█"
	runes := []rune(blocks)
	if len(vals) > w {
		vals = vals[len(vals)-w:]
	}
	out := make([]rune, 0, len(vals))
	for _, v := range vals {
		if math.IsNaN(v) {
			out = append(out, ' ')
			continue
		}
		f := 0.0
		if hi > lo {
			f = (v - lo) / (hi - lo)
		}
		i := int(math.Round(f * float64(len(runes)-1)))
		out = append(out, runes[clampInt(i, 0, len(runes)-1)])
	}
	return string(out)
}
