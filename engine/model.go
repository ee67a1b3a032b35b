package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// DefaultMaxBytes is the default limit on the size of a model file and of
// any tensor the engine allocates while loading it.
const DefaultMaxBytes = 1 << 30

// Options control how a model is loaded and planned.
type Options struct {
	// InputShapes binds the shapes of graph inputs by name. Inputs not
	// listed get their declared shape, with symbolic or unknown dimensions
	// set to 1 (batch 1).
	InputShapes map[string][]int
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
	producer  string
	passes    []PassStat
	inputs    []ValueInfo
	outputs   []ValueInfo
	steps     []step
	plan      memPlan
	scratch   int
	nodeIndex map[string]int
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

// loadDecoded runs the pipeline on a decoded model.
func loadDecoded(pm *onnx.Model, sha string, opts Options) (*Model, error) {
	g, err := buildGraph(pm, &opts)
	if err != nil {
		return nil, err
	}
	m := &Model{g: g, opts: opts, sha256: sha, metadata: pm.Metadata, opset: g.opset, producer: pm.ProducerName}
	for _, p := range pipeline {
		n, err := p.run(g, &opts)
		if err != nil {
			return nil, err
		}
		m.passes = append(m.passes, PassStat{Name: p.name, Changed: n})
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

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

// Opset returns the model's ai.onnx opset version.
func (m *Model) Opset() int64 { return m.opset }

// Inputs describes the model's runtime inputs in order.
func (m *Model) Inputs() []ValueInfo { return m.inputs }

// Outputs describes the model's outputs in order.
func (m *Model) Outputs() []ValueInfo { return m.outputs }

// Passes reports what each graph pass changed when the model was loaded.
func (m *Model) Passes() []PassStat { return m.passes }

// readAllLimited reads at most limit bytes.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("larger than the limit of %d bytes", limit)
	}
	return b.Bytes(), nil
}
