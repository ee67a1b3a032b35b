package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressPrinter reports progress as a line redrawn on a terminal, or as
// JSON lines.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	tty   bool
	start time.Time
}

func newProgress(w io.Writer, asJSON bool) *progressPrinter {
	p := &progressPrinter{w: w, json: asJSON, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressPrinter) report(phase string, done, total int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		json.NewEncoder(p.w).Encode(map[string]any{"phase": phase, "done": done, "total": total, "item": what, "elapsed_s": time.Since(p.start).Seconds()})
		return
	}
	if !p.tty {
		return
	}
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	if len(what) > 36 {
		what = what[:36]
	}
	fmt.Fprintf(p.w, "\r%-9s [%s%s] %d/%d %-36s", phase, strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, what)
}

func (p *progressPrinter) done() {
	if p.tty && !p.json {
		fmt.Fprintln(p.w)
	}
}
