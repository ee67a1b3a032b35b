package replay

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// npyHeaderSize is the fixed size of the .npy header this package writes
// (magic, version, length and the padded dictionary): room for any shape,
// so the header can be rewritten in place once the row count is known.
const npyHeaderSize = 256

// npyWriter streams the rows of an array into a .npy file (format 1.0,
// little-endian, C order) written to a temporary file and renamed into
// place by commit.
type npyWriter struct {
	f     *atomicfile.File
	bw    *bufio.Writer
	path  string
	descr string
	inner []int // shape of one row
	rows  int64
	b     [8]byte
}

func createNPY(path, descr string, inner []int) (*npyWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &npyWriter{f: f, bw: bufio.NewWriterSize(f, 1<<16), path: path, descr: descr, inner: inner}
	if _, err := w.bw.Write(make([]byte, npyHeaderSize)); err != nil {
		w.abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

func npyHeader(descr string, shape []int64) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.FormatInt(d, 10)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	if 10+len(dict)+1 > npyHeaderSize {
		return nil, fmt.Errorf("npy header for shape %v longer than %d bytes", shape, npyHeaderSize)
	}
	h := make([]byte, npyHeaderSize)
	copy(h, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(h[8:], npyHeaderSize-10)
	n := copy(h[10:], dict)
	for i := 10 + n; i < npyHeaderSize-1; i++ {
		h[i] = ' '
	}
	h[npyHeaderSize-1] = '\n'
	return h, nil
}

func (w *npyWriter) float32s(x []float32) error {
	for _, v := range x {
		binary.LittleEndian.PutUint32(w.b[:4], math.Float32bits(v))
		if _, err := w.bw.Write(w.b[:4]); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	w.rows++
	return nil
}

func (w *npyWriter) int64s(x ...int64) error {
	for _, v := range x {
		binary.LittleEndian.PutUint64(w.b[:], uint64(v))
		if _, err := w.bw.Write(w.b[:]); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	w.rows++
	return nil
}

// commit writes the header, syncs the file and renames it into place.
func (w *npyWriter) commit() error {
	shape := []int64{w.rows}
	for _, d := range w.inner {
		shape = append(shape, int64(d))
	}
	h, err := npyHeader(w.descr, shape)
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		_, err = w.f.WriteAt(h, 0)
	}
	if err != nil {
		w.abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.f.Commit()
}

func (w *npyWriter) abort() { w.f.Abort() }
