package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/sessions"
)

func TestCmdSessions(t *testing.T) {
	dir := t.TempDir()
	st, err := sessions.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range []*sessions.Session{
		{Name: "har-int8", ModelPath: "har.onnx", Traces: []string{"walk.csv"}, Config: "conv1=perf-row:2:0,fc=int8"},
		{Name: "kws", ModelPath: "kws.onnx"},
		{Name: "busy", ModelPath: "busy.onnx", Config: "fc=int8"},
	} {
		if err := st.Save(s); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := st.Acquire("busy") // held by this (live) process
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	empty := filepath.Join(t.TempDir(), "none")

	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		out, noOut []string // substrings stdout must and must not have
		errOut     string   // substring of stderr
	}{
		{name: "no store", args: []string{"sessions", "--data-dir", empty}, out: []string{"no sessions in " + filepath.Join(empty, sessions.FileName)}},
		{name: "no store, JSON", args: []string{"sessions", "--json", "--data-dir", empty}, out: []string{"[]"}},
		{name: "list", args: []string{"sessions", "--data-dir", dir},
			out: []string{"NAME", "MODEL", "UPDATED", "CONFIGURATION", "har-int8", "har.onnx", "conv1=perf-row:2:0,fc=int8", "kws.onnx", "(exact)",
				"pid " + strconv.Itoa(os.Getpid())}},
		{name: "list verb, flags after", args: []string{"sessions", "list", "--data-dir", dir}, out: []string{"har-int8"}},
		{name: "rm held session", args: []string{"sessions", "rm", "busy", "--data-dir", dir}, code: 1, errOut: "open in another kagen"},
		{name: "rm missing", args: []string{"sessions", "rm", "--data-dir", dir, "nope"}, code: 1, errOut: `"nope"`},
		{name: "rm without name", args: []string{"sessions", "rm", "--data-dir", dir}, code: 2, errOut: "needs a session name"},
		{name: "rm invalid name", args: []string{"sessions", "rm", "--data-dir", dir, "a\tb"}, code: 1, errOut: "invalid session"},
		{name: "unknown verb", args: []string{"sessions", "frobnicate", "--data-dir", dir}, code: 2, errOut: "unknown sessions command"},
		{name: "rm", args: []string{"sessions", "rm", "--data-dir", dir, "kws"}, out: []string{`deleted session "kws"`}},
		{name: "list after rm", args: []string{"sessions", "--data-dir", dir}, out: []string{"har-int8"}, noOut: []string{"kws"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errb.String())
			}
			for _, s := range tc.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.noOut {
				if strings.Contains(out.String(), s) {
					t.Errorf("stdout has %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errb.String(), tc.errOut) {
				t.Errorf("stderr lacks %q:\n%s", tc.errOut, errb.String())
			}
		})
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("listing created the missing store directory: %v", err)
	}

	// --json: newest first, with the holder.
	var out, errb bytes.Buffer
	if code := run([]string{"sessions", "--data-dir", dir, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got []sessions.Listing
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(got) != 2 || got[0].Name != "busy" || got[1].Name != "har-int8" {
		t.Fatalf("JSON list = %+v", got)
	}
	if got[0].InUse == nil || got[0].InUse.PID != os.Getpid() || got[1].InUse != nil {
		t.Errorf("in_use = %+v, %+v", got[0].InUse, got[1].InUse)
	}
	if h := got[1]; h.Model != "har.onnx" || h.Traces != 1 || h.Config != "conv1=perf-row:2:0,fc=int8" || h.Revision != 1 || h.Updated.IsZero() {
		t.Errorf("JSON entry = %+v", h)
	}
}

func TestCmdSessionsDefaultDir(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	st, err := sessions.Open(filepath.Join(xdg, "kagen"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(&sessions.Session{Name: "from-xdg", ModelPath: "m.onnx"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"sessions"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "from-xdg") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}
