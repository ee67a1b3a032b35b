package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sync"
	"testing"
)

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		d    Decision
		want map[string]any
	}{
		{"plain", Decision{Index: 3, Time: 1.5, From: 1, To: 2, Rule: "naive: class unchanged -> more", Class: 1, Confidence: 0.5},
			map[string]any{"index": 3.0, "time_s": 1.5, "from": 1.0, "to": 2.0, "rule": "naive: class unchanged -> more", "class": 1.0, "class_name": "WALKING", "confidence": 0.5}},
		{"signals", Decision{Index: 1, Rule: "r", Class: 7, Confidence: 0.25, Signals: SigVotes | SigKalman | SigThresholds | SigBudget | SigFloor | SigOverride,
			Votes: -2, KalmanX: 0.75, Less: 0.5, More: 0.875, BudgetErr: -0.125, Goal: 1.5, Cost: 0.001, Hard: 0.625, Proposed: 3, Inner: "state: x"},
			map[string]any{"index": 1.0, "time_s": 0.0, "from": 0.0, "to": 0.0, "rule": "r", "class": 7.0, "confidence": 0.25,
				"votes": -2.0, "kalman_x": 0.75, "less": 0.5, "more": 0.875, "budget_err": -0.125, "goal": 1.5, "cost": 0.001, "hard": 0.625, "proposed": 3.0, "inner": "state: x"}},
		{"not a number", Decision{Rule: "q\"uote\\ \x01 \xff é", Class: -1, Confidence: float32(math.NaN()), Signals: SigKalman, KalmanX: math.Inf(1)},
			map[string]any{"index": 0.0, "time_s": 0.0, "from": 0.0, "to": 0.0, "rule": "q\"uote\\ \x01 \ufffd é", "class": -1.0, "confidence": nil, "kalman_x": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendJSON(nil, tt.d, []string{"SEATED", "WALKING"})
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestLogWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewLogWriter(&buf, nil)
	for i := 0; i < 3; i++ {
		if err := w.Write(Decision{Index: int64(i), Rule: "static: level 0"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if !json.Valid(l) {
			t.Fatalf("invalid JSON line %s", l)
		}
	}
	// Steady-state writes allocate nothing.
	w = NewLogWriter(io.Discard, []string{"a", "b"})
	d := Decision{Index: 1, Rule: "state: last 3 predictions equal, votes +2 -> more", Signals: SigVotes | SigFloor, Class: 1}
	if a := testing.AllocsPerRun(1000, func() { w.Write(d) }); a != 0 {
		t.Errorf("%v allocations per line", a)
	}
	// A failing writer's error is returned and kept.
	f, _ := os.Open(os.DevNull)
	f.Close()
	w = NewLogWriter(f, nil)
	w.Write(d)
	if err := w.Flush(); err == nil {
		t.Fatal("no error writing to a closed file")
	}
	if err := w.Write(d); err == nil {
		t.Fatal("error not kept")
	}
}

func TestRing(t *testing.T) {
	r := NewRing(4)
	got, next := r.Since(0, nil)
	if len(got) != 0 || next != 0 {
		t.Fatalf("empty ring: %v %d", got, next)
	}
	for i := 0; i < 3; i++ {
		r.Add(Decision{Index: int64(i)})
	}
	got, next = r.Since(1, nil)
	if idx(got) != "[1 2]" || next != 3 {
		t.Fatalf("Since(1) = %s, %d", idx(got), next)
	}
	for i := 3; i < 10; i++ {
		r.Add(Decision{Index: int64(i)})
	}
	// Fell behind: the oldest held are returned.
	got, next = r.Since(2, got[:0])
	if idx(got) != "[6 7 8 9]" || next != 10 {
		t.Fatalf("Since(2) = %s, %d", idx(got), next)
	}
	if got := r.Last(2, nil); idx(got) != "[8 9]" {
		t.Fatalf("Last(2) = %s", idx(got))
	}
	if got := r.Last(100, nil); idx(got) != "[6 7 8 9]" {
		t.Fatalf("Last(100) = %s", idx(got))
	}
	if r.Total() != 10 || r.Cap() != 4 {
		t.Fatalf("Total %d Cap %d", r.Total(), r.Cap())
	}
	if a := testing.AllocsPerRun(1000, func() { r.Add(Decision{Index: 1, Rule: "x"}) }); a != 0 {
		t.Errorf("%v allocations per Add", a)
	}
	if NewRing(0).Cap() != 1 {
		t.Error("NewRing(0) holds no decision")
	}
}

// TestRingConcurrent reads while writing (run with -race).
func TestRingConcurrent(t *testing.T) {
	r := NewRing(16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			r.Add(Decision{Index: int64(i)})
		}
	}()
	var seq int64
	var buf []Decision
	last := int64(-1)
	for seq < 2000 {
		buf, seq = r.Since(seq, buf[:0])
		for _, d := range buf {
			if d.Index <= last {
				t.Fatalf("decision %d after %d", d.Index, last)
			}
			last = d.Index
		}
	}
	wg.Wait()
}

func idx(ds []Decision) string {
	s := make([]int64, len(ds))
	for i, d := range ds {
		s[i] = d.Index
	}
	return fmt.Sprint(s)
}
