// Package onnx decodes ONNX model files (ModelProto) and serialized tensors
// (TensorProto) without generated code: the protobuf wire format is walked by
// hand with protowire, and only the messages and fields the engine needs are
// decoded. Unknown fields are skipped, so files written by newer ONNX
// versions still load.
//
// Decoding never panics on malformed input. Every error starts with "onnx: "
// and names the message path and field where decoding stopped, for example
//
//	onnx: graph.node[3] "conv1" (Conv) attribute "pads": truncated packed ints at byte 1234
package onnx

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Limits bounds what the decoder is willing to allocate.
type Limits struct {
	// MaxBytes is the largest in-memory size, in bytes, of the decoded data
	// of a single tensor. Tensors declaring more are refused before any
	// allocation. Zero means 1<<30.
	MaxBytes int64
	// MaxDepth is the deepest nesting of graphs inside graph attributes
	// (an If inside a Loop body is depth 2). Zero means 16.
	MaxDepth int
}

func (l Limits) maxDepth() int {
	if l.MaxDepth <= 0 {
		return 16
	}
	return l.MaxDepth
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes <= 0 {
		return 1 << 30
	}
	return l.MaxBytes
}

// field is one decoded field record of a message.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // value of varint, fixed32 and fixed64 fields
	b   []byte // payload of bytes fields
	off int    // absolute input offset of the value (payload for bytes fields)
}

// msg is the encoded body of one message together with its place in the input.
type msg struct {
	b    []byte
	base int    // absolute input offset of b[0]
	path string // message path used in error messages
}

// sub returns the message embedded in bytes field f.
func (m msg) sub(f field, path string) msg { return msg{b: f.b, base: f.off, path: path} }

// errf returns an error located at path.
func (m msg) errf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{m.path}, args...)...)
}

// each calls fn for every field record of m in order. Groups are skipped.
func (m msg) each(fn func(f field) error) error {
	b := m.b
	for pos := 0; pos < len(b); {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return fmt.Errorf("%s: bad field tag at byte %d: %w", m.path, m.base+pos, newParseError(n))
		}
		tagOff := m.base + pos
		pos += n
		f := field{num: num, typ: typ, off: m.base + pos}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b[pos:])
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b[pos:])
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b[pos:])
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b[pos:])
			if n >= 0 {
				f.off += n - len(f.b)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b[pos:])
		}
		if n < 0 {
			if l, ln := protowire.ConsumeVarint(b[pos:]); typ == protowire.BytesType && ln > 0 {
				return fmt.Errorf("%s: truncated field %d at byte %d: length %d, only %d bytes left: %w",
					m.path, num, tagOff, l, len(b)-pos-ln, newParseError(n))
			}
			return fmt.Errorf("%s: field %d (wire type %d) at byte %d: %w", m.path, num, typ, tagOff, newParseError(n))
		}
		pos += n
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// parseError describes a protowire error code without protowire's "proto:"
// prefix, keeping the original error for errors.Is.
type parseError struct{ err error }

func newParseError(n int) error { return parseError{protowire.ParseError(n)} }

func (e parseError) Error() string {
	return strings.TrimPrefix(strings.ReplaceAll(e.err.Error(), "\u00a0", " "), "proto: ")
}

func (e parseError) Unwrap() error { return e.err }

// wireErr reports field f of m having an unexpected wire type.
func (m msg) wireErr(f field, name string) error {
	return m.errf("field %d (%s) has wrong wire type %d at byte %d", f.num, name, f.typ, f.off)
}

func (m msg) str(f field, name string) (string, error) {
	if f.typ != protowire.BytesType {
		return "", m.wireErr(f, name)
	}
	return string(f.b), nil
}

func (m msg) bytes(f field, name string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, m.wireErr(f, name)
	}
	return append([]byte{}, f.b...), nil
}

func (m msg) embedded(f field, name, path string) (msg, error) {
	if f.typ != protowire.BytesType {
		return msg{}, m.wireErr(f, name)
	}
	return m.sub(f, path), nil
}

func (m msg) varint(f field, name string) (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, m.wireErr(f, name)
	}
	return f.u, nil
}

// scalars calls fn with each value of a repeated scalar field, packed or
// not. size is the element size: 0 for varints, 4 for fixed32, 8 for fixed64.
func (m msg) scalars(f field, name string, size int, fn func(uint64)) error {
	want := protowire.VarintType
	switch size {
	case 4:
		want = protowire.Fixed32Type
	case 8:
		want = protowire.Fixed64Type
	}
	switch {
	case f.typ == want:
		fn(f.u)
		return nil
	case f.typ != protowire.BytesType:
		return m.wireErr(f, name)
	case size == 0:
		for p := 0; p < len(f.b); {
			v, n := protowire.ConsumeVarint(f.b[p:])
			if n < 0 {
				return m.errf("%s: truncated packed ints at byte %d: %w", name, f.off+p, newParseError(n))
			}
			fn(v)
			p += n
		}
	case len(f.b)%size != 0:
		return m.errf("%s: packed length %d at byte %d is not a multiple of %d", name, len(f.b), f.off, size)
	default:
		for p := 0; p < len(f.b); p += size {
			fn(leUint(f.b[p : p+size]))
		}
	}
	return nil
}

// countEntries returns how many values the repeated scalar field f holds:
// an upper bound for packed varints, exact otherwise.
func countEntries(f field, size int) int {
	if f.typ != protowire.BytesType {
		return 1
	}
	if size == 0 { // varints: at least one byte each
		return len(f.b)
	}
	return len(f.b) / size
}

// leUint decodes a little-endian unsigned integer of len(b) <= 8 bytes.
func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
