package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
)

// cmdPolicy writes and checks policy files.
func cmdPolicy(args []string, stdout, stderr io.Writer) error {
	usage := "usage: kagen policy new --model MODEL --pareto pareto.json --controller NAME [--floor PP] [--budget-j J] [controller flags] -o policy.json\n" +
		"       kagen policy validate FILE [--model MODEL]\n\n" +
		"new builds a policy from the tuner's Pareto levels and a controller (" + strings.Join(policy.Names(), ", ") + ");\n" +
		"validate checks a policy's schema, checksum, ranges and, with --model, its binding to the model.\n" +
		"Run `kagen policy new -h` for the controller flags."
	switch {
	case len(args) == 0:
		fmt.Fprintln(stderr, usage)
		return usageError{"expected new or validate"}
	case args[0] == "new":
		return cmdPolicyNew(args[1:], stdout, stderr)
	case args[0] == "validate":
		return cmdPolicyValidate(args[1:], stdout, stderr)
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{fmt.Sprintf("unknown policy command %q, expected new or validate", args[0])}
}

func cmdPolicyNew(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy new", stderr)
	model := fs.String("model", "", "ONNX model the Pareto levels are for")
	pareto := fs.String("pareto", "", "Pareto file written by kagen tune")
	name := fs.String("controller", "", "controller: "+strings.Join(policy.Names(), ", "))
	out := fs.String("o", "", "policy file to write")
	settings := controllerFlags(fs, "mean energy per inference as a fraction of level 0's energy_j in the Pareto file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen policy new --model MODEL --pareto pareto.json --controller NAME [--floor PP] [--budget-j J] [controller flags] -o policy.json")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *model == "" || *pareto == "" || *name == "" || *out == "" {
		fs.Usage()
		return usageError{"expected --model, --pareto, --controller and -o, and no other arguments"}
	}
	if err := checkOutput("-o", *out, *model, *pareto); err != nil {
		return err
	}
	m, err := engine.LoadFile(*model, engine.Options{})
	if err != nil {
		return err
	}
	par, err := policy.ReadPareto(*pareto, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		return err
	}
	pol, err := policy.New(par, settings, *name, *pareto)
	if err != nil {
		return err
	}
	if _, err := deploy.New(*pareto, m, approx.New(m), pol); err != nil {
		return err
	}
	if err := policy.WritePolicy(*out, pol); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s\n", *out, pol.Controller)
	deploy.WriteLevels(stdout, pol)
	return nil
}

func cmdPolicyValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy validate", stderr)
	model := fs.String("model", "", "check the policy's binding to this ONNX model and its configurations")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen policy validate FILE [--model MODEL]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError{"expected one policy file"}
	}
	pol, err := deploy.Validate(pos[0], *model)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid policy version %d for model %s\n", pos[0], pol.Version, pol.ModelSHA256)
	if *model == "" {
		fmt.Fprintln(stdout, "model binding not checked (no --model)")
	}
	fmt.Fprintf(stdout, "device %s, meter %s, objective %s, exact accuracy %.2f%%\n", pol.Device, pol.Meter, pol.Objective, 100*pol.ExactAccuracy)
	fmt.Fprintf(stdout, "controller %s\n", pol.Controller)
	deploy.WriteLevels(stdout, pol)
	return nil
}
