package main

// --zoo: every model of a directory (bench/.cache/zoo, written by
// bench/zoo/export.py and fetch.sh) against ONNX Runtime, one line each.
//
// Each model runs in a child process (this program with -zoo-child), so
// that an engine that crashes the process (a fatal runtime error, a panic
// on another goroutine, a segfault in cgo) or hangs costs that model only.
// Inside the child, panics of the kagen adapter are recovered too.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// zooResult is one model's line: the child fills the measurement, the
// parent the ops and the status.
type zooResult struct {
	Model      string         `json:"model"`
	Inputs     string         `json:"inputs,omitempty"`
	Status     string         `json:"status"` // pass, mismatch, load, run, crash, timeout, ort
	Loads      bool           `json:"loads"`
	Error      string         `json:"error,omitempty"` // kagen's first error (load or run), or why the child failed
	ORTError   string         `json:"ort_error,omitempty"`
	MaxAbsDiff *float64       `json:"max_abs_diff"`
	Why        string         `json:"why,omitempty"`
	KagenMs    *float64       `json:"kagen_median_ms"`
	ORTMs      *float64       `json:"ort_median_ms"`
	Ratio      *float64       `json:"ratio"` // kagen / ORT medians
	Runs       map[string]int `json:"runs,omitempty"`
	Ops        []string       `json:"ops,omitempty"`
	Missing    []string       `json:"missing"` // ops the engine does not implement, file order
	Threads    int            `json:"threads"` // the first --threads count: the fields above
	// ByThreads has one entry per --threads count when there are several
	// (the first repeats the fields above), all measured interleaved.
	ByThreads []zooAt `json:"by_threads,omitempty"`
	// Peers has, per engine of --engines other than kagen and ORT (gomlx,
	// onnxgo), whether it loads, runs and agrees with ORT, at the first
	// thread count.
	Peers []zooPeer `json:"peers,omitempty"`
}

// zooPeer is one peer engine on one zoo model.
type zooPeer struct {
	Engine     string   `json:"engine"`
	Status     string   `json:"status"` // pass, mismatch, load, run, ort (no reference)
	Loads      bool     `json:"loads"`
	Error      string   `json:"error,omitempty"` // shortened
	MaxAbsDiff *float64 `json:"max_abs_diff"`
	Ms         *float64 `json:"median_ms"`
	Ratio      *float64 `json:"ratio"` // the engine's median over ORT's
}

// peerStatus is a peer engine's zooPeer from its result (ort: ORT's).
func peerStatus(x, ort *result) zooPeer {
	p := zooPeer{Engine: x.name, Loads: x.err == nil || strings.HasPrefix(x.err.Error(), "run: ")}
	if x.checked && !math.IsInf(x.diff, 0) && !math.IsNaN(x.diff) {
		d := x.diff
		p.MaxAbsDiff = &d
	}
	if x.err == nil && len(x.times) > 0 {
		v := math.Round(summarise(x.times).median) / 1e3
		p.Ms = &v
	}
	p.Ratio = medianRatio(x, ort)
	switch {
	case x.err != nil && !p.Loads:
		p.Status, p.Error = "load", shortError(errors.New(strings.TrimPrefix(x.err.Error(), "load: ")), 160)
	case x.err != nil:
		p.Status, p.Error = "run", shortError(errors.New(strings.TrimPrefix(x.err.Error(), "run: ")), 160)
	case ort == nil || ort.err != nil:
		p.Status = "ort"
	case x.checked && x.agree:
		p.Status = "pass"
	default:
		p.Status, p.Error = "mismatch", strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(x.why), "["), "]")
	}
	return p
}

// zooAt is one model at one thread count.
type zooAt struct {
	Threads int      `json:"threads"`
	KagenMs *float64 `json:"kagen_median_ms"`
	ORTMs   *float64 `json:"ort_median_ms"`
	Ratio   *float64 `json:"ratio"` // kagen / ORT medians at this count
	// Speedups over the first thread count (nil for the first).
	KagenSpeedup *float64 `json:"kagen_speedup,omitempty"`
	ORTSpeedup   *float64 `json:"ort_speedup,omitempty"`
}

// zooChild measures one model and prints its zooResult as JSON on stdout.
func zooChild(cfg config, path string) {
	r := zooResult{Model: filepath.Base(path), Threads: cfg.threads}
	defer func() {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}()
	model, err := os.ReadFile(path)
	if err != nil {
		r.Status, r.ORTError = "ort", err.Error()
		return
	}
	ins, err := modelInputs(cfg.seed, path, model)
	if err != nil {
		r.Status, r.ORTError = "ort", err.Error()
		return
	}
	r.Inputs = describeInputs(ins)
	res := measure(cfg, path, model, ins, "kagen")
	counts := threadCounts(cfg)
	find := func(name string, t int) *result {
		for _, x := range res {
			if x.name == name && x.threads == t {
				return x
			}
		}
		return nil
	}
	kr, or := find("kagen", counts[0]), find("ort", counts[0])
	for _, x := range res {
		if x.threads == counts[0] && x.name != "kagen" && x.name != "ort" {
			r.Peers = append(r.Peers, peerStatus(x, or))
		}
	}
	med := func(x *result) *float64 {
		if x == nil || x.err != nil || len(x.times) == 0 {
			return nil
		}
		v := math.Round(summarise(x.times).median) / 1e3 // µs -> ms, to the µs
		return &v
	}
	r.Runs = map[string]int{}
	for _, x := range res {
		if len(counts) > 1 {
			r.Runs[fmt.Sprintf("%s@%d", x.name, x.threads)] = len(x.times)
		} else {
			r.Runs[x.name] = len(x.times)
		}
	}
	if or == nil || or.err != nil {
		r.Status = "ort"
		if or != nil {
			r.ORTError = or.err.Error()
		} else {
			r.ORTError = "ort is not among --engines"
		}
	}
	if kr == nil {
		if r.Status == "" {
			r.Status, r.Error = "load", "kagen is not among --engines"
		}
		return
	}
	r.Loads = kr.err == nil || strings.HasPrefix(kr.err.Error(), "run: ")
	if kr.checked {
		d := kr.diff
		r.MaxAbsDiff = &d
	}
	r.Why = strings.TrimSpace(kr.why)
	r.KagenMs, r.ORTMs = med(kr), med(or)
	r.Ratio = medianRatio(kr, or)
	if len(counts) > 1 {
		for _, t := range counts {
			k, o := find("kagen", t), find("ort", t)
			at := zooAt{Threads: t, KagenMs: med(k), ORTMs: med(o), Ratio: medianRatio(k, o)}
			if t != counts[0] {
				at.KagenSpeedup, at.ORTSpeedup = medianRatio(kr, k), medianRatio(or, o)
			}
			r.ByThreads = append(r.ByThreads, at)
		}
	}
	switch {
	case r.Status == "ort":
		if kr.err != nil {
			r.Error = kr.err.Error()
		}
	case kr.err != nil && !r.Loads:
		r.Status, r.Error = "load", strings.TrimPrefix(kr.err.Error(), "load: ")
	case kr.err != nil:
		r.Status, r.Error = "run", kr.err.Error()
	case kr.checked && kr.agree:
		r.Status = "pass"
	default:
		r.Status = "mismatch"
	}
	// At the other thread counts kagen and ORT must have run and agreed
	// too (the peers have their own lines, at the first count).
	for _, x := range res {
		if r.Status != "pass" || x == kr || x == or || (x.name != "kagen" && x.name != "ort") {
			continue
		}
		switch {
		case x.err != nil:
			r.Status, r.Error = "run", fmt.Sprintf("%s at %d threads: %v", x.name, x.threads, x.err)
		case x.checked && !x.agree:
			r.Status, r.Why = "mismatch", strings.TrimSpace(fmt.Sprintf("%s at %d threads: %s", x.name, x.threads, x.why))
		}
	}
}

// medianRatio is a's median over b's, rounded to 3 decimals (nil unless
// both have timings).
func medianRatio(a, b *result) *float64 {
	if a == nil || b == nil || a.err != nil || b.err != nil || len(a.times) == 0 || len(b.times) == 0 {
		return nil
	}
	v := math.Round(summarise(a.times).median/summarise(b.times).median*1000) / 1000
	return &v
}

// zooModels expands the arguments (directories and .onnx files) into the
// list of models, sorted by name within a directory.
func zooModels(args []string) ([]string, error) {
	var models []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%w (export the zoo with /usr/bin/python3 bench/zoo/export.py and bench/zoo/fetch.sh)", err)
		}
		if !st.IsDir() {
			models = append(models, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.onnx"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s holds no .onnx model (export the zoo with /usr/bin/python3 bench/zoo/export.py and bench/zoo/fetch.sh)", a)
		}
		sort.Strings(m)
		models = append(models, m...)
	}
	return models, nil
}

// runZoo runs every model in a child process and prints one line each and
// a summary. childFlags are the command line's flags, passed on.
func runZoo(cfg config, args, childFlags []string, timeout time.Duration) error {
	models, err := zooModels(args)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	supported := kagenSupportedOps()
	start, loadStart := time.Now(), loadAverage()
	if !cfg.jsonOnly {
		fmt.Printf("zoo: %d models, threads %s, %d warm-up + %d timed runs per engine (budget %v), tolerance rtol %g atol %g\n\n",
			len(models), threadsLabel(threadCounts(cfg)), cfg.warmup, cfg.runs, cfg.budget, cfg.rtol, cfg.atol)
		fmt.Println(zooHeader(threadCounts(cfg)))
	}
	var all []zooResult
	for _, path := range models {
		r := zooOne(self, childFlags, path, timeout)
		if b, err := os.ReadFile(path); err == nil {
			if ops, err := opTypes(b); err == nil {
				r.Ops = ops
				if kagenAvailable {
					r.Missing = missingOps(ops, supported)
				}
			}
		}
		if r.Missing == nil {
			r.Missing = []string{}
		}
		all = append(all, r)
		if cfg.jsonOnly {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		} else {
			fmt.Println(zooLine(r))
			if l := peersLine(r.Peers); l != "" {
				fmt.Println(l)
			}
		}
	}
	s := summariseZoo(all, time.Since(start), threadCounts(cfg))
	s.LoadStart, s.LoadEnd, s.Cores = loadStart, loadAverage(), runtime.NumCPU()
	s.Date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	if cfg.jsonOnly {
		b, _ := json.Marshal(s)
		fmt.Println(string(b))
	} else {
		fmt.Println()
		fmt.Println(s.line())
		if len(s.Blocking) > 0 {
			fmt.Println(s.blockingLine())
		}
		for _, p := range s.Peers {
			fmt.Println(p.line())
		}
	}
	if s.Pass != s.Models {
		return errors.New("not every zoo model loads, runs and matches ORT")
	}
	return nil
}

// loadAverage is the 1-minute load average ("" where /proc/loadavg is
// missing).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// zooOne runs the child for one model.
func zooOne(self string, childFlags []string, path string, timeout time.Duration) zooResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append(append([]string{}, childFlags...), "-zoo-child", path)
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var r zooResult
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if jerr := json.Unmarshal([]byte(line), &r); jerr == nil && r.Status != "" {
		return r
	}
	r = zooResult{Model: filepath.Base(path), Status: "crash"}
	switch {
	case ctx.Err() != nil:
		r.Status, r.Error = "timeout", fmt.Sprintf("no result after %v", timeout)
	case err != nil:
		r.Error = fmt.Sprintf("the child process failed (%v): %s", err, firstFatal(stderr.String()))
	default:
		r.Error = "the child process printed no result"
	}
	return r
}

// firstFatal picks the informative line of a crashed child's stderr: the
// panic or fatal error message, else the last line.
func firstFatal(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "SIGSEGV") {
			return l
		}
	}
	return lines[len(lines)-1]
}

func zooLine(r zooResult) string {
	f := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	loads := map[bool]string{true: "yes", false: "no"}[r.Loads]
	check := map[string]string{"pass": "pass", "mismatch": "FAIL"}[r.Status]
	if check == "" {
		check = r.Status
	}
	note := r.Error
	if r.ORTError != "" {
		note = "ORT: " + r.ORTError
	}
	if r.Why != "" && r.Status == "mismatch" {
		note = r.Why
	}
	if len(r.Missing) > 0 {
		if note != "" {
			note += "; "
		}
		note += "lacks " + strings.Join(r.Missing, " ")
	}
	ratio := "-"
	if r.Ratio != nil {
		ratio = fmt.Sprintf("%.2fx", *r.Ratio)
	}
	diff := f(r.MaxAbsDiff, "%.2g")
	if len(r.ByThreads) > 1 {
		var ratios, times, speedups string
		for i, at := range r.ByThreads {
			ratios += fmt.Sprintf(" %9s", f(at.Ratio, "%.2fx"))
			times += fmt.Sprintf(" %9s %9s", f(at.KagenMs, "%.3g"), f(at.ORTMs, "%.3g"))
			if i > 0 {
				speedups += fmt.Sprintf(" %9s %9s", f(at.KagenSpeedup, "%.2fx"), f(at.ORTSpeedup, "%.2fx"))
			}
		}
		return fmt.Sprintf("%-30s %-5s %-9s %-8s%s%s%s  %s", strings.TrimSuffix(r.Model, ".onnx"), loads, diff, check,
			ratios, times, speedups, oneLine(note))
	}
	return fmt.Sprintf("%-30s %-5s %-9s %-8s %9s %9s %9s  %s", strings.TrimSuffix(r.Model, ".onnx"), loads, diff, check,
		ratio, f(r.KagenMs, "%.3g"), f(r.ORTMs, "%.3g"), oneLine(note))
}

// zooHeader is the header of zooLine's columns for the thread counts.
func zooHeader(counts []int) string {
	if len(counts) == 1 {
		return fmt.Sprintf("%-30s %-5s %-9s %-8s %9s %9s %9s  %s", "model", "loads", "max|Δ|", "check", "kagen/ORT", "kagen ms", "ORT ms", "first error; ops the engine lacks")
	}
	var ratios, times, speedups string
	for i, t := range counts {
		ratios += fmt.Sprintf(" %9s", fmt.Sprintf("k/ORT@%d", t))
		times += fmt.Sprintf(" %9s %9s", fmt.Sprintf("kagen@%d", t), fmt.Sprintf("ORT@%d", t))
		if i > 0 {
			speedups += fmt.Sprintf(" %9s %9s", fmt.Sprintf("kagen %d/%d", counts[0], t), fmt.Sprintf("ORT %d/%d", counts[0], t))
		}
	}
	return fmt.Sprintf("%-30s %-5s %-9s %-8s%s%s%s  %s", "model", "loads", "max|Δ|", "check", ratios, times, speedups,
		"first error; ops the engine lacks (times in ms; speedup = time at the first count over time at the next)")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

type zooSummary struct {
	Summary string         `json:"summary"` // "zoo"
	Models  int            `json:"models"`
	Load    int            `json:"load"` // models kagen loads
	Pass    int            `json:"pass"`
	Status  map[string]int `json:"status"`
	Geomean *float64       `json:"ratio_geomean"` // kagen/ORT over the passing models (first thread count)
	Seconds float64        `json:"seconds"`
	// ByThreads: per thread count (when there are several), the geometric
	// means over the passing models of kagen/ORT and of each engine's
	// speedup over the first count.
	ByThreads []zooGeomean `json:"by_threads,omitempty"`
	// LoadStart and LoadEnd are the machine's 1-minute load averages when
	// the run began and ended (Linux /proc/loadavg; empty elsewhere), so
	// that a table says how busy the machine was.
	LoadStart string    `json:"load_start,omitempty"`
	LoadEnd   string    `json:"load_end,omitempty"`
	Cores     int       `json:"cores"`
	Date      string    `json:"date,omitempty"` // when the run ended, UTC
	Blocking  []opCount `json:"blocking"`       // missing ops by the number of models lacking them
	// Peers counts, per peer engine (gomlx, onnxgo), the models it loads
	// and those it runs in agreement with ORT.
	Peers []peerSummary `json:"peers,omitempty"`
}

// peerSummary is one peer engine over the zoo.
type peerSummary struct {
	Engine string         `json:"engine"`
	Models int            `json:"models"`
	Load   int            `json:"load"`
	Pass   int            `json:"pass"`
	Status map[string]int `json:"status"`
	// Geomean is the engine's median over ORT's, geometric mean over the
	// models it passes.
	Geomean *float64 `json:"ratio_geomean"`
}

func (p peerSummary) line() string {
	var parts []string
	for _, st := range []string{"mismatch", "load", "run", "ort", "crash"} {
		if c := p.Status[st]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, map[string]string{
				"mismatch": "mismatch ORT", "load": "do not load", "run": "fail to run", "ort": "without an ORT reference",
				"crash": "lost to a crash or time-out of the model's process"}[st]))
		}
	}
	rest := ""
	if len(parts) > 0 {
		rest = ", " + strings.Join(parts, ", ")
	}
	g := "-"
	if p.Geomean != nil {
		g = fmt.Sprintf("%.2fx", *p.Geomean)
	}
	return fmt.Sprintf("%s: %d/%d pass (%d load)%s; %s/ORT geomean over its passing: %s", p.Engine, p.Pass, p.Models, p.Load, rest, p.Engine, g)
}

// peersLine is a model's peer engines on one indented line ("" without
// peers): status, median and ratio to ORT, or the error.
func peersLine(ps []zooPeer) string {
	var parts []string
	for _, p := range ps {
		s := p.Engine + " " + p.Status
		if p.Ms != nil {
			s += fmt.Sprintf(" %.3g ms", *p.Ms)
		}
		if p.Ratio != nil {
			s += fmt.Sprintf(" (%.2fx ORT)", *p.Ratio)
		}
		if p.Error != "" {
			s += ": " + p.Error
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "    " + oneLine(strings.Join(parts, "; "))
}

// summarisePeers counts each peer engine's statuses over the zoo, in the
// order the engines first appear.
func summarisePeers(all []zooResult) []peerSummary {
	var out []peerSummary
	idx := map[string]int{}
	ratios := map[string][]*float64{}
	for _, r := range all {
		for _, p := range r.Peers {
			i, ok := idx[p.Engine]
			if !ok {
				i = len(out)
				idx[p.Engine] = i
				out = append(out, peerSummary{Engine: p.Engine, Status: map[string]int{}})
			}
			ps := &out[i]
			ps.Models++
			ps.Status[p.Status]++
			if p.Loads {
				ps.Load++
			}
			if p.Status == "pass" {
				ps.Pass++
				ratios[p.Engine] = append(ratios[p.Engine], p.Ratio)
			}
		}
	}
	for i := range out {
		out[i].Geomean, _ = geomean(ratios[out[i].Engine])
		// A model whose child process crashed or timed out has no peer
		// results: it counts against every peer.
		if n := len(all) - out[i].Models; n > 0 {
			out[i].Status["crash"] += n
			out[i].Models = len(all)
		}
	}
	return out
}

type zooGeomean struct {
	Threads      int      `json:"threads"`
	Ratio        *float64 `json:"ratio_geomean"`
	KagenSpeedup *float64 `json:"kagen_speedup_geomean,omitempty"`
	ORTSpeedup   *float64 `json:"ort_speedup_geomean,omitempty"`
	Models       int      `json:"models"` // with a ratio at this count
}

// geomean of the non-nil positive values, rounded to 3 decimals (nil when
// there are none), and how many there were.
func geomean(vs []*float64) (*float64, int) {
	sum, n := 0.0, 0
	for _, v := range vs {
		if v != nil && *v > 0 {
			sum += math.Log(*v)
			n++
		}
	}
	if n == 0 {
		return nil, 0
	}
	g := math.Round(math.Exp(sum/float64(n))*1000) / 1000
	return &g, n
}

type opCount struct {
	Op     string `json:"op"`
	Models int    `json:"models"`
}

func summariseZoo(all []zooResult, took time.Duration, counts []int) zooSummary {
	s := zooSummary{Summary: "zoo", Models: len(all), Status: map[string]int{}, Seconds: math.Round(took.Seconds())}
	logSum, n := 0.0, 0
	count := map[string]int{}
	for _, r := range all {
		s.Status[r.Status]++
		if r.Loads {
			s.Load++
		}
		if r.Status == "pass" {
			s.Pass++
			if r.Ratio != nil && *r.Ratio > 0 {
				logSum += math.Log(*r.Ratio)
				n++
			}
		}
		for _, op := range r.Missing {
			count[op]++
		}
	}
	if n > 0 {
		g := math.Round(math.Exp(logSum/float64(n))*1000) / 1000
		s.Geomean = &g
	}
	for i, t := range counts {
		if len(counts) < 2 {
			break
		}
		var ratios, ks, ors []*float64
		for _, r := range all {
			if r.Status != "pass" || len(r.ByThreads) != len(counts) {
				continue
			}
			at := r.ByThreads[i]
			ratios, ks, ors = append(ratios, at.Ratio), append(ks, at.KagenSpeedup), append(ors, at.ORTSpeedup)
		}
		g := zooGeomean{Threads: t}
		g.Ratio, g.Models = geomean(ratios)
		g.KagenSpeedup, _ = geomean(ks)
		g.ORTSpeedup, _ = geomean(ors)
		s.ByThreads = append(s.ByThreads, g)
	}
	for op, c := range count {
		s.Blocking = append(s.Blocking, opCount{op, c})
	}
	s.Peers = summarisePeers(all)
	sort.Slice(s.Blocking, func(i, j int) bool {
		a, b := s.Blocking[i], s.Blocking[j]
		return a.Models > b.Models || (a.Models == b.Models && a.Op < b.Op)
	})
	return s
}

func (s zooSummary) line() string {
	var parts []string
	for _, st := range []string{"mismatch", "load", "run", "crash", "timeout", "ort"} {
		if c := s.Status[st]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, map[string]string{
				"mismatch": "mismatch ORT", "load": "do not load", "run": "fail to run",
				"crash": "crash", "timeout": "time out", "ort": "fail in ORT (zoo problem)"}[st]))
		}
	}
	g := "-"
	if s.Geomean != nil {
		g = fmt.Sprintf("%.2fx", *s.Geomean)
	}
	rest := ""
	if len(parts) > 0 {
		rest = ", " + strings.Join(parts, ", ")
	}
	for _, b := range s.ByThreads {
		f := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprintf("%.2fx", *v)
		}
		g += fmt.Sprintf("; at %d thread(s) %s", b.Threads, f(b.Ratio))
		if b.KagenSpeedup != nil || b.ORTSpeedup != nil {
			g += fmt.Sprintf(" (speedup kagen %s, ORT %s)", f(b.KagenSpeedup), f(b.ORTSpeedup))
		}
	}
	load := ""
	if s.LoadStart != "" {
		load = fmt.Sprintf(" (load average %s at the start, %s at the end, %d cores)", s.LoadStart, s.LoadEnd, s.Cores)
	}
	return fmt.Sprintf("zoo: %d/%d pass (%d load)%s; kagen/ORT geomean over the passing: %s; %.0f s%s",
		s.Pass, s.Models, s.Load, rest, g, s.Seconds, load)
}

func (s zooSummary) blockingLine() string {
	var parts []string
	for _, c := range s.Blocking {
		parts = append(parts, fmt.Sprintf("%s %d", c.Op, c.Models))
	}
	return "ops the engine lacks (models): " + strings.Join(parts, ", ")
}
