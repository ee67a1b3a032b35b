package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keeps fuzzing memory modest.
var fuzzLimits = Limits{MaxBytes: 1 << 24}

// checkTensor verifies the invariants of a successfully decoded tensor.
func checkTensor(t *testing.T, tn *Tensor) {
	n, err := tn.NumElements()
	if err != nil {
		t.Fatalf("decoded tensor %q has bad dims: %v", tn.Name, err)
	}
	got := int64(len(tn.Floats) + len(tn.Doubles) + len(tn.Ints) + len(tn.Uint64s) + len(tn.Strings))
	if got != n || tn.External {
		t.Fatalf("decoded tensor %q (type %d, dims %v) has %d elements, external %v", tn.Name, tn.DataType, tn.Dims, got, tn.External)
	}
}

// checkGraph verifies the invariants of a decoded graph and its subgraphs.
func checkGraph(t *testing.T, g *Graph, depth int) {
	if depth > fuzzLimits.maxDepth() {
		t.Fatalf("graph decoded at depth %d", depth)
	}
	for i, n := range g.Nodes {
		if n.Index != i {
			t.Fatalf("node %d has Index %d", i, n.Index)
		}
		for _, a := range n.Attrs {
			if a.T != nil {
				checkTensor(t, a.T)
			}
			if a.G != nil {
				checkGraph(t, a.G, depth+1)
			}
			for _, sg := range a.Graphs {
				checkGraph(t, sg, depth+1)
			}
		}
	}
	for _, in := range g.Initializers {
		checkTensor(t, in)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(model(testGraph())))
	f.Add([]byte(model(pb{}.msg(1, node("c", "Constant", nil, []string{"k"},
		pb{}.str(1, "value").int(20, int64(AttrTensor)).msg(5, pb{}.str(tfName, "k").int(tfDataType, dtFloat16).dims(2).packedVarints(tfInt32Data, 0x3c00, 1)))))))
	f.Add([]byte(model(pb{}.msg(1, node("", "If", []string{"c"}, []string{"y"},
		pb{}.str(1, "then_branch").int(20, int64(AttrGraph)).msg(6, testGraph()))))))
	f.Add([]byte(model(pb{}.msg(1, node("", "If", []string{"c"}, []string{"y"},
		pb{}.str(1, "else_branch").int(20, int64(AttrGraph)).msg(6, pb{}.msg(1, node("", "Loop", nil, nil,
			pb{}.str(1, "body").msg(6, testGraph())))))))))
	if models, err := libonnxModelsIfPresent(); err == nil {
		for _, p := range models {
			if data, err := os.ReadFile(p); err == nil && len(data) < 4096 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, fuzzLimits)
		if err != nil {
			if m != nil {
				t.Fatal("model and error both returned")
			}
			return
		}
		checkGraph(t, m.Graph, 0)
	})
}

func FuzzDecodeTensor(f *testing.F) {
	f.Add([]byte(floatTensor("w", []int64{2, 2}, 1, 2, 3, 4)))
	f.Add([]byte(pb{}.str(tfName, "h").int(tfDataType, dtFloat16).dims(3).bytes(tfRawData, []byte{0, 0x3c, 1, 0, 0, 0x7e})))
	f.Add([]byte(pb{}.int(tfDataType, dtInt8).dims(1, 2).packedVarints(tfInt32Data, 1, 1<<64-1)))
	f.Add([]byte(pb{}.int(tfDataType, dtString).dims(2).strs(tfStringData, "a", "bc")))
	f.Add([]byte(pb{}.int(tfDataType, dtUint64).fixed64(13, 0).varint(tfUint64Data, 1<<63)))
	if models, err := libonnxModelsIfPresent(); err == nil {
		for _, p := range models {
			pbs, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "test_data_set_0", "*.pb"))
			for _, pb := range pbs {
				if data, err := os.ReadFile(pb); err == nil && len(data) < 4096 {
					f.Add(data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tn, err := DecodeTensor(data, fuzzLimits)
		if err != nil {
			if tn != nil {
				t.Fatal("tensor and error both returned")
			}
			return
		}
		checkTensor(t, tn)
	})
}

// libonnxModelsIfPresent lists a handful of small libonnx-testdata models.
func libonnxModelsIfPresent() ([]string, error) {
	if _, err := os.Stat(libonnxTestdata); err != nil {
		return nil, err
	}
	var out []string
	for _, name := range []string{"node/test_conv_with_strides_padding", "node/test_constant", "node/test_if",
		"node/test_loop11", "node/test_cast_FLOAT_to_FLOAT16", "node/test_reshape_negative_dim", "simple/test_single_relu_model",
		"pytorch-operator/test_operator_add_broadcast", "node/test_resize_upsample_scales_linear"} {
		out = append(out, libonnxTestdata+"/"+name+"/model.onnx")
	}
	return out, nil
}
