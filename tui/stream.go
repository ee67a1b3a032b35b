package tui

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
)

// stream plays a screen's traces through a deploy.Replayer, the loop
// `kagen replay` runs, in batches of jobs with at most one in flight. The
// screen says what to play on the UI goroutine (set); the next batch's job
// first brings the replayer to it (deploy.New and Rebind for other
// levels, SetControllers, SetDevice, SetCost), so that nothing touches
// the replayer while a job holds it, and the stream goes on where it was.
type stream struct {
	ctx *Context
	to  ScreenID
	// once stops at the end of the traces instead of starting them again.
	once bool

	rp   *deploy.Replayer // nil before the first batch; the job's while busy
	busy bool
	drop bool // the replayer is dropped when the batch in flight returns
	have streamSetup
	want streamSetup
	// failed is the setup the last batch could not bring the replayer to:
	// no batch is started again until the setup changes.
	failed *policy.Policy
}

// streamSetup is what the replayer plays. Its parts are immutable: a
// change replaces them.
type streamSetup struct {
	pol    *policy.Policy // the levels and the controller
	device *device.Profile
	cost   *deploy.LevelCost // nil: the replayer's measured cost
}

// levelsKey identifies a policy's levels: other levels need another
// deployment.
func levelsKey(pol *policy.Policy) string {
	if pol == nil {
		return ""
	}
	var b strings.Builder
	for _, l := range pol.Levels {
		b.WriteString(l.Config)
		b.WriteByte('\n')
	}
	return b.String()
}

// streamBatch is a batch's result.
type streamBatch struct {
	rp     *deploy.Replayer
	setup  streamSetup
	events []deploy.Event
	report *deploy.Report
	// eof says the traces ended (Options.ReplayOnce).
	eof bool
	// setupErr says err is about the setup (the policy did not bind).
	setupErr bool
	err      error
}

// set makes s what the next batch plays.
func (st *stream) set(s streamSetup) { st.want = s }

// restart drops the replayer: the next batch starts the traces again.
func (st *stream) restart() {
	if st.busy {
		st.drop = true
		return
	}
	if st.rp != nil {
		st.rp.Close()
	}
	st.rp, st.have = nil, streamSetup{}
}

// ready reports whether a batch may start.
func (st *stream) ready() bool {
	return !st.busy && st.want.pol != nil && st.want.pol != st.failed && len(st.ctx.Bench.Source.Traces) > 0
}

// batch starts a batch of at most n windows, and at most budget of
// clock time when budget > 0.
func (st *stream) batch(n int, budget time.Duration) tea.Cmd {
	if !st.ready() {
		return nil
	}
	st.busy = true
	v, rp, have, want, once, clock, cpu := st.ctx.Bench.view(), st.rp, st.have, st.want, st.once, st.ctx.Clock, st.ctx.cpu
	return st.ctx.Job(st.to, func(ctx context.Context) tea.Msg {
		return playBatch(ctx, &v, rp, have, want, once, n, budget, clock, cpu)
	})
}

// errBudget ends a batch whose time is up.
var errBudget = errors.New("batch time is up")

func playBatch(ctx context.Context, v *benchView, rp *deploy.Replayer, have, want streamSetup, once bool, n int, budget time.Duration, clock Clock, cpu *sync.Mutex) streamBatch {
	res := streamBatch{rp: rp, setup: have}
	if err := bindSetup(v, &res.rp, have, want, once); err != nil {
		res.err, res.setupErr = err, true
		return res
	}
	res.setup = want
	start := clock.Now()
	cpu.Lock()
	_, err := res.rp.Step(ctx, n, func(ev *deploy.Event) error {
		e := *ev
		e.Runs = slices.Clone(ev.Runs)
		res.events = append(res.events, e)
		if budget > 0 && clock.Now().Sub(start) > budget {
			return errBudget
		}
		return nil
	})
	cpu.Unlock()
	switch {
	case errors.Is(err, io.EOF):
		res.eof = true
	case err != nil && !errors.Is(err, errBudget):
		res.err = err
	}
	res.report = res.rp.Report(0, v.name)
	return res
}

// bindSetup brings *rp from what it plays (have) to want.
func bindSetup(v *benchView, rp **deploy.Replayer, have, want streamSetup, once bool) error {
	params := []policy.Params{want.pol.Controller}
	newLevels := *rp == nil || levelsKey(have.pol) != levelsKey(want.pol)
	if newLevels {
		d, err := deploy.New("workbench policy", v.model, v.approx, want.pol)
		if err != nil {
			return err
		}
		if *rp == nil {
			var cost deploy.Cost
			if want.cost != nil {
				cost = want.cost
			}
			r, err := d.NewReplayer(params, deploy.Options{Traces: v.traces, Loop: !once, Exact: true, Device: want.device, Cost: cost})
			if err != nil {
				return err
			}
			*rp = r
			return nil
		}
		if err := (*rp).Rebind(d, params); err != nil {
			return err
		}
	}
	r := *rp
	if want.cost != have.cost || newLevels {
		if want.cost != nil {
			r.SetCost(want.cost)
		} else {
			r.SetCost(deploy.NewMeasuredCost(len(want.pol.Levels)))
		}
	}
	if want.device != have.device {
		r.SetDevice(want.device)
	}
	if !newLevels && (want.pol != have.pol || want.device != have.device) {
		return r.SetControllers(params)
	}
	return nil
}

// done takes a batch's result back on the UI goroutine.
func (st *stream) done(m streamBatch) {
	st.busy = false
	st.rp, st.have = m.rp, m.setup
	if m.setupErr {
		st.failed = st.want.pol
	}
	if st.drop {
		st.drop = false
		st.restart()
	}
}
