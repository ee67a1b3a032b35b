package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// The zoo section of EVALUATION.md lies between these markers, so that
// tools/zoo-table.sh can regenerate it alone (kagen report --zoo-only) and a
// full report keeps it when no zoo run is given.
const (
	ZooBegin = "<!-- zoo:begin (tools/zoo-table.sh) -->"
	ZooEnd   = "<!-- zoo:end -->"
)

// zooAt is one model at one thread count, as bench/peers.sh --zoo writes it.
type zooAt struct {
	Threads      int      `json:"threads"`
	KagenMs      *float64 `json:"kagen_median_ms"`
	ORTMs        *float64 `json:"ort_median_ms"`
	Ratio        *float64 `json:"ratio"`
	KagenSpeedup *float64 `json:"kagen_speedup"`
	ORTSpeedup   *float64 `json:"ort_speedup"`
}

// zooLine is one line of bench/peers.sh --zoo --json-only: a model, or the
// summary (Summary "zoo").
type zooLine struct {
	Summary string `json:"summary"`
	// model lines
	Model     string         `json:"model"`
	Status    string         `json:"status"`
	Runs      map[string]int `json:"runs"`
	Error     string         `json:"error"`
	ORTError  string         `json:"ort_error"`
	Why       string         `json:"why"`
	Missing   []string       `json:"missing"`
	Threads   int            `json:"threads"`
	KagenMs   *float64       `json:"kagen_median_ms"`
	ORTMs     *float64       `json:"ort_median_ms"`
	Ratio     *float64       `json:"ratio"`
	ByThreads []zooAt        `json:"-"` // a model's by_threads, read apart
	// from the summary line (zooSummaryLine)
	Models, Pass       int      `json:"-"`
	Seconds            float64  `json:"-"`
	LoadStart, LoadEnd string   `json:"-"`
	Cores              int      `json:"-"`
	RatioGeomean       *float64 `json:"-"`
	Date               string   `json:"-"`
}

// zooSummaryLine is the last line of bench/peers.sh --zoo --json-only.
type zooSummaryLine struct {
	Models       int      `json:"models"`
	Pass         int      `json:"pass"`
	Seconds      float64  `json:"seconds"`
	LoadStart    string   `json:"load_start"`
	LoadEnd      string   `json:"load_end"`
	Cores        int      `json:"cores"`
	RatioGeomean *float64 `json:"ratio_geomean"`
	Date         string   `json:"date"`
}

// ZooSection renders the JSON lines of `bench/peers.sh --zoo --threads
// 1,2 --json-only` as the markdown zoo section, markers included: per
// model kagen/ORT and both medians at each thread count and each engine's
// speedup over the first count, then the geometric means per count and
// the machine's load during the run. cmd is the command that produced the
// lines, quoted in the section.
func ZooSection(r io.Reader, cmd string) (string, error) {
	var models []zooLine
	var sum *zooLine
	var geo []zooGeo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		t := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(t, "{") {
			continue
		}
		var kind struct {
			Summary string `json:"summary"`
		}
		if err := json.Unmarshal([]byte(t), &kind); err != nil {
			return "", fmt.Errorf("zoo results line %d: %w", n, err)
		}
		var l zooLine
		if kind.Summary != "" {
			l.Summary = kind.Summary
			var sl zooSummaryLine
			if err := json.Unmarshal([]byte(t), &sl); err != nil {
				return "", fmt.Errorf("zoo results line %d: %w", n, err)
			}
			l.Models, l.Pass, l.Seconds, l.LoadStart, l.LoadEnd, l.Cores, l.RatioGeomean = sl.Models, sl.Pass, sl.Seconds, sl.LoadStart, sl.LoadEnd, sl.Cores, sl.RatioGeomean
			l.Date = sl.Date
		} else if err := json.Unmarshal([]byte(t), &l); err != nil {
			return "", fmt.Errorf("zoo results line %d: %w", n, err)
		}
		switch {
		case l.Summary == "" && l.Model != "":
			var a struct {
				ByThreads []zooAt `json:"by_threads"`
			}
			if err := json.Unmarshal([]byte(t), &a); err != nil {
				return "", fmt.Errorf("zoo results line %d: %w", n, err)
			}
			l.ByThreads = a.ByThreads
			models = append(models, l)
		case l.Summary == "zoo":
			var g struct {
				ByThreads []zooGeo `json:"by_threads"`
			}
			if err := json.Unmarshal([]byte(t), &g); err != nil {
				return "", fmt.Errorf("zoo results line %d: %w", n, err)
			}
			sum, geo = &l, g.ByThreads
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("zoo results: %w", err)
	}
	if len(models) == 0 {
		return "", fmt.Errorf("zoo results: no model line (expected the output of bench/peers.sh --zoo --json-only)")
	}
	counts := zooCounts(models)
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("%s\n### The architecture zoo at %s\n\n", ZooBegin, joinCounts(counts, " and ", " thread(s)"))
	w("Exact inference against ONNX Runtime 1.30 on the zoo of `bench/zoo/` (measured): median of interleaved runs; ")
	w("kagen and ORT at every thread count are loaded side by side and timed in one rotation, so the ratios and the speedups come from the same run. ")
	w("kagen/ORT below 1 means kagen is faster; a speedup is the median at %d thread(s) over the median at the next count.\n\n", counts[0])
	w("| model | check |")
	for _, t := range counts {
		w(" kagen/ORT @%d |", t)
	}
	for _, t := range counts {
		w(" kagen ms @%d | ORT ms @%d |", t, t)
	}
	for _, t := range counts[1:] {
		w(" kagen speedup @%d | ORT speedup @%d |", t, t)
	}
	w("\n|---|---|%s\n", strings.Repeat("---:|", len(counts)*3+2*(len(counts)-1)))
	for _, m := range models {
		at := m.ByThreads
		if len(at) == 0 {
			at = []zooAt{{Threads: m.Threads, KagenMs: m.KagenMs, ORTMs: m.ORTMs, Ratio: m.Ratio}}
		}
		get := func(t int) zooAt {
			for _, a := range at {
				if a.Threads == t {
					return a
				}
			}
			return zooAt{Threads: t}
		}
		w("| %s | %s |", strings.TrimSuffix(m.Model, ".onnx"), zooCheck(m))
		for _, t := range counts {
			w(" %s |", fmtX(get(t).Ratio))
		}
		for _, t := range counts {
			w(" %s | %s |", fmtMs(get(t).KagenMs), fmtMs(get(t).ORTMs))
		}
		for _, t := range counts[1:] {
			w(" %s | %s |", fmtX(get(t).KagenSpeedup), fmtX(get(t).ORTSpeedup))
		}
		w("\n")
	}
	w("\n")
	if sum != nil {
		w("%d of %d models load, run and match ORT (rtol 1e-3, atol 1e-4). Geometric mean over them of kagen/ORT:", sum.Pass, sum.Models)
		if len(geo) == 0 {
			w(" %s.", fmtX(sum.RatioGeomean))
		}
		for i, g := range geo {
			w(" %s at %d thread(s)", fmtX(g.Ratio), g.Threads)
			if i > 0 {
				w(" (speedup over %d: kagen %s, ORT %s)", counts[0], fmtX(g.KagenSpeedup), fmtX(g.ORTSpeedup))
			}
			w("%s", map[bool]string{true: ".", false: ";"}[i == len(geo)-1])
		}
		lo, hi := 0, 0
		for _, m := range models {
			for _, n := range m.Runs {
				if n > 0 && (lo == 0 || n < lo) {
					lo = n
				}
				hi = max(hi, n)
			}
		}
		if hi > 0 {
			w(" Timed runs per engine and count: %d to %d (the zoo's time budget per engine cuts slow models short).", lo, hi)
		}
		w(" The run took %.0f s", sum.Seconds)
		if sum.Date != "" {
			w(", ending %s,", sum.Date)
		}
		if sum.LoadStart != "" {
			w(" on %d cores with a 1-minute load average of %s at its start and %s at its end (other work on the machine slows the engines and moves the ratios)", sum.Cores, sum.LoadStart, sum.LoadEnd)
		}
		w(".\n\n")
	}
	w("Regenerate this section alone with `tools/zoo-table.sh` (it runs `%s`).\n%s\n", cmd, ZooEnd)
	return b.String(), nil
}

type zooGeo struct {
	Threads      int      `json:"threads"`
	Ratio        *float64 `json:"ratio_geomean"`
	KagenSpeedup *float64 `json:"kagen_speedup_geomean"`
	ORTSpeedup   *float64 `json:"ort_speedup_geomean"`
}

// zooCounts lists the thread counts of the lines, in their order.
func zooCounts(models []zooLine) []int {
	var out []int
	for _, m := range models {
		if len(m.ByThreads) > 0 {
			for _, a := range m.ByThreads {
				out = append(out, a.Threads)
			}
			return out
		}
	}
	return []int{max(1, models[0].Threads)}
}

func joinCounts(counts []int, sep, unit string) string {
	s := make([]string, len(counts))
	for i, c := range counts {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, sep) + unit
}

// zooCheck is the status column: pass, or what went wrong, short.
func zooCheck(m zooLine) string {
	if m.Status == "pass" {
		return "pass"
	}
	why := m.Error
	if m.ORTError != "" {
		why = "ORT: " + m.ORTError
	}
	if m.Status == "mismatch" && m.Why != "" {
		why = m.Why
	}
	if len(m.Missing) > 0 {
		why = "lacks " + strings.Join(m.Missing, " ")
	}
	why = strings.NewReplacer("|", "/", "\n", " ").Replace(why)
	if len(why) > 60 {
		why = why[:57] + "..."
	}
	if why == "" {
		return m.Status
	}
	return m.Status + ": " + why
}

func fmtX(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

func fmtMs(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v >= 100:
		return fmt.Sprintf("%.0f", *v)
	}
	return fmt.Sprintf("%.3g", *v)
}

// ZooCommand is the peers run whose JSON lines ZooSection renders.
const ZooCommand = "bench/peers.sh --zoo --threads 1,2 --json-only"

// UpdateZoo rewrites only the zoo section of out/EVALUATION.md from the
// JSON lines in zooJSON (tools/zoo-table.sh).
func UpdateZoo(out, zooJSON string) error {
	path := filepath.Join(out, "EVALUATION.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sec, err := zooSectionFile(zooJSON)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(ReplaceZooSection(string(doc), sec)))
}

// zooSectionFile renders the zoo section from a file of JSON lines.
func zooSectionFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sec, err := ZooSection(f, ZooCommand)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return sec, nil
}

// zooSectionFor is the zoo section of a full report: from zooJSON when
// given, else the one the previous EVALUATION.md in out holds, else a
// note saying how to make it.
func zooSectionFor(out, zooJSON string) (string, error) {
	if zooJSON != "" {
		return zooSectionFile(zooJSON)
	}
	if s := zooSectionOf(filepath.Join(out, "EVALUATION.md")); s != "" {
		return s, nil
	}
	return ZooBegin + "\n### The architecture zoo\n\nNot measured in this run: `tools/zoo-table.sh` runs `" + ZooCommand + "` on the zoo of `bench/zoo/` and writes this section.\n" + ZooEnd + "\n", nil
}

// ReplaceZooSection puts section in place of doc's zoo section (between
// ZooBegin and ZooEnd), or before its "## Knobs" heading when it has none,
// or at its end.
func ReplaceZooSection(doc, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	if i := strings.Index(doc, ZooBegin); i >= 0 {
		if j := strings.Index(doc[i:], ZooEnd); j >= 0 {
			end := i + j + len(ZooEnd)
			if end < len(doc) && doc[end] == '\n' {
				end++
			}
			return doc[:i] + section + doc[end:]
		}
	}
	if i := strings.Index(doc, "\n## Knobs"); i >= 0 {
		return doc[:i+1] + section + doc[i:]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + section
}

// zooSectionOf returns the zoo section of the EVALUATION.md at path, ""
// when there is none.
func zooSectionOf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	doc := string(b)
	i := strings.Index(doc, ZooBegin)
	if i < 0 {
		return ""
	}
	j := strings.Index(doc[i:], ZooEnd)
	if j < 0 {
		return ""
	}
	return doc[i:i+j+len(ZooEnd)] + "\n"
}
