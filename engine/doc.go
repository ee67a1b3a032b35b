// Package engine is kagen's ONNX inference engine: pure Go with assembly
// GEMM kernels, exact by default, with a per-call seam (Selector) through
// which the approximation knobs replace the kernels of chosen nodes.
//
// A model goes through named stages:
//
//	decode (engine/onnx) -> build the graph, bind input shapes
//	  -> passes: infer-shapes-and-fold-constants, remove-identity, fold-pad,
//	     fold-batchnorm, fuse-layernorm, fuse-elementwise, fuse-activation,
//	     remove-dead-nodes
//	  -> compile: one Kernel per node, weights packed once
//	  -> plan: topological steps and an arena that reuses buffers
//
// Each operator lives in its own file (op_*.go) with its shape inference and
// its reference implementation, which is also the oracle the fast kernels are
// tested against. A Model is immutable and may be shared; a Session owns the
// activation buffers and its Run allocates nothing in steady state.
package engine
