package onnx_test

import (
	"fmt"
	"log"

	"github.com/kagen-ai/kagen/engine/onnx"
	"google.golang.org/protobuf/encoding/protowire"
)

// field appends a length-delimited protobuf field.
func field(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// varint appends a varint protobuf field.
func varint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func ExampleDecode() {
	// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5.
	axis := varint(varint(field(nil, 1, []byte("axis")), 20, 2), 3, 1) // AttributeProto axis: INT 1
	softmax := field(field(field(field(field(nil, 1, []byte("x")), 2, []byte("y")), 3, []byte("sm")), 4, []byte("Softmax")), 5, axis)
	relu := field(field(field(nil, 1, []byte("y")), 2, []byte("z")), 4, []byte("Relu"))
	graph := field(field(field(nil, 1, softmax), 1, relu), 2, []byte("tiny"))
	opset := varint(nil, 2, 13)                                  // OperatorSetIdProto: domain "", version 13
	model := field(field(varint(nil, 1, 8), 8, opset), 7, graph) // ModelProto: ir_version, opset_import, graph

	m, err := onnx.Decode(model, onnx.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("graph %q, opset %d\n", m.Graph.Name, m.Opset())
	for _, n := range m.Graph.Nodes {
		fmt.Printf("node %d %q: %s %v -> %v", n.Index, n.Name, n.OpType, n.Inputs, n.Outputs)
		for _, a := range n.Attrs {
			fmt.Printf(" %s:%s=%d", a.Name, a.Type, a.I)
		}
		fmt.Println()
	}
	// Output:
	// graph "tiny", opset 13
	// node 0 "sm": Softmax [x] -> [y] axis:INT=1
	// node 1 "": Relu [y] -> [z]
}
