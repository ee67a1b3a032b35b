package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/measure"
)

// cmdKnobs lists the knob catalog, or a model's nodes and their knobs.
func cmdKnobs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("knobs", stderr)
	all := fs.Bool("all", false, "list every knob that applies, without measuring (some may be slower than exact here)")
	runs := fs.Int("runs", 20, fmt.Sprintf("timed runs of each (node, knob) pair against exact, 1 to %d", measure.MaxStepRuns))
	minSpeedup := fs.Float64("min-speedup", 1.03, "offer a knob when its node runs at least this much faster than exact (the profiler's pruning threshold)")
	in := inputFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen knobs [MODEL [--all] [--runs N] [--min-speedup X] [--dim NAME=N] [--input NAME=FILE.npy]]\n\n"+
			"Without a model, lists the knob catalog. With one, times every (node, knob) pair that applies\n"+
			"alone against exact, on random inputs, and lists per node the knobs offered: those whose node\n"+
			"measured at least --min-speedup faster here (the others are counted as dropped). --all lists\n"+
			"every knob that applies without measuring.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	switch len(pos) {
	case 0:
		fmt.Fprintln(tw, "knob\tparameters\tapplies to\tcomposes with\twhat it does")
		for _, f := range approx.Catalog {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Params, strings.Join(f.Ops, ","), strings.Join(f.Composes, ","), f.Name)
		}
		fmt.Fprintln(tw, "\nA configuration is SELECTOR=KNOB,... where SELECTOR is a node name, an op type or *;")
		fmt.Fprintln(tw, "later entries override earlier ones; compose with +, e.g. Conv=perf-row:2:0+int8.")
		return nil
	case 1:
		if *runs < 1 || *runs > measure.MaxStepRuns {
			return usageError{fmt.Sprintf("--runs %d, expected 1..%d", *runs, measure.MaxStepRuns)}
		}
		if !(*minSpeedup > 0 && *minSpeedup < 100) {
			return usageError{fmt.Sprintf("--min-speedup %v, expected a number above 0 and below 100", *minSpeedup)}
		}
		m, inputs, err := in.load(pos[0], engine.Options{}, true, stderr)
		if err != nil {
			return err
		}
		a := approx.New(m)
		if !*all {
			return measuredKnobs(tw, a, m, inputs, *runs, *minSpeedup)
		}
		fmt.Fprintln(tw, "#\tnode\top\tMACs\tknobs")
		for _, n := range a.Nodes() {
			if n.View {
				continue
			}
			ks := a.Applicable(n.Step)
			names := make([]string, len(ks))
			for i, k := range ks {
				names[i] = k.String()
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d: %s\n", n.Step, n.Name, n.Op, n.MACs, len(ks), compactKnobs(names))
		}
		return nil
	}
	fs.Usage()
	return usageError{"expected at most one model"}
}

// measuredKnobs prints, per node with a knob, the knobs measure.Offered
// keeps, with the node speedup measured of each, and how many it dropped.
func measuredKnobs(w io.Writer, a *approx.Approximator, m *engine.Model, inputs []*engine.Tensor, runs int, minSpeedup float64) error {
	s := m.NewSession()
	defer s.Close()
	offers, err := measure.Offered(a, s, inputs, runs, minSpeedup)
	if err != nil {
		return err
	}
	macs := map[int]int64{}
	for _, n := range a.Nodes() {
		macs[n.Step] = n.MACs
	}
	fmt.Fprintf(w, "knobs offered: node speedup >= %.2fx measured here (%d runs each, 1 thread, interleaved with exact)\n", minSpeedup, runs)
	fmt.Fprintln(w, "#\tnode\top\tMACs\toffered (node speedup)\tdropped")
	offered, dropped := 0, 0
	for _, o := range offers {
		names := make([]string, len(o.Offered))
		for i, k := range o.Offered {
			names[i] = fmt.Sprintf("%s(%.2f)", k.Knob, k.NodeSpeedup)
		}
		list := "fp32 only"
		if len(names) > 0 {
			list = fmt.Sprintf("%d: %s", len(names), strings.Join(names, " "))
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%d\n", o.Step, o.Node, o.Op, macs[o.Step], list, len(o.Dropped))
		offered += len(o.Offered)
		dropped += len(o.Dropped)
	}
	fmt.Fprintf(w, "%d knob pairs offered, %d dropped as not faster than exact here (--all lists them)\n", offered, dropped)
	return nil
}

// compactKnobs shortens a long knob list for a terminal line.
func compactKnobs(names []string) string {
	s := strings.Join(names, " ")
	if len(s) <= 100 {
		return s
	}
	fam := map[string]int{}
	var order []string
	for _, n := range names {
		f, _, _ := strings.Cut(n, ":")
		if _, p, ok := strings.Cut(n, "+"); ok {
			f += "+" + p
		}
		if fam[f] == 0 {
			order = append(order, f)
		}
		fam[f]++
	}
	parts := make([]string, len(order))
	for i, f := range order {
		if fam[f] > 1 {
			parts[i] = fmt.Sprintf("%s(x%d)", f, fam[f])
		} else {
			parts[i] = f
		}
	}
	return strings.Join(parts, " ")
}
