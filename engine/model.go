package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// DefaultMaxBytes is the default limit on the size of a model file and of
// any tensor the engine allocates while loading it.
const DefaultMaxBytes = 1 << 30

// Options control how a model is loaded and planned.
type Options struct {
	// InputShapes binds the shapes of graph inputs by name. Inputs not
	// listed get their declared shape, with symbolic dimensions taken from
	// Dims and any other unknown dimension set to 1 (batch 1).
	InputShapes map[string][]int
	// Dims binds symbolic input dimensions by name (for example time=98).
	// Naming a dimension no input has is an error.
	Dims map[string]int
	// Constants binds graph inputs to constant values at planning time (for
	// example a Reshape's shape input that a test feeds as a graph input).
	Constants map[string]*Tensor
	// Threads is the number of threads a session uses; 0 or 1 means one.
	Threads int
	// MaxBytes limits the model file and every tensor allocated while
	// loading; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Name is used in error messages (typically the file name).
	Name string
}

func (o *Options) limit() int64 {
	if o == nil || o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

// ValueInfo describes a graph input or output of a planned model.
type ValueInfo struct {
	Name  string
	DType DType
	Shape []int
}

// Model is a loaded, optimised and planned ONNX model. It is immutable and
// may be shared by any number of Sessions on any number of goroutines.
type Model struct {
	g         *graph
	opts      Options
	sha256    string
	metadata  map[string]string
	opset     int64
	warnings  []string
	producer  string
	passes    []PassStat
	inputs    []ValueInfo
	outputs   []ValueInfo
	steps     []step
	plan      memPlan
	scratch   int
	nodeIndex map[string]int
	// subs are the compiled subgraphs (If branches, Loop and Scan
	// bodies), indexed by subPlan.id.
	subs []*subPlan
	// pm is the decoded model, kept to plan it again for other input
	// shapes; variants caches those plans (shared with them).
	pm       *onnx.Model
	variants *variantCache
}

// maxVariants bounds the input shape sets a Model keeps plans for.
const maxVariants = 16

// variantCache holds the plans of a model for input shapes other than the
// ones it was loaded with. It is safe for concurrent use.
type variantCache struct {
	mu    sync.Mutex
	byKey map[string]*Model
	order []string // oldest first
}

// Load reads an ONNX model from r, decodes it, runs the graph passes and
// plans its execution.
func Load(r io.Reader, opts Options) (*Model, error) {
	limit := opts.limit()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, wrapName(opts.Name, fmt.Errorf("reading model: %w", err))
	}
	if int64(len(data)) > limit {
		return nil, wrapName(opts.Name, fmt.Errorf("model is larger than the limit of %d bytes", limit))
	}
	return LoadBytes(data, opts)
}

// LoadBytes is Load for a model already in memory.
func LoadBytes(data []byte, opts Options) (*Model, error) {
	m, err := loadBytes(data, opts)
	return m, wrapName(opts.Name, err)
}

// variant returns the model planned for the shapes of inputs (in the order
// of Inputs), planning it on first use. Constants, Dims and the other
// options are those the model was loaded with.
func (m *Model) variant(inputs []*Tensor) (*Model, error) {
	var kb strings.Builder
	for _, t := range inputs {
		for _, d := range t.Shape {
			kb.WriteString(strconv.Itoa(d))
			kb.WriteByte(',')
		}
		kb.WriteByte(';')
	}
	key := kb.String()
	vc := m.variants
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if v := vc.byKey[key]; v != nil {
		return v, nil
	}
	opts := m.opts
	opts.InputShapes = map[string][]int{}
	for k, v := range m.opts.InputShapes {
		opts.InputShapes[k] = v
	}
	for i, vi := range m.inputs {
		opts.InputShapes[vi.Name] = append([]int(nil), inputs[i].Shape...)
	}
	// Passes never modify constants in place, so the plans of all shapes
	// share the decoded weights.
	v, err := loadDecoded(m.pm, m.sha256, opts)
	if err != nil {
		return nil, wrapName(opts.Name, fmt.Errorf("planning for input shapes %s: %w", shapesOf(inputs, m.inputs), err))
	}
	v.variants = vc
	if len(vc.order) >= maxVariants {
		delete(vc.byKey, vc.order[0])
		vc.order = vc.order[1:]
	}
	vc.byKey[key] = v
	vc.order = append(vc.order, key)
	return v, nil
}

// shapesOf describes the shapes of named inputs.
func shapesOf(inputs []*Tensor, vis []ValueInfo) string {
	var parts []string
	for i, t := range inputs {
		parts = append(parts, fmt.Sprintf("%s%v", vis[i].Name, t.Shape))
	}
	return strings.Join(parts, " ")
}

func wrapName(name string, err error) error {
	if err == nil || name == "" {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

func loadBytes(data []byte, opts Options) (*Model, error) {
	pm, err := onnx.Decode(data, onnx.Limits{MaxBytes: opts.limit()})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return loadDecoded(pm, hex.EncodeToString(sum[:]), opts)
}

// loadDecoded runs the pipeline on a decoded model. When planning fails
// and some input dimension was set to 1 for want of a binding, the error
// says which one to bind (see dimHint).
func loadDecoded(pm *onnx.Model, sha string, opts Options) (*Model, error) {
	m, ctx, err := planDecoded(pm, sha, opts)
	if err != nil && ctx != nil && len(ctx.defaulted) > 0 {
		err = dimHint(pm, sha, opts, ctx.defaulted, err)
	}
	return m, err
}

// planDecoded builds, passes and compiles a decoded model.
func planDecoded(pm *onnx.Model, sha string, opts Options) (*Model, *loadContext, error) {
	g, err := buildGraph(pm, &opts)
	if err != nil {
		return nil, nil, err
	}
	g.ctx.passes, g.ctx.changed = pipeline, make([]int, len(pipeline))
	m := &Model{g: g, opts: opts, sha256: sha, metadata: pm.Metadata, opset: g.opset, producer: pm.ProducerName, warnings: g.ctx.warnings,
		pm: pm, variants: &variantCache{byKey: map[string]*Model{}}}
	if m.passes, err = runPasses(g); err != nil {
		return nil, g.ctx, err
	}
	if err := m.compile(); err != nil {
		return nil, g.ctx, err
	}
	return m, g.ctx, nil
}

// trialDim is the size dimHint tries for a dimension set to 1 by default.
const trialDim = 256

// dimHint adds to a planning error which input dimension, set to 1 because
// nothing bound it, the error comes from: the model is planned again with
// each symbolic dimension in turn at trialDim (leading ones last), and the
// first that plans names the binding to give. Otherwise the defaulted dimensions are listed.
// A missing operator or a constant-input error is returned as it is.
func dimHint(pm *onnx.Model, sha string, opts Options, dd []defaultedDim, err error) error {
	var ce *ConstantInputError
	var u *UnsupportedError
	if errors.As(err, &ce) || errors.As(err, &u) && u.What == "" {
		return err
	}
	// Leading dimensions (a batch, usually) are tried last.
	order := append([]defaultedDim(nil), dd...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].axis > 0 && order[j].axis == 0 })
	tried := map[string]bool{}
	for _, d := range order {
		if d.param == "" || tried[d.param] {
			continue
		}
		tried[d.param] = true
		o := opts
		o.Dims = map[string]int{d.param: trialDim}
		for k, v := range opts.Dims {
			o.Dims[k] = v
		}
		if _, _, e := planDecoded(pm, sha, o); e == nil {
			return &DimError{Err: err, Input: d.input, Axis: d.axis, Dim: d.param}
		}
	}
	var list []string
	for _, d := range dd {
		if d.param != "" {
			list = append(list, fmt.Sprintf("input %q dimension %d (%s)", d.input, d.axis, d.param))
		} else {
			list = append(list, fmt.Sprintf("input %q dimension %d (unnamed)", d.input, d.axis))
		}
	}
	return fmt.Errorf("%w (set to 1 by default: %s; bind symbolic dimensions with --dim NAME=N or Options.Dims, give whole shapes with Options.InputShapes)", err, strings.Join(list, ", "))
}

// DimError is a planning error caused by a symbolic input dimension left
// at its default of 1: planning succeeds with a larger value.
type DimError struct {
	Err   error
	Input string // the graph input
	Axis  int    // its dimension
	Dim   string // the symbolic name to bind
}

func (e *DimError) Error() string {
	return fmt.Sprintf("%v (input %q dimension %d (%s) was set to 1 by default: bind it with --dim %s=N or Options.Dims)", e.Err, e.Input, e.Axis, e.Dim, e.Dim)
}

// Unwrap returns the planning error.
func (e *DimError) Unwrap() error { return e.Err }

// LoadFile is a convenience wrapper around Load for a file on disk.
func LoadFile(path string, opts Options) (*Model, error) {
	if opts.Name == "" {
		opts.Name = path
	}
	data, err := readFileLimited(path, opts.limit())
	if err != nil {
		return nil, err
	}
	return LoadBytes(data, opts)
}

// SHA256 returns the hex SHA-256 of the model file.
func (m *Model) SHA256() string { return m.sha256 }

// Metadata returns the model's metadata_props value for key.
func (m *Model) Metadata(key string) (string, bool) {
	v, ok := m.metadata[key]
	return v, ok
}

// Warnings returns what the load found suspicious but not wrong enough
// to refuse: initializers holding NaN or infinite values, each named.
func (m *Model) Warnings() []string { return m.warnings }

// Opset returns the model's ai.onnx opset version.
func (m *Model) Opset() int64 { return m.opset }

// Inputs describes the model's runtime inputs in order.
func (m *Model) Inputs() []ValueInfo { return m.inputs }

// Outputs describes the model's outputs in order.
func (m *Model) Outputs() []ValueInfo { return m.outputs }

// Passes reports what each graph pass changed when the model was loaded.
func (m *Model) Passes() []PassStat { return m.passes }
