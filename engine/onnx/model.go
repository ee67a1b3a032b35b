package onnx

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is a decoded ModelProto.
type Model struct {
	// IRVersion is the ONNX IR version the file was written with.
	IRVersion int64
	// ProducerName and ProducerVersion name the tool that wrote the file.
	ProducerName, ProducerVersion string
	// Domain is the model's reverse-DNS namespace.
	Domain string
	// ModelVersion is the producer's version of the model.
	ModelVersion int64
	// Opsets maps each imported operator set domain to its version. The
	// default domain is stored under "" (an import of "ai.onnx" is mapped
	// to "" as well).
	Opsets map[string]int64
	// Metadata holds metadata_props.
	Metadata map[string]string
	// Graph is the main graph; Decode fails if the file has none.
	Graph *Graph
}

// Graph is a decoded GraphProto.
type Graph struct {
	// Name is the graph name.
	Name string
	// Nodes lists the nodes in file order (topologically sorted in valid models).
	Nodes []*Node
	// Initializers are the constant tensors of the graph.
	Initializers []*Tensor
	// Inputs, Outputs and ValueInfo describe graph inputs, graph outputs and
	// intermediate values.
	Inputs, Outputs, ValueInfo []*ValueInfo
	// SparseInitializers counts sparse_initializer entries, which are not
	// decoded; the engine refuses graphs that have any.
	SparseInitializers int
}

// Node is a decoded NodeProto.
type Node struct {
	// Name is the optional node name.
	Name string
	// OpType is the operator, such as "Conv".
	OpType string
	// Domain is the operator set domain ("" for ai.onnx; "ai.onnx" is
	// mapped to "").
	Domain string
	// Inputs and Outputs name the values the node consumes and produces;
	// an empty name marks an omitted optional input or output.
	Inputs, Outputs []string
	// Attrs are the node attributes in file order.
	Attrs []*Attribute
	// Index is the node's position in Graph.Nodes.
	Index int
}

// AttrType is an attribute type in ONNX AttributeProto.AttributeType numbering.
type AttrType int32

// AttributeProto.AttributeType values.
const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = [...]string{"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
	"STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"}

// String returns the ONNX name of the attribute type, such as "INTS".
func (t AttrType) String() string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return "AttrType(" + strconv.Itoa(int(t)) + ")"
}

// Attribute is a decoded AttributeProto. Type selects the meaningful field.
// Tensor-list, sparse-tensor and type-proto values are not decoded.
type Attribute struct {
	// Name is the attribute name.
	Name string
	// Type is the declared type, or for old files without one the type
	// implied by the value present.
	Type AttrType
	// F is the FLOAT value.
	F float32
	// I is the INT value.
	I int64
	// S is the STRING value.
	S []byte
	// T is the TENSOR value.
	T *Tensor
	// Floats is the FLOATS value.
	Floats []float32
	// Ints is the INTS value.
	Ints []int64
	// Strings is the STRINGS value.
	Strings [][]byte
	// G is the GRAPH value (an If branch, a Loop or Scan body).
	G *Graph
	// Graphs is the GRAPHS value.
	Graphs []*Graph
	// HasGraph reports that the attribute carries a graph or graphs (If,
	// Loop, Scan bodies), decoded into G or Graphs.
	HasGraph bool
	// RefAttrName, inside function bodies, names the function attribute
	// this attribute refers to.
	RefAttrName string
}

// ValueInfo is a decoded ValueInfoProto.
type ValueInfo struct {
	// Name is the value name.
	Name string
	// ElemType is the tensor element type (TensorProto.DataType numbering).
	ElemType int32
	// Dims is the tensor shape when HasShape is set.
	Dims []Dim
	// HasShape reports whether a shape (possibly of rank 0) is declared.
	HasShape bool
	// IsTensor reports whether the type is a dense tensor type; other types
	// (sequences, maps, optionals, sparse tensors) are not decoded.
	IsTensor bool
	// Kind is the kind of type declared (TypeTensor when IsTensor).
	Kind TypeKind
}

// TypeKind is the kind of a TypeProto: which of its value fields is set.
type TypeKind int8

// TypeProto kinds.
const (
	TypeUndeclared TypeKind = iota
	TypeTensor
	TypeSequence
	TypeMap
	TypeOptional
	TypeSparseTensor
	TypeOpaque
)

var typeKindNames = [...]string{"undeclared type", "tensor", "sequence", "map", "optional", "sparse tensor", "opaque"}

// String returns a readable name of the kind, such as "sequence".
func (k TypeKind) String() string {
	if k >= 0 && int(k) < len(typeKindNames) {
		return typeKindNames[k]
	}
	return "TypeKind(" + strconv.Itoa(int(k)) + ")"
}

// Dim is one dimension of a ValueInfo shape.
type Dim struct {
	// Value is the dimension size when Known, as written in the file (not
	// validated: a malformed file may hold a negative value).
	Value int64
	// Param is the symbolic name of an unknown dimension, if any.
	Param string
	// Known reports whether Value is set.
	Known bool
}

// Opset returns the version of the default (ai.onnx) operator set, or 0 if
// the model does not import it.
func (m *Model) Opset() int64 { return m.Opsets[""] }

// Decode decodes a serialized ModelProto (an .onnx file).
func Decode(data []byte, lim Limits) (*Model, error) {
	md, err := decodeModel(msg{b: data, path: "model"}, lim)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return md, nil
}

func decodeModel(m msg, lim Limits) (*Model, error) {
	md := &Model{Opsets: map[string]int64{}, Metadata: map[string]string{}}
	var nOpset, nMeta int
	err := m.each(func(f field) error {
		var err error
		var v uint64
		switch f.num {
		case 1:
			v, err = m.varint(f, "ir_version")
			md.IRVersion = int64(v)
		case 2:
			md.ProducerName, err = m.str(f, "producer_name")
		case 3:
			md.ProducerVersion, err = m.str(f, "producer_version")
		case 4:
			md.Domain, err = m.str(f, "domain")
		case 5:
			v, err = m.varint(f, "model_version")
			md.ModelVersion = int64(v)
		case 7:
			if md.Graph != nil {
				return m.errf("second graph at byte %d", f.off)
			}
			var g msg
			if g, err = m.embedded(f, "graph", "graph"); err == nil {
				md.Graph, err = decodeGraph(g, lim, 0)
			}
		case 8:
			var s msg
			if s, err = m.embedded(f, "opset_import", fmt.Sprintf("model.opset_import[%d]", nOpset)); err == nil {
				err = decodeOpset(s, md.Opsets)
			}
			nOpset++
		case 14:
			var s msg
			if s, err = m.embedded(f, "metadata_props", fmt.Sprintf("model.metadata_props[%d]", nMeta)); err == nil {
				var k, v string
				if k, v, err = decodeStringPair(s); err == nil {
					md.Metadata[k] = v
				}
			}
			nMeta++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if md.Graph == nil {
		return nil, m.errf("no graph")
	}
	return md, nil
}

func decodeOpset(m msg, opsets map[string]int64) error {
	var domain string
	var version uint64
	err := m.each(func(f field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = m.str(f, "domain")
		case 2:
			version, err = m.varint(f, "version")
		}
		return err
	})
	if err != nil {
		return err
	}
	if domain == "ai.onnx" {
		domain = ""
	}
	if old, ok := opsets[domain]; ok && old != int64(version) {
		return m.errf("domain %q imported twice, as versions %d and %d", domain, old, int64(version))
	}
	opsets[domain] = int64(version)
	return nil
}

func decodeStringPair(m msg) (key, value string, err error) {
	err = m.each(func(f field) error {
		var err error
		switch f.num {
		case 1:
			key, err = m.str(f, "key")
		case 2:
			value, err = m.str(f, "value")
		}
		return err
	})
	return key, value, err
}

// decodeGraph decodes a GraphProto; depth is 0 for the main graph and one
// more for each enclosing graph attribute.
func decodeGraph(m msg, lim Limits, depth int) (*Graph, error) {
	if depth > lim.maxDepth() {
		return nil, m.errf("graphs nested deeper than %d levels", lim.maxDepth())
	}
	g := &Graph{}
	err := m.each(func(f field) error {
		var err error
		var s msg
		switch f.num {
		case 1:
			i := len(g.Nodes)
			if s, err = m.embedded(f, "node", fmt.Sprintf("%s.node[%d]", m.path, i)); err == nil {
				var n *Node
				n, err = decodeNode(s, lim, depth)
				if n != nil {
					n.Index = i
					g.Nodes = append(g.Nodes, n)
				}
			}
		case 2:
			g.Name, err = m.str(f, "name")
		case 5:
			path := fmt.Sprintf("%s.initializer[%d]", m.path, len(g.Initializers))
			if s, err = m.embedded(f, "initializer", path); err == nil {
				var t *Tensor
				if t, err = decodeTensor(s, path, lim); err == nil {
					g.Initializers = append(g.Initializers, t)
				}
			}
		case 11, 12, 13:
			list, name := &g.Inputs, "input"
			if f.num == 12 {
				list, name = &g.Outputs, "output"
			} else if f.num == 13 {
				list, name = &g.ValueInfo, "value_info"
			}
			if s, err = m.embedded(f, name, fmt.Sprintf("%s.%s[%d]", m.path, name, len(*list))); err == nil {
				var vi *ValueInfo
				if vi, err = decodeValueInfo(s); err == nil {
					*list = append(*list, vi)
				}
			}
		case 15:
			if f.typ != protowire.BytesType {
				return m.wireErr(f, "sparse_initializer")
			}
			g.SparseInitializers++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// peek returns the string values of fields 'name' and 'kind' of m without
// reporting errors; it only serves to label the paths of later errors.
func (m msg) peek(name, kind protowire.Number) (string, string) {
	var a, b string
	_ = m.each(func(f field) error {
		if f.typ == protowire.BytesType {
			switch f.num {
			case name:
				a = string(f.b)
			case kind:
				b = string(f.b)
			}
		}
		return nil
	})
	return a, b
}

func decodeNode(m msg, lim Limits, depth int) (*Node, error) {
	name, op := m.peek(3, 4)
	if name != "" {
		m.path += fmt.Sprintf(" %q", name)
	}
	if op != "" {
		m.path += fmt.Sprintf(" (%s)", op)
	}
	n := &Node{}
	err := m.each(func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			s, err = m.str(f, "input")
			n.Inputs = append(n.Inputs, s)
		case 2:
			s, err = m.str(f, "output")
			n.Outputs = append(n.Outputs, s)
		case 3:
			n.Name, err = m.str(f, "name")
		case 4:
			n.OpType, err = m.str(f, "op_type")
		case 7:
			n.Domain, err = m.str(f, "domain")
		case 5:
			var a msg
			if a, err = m.embedded(f, "attribute", fmt.Sprintf("%s attribute[%d]", m.path, len(n.Attrs))); err == nil {
				var at *Attribute
				if at, err = decodeAttribute(a, m.path, lim, depth); err == nil {
					n.Attrs = append(n.Attrs, at)
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	return n, nil
}

func decodeAttribute(m msg, nodePath string, lim Limits, depth int) (*Attribute, error) {
	if name, _ := m.peek(1, 0); name != "" {
		m.path = fmt.Sprintf("%s attribute %q", nodePath, name)
	}
	a := &Attribute{}
	var implied AttrType // type implied by the values present, for files without a type
	err := m.each(func(f field) error {
		var err error
		var v uint64
		switch f.num {
		case 1:
			a.Name, err = m.str(f, "name")
		case 20:
			v, err = m.varint(f, "type")
			a.Type = AttrType(int32(v))
		case 21:
			a.RefAttrName, err = m.str(f, "ref_attr_name")
		case 2:
			if f.typ != protowire.Fixed32Type {
				return m.wireErr(f, "f")
			}
			a.F, implied = math.Float32frombits(uint32(f.u)), AttrFloat
		case 3:
			v, err = m.varint(f, "i")
			a.I, implied = int64(v), AttrInt
		case 4:
			a.S, err = m.bytes(f, "s")
			implied = AttrString
		case 5:
			var t msg
			if t, err = m.embedded(f, "t", m.path); err == nil {
				a.T, err = decodeTensor(t, m.path, lim)
			}
			implied = AttrTensor
		case 6:
			if a.G != nil {
				return m.errf("second graph at byte %d", f.off)
			}
			var g msg
			if g, err = m.embedded(f, "g", m.path+" graph"); err == nil {
				a.G, err = decodeGraph(g, lim, depth+1)
			}
			a.HasGraph, implied = true, AttrGraph
		case 11:
			var g msg
			if g, err = m.embedded(f, "graphs", fmt.Sprintf("%s graphs[%d]", m.path, len(a.Graphs))); err == nil {
				var sg *Graph
				if sg, err = decodeGraph(g, lim, depth+1); err == nil {
					a.Graphs = append(a.Graphs, sg)
				}
			}
			a.HasGraph, implied = true, AttrGraphs
		case 7:
			err = m.scalars(f, "floats", 4, func(v uint64) { a.Floats = append(a.Floats, math.Float32frombits(uint32(v))) })
			implied = AttrFloats
		case 8:
			err = m.scalars(f, "ints", 0, func(v uint64) { a.Ints = append(a.Ints, int64(v)) })
			implied = AttrInts
		case 9:
			var s []byte
			s, err = m.bytes(f, "strings")
			a.Strings = append(a.Strings, s)
			implied = AttrStrings
		case 10:
			implied = AttrTensors
		case 22:
			implied = AttrSparseTensor
		case 23:
			implied = AttrSparseTensors
		case 14:
			implied = AttrTypeProto
		case 15:
			implied = AttrTypeProtos
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if a.Type == AttrUndefined {
		a.Type = implied
	}
	return a, nil
}

func decodeValueInfo(m msg) (*ValueInfo, error) {
	if name, _ := m.peek(1, 0); name != "" {
		m.path += fmt.Sprintf(" %q", name)
	}
	vi := &ValueInfo{}
	err := m.each(func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.Name, err = m.str(f, "name")
		case 2:
			var t msg
			if t, err = m.embedded(f, "type", m.path+" type"); err == nil {
				err = decodeType(t, vi)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return vi, nil
}

// decodeType decodes a TypeProto into vi; only tensor types are looked into.
func decodeType(m msg, vi *ValueInfo) error {
	return m.each(func(f field) error {
		switch f.num {
		case 4:
			vi.Kind = TypeSequence
		case 5:
			vi.Kind = TypeMap
		case 7:
			vi.Kind = TypeOpaque
		case 8:
			vi.Kind = TypeSparseTensor
		case 9:
			vi.Kind = TypeOptional
		}
		if f.num != 1 {
			return nil
		}
		t, err := m.embedded(f, "tensor_type", m.path)
		if err != nil {
			return err
		}
		vi.IsTensor, vi.Kind = true, TypeTensor
		return t.each(func(f field) error {
			var err error
			var v uint64
			switch f.num {
			case 1:
				v, err = t.varint(f, "elem_type")
				vi.ElemType = int32(v)
			case 2:
				var s msg
				if s, err = t.embedded(f, "shape", t.path+" shape"); err == nil {
					vi.HasShape = true
					vi.Dims, err = decodeShape(s)
				}
			}
			return err
		})
	})
}

func decodeShape(m msg) ([]Dim, error) {
	var dims []Dim
	err := m.each(func(f field) error {
		if f.num != 1 {
			return nil
		}
		s, err := m.embedded(f, "dim", fmt.Sprintf("%s dim[%d]", m.path, len(dims)))
		if err != nil {
			return err
		}
		var d Dim
		err = s.each(func(f field) error {
			var err error
			var v uint64
			switch f.num {
			case 1:
				v, err = s.varint(f, "dim_value")
				d.Value, d.Known, d.Param = int64(v), true, ""
			case 2:
				d.Param, err = s.str(f, "dim_param")
				d.Value, d.Known = 0, false
			}
			return err
		})
		dims = append(dims, d)
		return err
	})
	return dims, err
}
