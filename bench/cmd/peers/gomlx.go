package main

import (
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
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
	ins     []inputSpec
	names   []string
	outs    []Output
}

func newGoMLX(model []byte, ins []inputSpec, threads int) (e Engine, err error) {
	defer func() {
		// GoMLX graph building reports errors by panicking.
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("gomlx: %v", r)
		}
	}()
	for _, in := range ins {
		if in.Type != onnxFloat && in.Type != onnxInt64 && in.Type != onnxBool {
			return nil, fmt.Errorf("gomlx adapter: input %q is %s (float32, int64 and bool only)", in.Name, typeName(in.Type))
		}
	}
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
	names := m.OutputsNames
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, xs []*Node) []*Node {
		byName := map[string]*Node{}
		for i, in := range ins {
			byName[in.Name] = xs[i]
		}
		return m.CallGraph(ctx, xs[0].Graph(), byName, names...)
	})
	if err != nil {
		return nil, err
	}
	g := &gomlxEngine{backend: backend, exec: exec, ins: ins, names: names}
	// The first run JIT-"compiles" the graph for these input shapes; the
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
	args := make([]any, len(g.ins))
	for i, in := range g.ins {
		switch in.Type {
		case onnxFloat:
			args[i] = tensors.FromFlatDataAndDimensions(in.F, in.Shape...)
		case onnxInt64:
			args[i] = tensors.FromFlatDataAndDimensions(in.I, in.Shape...)
		case onnxBool:
			b := make([]bool, len(in.I))
			for j, v := range in.I {
				b[j] = v != 0
			}
			args[i] = tensors.FromFlatDataAndDimensions(b, in.Shape...)
		}
	}
	outs, err := g.exec.Exec(args...)
	for _, a := range args {
		a.(*tensors.Tensor).FinalizeAll()
	}
	if err != nil {
		return err
	}
	old := g.outs // float buffers are reused, as the single-output adapter did
	g.outs = g.outs[:0]
	for i, o := range outs {
		var buf []float32
		if i < len(old) {
			buf = old[i].F[:0]
		}
		out := Output{Name: g.names[i], Shape: o.Shape().Dimensions}
		switch o.DType() {
		case dtypes.Float32:
			err = tensors.ConstFlatData(o, func(flat []float32) { out.F = append(buf, flat...) })
		case dtypes.Float64:
			err = tensors.ConstFlatData(o, func(flat []float64) { out.F = make([]float32, len(flat)); convert(out.F, flat) })
		case dtypes.Int64:
			err = tensors.ConstFlatData(o, func(flat []int64) { out.I = append([]int64(nil), flat...) })
		case dtypes.Int32:
			err = tensors.ConstFlatData(o, func(flat []int32) { out.I = toI(flat) })
		case dtypes.Bool:
			err = tensors.ConstFlatData(o, func(flat []bool) {
				for _, b := range flat {
					out.I = append(out.I, map[bool]int64{false: 0, true: 1}[b])
				}
			})
		default:
			err = fmt.Errorf("gomlx adapter: output %q is %v", g.names[i], o.DType())
		}
		if err != nil {
			break
		}
		g.outs = append(g.outs, out)
	}
	for _, o := range outs {
		o.FinalizeAll()
	}
	return err
}

func (g *gomlxEngine) Outputs() []Output { return g.outs }

func (g *gomlxEngine) Close() {
	g.exec.Finalize()
	g.backend.Finalize()
}
