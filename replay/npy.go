package replay

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// npyHeaderSize is the fixed size of the .npy header this package writes
// (magic, version, length and the padded dictionary): room for any shape,
// so the header can be rewritten in place once the row count is known.
const npyHeaderSize = 256

// npyWriter streams the rows of an array into a .npy file (format 1.0,
// little-endian, C order) written to a temporary file and renamed into
// place by commit.
type npyWriter struct {
	f     *os.File
	bw    *bufio.Writer
	path  string
	descr string
	inner []int // shape of one row
	rows  int64
	b     [8]byte
}

func createNPY(path, descr string, inner []int) (*npyWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
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
	if err == nil {
		err = w.f.Chmod(0o644)
	}
	if err == nil {
		err = w.f.Sync()
	}
	if err != nil {
		w.abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

func (w *npyWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// writeFileAtomic writes data to path through a synced temporary file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir makes renames in dir durable; errors are ignored where a file
// system cannot sync directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
