package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"

	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tui"
)

// cmdOpen opens the terminal workbench: on the built-in demo without
// arguments, on a model and its traces, or on a saved session.
func cmdOpen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("open", stderr)
	session := fs.String("session", "", "save the work in the session NAME (autosave), or resume it when no model is given")
	dataDir := fs.String("data-dir", "", "directory of the session store (default $XDG_DATA_HOME/kagen)")
	demoName := fs.String("demo", "", "the built-in demo to open without a model (har, or kws when built in)")
	device := fs.String("device-profile", "phone-big", "device energy profile for the energy figures (a built-in name or a JSON file)")
	pareto := fs.String("pareto", "", "start from a pareto.json written by kagen tune")
	out := fs.String("o", "policy.json", "where the workbench saves the policy")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen open [MODEL TRACE...] [--session NAME] [--pareto pareto.json] [--device-profile NAME] [-o policy.json]\n"+
			"       kagen open --session NAME [--data-dir DIR]\n\n"+
			"Opens the workbench: without a model on the built-in demo; with one on the model and its traces\n"+
			"(IMU CSV files or folders, WAV files or clip folders), replayed one after the other. With --session\n"+
			"every change is saved in the session store; --session alone resumes a saved session.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		fs.Usage()
		return usageError{"expected a model and at least one trace"}
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "o" })
	if outSet { // the default may be changed on the Policy screen
		if err := checkOutput("-o", *out, append([]string{*pareto}, pos...)...); err != nil {
			return err
		}
	}
	if !isTerminal(os.Stdin) || !isTerminal(stdout) {
		return errors.New("the workbench needs a terminal on standard input and output; see kagen help for the other commands")
	}
	opts := tui.Options{Device: *device, ParetoPath: *pareto, PolicyPath: *out}
	var src tui.Source
	switch {
	case len(pos) == 0 && *session == "":
		src, err = tui.DemoSource(*demoName)
	case len(pos) == 0:
		src, err = tui.DemoSource(*demoName) // replaced by the session's source below
	default:
		src = tui.FileSource(pos[0], pos[1:])
		var notes []string
		src.Traces, notes = replay.UniqueTraces(pos[1:]) // each file read once
		opts.Warnings = append(opts.Warnings, notes...)
	}
	if err != nil {
		return err
	}
	if *session != "" {
		done, err := tui.OpenSession(*session, *dataDir, len(pos) == 0, &src, &opts)
		if err != nil {
			return err
		}
		defer done()
	}
	return tui.Run(src, opts)
}

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
