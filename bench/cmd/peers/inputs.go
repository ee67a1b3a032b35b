package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sidecar is MODEL.inputs.json, next to MODEL.onnx: per-input overrides of
// what the bench feeds (see README.md, "Inputs").
type sidecar struct {
	Inputs map[string]sidecarInput `json:"inputs"`
}

type sidecarInput struct {
	// Shape replaces the declared shape (needed for dynamic dimensions);
	// [] is a scalar.
	Shape *[]int `json:"shape"`
	// Values are the input's elements, flat (one value is repeated).
	Values []float64 `json:"values"`
	// Fill is "normal" (seeded standard normal; floats only, their default)
	// or "zeros" (the default of integer and boolean inputs).
	Fill string `json:"fill"`
}

func sidecarPath(modelPath string) string {
	return strings.TrimSuffix(modelPath, filepath.Ext(modelPath)) + ".inputs.json"
}

// readSidecar returns the model's sidecar, or nil when it has none.
func readSidecar(modelPath string) (*sidecar, error) {
	b, err := os.ReadFile(sidecarPath(modelPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sc sidecar
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %w", sidecarPath(modelPath), err)
	}
	return &sc, nil
}

// modelInputs describes the model's inputs as ORT reports them (names,
// types, shapes with dynamic dimensions set to 1) with the sidecar's
// overrides applied, and makes their data: seeded standard normal floats
// (a stream per input, from the seed and the model's file name, plus the
// input's name when the model has several), zero integers and booleans,
// unless the sidecar gives values or a fill.
func modelInputs(seed uint64, path string, model []byte) ([]inputSpec, error) {
	insInfo, _, err := ortModelIO(model)
	if err != nil {
		return nil, fmt.Errorf("reading the model's inputs with ORT: %w", err)
	}
	sc, err := readSidecar(path)
	if err != nil {
		return nil, err
	}
	return makeInputs(seed, filepath.Base(path), insInfoOf(insInfo), sc)
}

// ioInfo is the part of ORT's InputOutputInfo the input maker needs.
type ioInfo struct {
	name  string
	typ   int
	shape []int
}

func makeInputs(seed uint64, base string, infos []ioInfo, sc *sidecar) ([]inputSpec, error) {
	if sc != nil {
		for name := range sc.Inputs {
			found := false
			for _, in := range infos {
				found = found || in.name == name
			}
			if !found {
				return nil, fmt.Errorf("the sidecar names input %q, which the model does not have", name)
			}
		}
	}
	var ins []inputSpec
	for _, info := range infos {
		in := inputSpec{Name: info.name, Type: info.typ, Shape: info.shape}
		if _, ok := onnxTypeNames[in.Type]; !ok || in.Type == onnxFloat16 {
			return nil, fmt.Errorf("input %q is of type %s, which the bench does not feed", in.Name, typeName(in.Type))
		}
		var o sidecarInput
		if sc != nil {
			o = sc.Inputs[in.Name]
		}
		if o.Shape != nil {
			in.Shape = append([]int(nil), (*o.Shape)...)
			for _, d := range in.Shape {
				if d < 0 {
					return nil, fmt.Errorf("input %q: sidecar shape %v has a negative dimension", in.Name, in.Shape)
				}
			}
		}
		n := numel(in.Shape)
		isFloat := kindOf(in.Type) == kindFloat
		switch {
		case o.Values != nil:
			if len(o.Values) != n && len(o.Values) != 1 {
				return nil, fmt.Errorf("input %q: the sidecar gives %d values for shape %v (%d elements)", in.Name, len(o.Values), in.Shape, n)
			}
			if o.Fill != "" {
				return nil, fmt.Errorf("input %q: the sidecar gives both values and fill", in.Name)
			}
			if isFloat {
				in.F = make([]float32, n)
			} else {
				in.I = make([]int64, n)
			}
			for i := 0; i < n; i++ {
				v := o.Values[i%len(o.Values)]
				if isFloat {
					in.F[i] = float32(v)
				} else {
					in.I[i] = int64(v)
				}
			}
		case o.Fill == "zeros" || (o.Fill == "" && !isFloat):
			if isFloat {
				in.F = make([]float32, n)
			} else {
				in.I = make([]int64, n)
			}
		case (o.Fill == "normal" || o.Fill == "") && isFloat:
			key := base
			if len(infos) > 1 {
				key = base + "/" + in.Name // the single-input stream is the one the bench always used
			}
			in.F = randomInput(seed, key, n)
		default:
			return nil, fmt.Errorf("input %q (%s): unknown or inapplicable sidecar fill %q (normal for floats, zeros)", in.Name, typeName(in.Type), o.Fill)
		}
		ins = append(ins, in)
	}
	return ins, nil
}

func typeName(t int) string {
	if s, ok := onnxTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("onnx type %d", t)
}

// describeInputs is "name [shape]" for a float input, "name int64 [shape]"
// otherwise, comma-separated.
func describeInputs(ins []inputSpec) string {
	var parts []string
	for _, in := range ins {
		if in.Type == onnxFloat {
			parts = append(parts, fmt.Sprintf("%s %v", in.Name, in.Shape))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s %v", in.Name, typeName(in.Type), in.Shape))
		}
	}
	return strings.Join(parts, ", ")
}
