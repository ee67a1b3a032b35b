package measure

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/engine"
)

// NodeTiming is one planned node's time in exact inference. A node with
// activations fused into its epilogue is one step of the plan and is timed
// as one: Fused names the nodes it absorbed.
type NodeTiming struct {
	Step  int    `json:"step"`
	Name  string `json:"name"` // unique within the profile: the node's name, else "Op#step"
	Op    string `json:"op"`
	Fused string `json:"fused,omitempty"`
	Shape []int  `json:"shape"`
	MACs  int64  `json:"macs"`
	// MedianUS is the node's median time over the timed runs; P25US and
	// P75US its quartiles, Spread the interquartile range over the median.
	MedianUS float64 `json:"median_us"`
	P25US    float64 `json:"p25_us"`
	P75US    float64 `json:"p75_us"`
	Spread   float64 `json:"spread"`
	// GMACs is the node's multiply-accumulates per nanosecond at its
	// median (GMAC/s; 0 for a node without MACs).
	GMACs float64 `json:"gmac_per_s"`
	// Share is MedianUS over the sum of every node's median.
	Share float64 `json:"share"`
}

// OpTiming sums the nodes of one operator type.
type OpTiming struct {
	Op       string  `json:"op"`
	Nodes    int     `json:"nodes"`
	MedianUS float64 `json:"median_us"` // the sum of its nodes' medians
	Share    float64 `json:"share"`
}

// NodeProfile is where the time of an exact inference goes, node by node.
type NodeProfile struct {
	Runs    int `json:"runs"`
	Threads int `json:"threads"`
	// RunMedianUS is the median of the whole timed inference (each node
	// clocked); PlainMedianUS the median of inferences without the
	// per-node clock, interleaved with them: the difference is what the
	// clock costs.
	RunMedianUS   float64 `json:"run_median_us"`
	RunSpread     float64 `json:"run_spread"`
	PlainMedianUS float64 `json:"plain_median_us"`
	// NodeSumUS is the sum of the nodes' medians; NodeSumUS/RunMedianUS
	// near 1 says the per-node medians account for the whole run.
	NodeSumUS float64 `json:"node_sum_us"`
	MACs      int64   `json:"macs"`
	// Views counts the planned nodes that do no work (not in Nodes).
	Views int `json:"views"`
	// Nodes are sorted by median time, slowest first; Ops likewise.
	Nodes []NodeTiming `json:"nodes"`
	Ops   []OpTiming   `json:"ops"`
}

// PerNode times exact inferences of s on inputs, each node of the plan
// clocked (Session.RunTimed), interleaved with as many inferences without
// the clock, after kagen bench's warm-up. runs must be in [1, MaxStepRuns].
func PerNode(s *engine.Session, inputs []*engine.Tensor, runs int) (NodeProfile, error) {
	if err := CheckRuns(runs, MaxStepRuns); err != nil {
		return NodeProfile{}, err
	}
	m := s.Model()
	nodes := m.Nodes()
	steps := make([]Sample, len(nodes))
	for j := range steps {
		steps[j] = make(Sample, 0, runs)
	}
	buf := make([]int64, len(nodes))
	record := false
	timed := func() error {
		if _, err := s.RunTimed(inputs, nil, buf); err != nil {
			return err
		}
		if record {
			for j, ns := range buf {
				steps[j] = append(steps[j], time.Duration(ns))
			}
		}
		return nil
	}
	plain := func() error { _, err := s.Run(inputs); return err }
	if _, err := Interleaved(Options{Warmup: 4, WarmupTime: 200 * time.Millisecond, Runs: 1}, timed, plain); err != nil {
		return NodeProfile{}, err
	}
	record = true
	samples, err := Interleaved(Options{Runs: runs}, timed, plain)
	if err != nil {
		return NodeProfile{}, err
	}
	return nodeProfile(nodes, steps, samples[0], samples[1]), nil
}

// nodeProfile summarises the samples of PerNode.
func nodeProfile(nodes []engine.NodeInfo, steps []Sample, run, plain Sample) NodeProfile {
	rs := run.Summary()
	p := NodeProfile{Runs: rs.N, RunMedianUS: US(rs.Median), RunSpread: rs.Spread(), PlainMedianUS: plain.MedianUS()}
	seen := map[string]int{}
	for _, n := range nodes {
		seen[n.Name]++
	}
	ops := map[string]*OpTiming{}
	for j, n := range nodes {
		p.MACs += n.MACs
		if n.View {
			p.Views++
			continue
		}
		s := steps[j].Summary()
		t := NodeTiming{Step: n.Step, Name: n.Name, Op: n.Op, Fused: n.Fused, Shape: n.Shape, MACs: n.MACs,
			MedianUS: US(s.Median), P25US: US(s.P25), P75US: US(s.P75), Spread: s.Spread()}
		if t.Name == "" || seen[t.Name] > 1 {
			t.Name = fmt.Sprintf("%s#%d", cmp.Or(t.Name, n.Op), n.Step)
		}
		if math.IsNaN(t.Spread) {
			t.Spread = 0
		}
		if s.Median > 0 {
			t.GMACs = float64(n.MACs) / float64(s.Median.Nanoseconds())
		}
		p.NodeSumUS += t.MedianUS
		o := ops[n.Op]
		if o == nil {
			o = &OpTiming{Op: n.Op}
			ops[n.Op] = o
		}
		o.Nodes++
		o.MedianUS += t.MedianUS
		p.Nodes = append(p.Nodes, t)
	}
	if math.IsNaN(p.RunSpread) {
		p.RunSpread = 0
	}
	share := func(us float64) float64 {
		if p.NodeSumUS <= 0 {
			return 0
		}
		return us / p.NodeSumUS
	}
	for i := range p.Nodes {
		p.Nodes[i].Share = share(p.Nodes[i].MedianUS)
	}
	for _, o := range ops {
		o.Share = share(o.MedianUS)
		p.Ops = append(p.Ops, *o)
	}
	slices.SortStableFunc(p.Nodes, func(a, b NodeTiming) int { return cmp.Compare(b.MedianUS, a.MedianUS) })
	slices.SortFunc(p.Ops, func(a, b OpTiming) int {
		return cmp.Or(cmp.Compare(b.MedianUS, a.MedianUS), strings.Compare(a.Op, b.Op))
	})
	return p
}

// Format prints the profile as a table, slowest node first, followed by
// the per-operator summary. top > 0 prints only the top slowest nodes
// (the summary still counts them all).
func (p NodeProfile) Format(w io.Writer, top int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d timed runs, %d node(s) timed", p.Runs, len(p.Nodes))
	if p.Views > 0 {
		fmt.Fprintf(&b, " (%d view(s) need no work)", p.Views)
	}
	fmt.Fprintf(&b, ", %d MACs\n", p.MACs)
	fmt.Fprintf(&b, "whole run median %.1f us (IQR %.0f%% of it), sum of node medians %.1f us = %.1f%% of it; without the per-node clock %.1f us\n\n",
		p.RunMedianUS, 100*p.RunSpread, p.NodeSumUS, 100*ratio(p.NodeSumUS, p.RunMedianUS), p.PlainMedianUS)
	if r := ratio(p.NodeSumUS, p.RunMedianUS); r < 0.9 || r > 1.1 {
		fmt.Fprintf(&b, "note: the node medians add up to %.0f%% of the run's median: the runs were noisy; more --runs or a quieter machine bring the two together\n\n", 100*r)
	}
	nameW, fused := len("node"), false
	for _, n := range p.Nodes {
		nameW = max(nameW, min(44, len(n.Name)))
		fused = fused || n.Fused != ""
	}
	fmt.Fprintf(&b, "%-*s %-18s %-18s %12s %11s %6s %7s %6s\n", nameW, "node", "op", "shape", "MACs", "median us", "IQR", "GMAC/s", "share")
	for i, n := range p.Nodes {
		if top > 0 && i >= top {
			fmt.Fprintf(&b, "... %d more node(s), %.1f%% of the time\n", len(p.Nodes)-top, 100*restShare(p.Nodes[top:]))
			break
		}
		macs, gmacs := "-", "-"
		if n.MACs > 0 {
			macs, gmacs = fmt.Sprint(n.MACs), fmt.Sprintf("%.2f", n.GMACs)
		}
		name, op := n.Name, n.Op
		if len(name) > nameW { // the tail tells nodes apart
			name = "~" + name[len(name)-nameW+1:]
		}
		if n.Fused != "" {
			op += "+"
		}
		fmt.Fprintf(&b, "%-*s %-18s %-18s %12s %11.1f %5.0f%% %7s %5.1f%%\n", nameW, name, clip(op, 18), clip(shapeText(n.Shape), 18),
			macs, n.MedianUS, 100*n.Spread, gmacs, 100*n.Share)
	}
	if fused {
		b.WriteString("(Op+: activations are fused into the node and timed with it; --json names them)\n")
	}
	b.WriteString("\nby op:")
	for _, o := range p.Ops {
		fmt.Fprintf(&b, " %s %.1f%% (%d, %.1f us);", o.Op, 100*o.Share, o.Nodes, o.MedianUS)
	}
	s := strings.TrimSuffix(b.String(), ";") + "\n"
	_, err := io.WriteString(w, s)
	return err
}

func restShare(ns []NodeTiming) float64 {
	s := 0.0
	for _, n := range ns {
		s += n.Share
	}
	return s
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
