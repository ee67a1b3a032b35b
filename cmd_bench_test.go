package main

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestBenchFlagsRefused: every bad value of kagen bench's flags is a usage
// error naming the flag, before any model is loaded or any sample
// allocated (#19 items 3 and 17).
func TestBenchFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // regexp on stderr
	}{
		{[]string{"--runs", "1000000000000"}, `--runs 1000000000000: expected 1 to 1000000`},
		{[]string{"--runs", "1000001"}, `--runs 1000001: expected 1 to 1000000`},
		{[]string{"--runs", "10001", "--per-node"}, `--runs 10001: expected 1 to 10000 .*--per-node`},
		{[]string{"--runs", "10001", "--per-knob"}, `--runs 10001: expected 1 to 10000 .*--per-knob`},
		{[]string{"--runs", "0"}, `--runs 0: expected 1 to`},
		{[]string{"--runs", "-3"}, `--runs -3: expected 1 to`},
		{[]string{"--runs", "1e10"}, `invalid value "1e10" for flag -runs`},
		{[]string{"--runs", "NaN"}, `invalid value "NaN" for flag -runs`},
		{[]string{"--threads", "100000"}, `--threads 100000: expected 1 to 256`},
		{[]string{"--threads", "0"}, `--threads 0: expected 1 to 256`},
		{[]string{"--threads", "-2"}, `--threads -2: expected 1 to 256`},
		{[]string{"--threads", "NaN"}, `invalid value "NaN" for flag -threads`},
		{[]string{"--node", "Conv_0"}, `--node without --per-knob`},
		{[]string{"--node", "", "--per-node"}, `--node without --per-knob`},
		{[]string{"--per-knob", "--config", "Conv=samp:2:0"}, `--config and --per-knob`},
		{[]string{"--per-node", "--config", "Conv=samp:2:0"}, `--config and --per-node`},
		{[]string{"--per-node", "--per-knob"}, `--per-node and --per-knob`},
		{[]string{"--top", "3"}, `--top without --per-node`},
		{[]string{"--top", "-1", "--per-node"}, `--top -1: expected 0`},
		{[]string{"--top", "NaN", "--per-node"}, `invalid value "NaN" for flag -top`},
		{[]string{"--per-node=maybe"}, `invalid boolean value "maybe" for -per-node`},
	} {
		args := append([]string{"bench", "models/har.onnx"}, c.args...)
		code, _, stderr := runCmd(args...)
		if code == 0 || !regexp.MustCompile(c.want).MatchString(stderr) {
			t.Errorf("%v: exit %d, stderr %q; want an error matching %q", c.args, code, stderr, c.want)
		}
	}
	for _, args := range [][]string{{"bench"}, {"bench", "models/har.onnx", "models/kws.onnx"}} {
		if code, _, stderr := runCmd(args...); code != 2 || !regexp.MustCompile(`expected one model`).MatchString(stderr) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
}

// TestBenchPerNode: --per-node --json gives every non-view node with a
// share, and totals that the text form prints too.
func TestBenchPerNode(t *testing.T) {
	code, out, stderr := runCmd("bench", "models/har.onnx", "--per-node", "--runs", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var p struct {
		Model     string  `json:"model"`
		Runs      int     `json:"runs"`
		NodeSumUS float64 `json:"node_sum_us"`
		RunUS     float64 `json:"run_median_us"`
		Nodes     []struct {
			Name  string  `json:"name"`
			Op    string  `json:"op"`
			Share float64 `json:"share"`
		} `json:"nodes"`
		Ops []struct {
			Op string `json:"op"`
		} `json:"ops"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if p.Runs != 3 || len(p.Nodes) == 0 || len(p.Ops) == 0 || p.NodeSumUS <= 0 || p.RunUS <= 0 {
		t.Errorf("profile %+v", p)
	}
	code, out, stderr = runCmd("bench", "models/har.onnx", "--per-node", "--runs", "3", "--top", "2")
	if code != 0 || !regexp.MustCompile(`(?s)whole run median .* sum of node medians .*Conv.*by op: Conv`).MatchString(out) {
		t.Errorf("text form: exit %d\n%s%s", code, out, stderr)
	}
}
