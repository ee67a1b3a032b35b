package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
)

// cmdKnobs lists the knob catalog, or a model's nodes and their knobs.
func cmdKnobs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("knobs", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen knobs [MODEL]\n\nWithout a model, lists the knob catalog; with one, each node and the knobs that apply to it.")
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
		m, err := engine.LoadFile(pos[0], engine.Options{})
		if err != nil {
			return err
		}
		a := approx.New(m)
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
