package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// cmdReplay streams traces through a policy's controllers beside an exact
// run (deploy.Deployment.Replay) and prints the reports.
func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	model := fs.String("model", "", "ONNX model")
	polPath := fs.String("policy", "", "policy file (kagen policy new)")
	var traces pathList
	fs.Var(&traces, "trace", "trace file or folder (repeatable; further arguments are traces too)")
	ctrl := fs.String("controller", "", "run this controller instead of the policy's: "+strings.Join(policy.Names(), ", ")+", or all (side by side)")
	devName := deviceFlag(fs, "device energy profile")
	realtime := fs.Bool("realtime", false, "pace the input at the trace's window hop, as on the device")
	asJSON := fs.Bool("json", false, "print one JSON object")
	logPath := fs.String("log", "", "write every decision as a JSON line to this file")
	cost := fs.String("cost", deploy.CostMeasured, "inference cost: measured (busy time here) or pareto (the policy's time_us of each level)")
	qos := qosFlag(fs)
	read := streamFlags(fs)
	settings := controllerFlags(fs, "mean energy per inference as a fraction of exact inference's, measured here (median over the first windows of the first trace, paced with --realtime) (with --cost pareto: the policy's time_us of level 0)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen replay --model MODEL --policy FILE --trace PATH... [--controller NAME|all] [--device-profile NAME] [--realtime] [--qos accuracy|agreement] [--json] [--log decisions.jsonl]\n\n"+
			"Streams traces through the model's front-end and the engine, choosing each window's level with the\n"+
			"policy's controller, and runs the same stream exactly (level 0) beside it. Reports accuracy against\n"+
			"the exact run's (with --qos agreement: agreement with the exact run's predictions, no labels needed), modelled inference and system-wide energy (one inference per window hop) and\n"+
			"their savings, the time at each level and the number of switches.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	traces = append(traces, pos...)
	if *model == "" || *polPath == "" || len(traces) == 0 {
		fs.Usage()
		return usageError{"expected --model, --policy and at least one --trace"}
	}
	if *logPath != "" {
		if err := checkOutput("--log", *logPath, append([]string{*model, *polPath}, traces...)...); err != nil {
			return err
		}
	}
	if err := replay.CheckQoS(*qos); err != nil {
		return usageError{"--qos: " + err.Error()}
	}
	ro, err := read()
	if err != nil {
		return err
	}
	dev, err := lookupDevice(*devName)
	if err != nil {
		return err
	}
	d, err := deploy.Load(*model, *polPath)
	if err != nil {
		return err
	}
	warnModel(d.Model, *model, stderr)
	tr := uniqueTraces(traces, ro.Match, stderr)
	var inv *replay.Inventory
	if d.Spec != nil {
		inv = replay.Survey(d.Spec, tr, ro)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	reports, err := d.Replay(ctx, deploy.ReplaySettings{Controller: *ctrl, Settings: settings, CostName: *cost, LogPath: *logPath, Model: *model,
		Options: deploy.Options{Traces: tr, Read: ro, Device: dev, Realtime: *realtime, QoS: *qos}})
	if err != nil {
		return err
	}
	if inv != nil {
		inv.Windows = reports[0].Windows
		w := stdout
		if *asJSON {
			w = stderr
		}
		printRead(w, stderr, inv)
	}
	switch {
	case *asJSON && *ctrl == "all":
		return writeJSON(stdout, struct {
			Results []*deploy.Report `json:"results"`
		}{reports})
	case *asJSON:
		return writeJSON(stdout, reports[0])
	case *ctrl == "all":
		deploy.WriteTable(stdout, reports)
	default:
		reports[0].WriteText(stdout)
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
