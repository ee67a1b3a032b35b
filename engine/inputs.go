package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// This file holds what command-line tools need to feed a model: the
// --dim NAME=N and --input NAME=FILE.npy bindings, a .npy reader, and the
// ordering of named inputs (zeros for the ones not given).

// ParseDims parses symbolic dimension bindings for Options.Dims: each spec
// is NAME=N, or several separated by commas ("time=98,batch=4"). A name
// bound twice is an error.
func ParseDims(specs []string) (map[string]int, error) {
	dims := map[string]int{}
	for _, spec := range specs {
		for _, b := range strings.Split(spec, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(b), "=")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, fmt.Errorf("dimension binding %q: expected NAME=N", b)
			}
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 || n > math.MaxInt32 {
				return nil, fmt.Errorf("dimension binding %q: %q is not a size", b, val)
			}
			if _, dup := dims[name]; dup {
				return nil, fmt.Errorf("dimension %s is bound twice", name)
			}
			dims[name] = n
		}
	}
	return dims, nil
}

// ParseInputs reads the tensors of NAME=FILE.npy bindings (the --input
// flag), refusing files whose data exceeds limit bytes (0: DefaultMaxBytes).
func ParseInputs(specs []string, limit int64) (map[string]*Tensor, error) {
	out := map[string]*Tensor{}
	for _, spec := range specs {
		name, path, ok := strings.Cut(spec, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("input binding %q: expected NAME=FILE.npy", spec)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("input %s is given twice", name)
		}
		t, err := ReadNpyFile(path, limit)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// ShapesOf returns the shapes of named tensors, for Options.InputShapes.
func ShapesOf(named map[string]*Tensor) map[string][]int {
	s := map[string][]int{}
	for k, t := range named {
		s[k] = append([]int(nil), t.Shape...)
	}
	return s
}

// Feed orders named tensors as the model's inputs (Inputs) for Session.Run.
// An input not given is fed zeros of its planned shape, and a note says so.
// A name the model has no input for, or a tensor of the wrong kind (float
// values for an integer input, or the reverse), is an error.
func (m *Model) Feed(named map[string]*Tensor) (inputs []*Tensor, notes []string, err error) {
	return m.FeedFilled(named, "zeros", nil)
}

// FeedFilled is Feed with the inputs not given made by fill (nil, or a
// nil result: zeros); what says what it feeds, in the notes.
func (m *Model) FeedFilled(named map[string]*Tensor, what string, fill func(ValueInfo) *Tensor) (inputs []*Tensor, notes []string, err error) {
	have := map[string]bool{}
	var names []string
	for _, vi := range m.inputs {
		have[vi.Name] = true
		names = append(names, vi.Name)
	}
	var unknown []string
	for k := range named {
		if !have[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("the model has no input %s (its inputs: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	for _, vi := range m.inputs {
		t, ok := named[vi.Name]
		if !ok {
			if fill != nil {
				t = fill(vi)
			}
			if t == nil {
				t = &Tensor{DType: vi.DType, Shape: append([]int(nil), vi.Shape...)}
				if vi.DType.IsInt() {
					t.I = make([]int64, numel(vi.Shape))
				} else {
					t.F = make([]float32, numel(vi.Shape))
				}
			}
			notes = append(notes, fmt.Sprintf("input %s %v%v is not given: feeding %s", vi.Name, vi.DType, vi.Shape, what))
		} else if vi.DType.IsInt() != t.DType.IsInt() {
			return nil, nil, fmt.Errorf("input %s is %v, the tensor given is %v", vi.Name, vi.DType, t.DType)
		}
		inputs = append(inputs, t)
	}
	return inputs, notes, nil
}

// ReadNpyFile reads a .npy file (see ReadNpy).
func ReadNpyFile(path string, limit int64) (*Tensor, error) {
	// Only regular files: opening a named pipe would block.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadNpy(bufio.NewReader(f), limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// npyTypes maps .npy type codes (without byte order) to engine types.
var npyTypes = map[string]DType{
	"f4": Float32, "f8": Float64, "f2": Float16,
	"i8": Int64, "i4": Int32, "i2": Int16, "i1": Int8,
	"u8": Uint64, "u4": Uint32, "u2": Uint16, "u1": Uint8, "b1": Bool,
}

// ReadNpy reads a NumPy .npy array (format versions 1 to 3, either byte
// order, C or Fortran order) of a numeric or boolean type. Floating types
// are held as float32 and integer types as int64 (UINT64 values above
// 2^63-1 are refused). Data above limit bytes (0: DefaultMaxBytes) is
// refused before allocating.
func ReadNpy(r io.Reader, limit int64) (*Tensor, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: reading the magic string: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("npy: not a .npy file (bad magic string)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading the header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading the header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("npy: format version %d.%d is not supported", pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("npy: reading the header: %w", err)
	}
	descr, fortran, shape, err := parseNpyHeader(string(hdr))
	if err != nil {
		return nil, fmt.Errorf("npy: header %q: %w", strings.TrimSpace(string(hdr)), err)
	}
	if len(descr) != 3 || !strings.ContainsRune("<>|=", rune(descr[0])) {
		return nil, fmt.Errorf("npy: type %q is not supported", descr)
	}
	dt, ok := npyTypes[descr[1:]]
	if !ok {
		return nil, fmt.Errorf("npy: type %q is not supported", descr)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if descr[0] == '>' {
		order = binary.BigEndian
	}
	size := int(descr[2] - '0')
	n := int64(1)
	for _, d := range shape {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("npy: shape %v has a bad dimension", shape)
		}
		n *= int64(d)
		if n*int64(size) > limit || n*4 > limit {
			return nil, fmt.Errorf("npy: shape %v exceeds the size limit of %d bytes", shape, limit)
		}
	}
	raw := make([]byte, n*int64(size))
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("npy: reading %d elements of shape %v: %w", n, shape, err)
	}
	t := &Tensor{DType: dt, Shape: shape}
	if dt == Uint64 {
		t.DType = Int64
	}
	if dt.IsFloat() {
		t.F = make([]float32, n)
	} else {
		t.I = make([]int64, n)
	}
	for i := range int(n) {
		b := raw[i*size : (i+1)*size]
		var u uint64
		switch size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(order.Uint16(b))
		case 4:
			u = uint64(order.Uint32(b))
		case 8:
			u = order.Uint64(b)
		}
		switch dt {
		case Float32:
			t.F[i] = math.Float32frombits(uint32(u))
		case Float64:
			t.F[i] = float32(math.Float64frombits(u))
		case Float16:
			t.F[i] = HalfToFloat(uint16(u))
		case Int64:
			t.I[i] = int64(u)
		case Int32:
			t.I[i] = int64(int32(u))
		case Int16:
			t.I[i] = int64(int16(u))
		case Int8:
			t.I[i] = int64(int8(u))
		case Uint64:
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("npy: element %d (%d) does not fit in an int64", i, u)
			}
			t.I[i] = int64(u)
		case Bool:
			t.I[i] = int64(min(u, 1))
		default: // unsigned types
			t.I[i] = int64(u)
		}
	}
	if fortran && len(shape) > 1 {
		fromFortranOrder(t)
	}
	return t, nil
}

// parseNpyHeader reads the dictionary of a .npy header, such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func parseNpyHeader(h string) (descr string, fortran bool, shape []int, err error) {
	field := func(key string) (string, bool) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		if !strings.HasPrefix(rest, ":") {
			return "", false
		}
		return strings.TrimSpace(rest[1:]), true
	}
	v, ok := field("descr")
	if !ok || len(v) < 2 || v[0] != '\'' {
		return "", false, nil, errors.New("no descr")
	}
	end := strings.IndexByte(v[1:], '\'')
	if end < 0 {
		return "", false, nil, errors.New("bad descr")
	}
	descr = v[1 : 1+end]
	v, ok = field("fortran_order")
	switch {
	case ok && strings.HasPrefix(v, "True"):
		fortran = true
	case ok && strings.HasPrefix(v, "False"):
	default:
		return "", false, nil, errors.New("no fortran_order")
	}
	v, ok = field("shape")
	if !ok || !strings.HasPrefix(v, "(") {
		return "", false, nil, errors.New("no shape")
	}
	end = strings.IndexByte(v, ')')
	if end < 0 {
		return "", false, nil, errors.New("bad shape")
	}
	shape = []int{}
	for _, d := range strings.Split(v[1:end], ",") {
		d = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(d), "L"))
		if d == "" {
			continue
		}
		x, err := strconv.Atoi(d)
		if err != nil {
			return "", false, nil, fmt.Errorf("bad shape dimension %q", d)
		}
		shape = append(shape, x)
	}
	return descr, fortran, shape, nil
}

// fromFortranOrder reorders a tensor read in column-major order into the
// row-major order of its shape.
func fromFortranOrder(t *Tensor) {
	n := numel(t.Shape)
	r := len(t.Shape)
	idx := make([]int, r)
	fs := make([]int, r) // column-major strides
	s := 1
	for i := 0; i < r; i++ {
		fs[i] = s
		s *= t.Shape[i]
	}
	var f []float32
	var in []int64
	if t.F != nil {
		f = make([]float32, n)
	} else {
		in = make([]int64, n)
	}
	for k := 0; k < n; k++ { // k walks row-major order
		src := 0
		for i := 0; i < r; i++ {
			src += idx[i] * fs[i]
		}
		if f != nil {
			f[k] = t.F[src]
		} else {
			in[k] = t.I[src]
		}
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < t.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	if f != nil {
		t.F = f
	} else {
		t.I = in
	}
}
