// Command peers compares kagen against ONNX Runtime (via cgo) and the pure-Go
// GoMLX (simplego backend) on the same ONNX models, with the same thread
// count, the same seeded input, and runs interleaved so that machine noise
// hits every engine alike. Run it through bench/peers.sh.
//
//	peers [--runs N] [--threads T] [--json-only] [--sgemm] MODEL...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type config struct {
	runs, warmup, threads int
	// threadList holds every thread count of --threads (threads is its
	// first): with several, each engine runs once per count, all of them
	// interleaved in one rotation.
	threadList      []int
	budget          time.Duration
	jsonOnly, sgemm bool
	rewarm          bool
	seed            uint64
	rtol, atol      float64
	ortLib          string
	engines         []string
}

// engineNames in the order they run within each interleaved round.
var engineNames = []string{"kagen", "ort", "gomlx", "onnxgo"}

var factories = map[string]engineFactory{
	"kagen":  newKagen,
	"ort":    newORT,
	"gomlx":  newGoMLX,
	"onnxgo": newOnnxGo,
}

func main() {
	var cfg config
	var engines string
	gomaxprocs := 0
	flag.IntVar(&cfg.runs, "runs", 200, "timed runs per engine (interleaved)")
	flag.IntVar(&cfg.warmup, "warmup", 20, "untimed warm-up runs per engine (interleaved)")
	flag.DurationVar(&cfg.budget, "budget", 20*time.Second, "time budget per engine and model: a slower engine does fewer runs (at least 5)")
	flag.BoolVar(&cfg.rewarm, "rewarm", true, "precede each timed run by an untimed run of the same engine (see README)")
	threadsText := flag.String("threads", "1", "threads per engine (ORT intra-op threads, kagen Options.Threads, GoMLX parallelism); a list (1,2) runs every engine at each count, interleaved")
	flag.IntVar(&gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS for the Go engines (0: the largest of --threads)")
	flag.BoolVar(&cfg.jsonOnly, "json-only", false, "print only the JSON lines on stdout")
	flag.BoolVar(&cfg.sgemm, "sgemm", false, "also compare SGEMM GFLOP/s: ORT MatMul against kagen's gemm package")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the random inputs")
	flag.Float64Var(&cfg.rtol, "rtol", 1e-3, "relative tolerance of the output check")
	flag.Float64Var(&cfg.atol, "atol", 1e-4, "absolute tolerance of the output check")
	flag.StringVar(&cfg.ortLib, "ort-lib", os.Getenv("ORT_LIB"), "path of libonnxruntime.so.1 (default $ORT_LIB)")
	flag.StringVar(&gomlxConfig, "gomlx-config", "", "GoMLX simplego backend config (default \"parallelism=T\", plus \",ops_sequential\" when T is 1)")
	ortOpt := flag.String("ort-opt", "all", "ORT graph optimisation level: all, extended, basic or none")
	flag.StringVar(&ortProfile, "ort-profile", "", "write ORT's per-node profile (Chrome-trace JSON, PREFIX_<date>.json) for every ORT session")
	flag.BoolVar(&ortSpin, "ort-spin", true, "let ORT's intra-op threads spin between runs (its default); false parks them (session.intra_op.allow_spinning=0), so that at 2+ threads they do not take the cores from the engine timed next")
	flag.StringVar(&engines, "engines", "kagen,ort,gomlx", "engines to run, comma-separated, in rotation order (also: onnxgo)")
	zoo := flag.Bool("zoo", false, "zoo mode: one line per model of the given directories (and .onnx files), kagen against ORT, each model in a child process; defaults become --runs 15 --warmup 2 --budget 3s --engines kagen,ort")
	zooTimeout := flag.Duration("zoo-timeout", 5*time.Minute, "zoo mode: time limit of one model's child process")
	child := flag.Bool("zoo-child", false, "internal: measure one zoo model and print its result as JSON")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: peers [flags] MODEL.onnx...\n       peers --zoo [flags] DIR|MODEL.onnx...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 && !cfg.sgemm {
		flag.Usage()
		os.Exit(2)
	}
	// Flags given on the command line: passed on to the zoo's children,
	// and the zoo's own defaults apply to the others.
	childFlags := append([]string(nil), os.Args[1:len(os.Args)-flag.NArg()]...)
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *zoo || *child {
		for name, v := range map[string]string{"runs": "15", "warmup": "2", "budget": "3s", "engines": "kagen,ort"} {
			if !set[name] {
				flag.Set(name, v)
				childFlags = append(childFlags, "-"+name+"="+v)
			}
		}
	}
	if cfg.runs < 1 {
		fail(errors.New("--runs must be at least 1"))
	}
	var err error
	if cfg.threadList, err = parseThreads(*threadsText); err != nil {
		fail(err)
	}
	cfg.threads = cfg.threadList[0]
	for _, e := range strings.Split(engines, ",") {
		if _, ok := factories[e]; !ok {
			fail(fmt.Errorf("unknown engine %q (have %s)", e, strings.Join(engineNames, ",")))
		}
		cfg.engines = append(cfg.engines, e)
	}
	if err := parseORTOpt(*ortOpt); err != nil {
		fail(err)
	}
	if gomaxprocs == 0 {
		gomaxprocs = slices.Max(cfg.threadList)
	}
	runtime.GOMAXPROCS(gomaxprocs)

	if *zoo && !*child {
		// The children load ORT; the parent only lists and reports.
		for i := 0; i < len(childFlags); i++ {
			if f := strings.TrimLeft(childFlags[i], "-"); f == "zoo" || strings.HasPrefix(f, "zoo=") {
				childFlags = append(childFlags[:i], childFlags[i+1:]...)
				i--
			}
		}
		if err := runZoo(cfg, flag.Args(), childFlags, *zooTimeout); err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
		return
	}
	if err := initORT(cfg.ortLib); err != nil {
		fail(err)
	}
	if *child {
		if flag.NArg() != 1 {
			fail(errors.New("-zoo-child takes one model"))
		}
		zooChild(cfg, flag.Arg(0))
		return
	}
	if !cfg.jsonOnly {
		fmt.Printf("ONNX Runtime %s (onnxruntime_go v1.27.0), GoMLX v0.26.0 simplego + onnx-gomlx v0.3.4, kagen %s\n",
			ortInit.version, map[bool]string{true: "engine", false: "NOT BUILT (-tags nokagen)"}[kagenAvailable])
		fmt.Printf("threads %s, GOMAXPROCS %d, %d warm-up + %d timed runs per engine (rewarm %v, budget %v), interleaved %s, %s/%s\n\n",
			threadsLabel(cfg.threadList), gomaxprocs, cfg.warmup, cfg.runs, cfg.rewarm, cfg.budget, strings.Join(cfg.engines, ","), runtime.GOOS, runtime.GOARCH)
	}

	failed := false
	for _, path := range flag.Args() {
		if err := benchModel(cfg, path); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
	}
	if cfg.sgemm {
		if err := benchSgemm(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "sgemm: %v\n", err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}

// result of one engine on one model.
type result struct {
	name    string
	threads int
	err     error // load or run error: no timings
	times   []time.Duration
	diff    float64 // max abs diff of the outputs against ORT's
	agree   bool
	checked bool
	ref     bool   // the ORT run whose outputs the others are checked against
	why     string // where the check failed (several outputs, shapes)
}

func benchModel(cfg config, path string) error {
	model, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ins, err := modelInputs(cfg.seed, path, model)
	if err != nil {
		return err
	}
	res := measure(cfg, path, model, ins, "")
	report(cfg, filepath.Base(path), ins, res)
	for _, r := range res {
		if r.name == "kagen" && !kagenAvailable {
			continue // built with -tags nokagen: expected
		}
		if r.err != nil || (r.checked && !r.agree) {
			return errors.New("not every engine ran and agreed with ORT")
		}
	}
	return nil
}

// measure loads the model in every engine of cfg, runs each once and checks
// every output against ORT's, then times them interleaved. When need names
// an engine, nothing is timed unless that engine ran (the zoo's kagen).
func measure(cfg config, path string, model []byte, ins []inputSpec, need string) []*result {
	// Load every engine; one that fails is reported and left out.
	// One slot per thread count and engine, in that order: the rotation
	// interleaves them all.
	var res []*result
	for _, t := range threadCounts(cfg) {
		for _, name := range cfg.engines {
			res = append(res, &result{name: name, threads: t})
		}
	}
	eng := make([]Engine, len(res))
	for i, r := range res {
		e, err := factories[r.name](model, ins, r.threads)
		if err != nil {
			res[i].err = fmt.Errorf("load: %w", err)
			continue
		}
		eng[i] = e
		defer e.Close()
	}

	// One run each, then check every output against ORT's.
	var ref []Output
	for i, e := range eng {
		if e == nil {
			continue
		}
		if err := e.Run(); err != nil {
			res[i].err, eng[i] = fmt.Errorf("run: %w", err), nil
			continue
		}
		if res[i].name == "ort" && ref == nil {
			ref = cloneOutputs(e.Outputs())
			res[i].ref = true
		}
	}
	for i, e := range eng {
		if e == nil || ref == nil || res[i].ref {
			continue
		}
		r := res[i]
		r.checked = true
		r.diff, r.agree, r.why = compareOutputs(e.Outputs(), ref, cfg.rtol, cfg.atol)
		if !r.agree {
			fmt.Fprintf(os.Stderr, "%s: %s output disagrees with ORT (max abs diff %.3g, rtol %g, atol %g)%s\n",
				path, r.name, r.diff, cfg.rtol, cfg.atol, r.why)
		}
	}
	if need != "" {
		for i, r := range res {
			if r.name == need && eng[i] == nil {
				return res
			}
		}
	}

	// Warm-up, then timed runs, interleaved: e0, e1, e2, e0, e1, e2, ...
	// With --rewarm (the default) each timed run is preceded by an untimed
	// run of the same engine: the first run of an engine after another
	// engine ran for milliseconds is much slower (measured here: ORT on
	// small.onnx 15 µs back to back, ~100-150 µs right after 2 ms of any
	// other work, even a Go spin loop; kagen 20 -> 60 µs), which would make
	// the fastest engine pay most for the slowest one in the rotation.
	// Engines whose runs take over rewarmBelow skip it (the effect is
	// negligible there).
	//
	// An engine slower than the budget allows leaves the rotation early: it
	// stops warming up after budget/10 and stops timed runs after budget
	// (once it has minRuns samples); the others go on interleaved.
	const minRuns = 5
	const rewarmBelow = 50 * time.Millisecond
	warmSpent := make([]time.Duration, len(eng))
	timedSpent := make([]time.Duration, len(eng))
	for i := range res {
		res[i].times = make([]time.Duration, 0, cfg.runs)
	}
	for round := 0; round < cfg.warmup; round++ {
		for i, e := range eng {
			if e == nil || warmSpent[i] > cfg.budget/10 {
				continue
			}
			t0 := time.Now()
			if err := e.Run(); err != nil {
				res[i].err, eng[i] = fmt.Errorf("run: %w", err), nil
				continue
			}
			warmSpent[i] += time.Since(t0)
		}
	}
	for more := true; more; {
		more = false
		for i, e := range eng {
			r := res[i]
			if e == nil || len(r.times) >= cfg.runs || (timedSpent[i] > cfg.budget && len(r.times) >= minRuns) {
				continue
			}
			more = true
			if cfg.rewarm && (len(r.times) == 0 || r.times[len(r.times)-1] < rewarmBelow) {
				if err := e.Run(); err != nil {
					r.err, eng[i] = fmt.Errorf("run: %w", err), nil
					continue
				}
			}
			t0 := time.Now()
			err := e.Run()
			dt := time.Since(t0)
			if err != nil {
				r.err, eng[i] = fmt.Errorf("run: %w", err), nil
				continue
			}
			r.times = append(r.times, dt)
			timedSpent[i] += dt
		}
	}

	// Check again after all the runs: an engine that keeps state across
	// runs (reused buffers) must still give the same output.
	for i, e := range eng {
		r := res[i]
		if e == nil || ref == nil {
			continue
		}
		d, ok, why := compareOutputs(e.Outputs(), ref, cfg.rtol, cfg.atol)
		if r.ref {
			d, ok, why = compareOutputs(e.Outputs(), ref, 0, 0)
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: %s output after %d runs differs from the checked one (max abs diff vs ORT %.3g)%s\n",
				path, r.name, len(r.times), d, why)
			r.checked, r.agree = true, false
			if r.why == "" {
				r.why = why
			}
		}
		r.diff = max(r.diff, d)
	}
	return res
}

// cloneOutputs copies outputs that live in an engine's buffers.
func cloneOutputs(outs []Output) []Output {
	c := make([]Output, len(outs))
	for i, o := range outs {
		c[i] = Output{Name: o.Name, Shape: append([]int(nil), o.Shape...),
			F: append([]float32(nil), o.F...), I: append([]int64(nil), o.I...)}
		if o.F == nil {
			c[i].F = nil
		}
		if o.I == nil {
			c[i].I = nil
		}
	}
	return c
}

// compareOutputs compares every output of want (ORT's) with got's output of
// the same name: same shape, same kind (floating or integer), every element
// within tolerance (see compare). It returns the max abs difference over
// all outputs, whether all agree, and if not, which output failed how.
func compareOutputs(got, want []Output, rtol, atol float64) (maxDiff float64, ok bool, why string) {
	ok = true
	var whys []string
	for _, w := range want {
		var g *Output
		for i := range got {
			if got[i].Name == w.Name {
				g = &got[i]
			}
		}
		bad := func(format string, args ...any) {
			ok = false
			maxDiff = math.Inf(1)
			whys = append(whys, fmt.Sprintf("output %q: ", w.Name)+fmt.Sprintf(format, args...))
		}
		switch {
		case g == nil:
			bad("missing")
			continue
		case !equalInts(g.Shape, w.Shape):
			bad("shape %v, ORT %v", g.Shape, w.Shape)
			continue
		case (g.F == nil) != (w.F == nil) || (g.I == nil) != (w.I == nil):
			bad("integer/floating kind differs from ORT's")
			continue
		}
		var d float64
		var o bool
		if w.F != nil {
			d, o = compare(g.F, w.F, rtol, atol)
		} else {
			d, o = compareInts(g.I, w.I, rtol, atol)
		}
		maxDiff = max(maxDiff, d)
		if !o {
			ok = false
			if len(want) > 1 {
				whys = append(whys, fmt.Sprintf("output %q: max abs diff %.3g", w.Name, d))
			}
		}
	}
	if len(whys) > 0 {
		why = " [" + strings.Join(whys, "; ") + "]"
	}
	return maxDiff, ok, why
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func compareInts(got, want []int64, rtol, atol float64) (maxDiff float64, ok bool) {
	if len(got) != len(want) {
		return math.Inf(1), false
	}
	ok = true
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		maxDiff = max(maxDiff, d)
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			ok = false
		}
	}
	return maxDiff, ok
}

// randomInput is the seeded input of a model: standard normal values, from a
// stream that depends on the seed and the model's file name only.
func randomInput(seed uint64, name string, n int) []float32 {
	h := fnv.New64a()
	io.WriteString(h, name)
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return data
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// compare returns the max abs difference of got against want and whether
// every element has |got-want| <= atol + rtol*|want| (NaNs disagree).
func compare(got, want []float32, rtol, atol float64) (maxDiff float64, ok bool) {
	if len(got) != len(want) {
		return math.Inf(1), false
	}
	ok = true
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		d := math.Abs(g - w)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = max(maxDiff, d)
		if !(d <= atol+rtol*math.Abs(w)) {
			ok = false
		}
	}
	return maxDiff, ok
}

type stats struct{ min, median, p90 float64 } // µs

func summarise(ts []time.Duration) stats {
	us := make([]float64, len(ts))
	for i, t := range ts {
		us[i] = float64(t.Nanoseconds()) / 1e3
	}
	sort.Float64s(us)
	n := len(us)
	med := us[n/2]
	if n%2 == 0 {
		med = (us[n/2-1] + us[n/2]) / 2
	}
	return stats{min: us[0], median: med, p90: us[int(math.Ceil(0.9*float64(n)))-1]}
}

func report(cfg config, model string, ins []inputSpec, res []*result) {
	counts := threadCounts(cfg)
	multi := len(counts) > 1
	label := func(r *result) string {
		if multi {
			return fmt.Sprintf("%s@%d", r.name, r.threads)
		}
		return r.name
	}
	st := map[string]*stats{} // by label
	at := func(name string, t int) *stats {
		if multi {
			return st[fmt.Sprintf("%s@%d", name, t)]
		}
		return st[name]
	}
	for _, r := range res {
		if r.err == nil && len(r.times) > 0 {
			s := summarise(r.times)
			st[label(r)] = &s
		}
	}
	if !cfg.jsonOnly {
		if len(ins) == 1 && ins[0].Type == onnxFloat {
			fmt.Printf("%s  input %s %v\n", model, ins[0].Name, ins[0].Shape)
		} else {
			fmt.Printf("%s  inputs %s\n", model, describeInputs(ins))
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "engine\truns\tmin µs\tmedian µs\tp90 µs\tmedian/ORT\tmax|Δ| vs ORT\tcheck\t"
		if multi {
			head += fmt.Sprintf("speedup vs %d thread(s)\t", counts[0])
		}
		fmt.Fprintln(tw, head)
		for _, r := range res {
			s := st[label(r)]
			if s == nil {
				fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\t-\t%s\t", label(r), "n/a")
				if multi {
					fmt.Fprint(tw, "-\t")
				}
				fmt.Fprintln(tw)
				continue
			}
			ratio := "-"
			if o := at("ort", r.threads); o != nil {
				ratio = fmt.Sprintf("%.2fx", s.median/o.median)
			}
			diff, check := "(ref)", "ref"
			if !r.ref {
				diff, check = "-", "-"
				if r.checked {
					diff = fmt.Sprintf("%.2g", r.diff)
					check = map[bool]string{true: "ok", false: "MISMATCH"}[r.agree]
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t", label(r), len(r.times), s.min, s.median, s.p90, ratio, diff, check)
			if multi {
				sp := "-"
				if b := at(r.name, counts[0]); b != nil {
					sp = fmt.Sprintf("%.2fx", b.median/s.median)
				}
				fmt.Fprintf(tw, "%s\t", sp)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		for _, r := range res {
			if r.err != nil {
				fmt.Printf("  %s: %s\n", label(r), shortError(r.err, 240))
			}
		}
	}

	// One JSON line per thread count: medians (null for an engine that did
	// not run), the required ratios, and a few extras; with several thread
	// counts, each engine's speedup over the first count.
	for _, t := range counts {
		med := func(name string) *float64 {
			if s := at(name, t); s != nil {
				v := math.Round(s.median*10) / 10
				return &v
			}
			return nil
		}
		ratio := func(a, b string) *float64 {
			if at(a, t) == nil || at(b, t) == nil {
				return nil
			}
			v := math.Round(at(a, t).median/at(b, t).median*1000) / 1000
			return &v
		}
		speedup := func(name string) *float64 {
			if !multi || t == counts[0] || at(name, t) == nil || at(name, counts[0]) == nil {
				return nil
			}
			v := math.Round(at(name, counts[0]).median/at(name, t).median*1000) / 1000
			return &v
		}
		line := struct {
			Model          string   `json:"model"`
			KagenMedianUs  *float64 `json:"kagen_median_us"`
			OrtMedianUs    *float64 `json:"ort_median_us"`
			GomlxMedianUs  *float64 `json:"gomlx_median_us"`
			Ratio          *float64 `json:"ratio"`
			GomlxRatio     *float64 `json:"gomlx_ratio"`
			GomlxOrtRatio  *float64 `json:"gomlx_ort_ratio"`
			KagenMaxAbsDif *float64 `json:"kagen_max_abs_diff"`
			GomlxMaxAbsDif *float64 `json:"gomlx_max_abs_diff"`
			OnnxgoMedianUs *float64 `json:"onnxgo_median_us,omitempty"`
			OnnxgoOrtRatio *float64 `json:"onnxgo_ort_ratio,omitempty"`
			OnnxgoMaxAbsDf *float64 `json:"onnxgo_max_abs_diff,omitempty"`
			// Errors has, per engine that did not load or run, its error
			// (shortened); Agree, per engine checked against ORT, whether
			// its outputs agreed.
			Errors  map[string]string `json:"errors,omitempty"`
			Agree   map[string]bool   `json:"agree,omitempty"`
			Threads int               `json:"threads"`
			Runs    map[string]int    `json:"runs"`
			// MinUs is each engine's fastest timed run (µs): on a loaded
			// machine the median moves more than the minimum.
			MinUs        map[string]float64 `json:"min_us,omitempty"`
			KagenSpeedup *float64           `json:"kagen_speedup,omitempty"` // over the first --threads count
			OrtSpeedup   *float64           `json:"ort_speedup,omitempty"`
			BaseThreads  int                `json:"speedup_over_threads,omitempty"`
		}{
			Model:         model,
			KagenMedianUs: med("kagen"), OrtMedianUs: med("ort"), GomlxMedianUs: med("gomlx"),
			Ratio: ratio("kagen", "ort"), GomlxRatio: ratio("gomlx", "kagen"), GomlxOrtRatio: ratio("gomlx", "ort"),
			Threads: t, Runs: map[string]int{},
			KagenSpeedup: speedup("kagen"), OrtSpeedup: speedup("ort"),
			OnnxgoMedianUs: med("onnxgo"), OnnxgoOrtRatio: ratio("onnxgo", "ort"),
		}
		if line.KagenSpeedup != nil || line.OrtSpeedup != nil {
			line.BaseThreads = counts[0]
		}
		for _, r := range res {
			if r.threads != t {
				continue
			}
			line.Runs[r.name] = len(r.times)
			if s := at(r.name, t); s != nil && r.err == nil {
				if line.MinUs == nil {
					line.MinUs = map[string]float64{}
				}
				line.MinUs[r.name] = math.Round(s.min*10) / 10
			}
			if r.err != nil {
				if line.Errors == nil {
					line.Errors = map[string]string{}
				}
				line.Errors[r.name] = shortError(r.err, 240)
			}
			if !r.checked {
				continue
			}
			if line.Agree == nil {
				line.Agree = map[string]bool{}
			}
			line.Agree[r.name] = r.agree
			d := r.diff
			if math.IsInf(d, 0) || math.IsNaN(d) {
				continue // JSON has no infinity: Agree says it disagreed
			}
			switch r.name {
			case "kagen":
				line.KagenMaxAbsDif = &d
			case "gomlx":
				line.GomlxMaxAbsDif = &d
			case "onnxgo":
				line.OnnxgoMaxAbsDf = &d
			}
		}
		b, _ := json.Marshal(line)
		fmt.Println(string(b))
	}
	if !cfg.jsonOnly {
		fmt.Println()
	}
}

// parseThreads reads --threads: one count or a comma-separated list of
// distinct counts, each 1 to 1024.
func parseThreads(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 || t > 1024 {
			return nil, fmt.Errorf("--threads %q: expected thread counts 1 to 1024, comma-separated (1,2)", s)
		}
		if slices.Contains(out, t) {
			return nil, fmt.Errorf("--threads %q: %d given twice", s, t)
		}
		out = append(out, t)
	}
	return out, nil
}

// threadCounts is cfg's list of thread counts (threads alone when the
// list is unset).
func threadCounts(cfg config) []int {
	if len(cfg.threadList) > 0 {
		return cfg.threadList
	}
	return []int{cfg.threads}
}

func threadsLabel(ts []int) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = strconv.Itoa(t)
	}
	return strings.Join(parts, ",")
}
