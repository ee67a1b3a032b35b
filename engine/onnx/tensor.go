package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Tensor is a decoded TensorProto. Exactly one of the data slices is used,
// chosen by DataType; it holds NumElements() values in row-major order.
type Tensor struct {
	// Name is the tensor name (the graph value it initializes).
	Name string
	// DataType is the element type in TensorProto.DataType numbering
	// (FLOAT=1, UINT8=2, INT8=3, UINT16=4, INT16=5, INT32=6, INT64=7,
	// STRING=8, BOOL=9, FLOAT16=10, DOUBLE=11, UINT32=12, UINT64=13,
	// BFLOAT16=16).
	DataType int32
	// Dims is the shape; empty for a scalar.
	Dims []int64
	// Floats holds FLOAT, FLOAT16 and BFLOAT16 data, converted exactly to float32.
	Floats []float32
	// Doubles holds DOUBLE data.
	Doubles []float64
	// Ints holds INT8, UINT8, INT16, UINT16, INT32, INT64, UINT32 and BOOL
	// data, sign- or zero-extended to int64 (BOOL as 0 or 1).
	Ints []int64
	// Uint64s holds UINT64 data.
	Uint64s []uint64
	// Strings holds STRING data.
	Strings [][]byte
	// External reports that the tensor keeps its data in an external file.
	// The decoder refuses such tensors with an error, so decoded tensors
	// always have External false.
	External bool
}

// TensorProto.DataType values.
const (
	dtFloat    = 1
	dtUint8    = 2
	dtInt8     = 3
	dtUint16   = 4
	dtInt16    = 5
	dtInt32    = 6
	dtInt64    = 7
	dtString   = 8
	dtBool     = 9
	dtFloat16  = 10
	dtDouble   = 11
	dtUint32   = 12
	dtUint64   = 13
	dtBfloat16 = 16
)

// TensorProto field numbers.
const (
	tfDims         = 1
	tfDataType     = 2
	tfSegment      = 3
	tfFloatData    = 4
	tfInt32Data    = 5
	tfStringData   = 6
	tfInt64Data    = 7
	tfName         = 8
	tfRawData      = 9
	tfDoubleData   = 10
	tfUint64Data   = 11
	tfExternalData = 13
	tfDataLocation = 14
	tfDocString    = 12
)

// dtype describes how one supported data type is stored.
type dtype struct {
	name  string
	raw   int              // bytes per element in raw_data; 0: raw_data not allowed
	field protowire.Number // typed repeated field carrying the values
	mem   int64            // bytes per decoded element in memory
}

var dtypes = map[int32]dtype{
	dtFloat:    {"FLOAT", 4, tfFloatData, 4},
	dtUint8:    {"UINT8", 1, tfInt32Data, 8},
	dtInt8:     {"INT8", 1, tfInt32Data, 8},
	dtUint16:   {"UINT16", 2, tfInt32Data, 8},
	dtInt16:    {"INT16", 2, tfInt32Data, 8},
	dtInt32:    {"INT32", 4, tfInt32Data, 8},
	dtInt64:    {"INT64", 8, tfInt64Data, 8},
	dtString:   {"STRING", 0, tfStringData, 24},
	dtBool:     {"BOOL", 1, tfInt32Data, 8},
	dtFloat16:  {"FLOAT16", 2, tfInt32Data, 4},
	dtDouble:   {"DOUBLE", 8, tfDoubleData, 8},
	dtUint32:   {"UINT32", 4, tfUint64Data, 8},
	dtUint64:   {"UINT64", 8, tfUint64Data, 8},
	dtBfloat16: {"BFLOAT16", 2, tfInt32Data, 4},
}

// typedFields names the typed data fields; the value is the element size of
// the wire encoding (0 for varints, -1 for length-delimited strings).
var typedFields = map[protowire.Number]struct {
	name string
	size int
}{
	tfFloatData:  {"float_data", 4},
	tfInt32Data:  {"int32_data", 0},
	tfStringData: {"string_data", -1},
	tfInt64Data:  {"int64_data", 0},
	tfDoubleData: {"double_data", 8},
	tfUint64Data: {"uint64_data", 0},
}

// NumElements returns the product of t.Dims (1 for a scalar). It fails on a
// negative dimension or when the product overflows int64.
func (t *Tensor) NumElements() (int64, error) {
	n, err := numElements(t.Dims)
	if err != nil {
		return 0, fmt.Errorf("onnx: tensor %q: %w", t.Name, err)
	}
	return n, nil
}

func numElements(dims []int64) (int64, error) {
	zero := false
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d at axis %d of %v", d, i, dimsString(dims))
		}
		zero = zero || d == 0
	}
	if zero {
		return 0, nil
	}
	n := int64(1)
	for _, d := range dims {
		if n > math.MaxInt64/d {
			return 0, fmt.Errorf("element count of dims %v overflows int64", dimsString(dims))
		}
		n *= d
	}
	return n, nil
}

// dimsString formats dims for error messages, eliding the middle of
// absurdly long ones.
func dimsString(dims []int64) string {
	if len(dims) > 16 {
		return fmt.Sprintf("%v ... %v (rank %d)", dims[:8], dims[len(dims)-8:], len(dims))
	}
	return fmt.Sprint(dims)
}

// DecodeTensor decodes a serialized TensorProto, such as the input_*.pb and
// output_*.pb files of the ONNX backend test data sets.
func DecodeTensor(data []byte, lim Limits) (*Tensor, error) {
	t, err := decodeTensor(msg{b: data, path: "tensor"}, "", lim)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return t, nil
}

// decodeTensor decodes the TensorProto in m. Once the tensor name is known,
// errors are reported as `prefix tensor "name": ...`.
func decodeTensor(m msg, prefix string, lim Limits) (*Tensor, error) {
	t := &Tensor{}
	var (
		raw               []byte
		hasRaw, segmented bool
		entries           = map[protowire.Number]int{} // upper bound of typed entries per field
	)
	err := m.each(func(f field) error {
		var err error
		var v uint64
		switch f.num {
		case tfDims:
			err = m.scalars(f, "dims", 0, func(v uint64) { t.Dims = append(t.Dims, int64(v)) })
		case tfDataType:
			v, err = m.varint(f, "data_type")
			t.DataType = int32(v)
		case tfSegment:
			segmented = true
		case tfName:
			t.Name, err = m.str(f, "name")
		case tfRawData:
			if f.typ != protowire.BytesType {
				return m.wireErr(f, "raw_data")
			}
			raw, hasRaw = f.b, true
		case tfExternalData:
			t.External = true
		case tfDataLocation:
			v, err = m.varint(f, "data_location")
			t.External = t.External || v == 1
		default:
			if tf, ok := typedFields[f.num]; ok {
				if tf.size < 0 { // string_data: one string per record
					if f.typ != protowire.BytesType {
						return m.wireErr(f, tf.name)
					}
					entries[f.num]++
				} else {
					entries[f.num] += countEntries(f, tf.size)
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}

	if prefix != "" {
		prefix += ": "
	}
	m.path = fmt.Sprintf("%stensor %q", prefix, t.Name)
	if t.External {
		return nil, m.errf("external data is not supported")
	}
	if segmented {
		return nil, m.errf("segmented tensors are not supported")
	}
	dt, ok := dtypes[t.DataType]
	if !ok {
		return nil, m.errf("unsupported data type %d", t.DataType)
	}
	n, err := numElements(t.Dims)
	if err != nil {
		return nil, m.errf("%w", err)
	}
	if n > lim.maxBytes()/dt.mem {
		return nil, m.errf("%d %s elements (dims %v) exceed the limit of %d bytes", n, dt.name, dimsString(t.Dims), lim.maxBytes())
	}
	for num, c := range entries {
		if num != dt.field && c > 0 {
			return nil, m.errf("%s data stored in %s", dt.name, typedFields[num].name)
		}
	}

	if hasRaw {
		if dt.raw == 0 {
			return nil, m.errf("%s data in raw_data is not allowed", dt.name)
		}
		if entries[dt.field] > 0 {
			return nil, m.errf("both raw_data and %s are set", typedFields[dt.field].name)
		}
		if len(raw)%dt.raw != 0 {
			return nil, m.errf("raw_data length %d is not a multiple of the %s size %d", len(raw), dt.name, dt.raw)
		}
		if got := int64(len(raw) / dt.raw); got != n {
			return nil, m.errf("raw_data holds %d elements, dims %v need %d", got, dimsString(t.Dims), n)
		}
		t.decodeRaw(raw, int(n))
		return t, nil
	}

	// Typed fields: decode at most n values but count them all.
	tf := typedFields[dt.field]
	t.alloc(int(min(n, int64(entries[dt.field]))))
	var got int64
	err = m.each(func(f field) error {
		if f.num != dt.field {
			return nil
		}
		if t.DataType == dtString {
			if got++; got <= n {
				t.Strings = append(t.Strings, append([]byte{}, f.b...))
			}
			return nil
		}
		return m.scalars(f, tf.name, tf.size, func(v uint64) {
			if got++; got <= n {
				t.put(v)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, m.errf("%s holds %d elements, dims %v need %d", tf.name, got, dimsString(t.Dims), n)
	}
	return t, nil
}

// decodeRaw decodes the n little-endian elements in raw, whose length has
// been checked.
func (t *Tensor) decodeRaw(raw []byte, n int) {
	le := binary.LittleEndian
	switch t.DataType {
	case dtFloat, dtFloat16, dtBfloat16:
		t.Floats = make([]float32, n)
		for i := range t.Floats {
			switch t.DataType {
			case dtFloat:
				t.Floats[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			case dtFloat16:
				t.Floats[i] = float16(le.Uint16(raw[2*i:]))
			default:
				t.Floats[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
			}
		}
	case dtDouble:
		t.Doubles = make([]float64, n)
		for i := range t.Doubles {
			t.Doubles[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case dtUint64:
		t.Uint64s = make([]uint64, n)
		for i := range t.Uint64s {
			t.Uint64s[i] = le.Uint64(raw[8*i:])
		}
	default:
		t.Ints = make([]int64, n)
		for i := range t.Ints {
			var v int64
			switch t.DataType {
			case dtInt8:
				v = int64(int8(raw[i]))
			case dtUint8:
				v = int64(raw[i])
			case dtBool:
				if raw[i] != 0 {
					v = 1
				}
			case dtInt16:
				v = int64(int16(le.Uint16(raw[2*i:])))
			case dtUint16:
				v = int64(le.Uint16(raw[2*i:]))
			case dtInt32:
				v = int64(int32(le.Uint32(raw[4*i:])))
			case dtUint32:
				v = int64(le.Uint32(raw[4*i:]))
			case dtInt64:
				v = int64(le.Uint64(raw[8*i:]))
			}
			t.Ints[i] = v
		}
	}
	if n == 0 { // keep empty tensors' slices nil, as the typed path does
		t.Floats, t.Doubles, t.Uint64s, t.Ints = nil, nil, nil, nil
	}
}

// alloc reserves room for n decoded elements in the slice used by t.DataType.
func (t *Tensor) alloc(n int) {
	if n == 0 {
		return
	}
	switch t.DataType {
	case dtFloat, dtFloat16, dtBfloat16:
		t.Floats = make([]float32, 0, n)
	case dtDouble:
		t.Doubles = make([]float64, 0, n)
	case dtUint64:
		t.Uint64s = make([]uint64, 0, n)
	case dtString:
		t.Strings = make([][]byte, 0, n)
	default:
		t.Ints = make([]int64, 0, n)
	}
}

// put appends one element given as its typed-field value.
func (t *Tensor) put(v uint64) {
	switch t.DataType {
	case dtFloat:
		t.Floats = append(t.Floats, math.Float32frombits(uint32(v)))
	case dtFloat16:
		t.Floats = append(t.Floats, float16(uint16(v)))
	case dtBfloat16:
		t.Floats = append(t.Floats, math.Float32frombits(uint32(uint16(v))<<16))
	case dtDouble:
		t.Doubles = append(t.Doubles, math.Float64frombits(v))
	case dtUint64:
		t.Uint64s = append(t.Uint64s, v)
	case dtInt8:
		t.Ints = append(t.Ints, int64(int8(v)))
	case dtUint8:
		t.Ints = append(t.Ints, int64(uint8(v)))
	case dtInt16:
		t.Ints = append(t.Ints, int64(int16(v)))
	case dtUint16:
		t.Ints = append(t.Ints, int64(uint16(v)))
	case dtInt32:
		t.Ints = append(t.Ints, int64(int32(v)))
	case dtUint32:
		t.Ints = append(t.Ints, int64(uint32(v)))
	case dtInt64:
		t.Ints = append(t.Ints, int64(v))
	case dtBool:
		b := int64(0)
		if v != 0 {
			b = 1
		}
		t.Ints = append(t.Ints, b)
	}
}

// float16 converts IEEE 754 half-precision bits to float32 exactly,
// including subnormals, infinities and NaN payloads.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or nan
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalize
		exp = 113 // 127 - 15 + 1
		for man&0x400 == 0 {
			man <<= 1
			exp--
		}
		return math.Float32frombits(sign | exp<<23 | (man&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}
