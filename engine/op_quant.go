package engine

// quantOps are the quantized operators as ONNX Runtime's quantization tools write them.
var quantOps = map[string]*opDef{}
