package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the CSV readers.
const (
	MaxCSVLine    = 64 << 10 // bytes per line, newline included
	MaxCSVColumns = 1024
	MaxLabels     = 4096 // distinct label strings in one source
	MaxLabelRows  = 1 << 20
	// MaxTimestamp bounds |timestamp| (Unix ms, year 33658); MaxValue
	// bounds |value| of an IMU channel.
	MaxTimestamp = 1e15
	MaxValue     = 1e12
	// MaxGapMS is the longest gap between two IMU samples that
	// Options.MaxGap lets the resampler interpolate across; longer gaps
	// always split the trace.
	MaxGapMS = 60000
	// maxBadShown is how many skipped bad lines a Source keeps to show.
	maxBadShown = 3
)

// labelTable interns label strings so that a sample's label is an int32 and
// reading a known label allocates nothing. Id -1 means "no label".
type labelTable struct {
	ids   map[string]int32
	names []string
}

func newLabelTable() *labelTable { return &labelTable{ids: map[string]int32{}} }

func (t *labelTable) id(b []byte) (int32, bool) {
	if id, ok := t.ids[string(b)]; ok {
		return id, true
	}
	if len(t.names) >= MaxLabels {
		return -1, false
	}
	s := string(b)
	id := int32(len(t.names))
	t.ids[s] = id
	t.names = append(t.names, s)
	return id, true
}

func (t *labelTable) name(id int32) string {
	if id < 0 {
		return ""
	}
	return t.names[id]
}

// csvReader reads an IMU trace row by row: a header line naming the
// columns, then one sample per line. Only the requested columns, the
// timestamp and the optional label are parsed.
type csvReader struct {
	name     string
	br       *bufio.Reader
	line     int // line number of the last line read
	nFields  int
	tsCol    int
	labelCol int // -1 if none
	want     []int
	fields   [][]byte
	vals     []float64
	labels   *labelTable
	rows     int
	prevTS   float64
	prevLine int
	eof      bool
	// skipBad skips a malformed data line (counted in bad, the first
	// few kept in badShown) instead of failing.
	skipBad  bool
	bad      int
	badShown []error
	// first and last timestamps and how many distinct ones, to say why
	// a trace gave no window
	firstTS, lastTS float64
	distinctTS      int
}

// newCSVReader reads the header of an IMU trace and checks that it names
// timestamp and every one of columns.
func newCSVReader(r io.Reader, name string, columns []string, labels *labelTable) (*csvReader, error) {
	c := &csvReader{name: name, br: bufio.NewReaderSize(&lineEnds{r: r}, MaxCSVLine), labelCol: -1, tsCol: -1, labels: labels}
	if b, _ := c.br.Peek(4); bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff")) {
		return nil, lineErr(name, 1, "not a text CSV: UTF-16 text (byte order mark %q); save it as UTF-8", b[:2])
	}
	hdr, err := c.readLine()
	if err == io.EOF {
		return nil, lineErr(name, 1, "empty file: expected a header line naming the columns (timestamp, %s, optional label)", strings.Join(columns, ", "))
	}
	if err != nil {
		return nil, err
	}
	hdr = bytes.TrimPrefix(hdr, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if !isText(hdr) {
		return nil, lineErr(name, c.line, "not a text CSV: the header holds binary data (%s); expected a UTF-8 line naming the columns (timestamp, %s, optional label)",
			quoteClip(hdr, 40), strings.Join(columns, ", "))
	}
	names := strings.Split(string(hdr), ",")
	if len(names) > MaxCSVColumns {
		return nil, lineErr(name, c.line, "header has %d columns, limit %d", len(names), MaxCSVColumns)
	}
	idx := make(map[string]int, len(names))
	for i, n := range names {
		n = unquote(strings.TrimSpace(n))
		names[i] = n
		if n == "" {
			return nil, lineErr(name, c.line, "header column %d is empty, expected a column name", i+1)
		}
		if j, ok := idx[n]; ok {
			return nil, lineErr(name, c.line, "header names column %q twice (columns %d and %d)", n, j+1, i+1)
		}
		idx[n] = i
	}
	var ok bool
	if c.tsCol, ok = idx["timestamp"]; !ok {
		return nil, lineErr(name, c.line, "missing column \"timestamp\" (Unix ms); header has: %s", quoteNames(names))
	}
	if j, ok := idx["label"]; ok {
		c.labelCol = j
	}
	for _, col := range columns {
		j, ok := idx[col]
		if !ok {
			return nil, lineErr(name, c.line, "missing column %q; header has: %s", col, quoteNames(names))
		}
		c.want = append(c.want, j)
	}
	c.nFields = len(names)
	c.fields = make([][]byte, c.nFields)
	c.vals = make([]float64, len(columns))
	return c, nil
}

// readLine returns the next non-blank line without its line ending.
func (c *csvReader) readLine() ([]byte, error) {
	for {
		if c.eof {
			return nil, io.EOF
		}
		b, err := c.br.ReadSlice('\n')
		if err == io.EOF {
			c.eof = true
			if len(b) == 0 {
				return nil, io.EOF
			}
		} else if errors.Is(err, bufio.ErrBufferFull) {
			c.line++
			if c.skipBad && c.line > 1 {
				if err := c.skipRest(); err != nil {
					return nil, err
				}
				c.skip(lineErr(c.name, c.line, "line longer than %d bytes", MaxCSVLine))
				continue
			}
			return nil, lineErr(c.name, c.line, "line longer than %d bytes", MaxCSVLine)
		} else if err != nil {
			return nil, fileErr(c.name, err, "reading line %d", c.line+1)
		}
		c.line++
		b = bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		return b, nil
	}
}

// next returns the next sample: its timestamp in ms, the requested columns
// (a buffer reused by the next call) and its label id (-1 without a label
// column). It returns io.EOF after the last row.
func (c *csvReader) next() (float64, []float64, int32, error) {
	for {
		b, err := c.readLine()
		if err == io.EOF {
			if c.rows == 0 {
				msg := "no data rows: expected at least one sample after the header"
				if c.bad > 0 {
					msg = fmt.Sprintf("no good data rows: all %d were skipped as malformed (first: %v)", c.bad, c.badShown[0])
				}
				return 0, nil, -1, lineErr(c.name, c.line+1, "%s", msg)
			}
			return 0, nil, -1, io.EOF
		}
		if err != nil {
			return 0, nil, -1, err
		}
		ts, vals, label, err := c.row(b)
		if err != nil && c.skipBad && skippable(err) {
			c.skip(err)
			continue
		}
		if err == nil {
			if c.rows == 0 {
				c.firstTS = ts
			}
			if c.rows == 0 || ts != c.prevTS {
				c.distinctTS++
			}
			c.rows++
			c.prevTS, c.prevLine, c.lastTS = ts, c.line, ts
		}
		return ts, vals, label, err
	}
}

// errTooManyLabels is not skipped as a bad line: every later label would
// fail too.
var errTooManyLabels = errors.New("too many distinct labels")

// skippable reports whether err is about one line only.
func skippable(err error) bool {
	var ie *InputError
	return errors.As(err, &ie) && !errors.Is(err, errTooManyLabels)
}

// skip counts a malformed line skipped.
func (c *csvReader) skip(err error) {
	c.bad++
	if len(c.badShown) < maxBadShown {
		c.badShown = append(c.badShown, err)
	}
}

// skipRest discards the rest of a line too long for the buffer.
func (c *csvReader) skipRest() error {
	for {
		_, err := c.br.ReadSlice('\n')
		switch {
		case err == nil:
			return nil
		case err == io.EOF:
			c.eof = true
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
		default:
			return fileErr(c.name, err, "reading line %d", c.line)
		}
	}
}

// row parses one data line.
func (c *csvReader) row(b []byte) (float64, []float64, int32, error) {
	n := 0
	for {
		i := bytes.IndexByte(b, ',')
		if n == c.nFields {
			return 0, nil, -1, lineErr(c.name, c.line, "more than %d fields, expected %d as in the header", c.nFields, c.nFields)
		}
		if i < 0 {
			c.fields[n] = b
			n++
			break
		}
		c.fields[n] = b[:i]
		n++
		b = b[i+1:]
	}
	if n != c.nFields {
		return 0, nil, -1, lineErr(c.name, c.line, "%d fields, expected %d as in the header", n, c.nFields)
	}
	ts, err := c.number(c.tsCol, "timestamp", MaxTimestamp)
	if err != nil {
		return 0, nil, -1, err
	}
	if c.rows > 0 && ts < c.prevTS {
		return 0, nil, -1, lineErr(c.name, c.line, "timestamp %s goes backwards (line %d has %s); expected non-decreasing Unix ms",
			fmtNum(ts), c.prevLine, fmtNum(c.prevTS))
	}
	for k, j := range c.want {
		if c.vals[k], err = c.number(j, "", MaxValue); err != nil {
			return 0, nil, -1, err
		}
	}
	label := int32(-1)
	if c.labelCol >= 0 {
		f := trimField(c.fields[c.labelCol])
		if len(f) == 0 {
			return 0, nil, -1, lineErr(c.name, c.line, "empty label, expected a label string")
		}
		var ok bool
		if label, ok = c.labels.id(f); !ok {
			return 0, nil, -1, &InputError{File: c.name, Line: c.line, Offset: -1, Msg: fmt.Sprintf("more than %d distinct labels", MaxLabels), Err: errTooManyLabels}
		}
	}
	return ts, c.vals, label, nil
}

func (c *csvReader) number(col int, what string, limit float64) (float64, error) {
	f := trimField(c.fields[col])
	v, err := strconv.ParseFloat(string(f), 64)
	if err != nil || math.IsNaN(v) || math.Abs(v) > limit {
		if what == "" {
			what = fmt.Sprintf("column %d", col+1)
		}
		return 0, lineErr(c.name, c.line, "%s: got %s, expected a finite number of magnitude at most %g", what, quoteClip(f, 40), limit)
	}
	return v, nil
}

func trimField(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// quoteClip quotes b for a message, at most n bytes of it: binary data
// is escaped, never echoed raw to the terminal.
func quoteClip(b []byte, n int) string {
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// quoteNames lists header names for a message, each quoted when it is
// not plain printable text.
func quoteNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if !isText([]byte(n)) || strings.ContainsAny(n, ", ") {
			out[i] = quoteClip([]byte(n), 40)
		}
	}
	return strings.Join(out, ", ")
}

// isText reports whether b is UTF-8 text without control characters
// other than tab.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// lineEnds reads text with CR LF or a lone CR as line ends, as LF: a
// trace written with old Mac line ends is read line by line, not as one
// line.
type lineEnds struct {
	r      io.Reader
	lastCR bool // the last byte read was a CR
}

func (l *lineEnds) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		if n == 0 || (!l.lastCR && bytes.IndexByte(p[:n], '\r') < 0) {
			if n > 0 {
				l.lastCR = false
			}
			return n, err
		}
		m := 0
		for _, b := range p[:n] {
			switch {
			case b == '\r':
				p[m] = '\n'
				m++
				l.lastCR = true
			case b == '\n' && l.lastCR:
				l.lastCR = false // the LF of a CR LF
			default:
				p[m] = b
				m++
				l.lastCR = false
			}
		}
		if m > 0 || err != nil {
			return m, err
		}
	}
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Interval is a labelled span of an audio trace, in seconds from its start.
type Interval struct {
	Start, End float64
	Label      string
	File       string // source clip, if the trace is made of clips
}

// ReadLabels reads a sidecar label file (`start_s,end_s,label` with that
// header): intervals with 0 <= start < end, sorted by start and not
// overlapping. name is used in error messages.
func ReadLabels(r io.Reader, name string) ([]Interval, error) {
	br := bufio.NewReaderSize(r, MaxCSVLine)
	line := 0
	var out []Interval
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, lineErr(name, line+1, "line longer than %d bytes", MaxCSVLine)
		}
		if err != nil && err != io.EOF {
			return nil, fileErr(name, err, "reading line %d", line+1)
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		line++
		s := strings.TrimSpace(string(b))
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
			h := strings.Split(s, ",")
			for i := range h {
				h[i] = unquote(strings.TrimSpace(h[i]))
			}
			if len(h) != 3 || h[0] != "start_s" || h[1] != "end_s" || h[2] != "label" {
				return nil, lineErr(name, line, "header %q, expected \"start_s,end_s,label\"", clip([]byte(s), 80))
			}
		} else if s != "" {
			if len(out) >= MaxLabelRows {
				return nil, lineErr(name, line, "more than %d intervals", MaxLabelRows)
			}
			f := strings.Split(s, ",")
			if len(f) != 3 {
				return nil, lineErr(name, line, "%d fields, expected 3 (start_s,end_s,label)", len(f))
			}
			var iv Interval
			var perr error
			for k, p := range []*float64{&iv.Start, &iv.End} {
				v := strings.TrimSpace(f[k])
				if *p, perr = strconv.ParseFloat(v, 64); perr != nil || !finite(*p) || *p < 0 {
					return nil, lineErr(name, line, "%s: got %q, expected a time >= 0 in seconds", [2]string{"start_s", "end_s"}[k], clip([]byte(v), 40))
				}
			}
			if iv.End <= iv.Start {
				return nil, lineErr(name, line, "end_s %v is not after start_s %v", iv.End, iv.Start)
			}
			iv.Label = unquote(strings.TrimSpace(f[2]))
			if iv.Label == "" {
				return nil, lineErr(name, line, "empty label, expected a label string")
			}
			if n := len(out); n > 0 && iv.Start < out[n-1].End {
				return nil, lineErr(name, line, "interval starting at %v s overlaps or precedes the previous one (ending at %v s); expected sorted, non-overlapping intervals", iv.Start, out[n-1].End)
			}
			out = append(out, iv)
		}
		if err == io.EOF {
			break
		}
	}
	if line == 0 {
		return nil, lineErr(name, 1, "empty file: expected the header \"start_s,end_s,label\"")
	}
	return out, nil
}
