package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/replay"
)

// traceSummary is what the traces hold, read once in the background:
// the Model screen shows it instead of every path.
type traceSummary struct {
	files, windows, labelled int
	seconds                  float64 // the files' durations added
	err                      error
}

// summariseTraces reads every window of the traces as the replay does
// and counts files, windows and labelled windows, and adds the files'
// durations (the end of each file's last window).
func summariseTraces(ctx context.Context, spec *replay.Spec, traces []replay.Trace) traceSummary {
	var s traceSummary
	x := make([]float32, spec.InputSize())
	for _, t := range traces {
		src, err := t.Open(spec, replay.Options{})
		if err != nil {
			s.err = err
			return s
		}
		ends := map[string]float64{}
		for {
			if err := ctx.Err(); err != nil {
				src.Close()
				s.err = err
				return s
			}
			w, err := src.Next(x)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				s.err = err
				return s
			}
			s.windows++
			if w.Label != "" && spec.ClassIndex(w.Label) >= 0 {
				s.labelled++
			}
			ends[w.File] = max(ends[w.File], w.End)
		}
		src.Close()
		s.files += len(ends)
		for _, e := range ends {
			s.seconds += e
		}
	}
	return s
}

// traceFolders returns the folders the traces are in (a folder trace
// counts as itself), sorted.
func traceFolders(traces []replay.Trace) []string {
	set := map[string]bool{}
	for _, t := range traces {
		dir := t.Path
		if !t.IsDir() {
			if t.FS != nil {
				dir = path.Dir(t.Path)
			} else {
				dir = filepath.Dir(t.Path)
			}
		}
		set[dir] = true
	}
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// tracesLine summarises the traces: how many paths, in which folders,
// and once read, their files, windows and duration.
func tracesLine(traces []replay.Trace, s *traceSummary) string {
	var b strings.Builder
	if len(traces) == 1 {
		b.WriteString(traces[0].Name)
	} else {
		b.WriteString(plural(len(traces), "path"))
		dirs := traceFolders(traces)
		if len(dirs) <= 2 {
			fmt.Fprintf(&b, " in %s", strings.Join(dirs, ", "))
		} else {
			fmt.Fprintf(&b, " in %d folders", len(dirs))
		}
	}
	switch {
	case s == nil:
		b.WriteString(" · reading…")
	case s.err != nil:
		b.WriteString(" · " + s.err.Error())
	default:
		fmt.Fprintf(&b, " · %s, %s (%d labelled), %s", plural(s.files, "file"), plural(s.windows, "window"), s.labelled, fmtDuration(s.seconds))
	}
	return b.String()
}

// fmtDuration formats seconds of recording: "47 s", "13.2 min", "2.1 h".
func fmtDuration(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%.1f h", s/3600)
	case s >= 120:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.0f s", s)
}
