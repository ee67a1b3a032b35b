package tui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/tuning"
)

// TestEndToEnd opens the demo, runs a short real tune, selects a point,
// changes a knob, picks a controller and a floor, saves the policy and
// checks the file as `kagen policy validate --model` does.
func TestEndToEnd(t *testing.T) {
	src, err := DemoSource("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	h := newHarness(t, src, 100, 30, Options{Start: ParetoScreen, Tuner: pipelineTuner{}, PolicyPath: path})
	b := h.app.ctx.Bench
	if !b.Ready() {
		t.Fatalf("demo did not load: %v", b.LoadErr)
	}

	// a loose threshold (the placeholder demo model is weak) and the
	// shortest search budget
	for i := 0; i < 38; i++ {
		h.press("+")
	}
	h.press("b", "b", "b")
	if s := h.app.screens[ParetoScreen].(*paretoScreen).settings; s.MaxLossPP != 20 || s.Budget != 2*time.Second {
		t.Fatalf("tune settings %+v", s)
	}
	h.tm.Send(keyMsg("t"))
	v := h.settleWithin(3 * time.Minute)
	if b.Pareto == nil {
		t.Fatalf("no Pareto set after the tune:\n%s", v)
	}
	if !strings.Contains(v, "tuned in") {
		t.Fatalf("the Pareto screen does not report the tune:\n%s", v)
	}
	t.Logf("tuned: %d levels, %d validated", len(b.Pareto.Configs), len(b.Validated))
	// the file kagen tune writes (tuning.ParetoFile), every field
	if p := b.Pareto; p.TuneSeconds <= 0 || len(p.Validated) == 0 || p.Meter != "phone-big (modelled)" || p.MaxLossPP != 20 || p.Validate() != nil {
		t.Fatalf("Pareto file: tune_seconds %v, %d bytes validated, meter %q, max loss %v, %v", p.TuneSeconds, len(p.Validated), p.Meter, p.MaxLossPP, p.Validate())
	}

	// select a point and load it into Knobs
	ps := h.app.screens[ParetoScreen].(*paretoScreen)
	h.press("left")
	want := ps.points[ps.sel]
	h.press("enter")
	if h.app.active != KnobsScreen {
		t.Fatalf("enter did not switch to Knobs (active %d)", h.app.active)
	}
	if b.ConfigText() != want.config {
		t.Fatalf("Knobs config %q, selected point %q", b.ConfigText(), want.config)
	}

	// change a knob: the dense layer's first approximate knob
	ks := h.app.screens[KnobsScreen].(*knobsScreen)
	for ks.layers[ks.cur].op != "Gemm" {
		h.press("down")
	}
	before := b.ConfigText()
	dense := ks.layers[ks.cur].name + "="
	h.press("right")
	if b.ConfigText() == before {
		// the selected point may already hold the layer's last knob
		h.press("left")
	}
	if b.ConfigText() == before || !strings.Contains(b.ConfigText(), dense) {
		t.Fatalf("knob change: config %q (was %q)", b.ConfigText(), before)
	}
	v = h.advance(h.app.ctx.Opts.KnobsPeriod, 2)
	knob := b.ConfigText()[strings.Index(b.ConfigText(), dense)+len(dense):]
	knob, _, _ = strings.Cut(knob, ",")
	if !strings.Contains(selectedRow(v), knob) {
		t.Fatalf("Knobs does not show the new configuration:\n%s", v)
	}

	// the policy: next controller, an accuracy floor, save
	h.press("5")
	h.press("right") // state -> kalman
	if b.Controller.Name != policy.Kalman {
		t.Fatalf("controller %q, want kalman", b.Controller.Name)
	}
	pol := h.app.screens[PolicyScreen].(*policyScreen)
	for pol.fields()[pol.field] != "param:floor" {
		h.press("down")
	}
	h.press("right", "right") // floor 1 pp
	if b.Controller.Floor == nil || b.Controller.Floor.LossPP != 1 {
		t.Fatalf("floor %+v", b.Controller.Floor)
	}
	if !b.Dirty {
		t.Fatal("changes not marked unsaved")
	}
	v = h.press("s")
	if !strings.Contains(v, "wrote "+path) || !strings.Contains(v, "kagen run --model") {
		t.Fatalf("the Policy screen does not report the saved file:\n%s", v)
	}
	if b.Dirty {
		t.Fatal("still unsaved after the save")
	}

	// the file: same checks as kagen policy validate FILE --model MODEL
	d, err := deploy.ReadPolicy(path, b.Model)
	if err != nil {
		t.Fatalf("saved policy does not validate: %v", err)
	}
	got := d.Policy
	if got.Controller.Name != policy.Kalman || got.Controller.Floor == nil || got.Controller.Floor.LossPP != 1 {
		t.Fatalf("saved controller %s", got.Controller)
	}
	if len(got.Levels) != len(b.Pareto.Configs) || got.ModelSHA256 != b.Model.SHA256() {
		t.Fatalf("saved levels %d (want %d), model %s", len(got.Levels), len(b.Pareto.Configs), got.ModelSHA256)
	}
	if _, err := policy.ReadPolicy(path, policy.ReadOptions{ModelSHA256: strings.Repeat("0", 64)}); err == nil {
		t.Fatal("the policy validates against another model")
	}
	// the demo model beside it, so that the command shown runs
	m, err := os.ReadFile(filepath.Join(dir, src.Name))
	if err != nil || !bytes.Equal(m, src.ModelBytes) {
		t.Fatalf("demo model beside the policy: %v", err)
	}
	if !strings.Contains(b.SavedCommand, filepath.Join(dir, src.Name)) || !strings.Contains(b.SavedCommand, path) {
		t.Fatalf("command %q", b.SavedCommand)
	}

	// nothing unsaved: q quits at once
	h.tm.Send(keyMsg("q"))
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// TestQuitAsks checks that q asks before dropping unsaved work.
func TestQuitAsks(t *testing.T) {
	h := newHarness(t, fixture(), 80, 24, Options{Start: KnobsScreen})
	h.settle()
	h.press("right")
	v := h.press("q")
	if !strings.Contains(v, "Quit anyway? y/n") {
		t.Fatalf("no question:\n%s", v)
	}
	v = h.press("n")
	if strings.Contains(v, "Quit anyway") {
		t.Fatalf("question still shown after n:\n%s", v)
	}
	h.press("q")
	h.tm.Send(keyMsg("y"))
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// TestErrorsInFiles checks that bad files show in the error panel while
// the workbench keeps running.
func TestErrorsInFiles(t *testing.T) {
	t.Run("model", func(t *testing.T) {
		h := newHarness(t, FileSource("testdata/no-such-model.onnx", []string{"testdata/har"}), 80, 24, Options{})
		v := h.settle()
		if !strings.Contains(v, "✗") || !strings.Contains(v, "no-such-model.onnx") {
			t.Fatalf("no error panel:\n%s", v)
		}
		for _, k := range []string{"2", "3", "4", "5", "1"} {
			v = h.press(k)
			checkSize(t, v, 80, 24)
		}
		v = h.press("esc")
		if strings.Contains(v, "✗") {
			t.Fatalf("esc did not dismiss the error:\n%s", v)
		}
	})
	t.Run("trace", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.csv")
		data := "x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n1,2,3,4,5,6,1000,SEATED\n1,2,oops,4,5,6,1020,SEATED\n"
		if err := os.WriteFile(bad, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, FileSource("testdata/har.onnx", []string{bad}), 80, 24, Options{Start: KnobsScreen})
		v := h.settle()
		if !strings.Contains(v, "✗ knobs replay") || !strings.Contains(v, "bad.csv") {
			t.Fatalf("no error panel for the bad trace:\n%s", v)
		}
		v = h.press("3", "space")
		checkSize(t, v, 80, 24)
		if !strings.Contains(v, "replay") {
			t.Fatalf("replay screen:\n%s", v)
		}
	})
}

// TestMouse clicks a tab and a layer row.
func TestMouse(t *testing.T) {
	h := newHarness(t, fixture(), 100, 30, Options{})
	v := h.settle()
	// positions come from the text shown: the app's own layout fields are
	// written by every render, on the program's goroutine
	top := strings.Split(v, "\n")[0]
	x := ansi.StringWidth(top[:strings.Index(top, "2 Knobs")])
	h.tm.Send(tea.MouseClickMsg{X: x + 1, Y: 0, Button: tea.MouseLeft})
	v = h.settle()
	if !strings.Contains(v, "Live replay") {
		t.Fatalf("click on the Knobs tab:\n%s", v)
	}
	// the second layer row: tab bar, the "Layers" line, the first layer
	h.tm.Send(tea.MouseClickMsg{X: 5, Y: 3, Button: tea.MouseLeft})
	v = h.settle()
	if rows := strings.Split(v, "\n"); len(rows) < 4 || !strings.Contains(rows[3], "▸") {
		t.Fatalf("click on the second layer row:\n%s", v)
	}
}

// selectedRow returns the line of a view that holds the selection mark.
func selectedRow(v string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "▸") {
			return l
		}
	}
	return ""
}

// blockingTuner reports progress, then waits for its cancellation.
type blockingTuner struct{ started chan struct{} }

func (b blockingTuner) Tune(ctx context.Context, _ *Bench, _ tuning.Settings, progress func(tuning.Progress)) (*TuneOutcome, error) {
	progress(tuning.Progress{Phase: "profile", Done: 3, Total: 10})
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestTuneCancel shows the progress bar of a running tune and cancels it.
func TestTuneCancel(t *testing.T) {
	bt := blockingTuner{started: make(chan struct{})}
	h := newHarness(t, fixture(), 80, 24, Options{Start: ParetoScreen, Tuner: bt})
	h.settle()
	h.tm.Send(keyMsg("t"))
	<-bt.started
	var v string
	for !strings.Contains(v, "profile 3/10") { // the progress report is on its way
		reply := make(chan string, 1)
		h.tm.Send(barrierMsg{reply: reply, now: true})
		v = ansi.Strip(<-reply)
	}
	if !strings.Contains(v, "x cancels") || !strings.Contains(v, "░") {
		t.Fatalf("no progress bar while tuning:\n%s", v)
	}
	v = h.press("x")
	if !strings.Contains(v, "tune cancelled") || h.app.ctx.Bench.Pareto != nil {
		t.Fatalf("after cancel:\n%s", v)
	}
}
