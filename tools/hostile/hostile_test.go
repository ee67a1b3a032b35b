//go:build hostile && linux

// Package hostile replays the hostile-input campaign of issue #19 against a
// freshly built kagen binary: every case in cases_*.txt is run in its own
// temporary directory with a time limit, and its exit status, output and
// protected files are checked. It is excluded from `go test ./...` by its
// build tag; run it with
//
//	go test -tags hostile ./tools/hostile/ [-hostile.timeout 60s] [-run 'Test/item-7']
//
// CI runs it with a shorter per-case limit (.ci/run).
//
// # Case files
//
// One case per line, tab-separated, '#' starts a comment line:
//
//	ITEM  NAME  SETUP  COMMAND  EXPECT
//
// ITEM is the finding's number in #19 ("held" for cases that held before
// it), SETUP a shell snippet run first in the case's directory ("-" for
// none), COMMAND the shell command under test (kagen is on PATH, $REPO is
// the repository root), and EXPECT space-separated checks:
//
//	exit=0 | exit!=0     the command's exit status
//	/REGEX/              matches stdout+stderr (Go syntax, ^ and $ at line
//	                     ends; it may hold
//	                     spaces: it ends at a slash followed by a space or
//	                     the end of the field)
//	!/REGEX/             does not match
//	nochange:FILE        FILE (relative to the case directory) is byte for
//	                     byte what SETUP left
//	exists:FILE, absent:FILE
//
// Whatever EXPECT says, a case fails if the command outlives its time
// limit (a hang) or prints a Go panic or runtime error.
package hostile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var caseTimeout = flag.Duration("hostile.timeout", 60*time.Second, "time limit of one case")

// hostileCase is one line of a case file.
type hostileCase struct {
	file, item, name, setup, command string
	expect                           []string
	line                             int
}

func loadCases(t *testing.T) []hostileCase {
	t.Helper()
	files, err := filepath.Glob("cases_*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files (cases_*.txt) next to the test: %v", err)
	}
	var cases []hostileCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for ln := 1; sc.Scan(); ln++ {
			line := sc.Text()
			if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			parts := strings.Split(line, "\t")
			if len(parts) != 5 {
				t.Fatalf("%s:%d: %d tab-separated fields, want 5 (ITEM NAME SETUP COMMAND EXPECT)", f, ln, len(parts))
			}
			cases = append(cases, hostileCase{file: f, line: ln, item: parts[0], name: parts[1], setup: parts[2], command: parts[3], expect: splitChecks(parts[4])})
		}
	}
	return cases
}

// TestCampaign builds kagen and runs every case.
func TestCampaign(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kagen"), ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kagen: %v\n%s", err, out)
	}
	cases := loadCases(t)
	counts := map[string][2]int{} // item: passed, failed
	for _, c := range cases {
		ok := t.Run(fmt.Sprintf("item-%s/%s", c.item, c.name), func(t *testing.T) {
			runCase(t, c, repo, bin)
		})
		n := counts[c.item]
		if ok {
			n[0]++
		} else {
			n[1]++
		}
		counts[c.item] = n
	}
	passed, failed := 0, 0
	for _, n := range counts {
		passed += n[0]
		failed += n[1]
	}
	t.Logf("hostile: %d cases, %d passed, %d failed (%d items)", len(cases), passed, failed, len(counts))
	fmt.Printf("hostile: %d cases, %d passed, %d failed\n", len(cases), passed, failed)
}

var panicRE = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|runtime error: )`)

func runCase(t *testing.T, c hostileCase, repo, bin string) {
	dir := t.TempDir()
	env := append(os.Environ(), "REPO="+repo, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir, "TMPDIR="+dir)
	where := fmt.Sprintf("%s:%d", c.file, c.line)
	if c.setup != "-" {
		if out, err := shell(dir, env, c.setup, *caseTimeout); err != nil {
			t.Fatalf("%s: setup failed: %v\n%s", where, err, out)
		}
	}
	sums := map[string][32]byte{}
	for _, e := range c.expect {
		if f, ok := strings.CutPrefix(e, "nochange:"); ok {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatalf("%s: nochange:%s after setup: %v", where, f, err)
			}
			sums[f] = sha256.Sum256(data)
		}
	}
	out, err := shell(dir, env, c.command, *caseTimeout)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: hung: no exit within %v\n%s", where, *caseTimeout, tail(out))
	}
	var exitErr *exec.ExitError
	code := 0
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if panicRE.Match(out) {
		t.Errorf("%s: crashed:\n%s", where, tail(out))
	}
	for _, e := range c.expect {
		switch {
		case e == "exit=0":
			if code != 0 {
				t.Errorf("%s: exit %d, want 0\n%s", where, code, tail(out))
			}
		case e == "exit!=0":
			if code == 0 {
				t.Errorf("%s: exit 0, want a failure\n%s", where, tail(out))
			}
		case strings.HasPrefix(e, "!/") && strings.HasSuffix(e, "/"):
			if re := compile(t, where, e[2:len(e)-1]); re.Match(out) {
				t.Errorf("%s: output matches %s\n%s", where, e[1:], tail(out))
			}
		case strings.HasPrefix(e, "/") && strings.HasSuffix(e, "/") && len(e) > 1:
			if re := compile(t, where, e[1:len(e)-1]); !re.Match(out) {
				t.Errorf("%s: output does not match %s\n%s", where, e, tail(out))
			}
		case strings.HasPrefix(e, "nochange:"):
			f := e[len("nochange:"):]
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Errorf("%s: %s is gone or unreadable after the command: %v", where, f, err)
			} else if sha256.Sum256(data) != sums[f] {
				t.Errorf("%s: %s was changed", where, f)
			}
		case strings.HasPrefix(e, "exists:"):
			if _, err := os.Lstat(filepath.Join(dir, e[len("exists:"):])); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		case strings.HasPrefix(e, "absent:"):
			if _, err := os.Lstat(filepath.Join(dir, e[len("absent:"):])); err == nil {
				t.Errorf("%s: %s exists, want none", where, e[len("absent:"):])
			}
		default:
			t.Fatalf("%s: unknown check %q", where, e)
		}
	}
}

func compile(t *testing.T, where, expr string) *regexp.Regexp {
	re, err := regexp.Compile("(?m)" + expr)
	if err != nil {
		t.Fatalf("%s: bad regular expression %q: %v", where, expr, err)
	}
	return re
}

// shell runs script with bash in dir and returns its combined output; a
// script that outlives limit is killed with its process group.
func shell(dir string, env []string, script string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	setProcessGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.Bytes(), context.DeadlineExceeded
	}
	return out.Bytes(), err
}

func tail(b []byte) string {
	const max = 1500
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// setProcessGroup makes the command lead a process group so that a hang
// kills what it started too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// splitChecks splits an EXPECT field into its checks: words separated by
// spaces, except that a check starting with / or !/ runs to the next slash
// that ends the field or is followed by a space.
func splitChecks(field string) []string {
	var out []string
	for {
		field = strings.TrimLeft(field, " ")
		if field == "" {
			return out
		}
		start := 0
		switch {
		case strings.HasPrefix(field, "/"):
			start = 1
		case strings.HasPrefix(field, "!/"):
			start = 2
		default:
			end := strings.IndexByte(field, ' ')
			if end < 0 {
				end = len(field)
			}
			out = append(out, field[:end])
			field = field[end:]
			continue
		}
		end := len(field)
		for i := start; i < len(field); i++ {
			if field[i] == '/' && (i+1 == len(field) || field[i+1] == ' ') {
				end = i + 1
				break
			}
		}
		out = append(out, field[:end])
		field = field[end:]
	}
}
