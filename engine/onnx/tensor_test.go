package onnx

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestFloat16(t *testing.T) {
	tests := []struct {
		h    uint16
		want uint32 // float32 bits
	}{
		{0x0000, 0x00000000},                         // +0
		{0x8000, 0x80000000},                         // -0
		{0x3c00, math.Float32bits(1)},                // 1
		{0xbc00, math.Float32bits(-1)},               // -1
		{0x3555, math.Float32bits(0.333251953125)},   // nearest to 1/3
		{0x7bff, math.Float32bits(65504)},            // max normal
		{0x0400, math.Float32bits(6.103515625e-05)},  // min normal 2^-14
		{0x0001, math.Float32bits(5.9604645e-08)},    // min subnormal 2^-24
		{0x8001, math.Float32bits(-5.9604645e-08)},   // negative subnormal
		{0x0200, math.Float32bits(3.0517578125e-05)}, // 2^-15
		{0x03ff, math.Float32bits(6.097555e-05)},     // max subnormal 1023*2^-24
		{0x7c00, 0x7f800000},                         // +inf
		{0xfc00, 0xff800000},                         // -inf
		{0x7e00, 0x7fc00000},                         // quiet nan
		{0xfe00, 0xffc00000},                         // negative quiet nan
		{0x7c01, 0x7f802000},                         // signaling nan payload kept
	}
	for _, tt := range tests {
		if got := math.Float32bits(float16(tt.h)); got != tt.want {
			t.Errorf("float16(%#04x) = %#08x (%g), want %#08x (%g)", tt.h, got, math.Float32frombits(got), tt.want, math.Float32frombits(tt.want))
		}
	}
	// All finite values against a float64 reference.
	for h := 0; h < 1<<16; h++ {
		exp, man := h>>10&0x1f, h&0x3ff
		if exp == 0x1f {
			continue
		}
		var want float64
		if exp == 0 {
			want = math.Ldexp(float64(man), -24)
		} else {
			want = math.Ldexp(float64(1024+man), exp-25)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got := float16(uint16(h)); float64(got) != want || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("float16(%#04x) = %g, want %g", h, got, want)
		}
	}
}

func TestTensorDtypes(t *testing.T) {
	i64 := func(vs ...int64) []uint64 { // typed-field values as the varints protobuf writes
		var u []uint64
		for _, v := range vs {
			u = append(u, uint64(v))
		}
		return u
	}
	f32 := func(vs ...float32) []uint64 {
		var u []uint64
		for _, v := range vs {
			u = append(u, uint64(math.Float32bits(v)))
		}
		return u
	}
	inf := float32(math.Inf(1))
	tests := []struct {
		dtype int32
		size  int      // raw element size
		raw   []uint64 // raw_data element bits
		typed []uint64 // typed field values
		want  Tensor   // expected data
	}{
		{dtFloat, 4, f32(1.5, -2, inf), f32(1.5, -2, inf), Tensor{Floats: []float32{1.5, -2, inf}}},
		{dtDouble, 8, []uint64{math.Float64bits(1.5), math.Float64bits(-1e300), math.Float64bits(0)},
			[]uint64{math.Float64bits(1.5), math.Float64bits(-1e300), math.Float64bits(0)}, Tensor{Doubles: []float64{1.5, -1e300, 0}}},
		{dtFloat16, 2, []uint64{0x3c00, 0x0001, 0xfc00}, []uint64{0x3c00, 0x0001, 0xfc00},
			Tensor{Floats: []float32{1, 5.9604645e-08, -inf}}},
		{dtBfloat16, 2, []uint64{0x3f80, 0xc000, 0x7f80}, []uint64{0x3f80, 0xc000, 0x7f80}, Tensor{Floats: []float32{1, -2, inf}}},
		{dtInt8, 1, []uint64{0x7f, 0x80, 0xff}, i64(127, -128, -1), Tensor{Ints: []int64{127, -128, -1}}},
		{dtUint8, 1, []uint64{0, 0xff, 0x80}, i64(0, 255, 128), Tensor{Ints: []int64{0, 255, 128}}},
		{dtInt16, 2, []uint64{0x7fff, 0x8000, 0xffff}, i64(32767, -32768, -1), Tensor{Ints: []int64{32767, -32768, -1}}},
		{dtUint16, 2, []uint64{0, 0xffff, 0x8000}, i64(0, 65535, 32768), Tensor{Ints: []int64{0, 65535, 32768}}},
		{dtInt32, 4, []uint64{0x7fffffff, 0x80000000, 0xffffffff}, i64(math.MaxInt32, math.MinInt32, -1),
			Tensor{Ints: []int64{math.MaxInt32, math.MinInt32, -1}}},
		{dtInt64, 8, i64(math.MaxInt64, math.MinInt64, -1), i64(math.MaxInt64, math.MinInt64, -1),
			Tensor{Ints: []int64{math.MaxInt64, math.MinInt64, -1}}},
		{dtUint32, 4, []uint64{0, 0xffffffff, 0x80000000}, []uint64{0, 0xffffffff, 0x80000000}, Tensor{Ints: []int64{0, math.MaxUint32, 1 << 31}}},
		{dtUint64, 8, []uint64{0, math.MaxUint64, 1 << 63}, []uint64{0, math.MaxUint64, 1 << 63}, Tensor{Uint64s: []uint64{0, math.MaxUint64, 1 << 63}}},
		{dtBool, 1, []uint64{0, 1, 2}, []uint64{0, 1, 1}, Tensor{Ints: []int64{0, 1, 1}}},
	}
	for _, tt := range tests {
		want := tt.want
		want.Name, want.DataType, want.Dims = "t", tt.dtype, []int64{3}
		head := pb{}.str(tfName, "t").int(tfDataType, int64(tt.dtype)).dims(3)
		var raw []byte
		for _, v := range tt.raw {
			for i := range tt.size {
				raw = append(raw, byte(v>>(8*i)))
			}
		}
		field := dtypes[tt.dtype].field
		record, pack := pb.varint, protowire.AppendVarint // unpacked record, packed element
		switch typedFields[field].size {
		case 4:
			record = func(b pb, n protowire.Number, v uint64) pb { return b.fixed32(n, uint32(v)) }
			pack = func(b []byte, v uint64) []byte { return protowire.AppendFixed32(b, uint32(v)) }
		case 8:
			record, pack = pb.fixed64, protowire.AppendFixed64
		}
		var packed []byte
		unpacked := head
		for _, v := range tt.typed {
			packed = pack(packed, v)
			unpacked = record(unpacked, field, v)
		}
		mixed := head.bytes(field, pack(nil, tt.typed[0])) // packed and unpacked records of one field
		for _, v := range tt.typed[1:] {
			mixed = record(mixed, field, v)
		}
		encodings := map[string]pb{
			"raw_data": head.bytes(tfRawData, raw),
			"packed":   head.bytes(field, packed),
			"unpacked": unpacked,
			"mixed":    mixed,
		}
		for enc, data := range encodings {
			got, err := DecodeTensor(data, Limits{})
			if err != nil {
				t.Errorf("%s via %s: %v", dtypes[tt.dtype].name, enc, err)
				continue
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("%s via %s = %+v, want %+v", dtypes[tt.dtype].name, enc, *got, want)
			}
		}
	}
}

func TestTensorStrings(t *testing.T) {
	got, err := DecodeTensor(pb{}.str(tfName, "s").int(tfDataType, dtString).dims(1, 3).strs(tfStringData, "a", "", "xyz"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Tensor{Name: "s", DataType: dtString, Dims: []int64{1, 3}, Strings: [][]byte{[]byte("a"), {}, []byte("xyz")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestTensorShapes(t *testing.T) {
	tests := []struct {
		name string
		data pb
		want Tensor
	}{
		{"scalar", pb{}.int(tfDataType, dtInt64).int(tfInt64Data, 7), Tensor{DataType: dtInt64, Ints: []int64{7}}},
		{"empty", pb{}.int(tfDataType, dtFloat).dims(2, 0, 3), Tensor{DataType: dtFloat, Dims: []int64{2, 0, 3}}},
		{"empty raw", pb{}.int(tfDataType, dtFloat).dims(0).bytes(tfRawData, nil), Tensor{DataType: dtFloat, Dims: []int64{0}}},
		{"unpacked dims", pb{}.int(tfDataType, dtUint8).int(tfDims, 1).int(tfDims, 2).bytes(tfRawData, []byte{1, 2}),
			Tensor{DataType: dtUint8, Dims: []int64{1, 2}, Ints: []int64{1, 2}}},
		{"unknown fields", pb{}.int(tfDataType, dtInt32).str(tfDocString, "doc").int(99, 1).group(100, pb{}.int(1, 1)).int(tfDataLocation, 0).int(tfInt32Data, -5),
			Tensor{DataType: dtInt32, Ints: []int64{-5}}},
	}
	for _, tt := range tests {
		got, err := DecodeTensor(tt.data, Limits{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		} else if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, *got, tt.want)
		}
	}
}

func TestTensorErrors(t *testing.T) {
	f := pb{}.str(tfName, "t").int(tfDataType, dtFloat)
	tests := []struct {
		name string
		data pb
		lim  Limits
		want string
	}{
		{"raw count", f.dims(3).bytes(tfRawData, make([]byte, 8)), Limits{}, `onnx: tensor "t": raw_data holds 2 elements, dims [3] need 3`},
		{"raw size", f.dims(3).bytes(tfRawData, make([]byte, 7)), Limits{}, `raw_data length 7 is not a multiple of the FLOAT size 4`},
		{"typed count", f.dims(3).packedFixed32(tfFloatData, 1, 2, 3, 4), Limits{}, `onnx: tensor "t": float_data holds 4 elements, dims [3] need 3`},
		{"no data", f.dims(2, 2), Limits{}, `float_data holds 0 elements, dims [2 2] need 4`},
		{"varint count", pb{}.str(tfName, "t").int(tfDataType, dtInt64).packedVarints(tfInt64Data, 1, 2), Limits{}, `int64_data holds 2 elements, dims [] need 1`},
		{"data_location", f.int(tfDataLocation, 1).str(tfRawData, "abcd"), Limits{}, `onnx: tensor "t": external data is not supported`},
		{"external_data", f.msg(tfExternalData, pb{}.str(1, "location").str(2, "w.bin")), Limits{}, `onnx: tensor "t": external data is not supported`},
		{"raw and typed", f.fixed32(tfFloatData, 0).bytes(tfRawData, make([]byte, 4)), Limits{}, `both raw_data and float_data are set`},
		{"wrong field", f.int(tfInt64Data, 1), Limits{}, `FLOAT data stored in int64_data`},
		{"string raw", pb{}.str(tfName, "t").int(tfDataType, dtString).str(tfRawData, "x"), Limits{}, `STRING data in raw_data is not allowed`},
		{"string wire type", pb{}.str(tfName, "t").int(tfDataType, dtString).int(tfStringData, 1), Limits{}, `field 6 (string_data) has wrong wire type 0`},
		{"complex", pb{}.int(tfDataType, 14), Limits{}, `onnx: tensor "": unsupported data type 14`},
		{"undefined", pb{}, Limits{}, `unsupported data type 0`},
		{"negative dim", f.dims(2, -1), Limits{}, `negative dimension -1 at axis 1 of [2 -1]`},
		{"overflow", f.dims(1<<32, 1<<32), Limits{}, `element count of dims [4294967296 4294967296] overflows int64`},
		{"limit", f.dims(1 << 20), Limits{MaxBytes: 1 << 20}, `1048576 FLOAT elements (dims [1048576]) exceed the limit of 1048576 bytes`},
		{"default limit", f.dims(1<<28 + 1), Limits{}, `exceed the limit of 1073741824 bytes`},
		{"segment", f.msg(tfSegment, pb{}.int(1, 0).int(2, 1)), Limits{}, `segmented tensors are not supported`},
		{"float wire type", f.fixed64(tfFloatData, 0), Limits{}, `tensor "t": field 4 (float_data) has wrong wire type 1`},
		{"packed floats", f.bytes(tfFloatData, []byte{1, 2, 3}), Limits{}, `float_data: packed length 3 at byte 7 is not a multiple of 4`},
		{"packed ints", pb{}.str(tfName, "t").int(tfDataType, dtInt64).bytes(tfInt64Data, []byte{0xff}), Limits{}, `int64_data: truncated packed ints at byte 7`},
		{"truncated dims", f.bytes(tfDims, []byte{0x80}), Limits{}, `onnx: tensor: dims: truncated packed ints at byte 7`},
		{"name wire type", pb{}.int(tfName, 1), Limits{}, `onnx: tensor: field 8 (name) has wrong wire type 0`},
		{"raw wire type", pb{}.int(tfRawData, 1), Limits{}, `field 9 (raw_data) has wrong wire type 0`},
	}
	for _, tt := range tests {
		got, err := DecodeTensor(tt.data, tt.lim)
		if err == nil {
			t.Errorf("%s: no error, got %+v", tt.name, got)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestAbsurdDimsNoAllocation checks that declared sizes are validated before
// anything proportional to them is allocated.
func TestAbsurdDimsNoAllocation(t *testing.T) {
	inputs := []pb{
		pb{}.int(tfDataType, dtFloat).dims(1<<40, 1<<20),                              // above the limit
		pb{}.int(tfDataType, dtFloat).dims(1<<27).bytes(tfRawData, make([]byte, 4)),   // 512 MiB declared, 4 bytes given
		pb{}.int(tfDataType, dtFloat).dims(1<<27).fixed32(tfFloatData, 0),             // same via typed data
		pb{}.int(tfDataType, dtString).dims(1<<25).str(tfStringData, "x"),             // strings
		pb{}.int(tfDataType, dtInt64).dims(1<<27).packedVarints(tfInt64Data, 1, 2, 3), // varints
	}
	for i, data := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := DecodeTensor(data, Limits{})
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("input %d: no error", i)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("input %d: allocated %d bytes", i, n)
		}
	}
	// The same through Decode.
	data := model(pb{}.msg(5, pb{}.str(tfName, "w").int(tfDataType, dtDouble).dims(math.MaxInt32, math.MaxInt32)))
	if _, err := Decode(data, Limits{}); err == nil || !strings.Contains(err.Error(), `graph.initializer[0]: tensor "w": 4611686014132420609 DOUBLE elements`) {
		t.Errorf("error %v", err)
	}
}

func TestNumElements(t *testing.T) {
	tests := []struct {
		dims []int64
		want int64
		err  string
	}{
		{nil, 1, ""},
		{[]int64{2, 3, 4}, 24, ""},
		{[]int64{5, 0}, 0, ""},
		{[]int64{1 << 62, 1 << 62, 0}, 0, ""},
		{[]int64{math.MaxInt64}, math.MaxInt64, ""},
		{[]int64{math.MaxInt64, 2}, 0, "overflows int64"},
		{[]int64{1 << 32, 1 << 31}, 0, "overflows int64"},
		{[]int64{0, -1}, 0, "negative dimension -1 at axis 1"},
		{[]int64{-3}, 0, "negative dimension -3 at axis 0"},
	}
	for _, tt := range tests {
		n, err := (&Tensor{Name: "x", Dims: tt.dims}).NumElements()
		switch {
		case tt.err == "" && (err != nil || n != tt.want):
			t.Errorf("NumElements(%v) = %d, %v, want %d", tt.dims, n, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), `onnx: tensor "x": `)):
			t.Errorf("NumElements(%v) error %v, want %q", tt.dims, err, tt.err)
		}
	}
}

// TestTruncatedTensor decodes every strict prefix of a valid tensor.
func TestTruncatedTensor(t *testing.T) {
	data := pb{}.str(tfName, "t").int(tfDataType, dtInt16).dims(2, 2).bytes(tfRawData, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if _, err := DecodeTensor(data, Limits{}); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		if got, err := DecodeTensor(data[:i], Limits{}); err == nil {
			t.Fatalf("prefix of %d bytes decoded: %+v", i, got)
		}
	}
}
