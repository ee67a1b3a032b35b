package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/internal/synth"
)

// TestRunBadInput is the regression test of #19 item 25 (one malformed
// line, a sensor glitch's NaN, ended the stream: now skipped, counted in
// the summary; --strict stops), item 15 for run (a gap splits the
// stream) and item 24's run findings ("stopped by end of input" after a
// parse error; a folder as --input; raw PCM offsets counted the 44-byte
// header the stream does not have).
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	pol := newPolicy(t, dir, "p", "--controller", "naive")
	lines := strings.SplitAfter(synth.WalkIMU(600), "\n")
	// a glitch after data line 100 (file line 102)
	nan := "0.5,NaN,9.7,0.1,0.1,0.1,1657533979000,SEATED\n"
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	glitch := write("glitch.csv", strings.Join(lines[:101], "")+nan+strings.Join(lines[101:], ""))
	gap := write("gap.csv", shiftAfter(lines, 301, 59000)) // a 59 s gap after data line 300
	folder := filepath.Join(dir, "d.wav")
	os.Mkdir(folder, 0o755)
	model := writeTinyKWS(t, dir)
	kpol := writeKWSPolicy(t, dir, model)
	oddPCM := write("odd.s16le", strings.Repeat("\x01\x00", 1000)+"\x01") // ends inside a sample
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"NaN skipped", []string{"--model", tinyHAR, "--policy", pol, "--input", glitch}, 0,
			[]string{"stopped by end of input", "1 malformed lines skipped (" + glitch + ":102: column 2: got \"NaN\""}},
		{"--strict stops", []string{"--model", tinyHAR, "--policy", pol, "--input", glitch, "--strict"}, 1,
			[]string{"stopped by the error below", "kagen run: " + glitch + ":102: column 2"}},
		{"gap split", []string{"--model", tinyHAR, "--policy", pol, "--input", gap}, 0,
			[]string{"1 gaps in the timestamps split the stream"}},
		{"--max-gap 60 interpolates", []string{"--model", tinyHAR, "--policy", pol, "--input", gap, "--max-gap", "60"}, 0,
			[]string{"stopped by end of input; windows per level"}},
		{"--max-gap 61", []string{"--model", tinyHAR, "--policy", pol, "--input", gap, "--max-gap", "61"}, 2,
			[]string{"--max-gap 61, expected 0 (one window) to 60 seconds"}},
		{"folder input", []string{"--model", tinyHAR, "--policy", pol, "--input", folder}, 2,
			[]string{"--input " + folder + " is a folder: run reads one stream"}},
		{"PCM offset in the stream", []string{"--model", model, "--policy", kpol, "--input", oddPCM, "--format", "s16le", "--rate", "8000"}, 1,
			[]string{oddPCM + ": byte offset 2000: data ends inside a 2-byte frame (at its start)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(append([]string{"run"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d (want %d): %s", code, tt.code, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(errs, "promised -1") || strings.Contains(errs, ".csv.csv") {
				t.Errorf("stderr names the reader's invented file or size:\n%s", errs)
			}
		})
	}
}

// shiftAfter joins lines with the timestamps (field 7) of data lines from
// index i on moved by ms.
func shiftAfter(lines []string, i int, ms int64) string {
	var b strings.Builder
	for k, l := range lines {
		if k >= i && strings.Count(l, ",") == 7 {
			f := strings.Split(l, ",")
			ts, _ := strconv.ParseInt(f[6], 10, 64)
			f[6] = strconv.FormatInt(ts+ms, 10)
			l = strings.Join(f, ",")
		}
		b.WriteString(l)
	}
	return b.String()
}

// TestExitStatus is the regression test of #19 item 24's Ctrl-C: a
// cancelled command printed "context canceled"; it now says
// "interrupted".
func TestExitStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		want string
	}{
		{"none", nil, 0, ""},
		{"help", flag.ErrHelp, 0, ""},
		{"interrupted", fmt.Errorf("tuning: listing results: %w", context.Canceled), 130, "kagen tune: interrupted\n"},
		{"usage", usageError{"--runs 0, expected 1.."}, 2, "kagen tune: --runs 0, expected 1..\n"},
		{"other", errors.New("m.onnx: truncated"), 1, "kagen tune: m.onnx: truncated\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if code := exitStatus("tune", tc.err, &b); code != tc.code || b.String() != tc.want {
				t.Errorf("exit %d, %q; want %d, %q", code, b.String(), tc.code, tc.want)
			}
		})
	}
}
