// Command onnxgo-conformance runs ONNX backend test directories (the ones
// `kagen conformance` runs) through onnx-go v0.5.0 and its Gorgonia backend
// (or, with -engine, through the other peers of bench/peers.sh: GoMLX or
// ONNX Runtime), and prints kagen's line from the same directories beside
// it:
//
//	onnxgo-conformance [-engine onnxgo|gomlx|ort] [-timeout 20s] [-kagen=true] [-v] DIR...
//
// A DIR holding model.onnx is one test; any other DIR is searched one level
// deep, as kagen does. Each test is judged as kagen judges its own:
//
//   - UNSUPPORTED when the model needs what kagen's conformance also counts
//     as unsupported whatever the engine (sequence, optional, string or map
//     values, training operators, random operators, other operator domains:
//     conformance.Categorize), or when onnx-go says it lacks an operator, an
//     attribute or a type (its ErrNotImplemented, "not yet implemented",
//     "unknown type");
//   - PASS when, for every test_data_set_N, the model loads, runs twice on
//     the inputs and both runs give every expected output within kagen's
//     tolerances (conformance.Tolerances, conformance.CompareWithin: same
//     shape, integers equal, |got-want| <= atol + rtol*|want|);
//   - FAIL otherwise: an error, a wrong output, a panic (recovered), a
//     crash of the process or no result within -timeout.
//
// The tests run in a child process (this program with -child), one after
// the other; a test that crashes the child or runs past -timeout is counted
// as a failure, the child is killed and a new one goes on with the next
// test. The summary line is "onnx-go conformance: P passed, F failed, U
// unsupported" (gomlx, ort with -engine), followed by the unsupported tests by category and, with
// -kagen (the default), "kagen conformance: ..." from kagen's own
// conformance package on the same directories (the line `kagen conformance
// DIR...` prints).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/engine/conformance"
)

// result is one test's outcome, as the child reports it.
type result struct {
	Name     string `json:"name"`
	Status   string `json:"status"` // PASS, FAIL, UNSUPPORTED
	Reason   string `json:"reason,omitempty"`
	Category string `json:"category,omitempty"`
	// SecondRun is set on a FAIL whose first run was right: the second
	// run on the same inputs gave another result.
	SecondRun bool `json:"second_run,omitempty"`
}

func main() {
	timeout := flag.Duration("timeout", 20*time.Second, "time limit of one test (a test past it fails)")
	withKagen := flag.Bool("kagen", true, "also run kagen's conformance on the same directories and print its line")
	verbose := flag.Bool("v", false, "print one line per test (PASS, FAIL with the reason, UNSUPPORTED with the category)")
	child := flag.Bool("child", false, "internal: run the given test directories and print one JSON result per line")
	engineName := flag.String("engine", "onnxgo", "engine under test: onnxgo (onnx-go v0.5.0, Gorgonia), gomlx (GoMLX simplego via onnx-gomlx) or ort (ONNX Runtime via onnxruntime_go)")
	flag.StringVar(&ortLib, "ort-lib", os.Getenv("ORT_LIB"), "ONNX Runtime library for -engine ort (default $ORT_LIB)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: onnxgo-conformance [flags] DIR...\n\nRuns ONNX backend tests through onnx-go v0.5.0 (Gorgonia backend) and prints\nP passed, F failed, U unsupported, beside kagen's line from the same directories.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	eng, ok := runners[*engineName]
	if !ok {
		fmt.Fprintf(os.Stderr, "onnxgo-conformance: -engine %q: expected onnxgo, gomlx or ort\n", *engineName)
		os.Exit(2)
	}
	if *child {
		// The test directories come on stdin, one a line (not as
		// arguments: ONNX Runtime's environment set-up crashes when the
		// process's arguments are large).
		enc := json.NewEncoder(os.Stdout)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if err := enc.Encode(runTest(eng, sc.Text())); err != nil {
				os.Exit(1)
			}
		}
		return
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	tests, err := findTests(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "onnxgo-conformance:", err)
		os.Exit(1)
	}
	if len(tests) == 0 {
		fmt.Fprintln(os.Stderr, "onnxgo-conformance: no test directory (holding model.onnx) under", strings.Join(flag.Args(), " "))
		os.Exit(1)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "onnxgo-conformance:", err)
		os.Exit(1)
	}
	start := time.Now()
	childArgs := []string{"-child", "-engine=" + *engineName, "-ort-lib=" + ortLib}
	results := runAll(self, childArgs, tests, *timeout)
	s := summarise(results)
	if *verbose {
		for _, r := range results {
			fmt.Println(r.line())
		}
	}
	fmt.Printf("%s conformance: %d passed, %d failed, %d unsupported (%d tests, %d failed on the second run only, %d crashed or timed out; %.0f s)\n",
		labels[*engineName], s.passed, s.failed, s.unsupported, len(results), s.secondRun, s.lost, time.Since(start).Seconds())
	for _, c := range s.categories() {
		fmt.Printf("  unsupported %d: %s\n", s.byCat[c], c)
	}
	if *withKagen {
		start := time.Now()
		ks, err := conformance.Run(flag.Args(), io.Discard)
		if err != nil {
			fmt.Fprintln(os.Stderr, "onnxgo-conformance: kagen:", err)
			os.Exit(1)
		}
		fmt.Printf("kagen conformance: %d passed, %d failed, %d unsupported (%d tests; %.0f s)\n",
			ks.Passed, ks.Failed, ks.Unsupported, len(ks.Results), time.Since(start).Seconds())
	}
}

var runners = map[string]engineRunner{"onnxgo": onnxgoRunner, "gomlx": gomlxRunner, "ort": ortRunner}

var labels = map[string]string{"onnxgo": "onnx-go", "gomlx": "gomlx", "ort": "ort"}

// findTests lists the test directories under dirs: a directory holding
// model.onnx is a test, any other is searched one level deep.
func findTests(dirs []string) ([]string, error) {
	var tests []string
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, "model.onnx")); err == nil && st.Mode().IsRegular() {
			tests = append(tests, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if st, err := os.Stat(filepath.Join(d, e.Name(), "model.onnx")); err == nil && st.Mode().IsRegular() {
				tests = append(tests, filepath.Join(d, e.Name()))
			}
		}
	}
	return tests, nil
}

// runAll runs the tests in child processes: one child goes through them in
// order; when it crashes or a test outlasts timeout, the test fails, the
// child is killed and a new one starts at the next test.
func runAll(self string, childArgs, tests []string, timeout time.Duration) []result {
	var out []result
	for len(out) < len(tests) {
		rest := tests[len(out):]
		got, lost := runChild(self, childArgs, rest, timeout)
		out = append(out, got...)
		if lost != nil {
			out = append(out, *lost)
		}
	}
	return out
}

// runChild runs one child on tests and returns the results it gave and, if
// it stopped before the end, the failed result of the test it stopped at.
func runChild(self string, childArgs, tests []string, timeout time.Duration) ([]result, *result) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, self, childArgs...)
	cmd.Stdin = strings.NewReader(strings.Join(tests, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, &result{Name: filepath.Base(tests[0]), Status: "FAIL", Reason: "cannot start the test process: " + err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return nil, &result{Name: filepath.Base(tests[0]), Status: "FAIL", Reason: "cannot start the test process: " + err.Error()}
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []result
	stop := func(why string) ([]result, *result) {
		cancel()
		for range lines { // let the reader finish
		}
		cmd.Wait()
		if l := fatalLine(stderr.String()); l != "" && !strings.HasSuffix(why, "(time-out)") {
			why = strings.TrimSuffix(why, " (crash)") + ": " + oneLine(l) + " (crash)"
		}
		return got, &result{Name: filepath.Base(tests[len(got)]), Status: "FAIL", Reason: why}
	}
	for len(got) < len(tests) {
		timer := time.NewTimer(timeout)
		select {
		case l, ok := <-lines:
			timer.Stop()
			if !ok {
				return stop("the test process ended without a result (crash)")
			}
			var r result
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Status == "" {
				return stop("the test process printed no result (crash)")
			}
			got = append(got, r)
		case <-timer.C:
			return stop(fmt.Sprintf("no result after %v (time-out)", timeout))
		}
	}
	cmd.Wait()
	return got, nil
}

// fatalLine picks the informative line of a crashed child's stderr: the
// panic or fatal error, else the last line.
func fatalLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "SIGSEGV") {
			return l
		}
	}
	return lines[len(lines)-1]
}

func (r result) line() string {
	switch r.Status {
	case "PASS":
		return "PASS " + r.Name
	case "UNSUPPORTED":
		return fmt.Sprintf("UNSUPPORTED %s [%s]: %s", r.Name, r.Category, r.Reason)
	}
	return fmt.Sprintf("FAIL %s: %s", r.Name, r.Reason)
}

type summary struct {
	passed, failed, unsupported int
	secondRun, lost             int
	byCat                       map[string]int
}

func summarise(rs []result) summary {
	s := summary{byCat: map[string]int{}}
	for _, r := range rs {
		switch r.Status {
		case "PASS":
			s.passed++
		case "UNSUPPORTED":
			s.unsupported++
			s.byCat[r.Category]++
		default:
			s.failed++
			if r.SecondRun {
				s.secondRun++
			}
			if strings.HasSuffix(r.Reason, "(crash)") || strings.HasSuffix(r.Reason, "(time-out)") {
				s.lost++
			}
		}
	}
	return s
}

// categories orders the unsupported categories by count, then name.
func (s summary) categories() []string {
	cats := make([]string, 0, len(s.byCat))
	for c := range s.byCat {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		a, b := cats[i], cats[j]
		if s.byCat[a] != s.byCat[b] {
			return s.byCat[a] > s.byCat[b]
		}
		return a < b
	})
	return cats
}
