// Command engines-table renders the side-by-side table of kagen, onnx-go,
// GoMLX and ONNX Runtime (conformance, zoo, time on the shipped models)
// from the files tools/engines-table.sh measures, and rewrites the section
// between the markers EnginesBegin and EnginesEnd of each given Markdown
// file (README.md, docs/EVALUATION.md), nothing else:
//
//	engines-table -dir bench/.cache/engines README.md docs/EVALUATION.md
//
// The directory holds conf-kagen.txt (`kagen conformance DIR...`),
// conf-onnxgo.txt, conf-gomlx.txt, conf-ort.txt (bench/cmd/onnxgo-conformance
// -engine E), shipped.jsonl (bench/peers.sh --json-only on models/*.onnx),
// zoo.jsonl (bench/peers.sh --zoo --json-only) and load.txt (the machine's
// load average at each step).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// The markers of the section (report.EnginesBegin and EnginesEnd in the
// main module, which keeps the section in a full report).
const (
	EnginesBegin = "<!-- engines:begin (tools/engines-table.sh) -->"
	EnginesEnd   = "<!-- engines:end -->"
)

func main() {
	dir := flag.String("dir", "bench/.cache/engines", "directory of the measured files")
	readme := flag.String("readme", "", "a file (README.md) that gets the short section: the table, the commands and a link to docs/EVALUATION.md")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: engines-table [-dir DIR] FILE.md...\n\nRewrites the engines section of each FILE.md from the files tools/engines-table.sh measured into DIR.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 && *readme == "" {
		flag.Usage()
		os.Exit(2)
	}
	long, err := render(*dir, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engines-table:", err)
		os.Exit(1)
	}
	short, _ := render(*dir, true)
	files := map[string]string{}
	for _, f := range flag.Args() {
		files[f] = long
	}
	if *readme != "" {
		files[*readme] = short
	}
	for f, section := range files {
		if err := replaceSection(f, section); err != nil {
			fmt.Fprintln(os.Stderr, "engines-table:", err)
			os.Exit(1)
		}
	}
}

// replaceSection puts section between the markers of file, or appends it
// with the markers when the file has none.
func replaceSection(file, section string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := string(b)
	block := EnginesBegin + "\n" + section + EnginesEnd + "\n"
	i, j := strings.Index(s, EnginesBegin), strings.Index(s, EnginesEnd)
	switch {
	case i < 0 && j < 0:
		s = strings.TrimRight(s, "\n") + "\n\n" + block
	case i >= 0 && j > i:
		end := j + len(EnginesEnd)
		if end < len(s) && s[end] == '\n' {
			end++
		}
		s = s[:i] + block + s[end:]
	default:
		return fmt.Errorf("%s: the markers %q and %q are not in order", file, EnginesBegin, EnginesEnd)
	}
	return atomicfile.Write(file, []byte(s))
}

// conf is one engine's conformance line.
type conf struct {
	passed, failed, unsupported int
	line                        string
}

var confRE = regexp.MustCompile(`conformance: (\d+) passed, (\d+) failed, (\d+) unsupported`)

func readConf(path string) (conf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return conf{}, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := confRE.FindStringSubmatch(sc.Text()); m != nil && !strings.HasPrefix(sc.Text(), "kagen conformance") {
			var c conf
			fmt.Sscan(m[1], &c.passed)
			fmt.Sscan(m[2], &c.failed)
			fmt.Sscan(m[3], &c.unsupported)
			c.line = strings.TrimSpace(sc.Text())
			return c, nil
		}
	}
	return conf{}, fmt.Errorf("%s: no conformance line", path)
}

// shippedLine is the part of a peers.sh JSON line the table uses.
type shippedLine struct {
	Model  string             `json:"model"`
	Kagen  *float64           `json:"kagen_median_us"`
	ORT    *float64           `json:"ort_median_us"`
	GoMLX  *float64           `json:"gomlx_median_us"`
	Onnxgo *float64           `json:"onnxgo_median_us"`
	Errors map[string]string  `json:"errors"`
	Agree  map[string]bool    `json:"agree"`
	MinUs  map[string]float64 `json:"min_us"`
}

func (l shippedLine) cell(engine string) string {
	if e, ok := l.Errors[engine]; ok {
		return "does not " + map[bool]string{true: "load", false: "run"}[strings.HasPrefix(e, "load:")] + ": " + shorten(strings.TrimPrefix(strings.TrimPrefix(e, "load: "), "run: "), 70)
	}
	v := map[string]*float64{"kagen": l.Kagen, "ort": l.ORT, "gomlx": l.GoMLX, "onnxgo": l.Onnxgo}[engine]
	if v == nil {
		return "not run"
	}
	t := fmtUs(*v)
	if m, ok := l.MinUs[engine]; ok {
		t += " (min " + fmtUs(m) + ")"
	}
	if ok, checked := l.Agree[engine]; checked && !ok {
		t += " (**wrong output**)"
	}
	return t
}

func fmtUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.3g s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.3g ms", us/1e3)
	}
	return fmt.Sprintf("%.3g µs", us)
}

// zoo lines: per model kagen's status and the peers'; the summary.
type zooModel struct {
	Model  string `json:"model"`
	Status string `json:"status"`
	Loads  bool   `json:"loads"`
	Peers  []struct {
		Engine string `json:"engine"`
		Status string `json:"status"`
		Loads  bool   `json:"loads"`
	} `json:"peers"`
}

type zooSum struct {
	Summary   string `json:"summary"`
	Models    int    `json:"models"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
	Date      string `json:"date"`
	Seconds   float64
}

// zooCounts is, per engine, the models that load and those that run and
// match ORT (ORT: those it runs, as the reference).
type zooCounts struct {
	load, pass map[string]int
	models     int
	sum        zooSum
}

func readZoo(path string) (zooCounts, error) {
	z := zooCounts{load: map[string]int{}, pass: map[string]int{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return z, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 || l[0] != '{' {
			continue
		}
		if bytes.Contains(l, []byte(`"summary":"zoo"`)) {
			if err := json.Unmarshal(l, &z.sum); err != nil {
				return z, fmt.Errorf("%s: %w", path, err)
			}
			continue
		}
		var m zooModel
		if err := json.Unmarshal(l, &m); err != nil {
			return z, fmt.Errorf("%s: %w", path, err)
		}
		z.models++
		if m.Loads {
			z.load["kagen"]++
		}
		if m.Status == "pass" {
			z.pass["kagen"]++
		}
		if m.Status != "ort" && m.Status != "crash" && m.Status != "timeout" {
			z.load["ort"]++
			z.pass["ort"]++
		}
		for _, p := range m.Peers {
			if p.Loads {
				z.load[p.Engine]++
			}
			if p.Status == "pass" {
				z.pass[p.Engine]++
			}
		}
	}
	if z.sum.Summary == "" {
		return z, fmt.Errorf("%s: no summary line (the zoo run did not finish)", path)
	}
	return z, nil
}

func readShipped(path string) ([]shippedLine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []shippedLine
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		var s shippedLine
		if err := json.Unmarshal(l, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no model line", path)
	}
	return out, nil
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// render builds the section from the measured files: the whole of it, or
// with short the table, the commands and a link to docs/EVALUATION.md.
func render(dir string, short bool) (string, error) {
	engines := []struct{ key, name, what string }{
		{"kagen", "kagen", "this repository's engine"},
		{"onnxgo", "onnx-go", "github.com/owulveryck/onnx-go v0.5.0, Gorgonia backend"},
		{"gomlx", "GoMLX", "v0.26.0 simplego + onnx-gomlx v0.3.4"},
		{"ort", "ONNX Runtime", "1.30.0 through onnxruntime_go (cgo)"},
	}
	confs := map[string]conf{}
	var errs []error
	for _, e := range engines {
		c, err := readConf(filepath.Join(dir, "conf-"+e.key+".txt"))
		if err != nil {
			errs = append(errs, err)
		}
		confs[e.key] = c
	}
	shipped, err := readShipped(filepath.Join(dir, "shipped.jsonl"))
	if err != nil {
		errs = append(errs, err)
	}
	zoo, err := readZoo(filepath.Join(dir, "zoo.jsonl"))
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	load, _ := os.ReadFile(filepath.Join(dir, "load.txt"))

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Why kagen has its own ONNX engine\n\n")
	p("The design first named [onnx-go](https://github.com/owulveryck/onnx-go) (v0.5.0, archived) as the ONNX package. kagen decodes ONNX itself and runs its own engine instead; this is that choice measured against onnx-go and the two other engines `bench/` compares with, on the same tests and models (generated by `tools/engines-table.sh`):\n\n")
	p("| engine | ONNX backend tests: passed / failed / unsupported | zoo models that load / run and match ORT (of %d) |", zoo.models)
	for _, s := range shipped {
		p(" %s median (min) |", strings.TrimSuffix(s.Model, ".onnx"))
	}
	p("\n|---|---:|---:|")
	for range shipped {
		p("---:|")
	}
	p("\n")
	for _, e := range engines {
		c := confs[e.key]
		zl, zp := fmt.Sprint(zoo.load[e.key]), fmt.Sprint(zoo.pass[e.key])
		if e.key == "ort" {
			zp += " (the reference)"
		}
		p("| %s (%s) | %d / %d / %d | %s / %s |", e.name, e.what, c.passed, c.failed, c.unsupported, zl, zp)
		for _, s := range shipped {
			p(" %s |", s.cell(e.key))
		}
		p("\n")
	}
	p("\nHow each figure was produced:\n\n")
	p("- Conformance: the Debian ONNX backend tests that CI runs (`/usr/share/libonnx-testdata/data/{node,pytorch-converted,pytorch-operator,simple}`, %d tests), kagen by `kagen conformance DIR...`, the others by `bench/cmd/onnxgo-conformance -engine onnxgo|gomlx|ort DIR...`, judged by kagen's rules: its tolerances (rtol 1e-4, atol 1e-5), two runs per data set, every output compared; a test needing sequence, optional or string values, training or random operators or another operator domain is unsupported for every engine, and so is one the engine says it lacks (an operator, an attribute, a type); any other error, a wrong output, a panic, a crash of the process or a hang is a failure. ORT's unsupported count includes float16 and bfloat16 tests its Go binding cannot allocate (`adapter: FLOAT16`).\n", zoo0(confs))
	p("- Zoo: `bench/peers.sh --zoo --engines kagen,ort,gomlx,onnxgo --runs 5 --warmup 1 --budget 2s --zoo-timeout 20m` on the %d models of `bench/zoo/` (bench/zoo/README.md), each model in its own process; a model matches when every output is within rtol 1e-3, atol 1e-4 of ORT's after the first run and after the timed ones. The run took %.0f s, ending %s, load average %s at its start and %s at its end on 2 cores.\n", zoo.models, zoo.sum.Seconds, zoo.sum.Date, zoo.sum.LoadStart, zoo.sum.LoadEnd)
	p("- Shipped models: `bench/peers.sh --engines kagen,ort,gomlx,onnxgo --runs 100 models/*.onnx`, one thread, runs interleaved; medians of the timed runs (GoMLX stops after its 20 s budget, at least 5 runs).\n")
	if from, to := loadRange(string(load)); from != "" {
		p("- Load: the 1-minute load average was between %s and %s during these measurements (2 cores shared with other work: the medians of the fast engines move with it more than their minima).\n", from, to)
	}
	if short {
		p("\nThe machine's load average during the measurements, the per-engine conformance lines and what the failures are: [docs/EVALUATION.md](docs/EVALUATION.md#why-kagen-has-its-own-onnx-engine). Regenerate with `tools/engines-table.sh`.\n")
		return b.String(), nil
	}
	if l := strings.TrimSpace(string(load)); l != "" {
		p("- Load at each step (`/proc/loadavg`; the machine is shared, so timings move with it):\n\n```\n%s\n```\n", l)
	}
	p("\nThe lines the conformance program printed:\n\n```\n")
	for _, e := range engines {
		p("%s: %s\n", e.key, confs[e.key].line)
	}
	p("```\n\n")
	p("What the failures are (read from the per-test lines, `-v`): onnx-go lacks most operators of today's exported models (Shape, Gather, Slice, ReduceMean, LayerNormalization, Pad, Clip, ConstantOfShape, ...), takes only 2-D convolutions with symmetric padding, cannot decode the BOOL test tensors and has not implemented uint8, int8 or float16 ones, and panics on others, some on a Gorgonia goroutine that no `recover` reaches (negative Concat axes crash the process). Its Gemm writes its result into its C input when C has the output's size, so with a bias initializer and batch 1 every run adds to the bias: a model is right once and wrong from the second run on (`TestOnnxGoSmallModel`). GoMLX's simplego backend lacks several operators and forms the zoo uses (GRU, RNN, InstanceNormalization, LogSoftmax, ConvTranspose, HardSwish, Pad, ceil_mode pooling), needs shapes known when the graph is built (inputs that are computed shapes, axes or indices fail), and runs convolutions as plain loops: on the shipped models its medians are a thousand times ORT's or more.\n\n")
	p("Regenerate this section with `tools/engines-table.sh` (about 30 minutes on 2 cores, most of it GoMLX on the zoo's convolutional networks).\n")
	return b.String(), nil
}

// loadRange is the lowest and the highest 1-minute load average of
// load.txt ("HH:MM step: load A B C" lines).
func loadRange(s string) (low, high string) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		for i := range f {
			if f[i] != "load" || i+1 >= len(f) {
				continue
			}
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				continue
			}
			if v < lo {
				lo, low = v, f[i+1]
			}
			if v > hi {
				hi, high = v, f[i+1]
			}
		}
	}
	return low, high
}

// zoo0 is the number of conformance tests (the largest count of any
// engine's results).
func zoo0(confs map[string]conf) int {
	n := 0
	for _, c := range confs {
		n = max(n, c.passed+c.failed+c.unsupported)
	}
	return n
}
