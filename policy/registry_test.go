package policy

import (
	"flag"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestRegistryRangesAgreeWithValidate sets every parameter of every
// controller to its bounds (valid) and just past them (invalid), and
// checks that Set and Validate agree and that Validate names the field.
func TestRegistryRangesAgreeWithValidate(t *testing.T) {
	for _, c := range Controllers() {
		for _, p := range ParamsOf(c.Name) {
			if p.Kind == Choice || p.Kind == Seed || p.Max >= math.MaxInt32 {
				continue
			}
			base, err := (&Builder{}).Build(c.Name, func(float64) (float64, error) { return 1, nil })
			if c.Name == Budget {
				b := &Builder{}
				b.Set("budget-j", "0.001")
				base, err = b.Build(c.Name, nil)
			}
			if err != nil {
				t.Fatalf("%s defaults: %v", c.Name, err)
			}
			lo := p.Min
			if p.MinOpen {
				lo = p.Min + 1e-9
			}
			for _, v := range []float64{lo, p.Max} {
				q := base
				if err := p.Set(&q, strconv.FormatFloat(v, 'g', -1, 64)); err != nil {
					t.Errorf("%s %s=%v: %v", c.Name, p.Flag, v, err)
					continue
				}
				if err := q.Validate(4); err != nil && !strings.Contains(err.Error(), "expected less") && !strings.Contains(err.Error(), "exactly one") {
					t.Errorf("%s %s=%v set but not valid: %v", c.Name, p.Flag, v, err)
				}
			}
			for _, v := range []float64{p.Min - 1, p.Max * 2} {
				if p.Goal || p.Min-1 < -1e300 {
					continue
				}
				if p.MinOpen && v < p.Min {
					v = p.Min
				}
				q := base
				if err := p.Set(&q, strconv.FormatFloat(v, 'g', -1, 64)); err == nil {
					t.Errorf("%s %s=%v accepted", c.Name, p.Flag, v)
				}
				// force the value past Set's check and validate
				switch x := p.field(&q, true).(type) {
				case *int:
					*x = int(v)
				case *float64:
					*x = v
				}
				if err := q.Validate(4); err == nil || !strings.Contains(err.Error(), p.Name) {
					t.Errorf("%s %s=%v: Validate said %v, want an error naming %s", c.Name, p.Flag, v, err, p.Name)
				}
			}
		}
	}
}

func TestStepStaysInRange(t *testing.T) {
	p, _ := (&Builder{}).Build(Kalman, nil)
	r, _ := LookupParam("kalman-r")
	for i := 0; i < 40; i++ {
		r.StepValue(&p, +1)
	}
	if p.Kalman.R != 1e6 {
		t.Errorf("r stepped up 40 times is %v, want the maximum 1e6", p.Kalman.R)
	}
	for i := 0; i < 80; i++ {
		r.StepValue(&p, -1)
	}
	if !(p.Kalman.R > 0) {
		t.Errorf("r stepped down to %v, must stay > 0", p.Kalman.R)
	}
	q, _ := (&Builder{}).Build(Kalman, nil)
	if q.Kalman.R != 1 {
		t.Errorf("stepping one Params changed another's sub-object: r=%v", q.Kalman.R)
	}
	b := &Builder{}
	b.Set("budget-j", "0.001")
	bp, err := b.Build(Budget, nil)
	if err != nil {
		t.Fatal(err)
	}
	mix, _ := LookupParam("mix")
	mix.StepValue(&bp, 1)
	if bp.Budget.Mix != MixSpeedup {
		t.Errorf("mix stepped to %q", bp.Budget.Mix)
	}
	mix.StepValue(&bp, 1)
	if bp.Budget.Mix != MixCost {
		t.Errorf("mix stepped back to %q", bp.Budget.Mix)
	}
}

func TestFitLevels(t *testing.T) {
	p := Params{Name: Static, Static: &StaticParams{Level: 5}}
	q := p.FitLevels(3)
	if q.Static.Level != 2 || p.Static.Level != 5 {
		t.Errorf("fitted level %d (the original %d), want 2 (5)", q.Static.Level, p.Static.Level)
	}
	if err := q.Validate(3); err != nil {
		t.Error(err)
	}
	for _, c := range Controllers() {
		for _, prm := range c.Params {
			if prm.Level != (prm.Flag == "level") {
				t.Errorf("%s %s: Level %v", c.Name, prm.Flag, prm.Level)
			}
		}
	}
	if prm, _ := LookupParam("budget-j"); prm.Unit() != "J" {
		t.Errorf("budget-j unit %q", prm.Unit())
	}
}

func TestBuilder(t *testing.T) {
	frac := func(f float64) (float64, error) { return f * 0.01, nil }
	for _, tc := range []struct {
		name, controller string
		flags            []string
		want             string // Params.String(), or the error
	}{
		{"defaults", State, nil, "state n=3 votes=2 factor=1"},
		{"a flag several controllers share", Naive, []string{"--factor", "2"}, "naive factor=2"},
		{"own flags", State, []string{"--n", "4", "--votes", "3"}, "state n=4 votes=3 factor=1"},
		{"floor", Confidence, []string{"--floor", "1"}, "confidence less_frac=0.5 more_frac=0.75 factor=1 + floor 1pp hard_frac=0"},
		{"hard-frac alone", Naive, []string{"--hard-frac", "0.5"}, "naive factor=1 + floor 0pp hard_frac=0.5"},
		{"budget fraction", Budget, []string{"--budget-frac", "0.7"}, "budget 0.007J kp=0.2 ki=0.05 alpha=0.1 mix=cost seed=0"},
		{"budget latency", Budget, []string{"--budget-us", "150", "--mix", "speedup"}, "budget 150us kp=0.2 ki=0.05 alpha=0.1 mix=speedup seed=0"},
		{"another controller's flag", Naive, []string{"--votes", "3"}, "--votes applies to controller state, not naive"},
		{"no goal", Budget, nil, "exactly one of --budget-j, --budget-us and --budget-frac"},
		{"two goals", Budget, []string{"--budget-j", "1", "--budget-us", "2"}, "exactly one of"},
		{"out of range", State, []string{"--n", "1"}, "got 1, expected 2..64"},
		{"bad fraction", Budget, []string{"--budget-frac", "1.5"}, "expected 0 < F <= 1"},
		{"bad choice", Budget, []string{"--budget-j", "1", "--mix", "both"}, `"both", expected cost or speedup`},
		{"unknown controller", "pid", nil, `"pid", expected one of static`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			b.Flags(fs, "fraction")
			var got string
			if err := fs.Parse(tc.flags); err != nil {
				got = err.Error()
			} else if p, err := b.Build(tc.controller, frac); err != nil {
				got = err.Error()
			} else {
				got = p.String()
				if err := p.Validate(3); err != nil {
					t.Errorf("built parameters do not validate: %v", err)
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForPolicy(t *testing.T) {
	pol := testPolicy(6, 3, Params{Name: State, State: &StateParams{Factor: 1, N: 3, Votes: 2}, Floor: &FloorParams{LossPP: 1}})
	var b Builder
	all, err := b.ForPolicy(pol, "all", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range all {
		names = append(names, p.Name)
		if p.Floor == nil || p.Floor.LossPP != 1 {
			t.Errorf("%s did not keep the policy's floor: %v", p.Name, p.Floor)
		}
		if p.Name == Static && p.Static.Level != FloorLevel(pol.Levels, 1) {
			t.Errorf("static baseline at level %d, want the floor's highest %d", p.Static.Level, FloorLevel(pol.Levels, 1))
		}
	}
	if strings.Join(names, ",") != "static,naive,state,kalman,confidence" {
		t.Errorf("all runs %v (budget needs a goal)", names)
	}
	own, err := b.ForPolicy(pol, "", nil)
	if err != nil || len(own) != 1 || own[0].String() != pol.Controller.String() {
		t.Errorf("the policy's own controller: %v %v", own, err)
	}
	b.Set("votes", "3")
	if _, err := b.ForPolicy(pol, Naive, nil); err == nil {
		t.Error("--votes accepted for naive")
	}
	if ps, err := b.ForPolicy(pol, "all", nil); err != nil || len(ps) != 5 {
		t.Errorf("all with --votes: %v %v", len(ps), err)
	}
}
