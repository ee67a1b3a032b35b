package main

import (
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/onnx-gomlx/onnx"
)

// GoMLX runs on its pure-Go "simplego" backend (registered as "go"); the XLA
// backend (cgo + PJRT plugin) is never imported.
//
// Thread count: simplego's "parallelism=T" config sets its worker pool; for
// T == 1 "ops_sequential" also turns off running independent ops
// concurrently. GOMAXPROCS (set in main) bounds the Go side as a whole.
// gomlxConfig, when set (--gomlx-config), replaces that configuration.
var gomlxConfig string

func newGoMLXBackend(threads int) (backends.Backend, error) {
	cfg := fmt.Sprintf("parallelism=%d", threads)
	if threads == 1 {
		cfg += ",ops_sequential"
	}
	if gomlxConfig != "" {
		cfg = gomlxConfig
	}
	// simplego.New prints "parallelism set to" on stdout: keep stdout clean
	// for --json-only.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	defer func() { os.Stdout = stdout }()
	return simplego.New(cfg)
}

type gomlxEngine struct {
	backend backends.Backend
	exec    *context.Exec
	shape   []int
	data    []float32
	out     []float32
}

func newGoMLX(model []byte, in inputSpec, data []float32, threads int) (e Engine, err error) {
	defer func() {
		// GoMLX graph building reports errors by panicking.
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("gomlx: %v", r)
		}
	}()
	m, err := onnx.Parse(model)
	if err != nil {
		return nil, err
	}
	backend, err := newGoMLXBackend(threads)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	if err := m.VariablesToContext(ctx); err != nil {
		return nil, err
	}
	outName := m.OutputsNames[0]
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
		return m.CallGraph(ctx, x.Graph(), map[string]*Node{in.Name: x}, outName)[0]
	})
	if err != nil {
		return nil, err
	}
	g := &gomlxEngine{backend: backend, exec: exec, shape: in.Shape, data: data}
	// The first run JIT-"compiles" the graph for this input shape; the
	// benchmark's warm-up runs hide that.
	if err := g.Run(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *gomlxEngine) Run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gomlx: %v", r)
		}
	}()
	x := tensors.FromFlatDataAndDimensions(g.data, g.shape...)
	outs, err := g.exec.Exec(x)
	x.FinalizeAll()
	if err != nil {
		return err
	}
	err = tensors.ConstFlatData(outs[0], func(flat []float32) {
		g.out = append(g.out[:0], flat...)
	})
	for _, o := range outs {
		o.FinalizeAll()
	}
	return err
}

func (g *gomlxEngine) Output() []float32 { return g.out }

func (g *gomlxEngine) Close() {
	g.exec.Finalize()
	g.backend.Finalize()
}
