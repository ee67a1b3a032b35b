package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// cmdInspect prints a model's nodes, shapes, parameters and MACs.
func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	in := inputFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen inspect MODEL [--dim NAME=N] [--input NAME=FILE.npy]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError{"expected one model file"}
	}
	m, _, err := in.load(pos[0], engine.Options{}, false, io.Discard)
	if err != nil {
		return err
	}
	warnModel(m, pos[0], stderr) // the notes on inputs are not for inspect
	total := m.MACs()
	fmt.Fprintf(stdout, "model %s\nsha256 %s\nopset %d, %d parameters, %d MACs per inference, arena %d KiB\n",
		pos[0], m.SHA256(), m.Opset(), m.Params(), total, m.ArenaBytes()/1024)
	for _, in := range m.Inputs() {
		fmt.Fprintf(stdout, "input  %s %v %v\n", in.Name, in.DType, in.Shape)
	}
	for _, out := range m.Outputs() {
		fmt.Fprintf(stdout, "output %s %v %v\n", out.Name, out.DType, out.Shape)
	}
	var passes []string
	for _, p := range m.Passes() {
		passes = append(passes, fmt.Sprintf("%s %d", p.Name, p.Changed))
	}
	fmt.Fprintf(stdout, "passes: %s\n\n", strings.Join(passes, ", "))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tnode\top\toutput shape\tparams\tMACs\tshare\t")
	for _, n := range m.Nodes() {
		op := n.Op
		if n.Fused != "" {
			op += "+" + n.Fused
		}
		share := ""
		if total > 0 && n.MACs > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(n.MACs)/float64(total))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%d\t%d\t%s\t\n", n.Step, n.Name, op, n.Shape, n.Params, n.MACs, share)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if spec, ok := m.Metadata(replay.SpecKey); ok {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(spec), "", "  ") != nil {
			buf.Reset()
			buf.WriteString(spec)
		}
		fmt.Fprintf(stdout, "\nfront-end (%s):\n%s\n", replay.SpecKey, buf.String())
	} else {
		fmt.Fprintf(stdout, "\nfront-end: none (metadata_props has no %s)\n", replay.SpecKey)
	}
	return nil
}
