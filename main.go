// Command kagen runs pre-trained neural networks with flexible precision:
// an ONNX inference engine with per-layer approximation knobs, a profiler and
// tuner, run-time controllers and a terminal workbench.
//
// Run without arguments to open the workbench on the built-in demo, or
// `kagen help` for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/policy"
)

// command is one sub-command of the CLI.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands lists the sub-commands; each is implemented in cmd_NAME.go.
func commands() map[string]command {
	return map[string]command{
		"inspect":     {"list a model's nodes, shapes, MACs and front-end", cmdInspect},
		"bench":       {"time inference of a model", cmdBench},
		"conformance": {"run ONNX backend test directories", cmdConformance},
		"features":    {"write front-end features and labels of traces for training", cmdFeatures},
		"eval":        {"measure a model's accuracy over labelled traces", cmdEval},
		"knobs":       {"list the knob catalog, or the knobs of a model's nodes", cmdKnobs},
		"profile":     {"measure every (node, knob) pair of a model on this device", cmdProfile},
		"tune":        {"find the Pareto-optimal approximation configurations", cmdTune},
		"report":      {"regenerate docs/EVALUATION.md and its figures", cmdReport},
		"worker":      {"join a NATS cluster as a worker of distributed profiling and tuning", cmdWorker},
		"open":        {"open the terminal workbench on a model and traces (no arguments: the demo)", cmdOpen},
		"policy":      {"write (new) or check (validate) a policy file for the run-time controllers", cmdPolicy},
		"replay":      {"stream traces through a policy's controller beside an exact run; accuracy and energy", cmdReplay},
		"run":         {"classify a live stream on stdin with a policy, one JSON line per window", cmdRun},
		"spec":        {"write a front-end spec, check one against a model, or store one in a model", cmdSpec},
		"sessions":    {"list saved workbench sessions, or delete one (rm NAME)", cmdSessions},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		args = []string{"open"}
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout, cmds)
		return 0
	}
	c, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "kagen: unknown command %q\n", name)
		usage(stderr, cmds)
		return 2
	}
	return exitStatus(name, c.run(args[1:], stdout, stderr), stderr)
}

// exitStatus reports the error of command name on stderr and returns the
// exit status: 0 without an error (or for --help), 2 for a usage error,
// 130 when interrupted, 1 otherwise.
func exitStatus(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		// Ctrl-C (or SIGTERM) cancelled the command's context: say so in
		// words, not as Go's "context canceled"
		fmt.Fprintf(stderr, "kagen %s: interrupted\n", name)
		return 130
	}
	var ue usageError
	var fe *policy.FlagError
	if errors.As(err, &ue) || errors.As(err, &fe) {
		fmt.Fprintf(stderr, "kagen %s: %v\n", name, err)
		return 2
	}
	fmt.Fprintf(stderr, "kagen %s: %v\n", name, err)
	return 1
}

// usageError marks errors in the command line itself (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: kagen [COMMAND] [ARGS]")
	fmt.Fprintln(w, "\nWithout a command kagen opens the workbench on the built-in demo.")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
}

// newFlags returns a flag set for a sub-command that reports errors instead
// of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kagen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// A bad flag value is a usage error (exit status 2), its
			// flag spelt as kagen's usage spells it.
			msg := strings.Replace(err.Error(), "for flag -", "for flag --", 1)
			return nil, usageError{strings.Replace(msg, "not defined: -", "not defined: --", 1)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
