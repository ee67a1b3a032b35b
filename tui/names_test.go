package tui

import (
	"slices"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

func TestShortNames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []string
	}{
		{"kws: the differing part",
			[]string{"/features/features.0/Conv", "/features/features.4/Conv", "/features/features.10/MaxPool", "/pool/GlobalAveragePool", "/Flatten", "/fc/Gemm"},
			[]string{"features.0/Conv", "features.4/Conv", "features.10/MaxPool", "pool/GlobalAveragePool", "Flatten", "fc/Gemm"}},
		{"plain names stay", []string{"Conv_0", "GlobalAveragePool_2", "Gemm_4"}, []string{"Conv_0", "GlobalAveragePool_2", "Gemm_4"}},
		{"longer until unique",
			[]string{"/enc/block.0/attn/MatMul", "/enc/block.1/attn/MatMul", "/dec/block.0/attn/MatMul"},
			[]string{"enc/block.0/attn/MatMul", "block.1/attn/MatMul", "dec/block.0/attn/MatMul"}},
		{"duplicates keep the whole name", []string{"/a/x/Conv", "/a/x/Conv"}, []string{"a/x/Conv", "a/x/Conv"}},
		{"empty and slashes", []string{"", "/", "/Relu"}, []string{"", "/", "Relu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shortNames(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("shortNames(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOpLabel(t *testing.T) {
	for _, tc := range []struct {
		n    engine.NodeInfo
		want string
	}{
		{engine.NodeInfo{Op: "Conv", Fused: "/features/features.2/Relu"}, "Conv+Relu"},
		{engine.NodeInfo{Op: "Conv", Fused: "Relu_1"}, "Conv+Relu"},
		{engine.NodeInfo{Op: "MatMul", Fused: "/a/Add+/a/Relu"}, "MatMul+Add+Relu"},
		{engine.NodeInfo{Op: "Gemm"}, "Gemm"},
		{engine.NodeInfo{Op: "Conv", Fused: "_7"}, "Conv+_7"},
	} {
		if got := opLabel(tc.n); got != tc.want {
			t.Errorf("opLabel(%+v) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
