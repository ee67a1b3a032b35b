package replay

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX ModelProto's metadata_props field and its entries' fields.
const (
	modelMetadataProps = 14
	entryKey           = 1
	entryValue         = 2
)

// AttachSpec returns the ONNX model file model with spec stored under
// SpecKey in its metadata_props, replacing a spec it held (a nil spec:
// the model without one, as a plain export is): what
// onnx.helper.set_model_props does, without Python. The rest of the file
// is kept byte for byte (a ModelProto's fields may come in any order, and
// the new entry is appended). It walks only the model's top-level fields,
// and fails, naming the byte, on a file that is not a protobuf message.
func AttachSpec(model []byte, spec *Spec) ([]byte, error) {
	var js []byte
	if spec != nil {
		var err error
		if js, err = spec.Marshal(); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, len(model)+len(js)+64)
	for b := model; len(b) > 0; {
		off := len(model) - len(b)
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("attach spec: not an ONNX model: bad field tag at byte %d", off)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, fmt.Errorf("attach spec: not an ONNX model: truncated field %d at byte %d", num, off)
		}
		field := b[:n+m]
		b = b[n+m:]
		if num == modelMetadataProps && typ == protowire.BytesType {
			entry, _ := protowire.ConsumeBytes(field[n:])
			if key, ok := entryString(entry, entryKey); ok && key == SpecKey {
				continue // the old spec
			}
		}
		out = append(out, field...)
	}
	if len(out) == 0 {
		return nil, errors.New("attach spec: the model file is empty")
	}
	if spec == nil {
		return out, nil
	}
	var entry []byte
	entry = protowire.AppendTag(entry, entryKey, protowire.BytesType)
	entry = protowire.AppendString(entry, SpecKey)
	entry = protowire.AppendTag(entry, entryValue, protowire.BytesType)
	entry = protowire.AppendBytes(entry, js)
	out = protowire.AppendTag(out, modelMetadataProps, protowire.BytesType)
	return protowire.AppendBytes(out, entry), nil
}

// entryString returns the string field num of a message, if it has one.
func entryString(msg []byte, num protowire.Number) (string, bool) {
	for len(msg) > 0 {
		n, typ, k := protowire.ConsumeTag(msg)
		if k < 0 {
			return "", false
		}
		m := protowire.ConsumeFieldValue(n, typ, msg[k:])
		if m < 0 {
			return "", false
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg[k:])
			return string(v), true
		}
		msg = msg[k+m:]
	}
	return "", false
}
