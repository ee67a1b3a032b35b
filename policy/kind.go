package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The kinds of kagen JSON files, as FileKind names them.
const (
	KindPolicy  = "policy"  // kagen policy new
	KindPareto  = "pareto"  // kagen tune
	KindProfile = "profile" // kagen profile
	KindSession = "session" // a saved workbench session
	KindConfig  = "config"  // an approximation configuration {"nodes": ...}
)

// kindMaker says which command makes a kind of file.
var kindMaker = map[string]string{
	KindPolicy:  "made by kagen policy new",
	KindPareto:  "a Pareto file, made by kagen tune",
	KindProfile: "made by kagen profile",
	KindSession: "saved by the workbench, kagen open",
	KindConfig:  "an approximation configuration, for --config",
}

// utf8BOM is the byte order mark some editors put at the start of a
// UTF-8 file; it is accepted (and ignored) before a JSON file.
var utf8BOM = []byte("\xef\xbb\xbf")

// FileKind says which kind of kagen JSON file data is, from the fields of
// its top-level object: KindPolicy, KindPareto, KindProfile, KindSession
// or KindConfig; "" when it is none of these (or not a JSON object).
func FileKind(data []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &top) != nil {
		return ""
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("levels", "controller", "checksum") || has("levels", "controller", "model_sha256"):
		return KindPolicy
	case has("configs", "exact_accuracy"):
		return KindPareto
	case has("pairs", "nodes") || has("exact_outputs", "labels"):
		return KindProfile
	case has("traces", "controller", "policy_path") || has("traces", "model_sha256", "config"):
		return KindSession
	case has("nodes") && len(top) == 1:
		return KindConfig
	}
	return ""
}

// checkKind refuses data that is another kind of kagen file than want,
// saying which it is and which is expected.
func checkKind(data []byte, name, want string) error {
	if k := FileKind(data); k != "" && k != want {
		return &Error{File: name, Msg: fmt.Sprintf("this is a %s file (%s), expected a %s file (%s)", k, kindMaker[k], want, kindMaker[want])}
	}
	return nil
}

// JSONError says what is wrong with JSON that failed to decode in
// kagen's words, without Go's type names: the field, what it holds and
// what is expected ("windows: got a JSON string, expected an integer");
// other errors are returned as encoding/json words them.
func JSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("got a JSON %s, expected a JSON object", te.Value)
		}
		return fmt.Sprintf("%s: got a JSON %s, expected %s", te.Field, te.Value, jsonType(te.Type))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonType names the JSON form of a Go type for a message, in kagen's
// words: "an object", "a list", "a number", "a string", "true or false".
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice && t.Name() == "RawMessage" {
			return "a value"
		}
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}
