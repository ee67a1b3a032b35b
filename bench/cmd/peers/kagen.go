//go:build !nokagen

package main

// The kagen side of the comparison: the only file that imports the engine.
// Build with -tags nokagen to benchmark the peers alone while the engine does
// not compile (peers.sh falls back to that automatically).

import (
	"bytes"
	"fmt"

	"github.com/kagen-ai/kagen/engine"
)

const kagenAvailable = true

type kagenEngine struct {
	run   func([]*engine.Tensor) ([]*engine.Tensor, error) // Session.Run
	in    []*engine.Tensor
	names []string // of the outputs
	out   []*engine.Tensor
}

// newKagen loads the model with every input's shape bound to the one the
// bench feeds (dynamic dimensions included). A panic in the engine is
// returned as an error (so is one in Run).
func newKagen(model []byte, ins []inputSpec, threads int) (e Engine, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	shapes := map[string][]int{}
	byName := map[string]*inputSpec{}
	for i := range ins {
		shapes[ins[i].Name] = ins[i].Shape
		byName[ins[i].Name] = &ins[i]
	}
	m, err := engine.Load(bytes.NewReader(model), engine.Options{Threads: threads, InputShapes: shapes})
	if err != nil {
		return nil, err
	}
	k := &kagenEngine{run: m.NewSession().Run}
	for _, vi := range m.Inputs() {
		in := byName[vi.Name]
		if in == nil {
			return nil, fmt.Errorf("kagen: model input %q is not among the inputs ORT reports", vi.Name)
		}
		switch {
		case vi.DType.IsFloat() && kindOf(in.Type) == kindFloat:
			k.in = append(k.in, &engine.Tensor{DType: vi.DType, Shape: in.Shape, F: in.F})
		case !vi.DType.IsFloat() && kindOf(in.Type) == kindInt:
			k.in = append(k.in, &engine.Tensor{DType: vi.DType, Shape: in.Shape, I: in.I})
		default:
			return nil, fmt.Errorf("kagen: input %q is %v, ORT says %s", vi.Name, vi.DType, typeName(in.Type))
		}
	}
	for _, vi := range m.Outputs() {
		k.names = append(k.names, vi.Name)
	}
	return k, nil
}

func (k *kagenEngine) Run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	k.out, err = k.run(k.in) // valid until the next Run
	return err
}

func (k *kagenEngine) Outputs() []Output {
	outs := make([]Output, len(k.out))
	for i, t := range k.out {
		outs[i] = Output{Name: k.names[i], Shape: t.Shape, F: t.F, I: t.I}
		if t.DType.IsFloat() {
			outs[i].I = nil
		} else {
			outs[i].F = nil
		}
	}
	return outs
}

func (k *kagenEngine) Close() {}

// kagenSupportedOps lists the op types the engine implements.
func kagenSupportedOps() []string { return engine.SupportedOps() }
