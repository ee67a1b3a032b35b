package tui

import (
	"regexp"
	"strings"

	"github.com/kagen-ai/kagen/engine"
)

// shortNames returns the part of each node name that tells it from the
// others: its last two path components ("features.4/Conv" of
// "/features/features.4/Conv"), or more until no other name ends the same
// way (the whole name if none does). Exporters repeat the module path in
// every name, so that the full names of a model's layers share their
// first columns' worth of characters.
func shortNames(names []string) []string {
	parts := make([][]string, len(names))
	for i, n := range names {
		for _, p := range strings.Split(n, "/") {
			if p != "" {
				parts[i] = append(parts[i], p)
			}
		}
	}
	suffix := func(p []string, k int) string { return strings.Join(p[max(0, len(p)-k):], "/") }
	out := make([]string, len(names))
	for i, p := range parts {
		if len(p) == 0 {
			out[i] = names[i]
			continue
		}
		k := min(2, len(p))
		for ; k < len(p); k++ {
			s, unique := suffix(p, k), true
			for j, q := range parts {
				if j != i && suffix(q, k) == s {
					unique = false
					break
				}
			}
			if unique {
				break
			}
		}
		out[i] = suffix(p, k)
	}
	return out
}

// numbered is the suffix exporters number node names with ("Relu_1",
// "Relu.3").
var numbered = regexp.MustCompile(`[_.]\d+$`)

// opLabel is a node's operator with those of the nodes fused into it:
// "Conv+Relu" (the fused nodes' names, "/features/features.2/Relu" or
// "Relu_1", by their last component without its number).
func opLabel(n engine.NodeInfo) string {
	op := n.Op
	if n.Fused != "" {
		for _, f := range strings.Split(n.Fused, "+") {
			if i := strings.LastIndexByte(f, '/'); i >= 0 {
				f = f[i+1:]
			}
			if g := numbered.ReplaceAllString(f, ""); g != "" {
				f = g
			}
			op += "+" + f
		}
	}
	return op
}
