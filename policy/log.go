package policy

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// AppendJSON appends the decision as one JSON object (no newline) to dst.
// classes, if not nil, names the class indices ("class_name"). Signals not
// set are left out. It allocates only to grow dst.
//
// Keys: index, time_s, from, to, rule, class, class_name, confidence,
// votes, kalman_x, less, more, budget_err, goal, cost, hard, proposed,
// inner.
func AppendJSON(dst []byte, d Decision, classes []string) []byte {
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, d.Index, 10)
	dst = appendFloatKey(dst, "time_s", d.Time)
	dst = append(dst, `,"from":`...)
	dst = strconv.AppendInt(dst, int64(d.From), 10)
	dst = append(dst, `,"to":`...)
	dst = strconv.AppendInt(dst, int64(d.To), 10)
	dst = append(dst, `,"rule":`...)
	dst = appendString(dst, d.Rule)
	dst = append(dst, `,"class":`...)
	dst = strconv.AppendInt(dst, int64(d.Class), 10)
	if d.Class >= 0 && d.Class < len(classes) {
		dst = append(dst, `,"class_name":`...)
		dst = appendString(dst, classes[d.Class])
	}
	dst = append(dst, `,"confidence":`...)
	dst = appendFloat(dst, float64(d.Confidence), 32)
	if d.Signals&SigVotes != 0 {
		dst = append(dst, `,"votes":`...)
		dst = strconv.AppendInt(dst, int64(d.Votes), 10)
	}
	if d.Signals&SigKalman != 0 {
		dst = appendFloatKey(dst, "kalman_x", d.KalmanX)
	}
	if d.Signals&SigThresholds != 0 {
		dst = appendFloatKey(dst, "less", d.Less)
		dst = appendFloatKey(dst, "more", d.More)
	}
	if d.Signals&SigBudget != 0 {
		dst = appendFloatKey(dst, "budget_err", d.BudgetErr)
		dst = appendFloatKey(dst, "goal", d.Goal)
		dst = appendFloatKey(dst, "cost", d.Cost)
	}
	if d.Signals&SigFloor != 0 {
		dst = appendFloatKey(dst, "hard", d.Hard)
	}
	if d.Signals&SigOverride != 0 {
		dst = append(dst, `,"proposed":`...)
		dst = strconv.AppendInt(dst, int64(d.Proposed), 10)
		dst = append(dst, `,"inner":`...)
		dst = appendString(dst, d.Inner)
	}
	return append(dst, '}')
}

func appendFloatKey(dst []byte, key string, v float64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendFloat(dst, v, 64)
}

// appendFloat writes a JSON number, or null for NaN and infinities.
func appendFloat(dst []byte, v float64, bits int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, bits)
}

// appendString writes a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// LogWriter writes decisions as JSON lines, one object per line (see
// AppendJSON). It buffers; call Flush at the end. In steady state Write
// allocates nothing.
type LogWriter struct {
	w       *bufio.Writer
	buf     []byte
	classes []string
	err     error
}

// NewLogWriter returns a writer of JSON lines to w; classes, if not nil,
// name the class indices.
func NewLogWriter(w io.Writer, classes []string) *LogWriter {
	return &LogWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 512), classes: classes}
}

// Write writes one decision. After an error it keeps returning it.
func (l *LogWriter) Write(d Decision) error {
	if l.err != nil {
		return l.err
	}
	l.buf = append(AppendJSON(l.buf[:0], d, l.classes), '\n')
	if _, err := l.w.Write(l.buf); err != nil {
		l.err = fmt.Errorf("decision log: %w", err)
	}
	return l.err
}

// Flush writes buffered lines to the underlying writer.
func (l *LogWriter) Flush() error {
	if l.err != nil {
		return l.err
	}
	if err := l.w.Flush(); err != nil {
		l.err = fmt.Errorf("decision log: %w", err)
	}
	return l.err
}

// Ring keeps the last decisions in memory for a user interface: a bounded
// buffer written by the inference loop and read from another goroutine.
// Add copies the decision into a preallocated slot and allocates nothing.
type Ring struct {
	mu    sync.Mutex
	buf   []Decision
	total int64 // decisions ever added
}

// NewRing returns a ring holding the last n decisions (n >= 1).
func NewRing(n int) *Ring {
	if n < 1 {
		n = 1
	}
	return &Ring{buf: make([]Decision, n)}
}

// Add records a decision, overwriting the oldest when full.
func (r *Ring) Add(d Decision) {
	r.mu.Lock()
	r.buf[r.total%int64(len(r.buf))] = d
	r.total++
	r.mu.Unlock()
}

// Cap returns how many decisions the ring holds at most.
func (r *Ring) Cap() int { return len(r.buf) }

// Total returns how many decisions were ever added.
func (r *Ring) Total() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Since appends to dst, oldest first, the decisions still held whose
// sequence number (0 for the first ever added) is at least seq, and
// returns the extended slice and the sequence number to ask for next time.
// A reader that fell behind by more than the ring's capacity gets the
// oldest decisions still held.
func (r *Ring) Since(seq int64, dst []Decision) ([]Decision, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.since(seq, dst), r.total
}

func (r *Ring) since(seq int64, dst []Decision) []Decision {
	first := max(r.total-int64(len(r.buf)), 0)
	for s := max(seq, first); s < r.total; s++ {
		dst = append(dst, r.buf[s%int64(len(r.buf))])
	}
	return dst
}

// Last appends the last n decisions (fewer if the ring holds fewer) to
// dst, oldest first.
func (r *Ring) Last(n int, dst []Decision) []Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.since(r.total-int64(n), dst)
}
