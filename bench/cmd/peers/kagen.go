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
	run func([]*engine.Tensor) ([]*engine.Tensor, error) // Session.Run
	in  []*engine.Tensor
	out []float32
}

func newKagen(model []byte, in inputSpec, data []float32, threads int) (Engine, error) {
	m, err := engine.Load(bytes.NewReader(model), engine.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	ins := m.Inputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("kagen: model has %d inputs, the bench feeds 1", len(ins))
	}
	return &kagenEngine{
		run: m.NewSession().Run,
		in:  []*engine.Tensor{engine.NewFloat(data, in.Shape...)},
	}, nil
}

func (k *kagenEngine) Run() error {
	outs, err := k.run(k.in)
	if err != nil {
		return err
	}
	k.out = outs[0].F // valid until the next Run
	return nil
}

func (k *kagenEngine) Output() []float32 { return k.out }
func (k *kagenEngine) Close()            {}
