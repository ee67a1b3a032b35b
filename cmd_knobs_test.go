package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestKnobsMeasured checks kagen knobs MODEL's measured filter: every
// knob offered carries a node speedup at least --min-speedup, a threshold
// nothing reaches drops every knob, and --all lists them unmeasured.
func TestKnobsMeasured(t *testing.T) {
	code, all, errs := runCmd("knobs", tinyHAR, "--all")
	if code != 0 || !strings.Contains(all, "samp+int8") {
		t.Fatalf("knobs --all: exit %d: %s%s", code, all, errs)
	}
	code, out, errs := runCmd("knobs", tinyHAR, "--runs", "3", "--min-speedup", "1.03")
	if code != 0 {
		t.Fatalf("knobs: exit %d: %s", code, errs)
	}
	knob := regexp.MustCompile(`([a-z0-9:.+-]+)\(([0-9.]+)\)`)
	for _, m := range knob.FindAllStringSubmatch(out, -1) {
		if v, _ := strconv.ParseFloat(m[2], 64); v < 1.03 {
			t.Errorf("offered %s at node speedup %s, below --min-speedup 1.03", m[1], m[2])
		}
	}
	tally := regexp.MustCompile(`(\d+) knob pairs offered, (\d+) dropped`)
	got := tally.FindStringSubmatch(out)
	if got == nil {
		t.Fatalf("no tally in:\n%s", out)
	}
	code, out, errs = runCmd("knobs", tinyHAR, "--runs", "2", "--min-speedup", "99")
	none := tally.FindStringSubmatch(out)
	if code != 0 || none == nil || none[1] != "0" {
		t.Fatalf("knobs --min-speedup 99: exit %d, want nothing offered: %s%s", code, out, errs)
	}
	a, _ := strconv.Atoi(got[1])
	b, _ := strconv.Atoi(got[2])
	if n, _ := strconv.Atoi(none[2]); n != a+b {
		t.Fatalf("%d pairs dropped at 99x, but %d+%d measured at 1.03x", n, a, b)
	}
	for _, bad := range [][]string{{"--runs", "0"}, {"--min-speedup", "0"}} {
		if code, _, errs := runCmd(append([]string{"knobs", tinyHAR}, bad...)...); code != 2 || !strings.Contains(errs, bad[0]) {
			t.Errorf("knobs %v: exit %d: %s", bad, code, errs)
		}
	}
}
