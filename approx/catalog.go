package approx

// Family is one entry of the knob catalog.
type Family struct {
	// ID is the knob's name in configurations ("perf-row").
	ID string
	// Name says what it does.
	Name string
	// Params describes the parameters and their ranges.
	Params string
	// Ops lists the ONNX operators it applies to.
	Ops []string
	// Composes lists the families it can be joined with by "+".
	Composes []string
}

// Catalog lists the knob families. It is data: the rest of the package
// derives applicability from it.
var Catalog = []Family{
	{ID: "fp32", Name: "exact single precision", Params: "-", Ops: []string{"*"}},
	{ID: "perf-row", Name: "output perforation of rows (time steps of 1-D convolutions): skipped rows are rebuilt from their computed neighbours",
		Params: "STRIDE in {2,3,4}, OFFSET in [0,STRIDE)", Ops: []string{"Conv"}, Composes: []string{"fp16", "int8"}},
	{ID: "perf-col", Name: "output perforation of columns (2-D convolutions only)",
		Params: "STRIDE in {2,3,4}, OFFSET in [0,STRIDE)", Ops: []string{"Conv"}, Composes: []string{"fp16", "int8"}},
	{ID: "samp", Name: "filter sampling: every STRIDE-th filter tap is dropped, the rest scaled by S/(S-1); the GEMM's K shrinks",
		Params: "STRIDE in {2,3,4}, OFFSET in [0,STRIDE)", Ops: []string{"Conv"}, Composes: []string{"fp16", "int8"}},
	{ID: "red", Name: "reduction sampling: a regular fraction R of each dot product's terms, rescaled by 1/R (MatMul of two activations, as in attention: fp32 only; LSTM/GRU/RNN: the input projection's terms, the input features)",
		Params: "R in {0.5, 0.6, 0.75}", Ops: []string{"Gemm", "MatMul", "LSTM", "GRU", "RNN"}, Composes: []string{"fp16", "int8"}},
	{ID: "hold", Name: "temporal: the recurrent state is updated on all but every STRIDE-th step; on those it is held and the output repeats it (error model: docs/knobs.md)",
		Params: "STRIDE in {2,3,4}, OFFSET in [0,STRIDE)", Ops: []string{"LSTM", "GRU", "RNN"}, Composes: []string{"fp16", "int8"}},
	{ID: "fp16", Name: "weights and activations held in half precision (LSTM/GRU/RNN of 128 hidden units or more: the weights of the input and recurrent projections)", Params: "-", Ops: []string{"Conv", "Gemm", "MatMul", "LSTM", "GRU", "RNN"}},
	{ID: "int8", Name: "per-output-channel symmetric int8 weights, int8 activations, int32 accumulation (LSTM/GRU/RNN: the input projection, and the recurrent product from 256 columns, gates x hidden, or 128 hidden units)", Params: "-", Ops: []string{"Conv", "Gemm", "MatMul", "LSTM", "GRU", "RNN"}},
}

// FamilyNames lists the catalog's knob IDs.
func FamilyNames() []string {
	out := make([]string, len(Catalog))
	for i, f := range Catalog {
		out[i] = f.ID
	}
	return out
}
