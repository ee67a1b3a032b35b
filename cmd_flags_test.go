package main

import (
	"strings"
	"testing"
)

// TestEveryFlagIsValidated gives each command (bench aside) a value out of
// range for one flag and checks that it is refused up front with exit
// status 2 and an error naming the flag (#19 items 17 and 19: zero and
// negative counts became defaults or were run, NaN ran a whole tune).
func TestEveryFlagIsValidated(t *testing.T) {
	model, data := "models/har.onnx", "demo/data/har"
	tune := func(flags ...string) []string {
		return append([]string{"tune", model, "--data", data, "-o", t.TempDir() + "/p.json"}, flags...)
	}
	profile := func(flags ...string) []string {
		return append([]string{"profile", model, "--data", data, "-o", t.TempDir() + "/p.json"}, flags...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{tune("--max-loss", "NaN"), "--max-loss NaN"},
		{tune("--max-loss", "Inf"), "--max-loss +Inf"},
		{tune("--candidates", "0"), "--candidates 0"},
		{tune("--candidates", "-3"), "--candidates -3"},
		{tune("--rounds", "0"), "--rounds 0"},
		{tune("--budget", "-1s"), "--budget -1s"},
		{tune("--budget", "0s"), "--budget 0s"},
		{tune("--screen", "-7"), "--screen -7"},
		{tune("--windows", "0"), "--windows 0"},
		{tune("--min-windows", "0"), "--min-windows 0"},
		{tune("--workers", "-5"), "--workers -5"},
		{tune("--ack-wait", "-1s"), "--ack-wait -1s"},
		{tune("--shard-windows", "0"), "--shard-windows 0"},
		{tune("--nats-retry", "0s"), "--nats-retry 0s"},
		{tune("--objective", "speed"), "--objective"},
		{tune("--predictor", "p9"), "--predictor"},
		{profile("--windows", "0"), "--windows 0"},
		{profile("--workers", "-5"), "--workers -5"},
		{[]string{"eval", model, "--data", data, "--hop", "-1"}, "--hop -1"},
		{[]string{"replay", "--model", model, "--policy", "x.json", "--hop", "-5", data}, "--hop -5"},
		{[]string{"replay", "--model", model, "--policy", "x.json", "--gap", "NaN", data}, "--gap NaN"},
		{[]string{"replay", "--model", model, "--policy", "x.json", "--snr", "NaN", data}, "--snr NaN"},
		{[]string{"features", "--spec", "x", "--data", data, "-o", "out", "--gap", "-1"}, "--gap -1"},
		{[]string{"features", "--spec", "x", "--data", data, "-o", "out", "--hop", "-1"}, "--hop -1"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--ack-wait", "-1s"}, "--ack-wait -1s"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--trial-delay", "-1s"}, "--trial-delay -1s"},
		{[]string{"report", "--max-loss", "NaN"}, "--max-loss NaN"},
		{[]string{"report", "--budget", "-1s"}, "--budget -1s"},
		{[]string{"report", "--floor", "-1"}, "--floor -1"},
		{[]string{"report", "--kws-clips", "-1"}, "--kws-clips -1"},
		{[]string{"policy", "new", "--model", model, "--pareto", "x.json", "--controller", "state", "--factor", "0", "-o", "p.json"}, "for flag --factor"},
		{[]string{"policy", "new", "--model", model, "--pareto", "x.json", "--controller", "state", "--n", "0", "-o", "p.json"}, "for flag --n"},
	} {
		t.Run(strings.Join(tc.args[:1], " ")+" "+tc.want, func(t *testing.T) {
			code, _, errs := runCmd(tc.args...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q: want exit 2 naming %q", code, lastLine(errs), tc.want)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestSpecFlag checks that eval, profile and tune take --spec, which
// their error for a model without a front-end spec tells the user to
// give (#19 item 21: it pointed to a flag that did not exist), and that
// a spec that does not fit the model is refused naming the flag.
func TestSpecFlag(t *testing.T) {
	model, data := "models/har.onnx", "demo/data/har"
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", model, "--spec", model, "--data", data}, 0, "accuracy"},
		{[]string{"eval", model, "--spec", "models/kws.onnx", "--data", data}, 1, "--spec models/kws.onnx: model input"},
		{[]string{"tune", model, "--spec", "models/kws.onnx", "--data", data, "-o", t.TempDir() + "/p.json"}, 1, "--spec models/kws.onnx: model input"},
		{[]string{"profile", model, "--spec", "none.json", "--data", data, "-o", t.TempDir() + "/p.json"}, 1, "--spec: "},
	} {
		t.Run(strings.Join(tc.args[:3], " "), func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, %q: want exit %d with %q", code, lastLine(out+errs), tc.code, tc.want)
			}
		})
	}
}
