package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// cmdPolicy writes and checks policy files.
func cmdPolicy(args []string, stdout, stderr io.Writer) error {
	usage := "usage: kagen policy new --model MODEL --pareto pareto.json --controller NAME [--floor PP] [--budget-j J] [controller flags] -o policy.json\n" +
		"       kagen policy validate FILE [--model MODEL]\n\n" +
		"new builds a policy from the tuner's Pareto levels and a controller (" + strings.Join(policy.Names(), ", ") + ");\n" +
		"validate checks a policy's schema, checksum, ranges and, with --model, its binding to the model.\n" +
		"Run `kagen policy new -h` for the controller flags."
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"expected new or validate"}
	}
	switch args[0] {
	case "new":
		return cmdPolicyNew(args[1:], stdout, stderr)
	case "validate":
		return cmdPolicyValidate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{fmt.Sprintf("unknown policy command %q, expected new or validate", args[0])}
}

// controllerFlags are the command-line parameters of the controllers,
// shared by `policy new` and `replay`.
type controllerFlags struct {
	fs         *flag.FlagSet
	floor      float64
	hardFrac   float64
	level      int
	factor     int
	n, votes   int
	kalman     policy.KalmanParams
	lessFrac   float64
	moreFrac   float64
	budgetJ    float64
	budgetUS   float64
	budgetFrac float64
	kp, ki     float64
	alpha      float64
	mix        string
	seed       uint64
}

// flagOwners maps each controller flag to the controllers it applies to
// ("" for every controller).
var flagOwners = map[string][]string{
	"floor": {""}, "hard-frac": {""},
	"level":  {policy.Static},
	"factor": {policy.Naive, policy.State, policy.Kalman, policy.Confidence},
	"n":      {policy.State}, "votes": {policy.State},
	"kalman-x0": {policy.Kalman}, "kalman-p0": {policy.Kalman}, "kalman-r": {policy.Kalman},
	"kalman-q": {policy.Kalman}, "kalman-less": {policy.Kalman}, "kalman-more": {policy.Kalman},
	"less-frac": {policy.Confidence}, "more-frac": {policy.Confidence},
	"budget-j": {policy.Budget}, "budget-us": {policy.Budget}, "budget-frac": {policy.Budget},
	"kp": {policy.Budget}, "ki": {policy.Budget}, "alpha": {policy.Budget}, "mix": {policy.Budget}, "seed": {policy.Budget},
}

func newControllerFlags(fs *flag.FlagSet, budgetFracDoc string) *controllerFlags {
	c := &controllerFlags{fs: fs}
	d := policy.DefaultKalman()
	fs.Float64Var(&c.floor, "floor", 0, "accuracy floor guard: never run a level losing more than PP percentage points (calibrated), and run exact after a hard input")
	fs.Float64Var(&c.hardFrac, "hard-frac", policy.DefaultHardFrac, "floor guard: hard input when confidence < w + F(c-w) of its level and class (0: w; -1: off)")
	fs.IntVar(&c.level, "level", 0, "static: the level to run")
	fs.IntVar(&c.factor, "factor", policy.DefaultFactor, "naive, state, kalman, confidence: step factor after each \"more\" (1 or 2)")
	fs.IntVar(&c.n, "n", policy.DefaultStateN, "state: predictions that must agree")
	fs.IntVar(&c.votes, "votes", policy.DefaultVotes, "state: votes needed to act")
	fs.Float64Var(&c.kalman.X0, "kalman-x0", d.X0, "kalman: initial estimate")
	fs.Float64Var(&c.kalman.P0, "kalman-p0", d.P0, "kalman: initial variance")
	fs.Float64Var(&c.kalman.R, "kalman-r", d.R, "kalman: measurement noise variance")
	fs.Float64Var(&c.kalman.Q, "kalman-q", d.Q, "kalman: process noise variance")
	fs.Float64Var(&c.kalman.Less, "kalman-less", d.Less, "kalman: approximate less below this estimate")
	fs.Float64Var(&c.kalman.More, "kalman-more", d.More, "kalman: approximate more above this estimate")
	fs.Float64Var(&c.lessFrac, "less-frac", policy.DefaultLessFrac, "confidence: less below w + F(c-w)")
	fs.Float64Var(&c.moreFrac, "more-frac", policy.DefaultMoreFrac, "confidence: more above w + F(c-w)")
	fs.Float64Var(&c.budgetJ, "budget-j", 0, "budget: mean energy per inference in joules")
	fs.Float64Var(&c.budgetUS, "budget-us", 0, "budget: mean busy time per inference in microseconds")
	fs.Float64Var(&c.budgetFrac, "budget-frac", 0, budgetFracDoc)
	fs.Float64Var(&c.kp, "kp", policy.DefaultKP, "budget: proportional gain")
	fs.Float64Var(&c.ki, "ki", policy.DefaultKI, "budget: integral gain")
	fs.Float64Var(&c.alpha, "alpha", policy.DefaultAlpha, "budget: smoothing of the estimated exact cost")
	fs.StringVar(&c.mix, "mix", policy.MixCost, "budget: how two levels are mixed, cost or speedup (HPVM's rule)")
	fs.Uint64Var(&c.seed, "seed", 0, "budget: seed of the level mixing")
	return c
}

// set returns the names of the controller flags given on the command line.
func (c *controllerFlags) set() []string {
	var names []string
	c.fs.Visit(func(f *flag.Flag) {
		if _, ok := flagOwners[f.Name]; ok {
			names = append(names, f.Name)
		}
	})
	return names
}

// params builds the parameters of controller name from the flags;
// budgetFrac converts --budget-frac into joules (it returns an error when
// that is not possible). Flags of another controller are an error.
func (c *controllerFlags) params(name string, budgetFrac func(f float64) (float64, error)) (policy.Params, error) {
	return c.build(name, c.set(), budgetFrac)
}

// build is params with the given flags named.
func (c *controllerFlags) build(name string, given []string, budgetFrac func(f float64) (float64, error)) (policy.Params, error) {
	if !slices.Contains(policy.Names(), name) {
		return policy.Params{}, usageError{fmt.Sprintf("--controller %q, expected one of %s", name, strings.Join(policy.Names(), ", "))}
	}
	for _, f := range given {
		owners := flagOwners[f]
		if owners[0] != "" && !slices.Contains(owners, name) {
			return policy.Params{}, usageError{fmt.Sprintf("--%s applies to controller %s, not %s", f, strings.Join(owners, ", "), name)}
		}
	}
	p := policy.Params{Name: name}
	switch name {
	case policy.Static:
		p.Static = &policy.StaticParams{Level: c.level}
	case policy.Naive:
		p.Naive = &policy.NaiveParams{Factor: c.factor}
	case policy.State:
		p.State = &policy.StateParams{Factor: c.factor, N: c.n, Votes: c.votes}
	case policy.Kalman:
		k := c.kalman
		k.Factor = c.factor
		p.Kalman = &k
	case policy.Confidence:
		p.Confidence = &policy.ConfidenceParams{Factor: c.factor, LessFrac: c.lessFrac, MoreFrac: c.moreFrac}
	case policy.Budget:
		b := &policy.BudgetParams{EnergyJ: c.budgetJ, LatencyUS: c.budgetUS, KP: c.kp, KI: c.ki, Alpha: c.alpha, Mix: c.mix, Seed: c.seed}
		n := 0
		for _, f := range given {
			if f == "budget-j" || f == "budget-us" || f == "budget-frac" {
				n++
			}
		}
		if n != 1 {
			return p, usageError{"controller budget needs exactly one of --budget-j, --budget-us and --budget-frac"}
		}
		if slices.Contains(given, "budget-frac") {
			if !(c.budgetFrac > 0 && c.budgetFrac <= 1) {
				return p, usageError{fmt.Sprintf("--budget-frac %v, expected 0 < F <= 1", c.budgetFrac)}
			}
			j, err := budgetFrac(c.budgetFrac)
			if err != nil {
				return p, err
			}
			b.EnergyJ = j
		}
		p.Budget = b
	}
	if slices.Contains(given, "floor") || slices.Contains(given, "hard-frac") {
		p.Floor = &policy.FloorParams{LossPP: c.floor, HardFrac: c.hardFrac}
	}
	return p, nil
}

func cmdPolicyNew(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy new", stderr)
	model := fs.String("model", "", "ONNX model the Pareto levels are for")
	pareto := fs.String("pareto", "", "Pareto file written by kagen tune")
	name := fs.String("controller", "", "controller: "+strings.Join(policy.Names(), ", "))
	out := fs.String("o", "", "policy file to write")
	cf := newControllerFlags(fs, "budget: mean energy per inference as a fraction of level 0's energy_j in the Pareto file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen policy new --model MODEL --pareto pareto.json --controller NAME [--floor PP] [--budget-j J] [controller flags] -o policy.json")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *model == "" || *pareto == "" || *name == "" || *out == "" {
		fs.Usage()
		return usageError{"expected --model, --pareto, --controller and -o, and no other arguments"}
	}
	m, err := engine.LoadFile(*model, engine.Options{})
	if err != nil {
		return err
	}
	par, err := policy.ReadPareto(*pareto, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		return err
	}
	params, err := cf.params(*name, func(f float64) (float64, error) {
		e := par.Configs[0].EnergyJ
		if !(e > 0) {
			return 0, fmt.Errorf("--budget-frac: %s has no energy_j for level 0; give --budget-j", *pareto)
		}
		return f * e, nil
	})
	if err != nil {
		return err
	}
	pol, err := policy.FromPareto(par, params)
	if err != nil {
		return fmt.Errorf("%s: %w", *pareto, err)
	}
	if _, _, err := checkPolicyModel(pol, m, *pareto); err != nil {
		return err
	}
	if err := policy.WritePolicy(*out, pol); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s\n", *out, pol.Controller)
	printLevels(stdout, pol)
	return nil
}

func cmdPolicyValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy validate", stderr)
	model := fs.String("model", "", "check the policy's binding to this ONNX model and its configurations")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen policy validate FILE [--model MODEL]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError{"expected one policy file"}
	}
	var m *engine.Model
	opts := policy.ReadOptions{}
	if *model != "" {
		if m, err = engine.LoadFile(*model, engine.Options{}); err != nil {
			return err
		}
		opts.ModelSHA256 = m.SHA256()
	}
	pol, err := policy.ReadPolicy(pos[0], opts)
	if err != nil {
		return err
	}
	if _, err := policy.NewController(pol); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if m != nil {
		if _, _, err := checkPolicyModel(pol, m, pos[0]); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: valid policy version %d for model %s\n", pos[0], pol.Version, pol.ModelSHA256)
	if m == nil {
		fmt.Fprintln(stdout, "model binding not checked (no --model)")
	}
	fmt.Fprintf(stdout, "device %s, meter %s, objective %s, exact accuracy %.2f%%\n", pol.Device, pol.Meter, pol.Objective, 100*pol.ExactAccuracy)
	fmt.Fprintf(stdout, "controller %s\n", pol.Controller)
	printLevels(stdout, pol)
	return nil
}

// checkPolicyModel checks that every level is a configuration of the model
// and that the classes are the model's front-end classes (when it has a
// front-end), and returns the prepared selectors and the spec (nil without
// a front-end).
func checkPolicyModel(pol *policy.Policy, m *engine.Model, name string) ([]*approx.Selector, *replay.Spec, error) {
	sels, err := prepareLevels(pol, approx.New(m))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		return sels, nil, nil
	}
	if !slices.Equal(spec.Classes, pol.Classes) {
		return nil, nil, fmt.Errorf("%s: classes: the policy has %v, the model's front-end %v", name, pol.Classes, spec.Classes)
	}
	return sels, spec, nil
}

// prepareLevels prepares the approximate kernels of every level, indexed by
// level.
func prepareLevels(pol *policy.Policy, a *approx.Approximator) ([]*approx.Selector, error) {
	out := make([]*approx.Selector, len(pol.Levels))
	for i, l := range pol.Levels {
		// approx.Parse reads a text without "=" as a file name; a policy
		// holds configuration texts only.
		if c := strings.TrimSpace(l.Config); c != "exact" && c != "fp32" && !strings.Contains(c, "=") && !strings.HasPrefix(c, "{") {
			return nil, fmt.Errorf("levels[%d].config %q: expected \"exact\" or SELECTOR=KNOB pairs", i, l.Config)
		}
		cfg, err := a.Parse(l.Config)
		if err != nil {
			return nil, fmt.Errorf("levels[%d].config: %w", i, err)
		}
		if i == 0 && !cfg.IsExact() {
			return nil, fmt.Errorf("levels[0].config %q: expected the exact configuration", l.Config)
		}
		if out[i], err = a.Prepare(cfg); err != nil {
			return nil, fmt.Errorf("levels[%d].config %q: %w", i, l.Config, err)
		}
	}
	return out, nil
}

// loadPolicy loads a model, its front-end and a policy bound to it, with
// the prepared selectors of the levels.
func loadPolicy(modelPath, policyPath string) (*engine.Model, *replay.Spec, *policy.Policy, []*approx.Selector, error) {
	m, err := engine.LoadFile(modelPath, engine.Options{})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pol, err := policy.ReadPolicy(policyPath, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if _, err := replay.SpecFromModel(m); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	sels, spec, err := checkPolicyModel(pol, m, policyPath)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return m, spec, pol, sels, nil
}

// printLevels prints the policy's levels and which the floor allows.
func printLevels(w io.Writer, pol *policy.Policy) {
	allowed := len(pol.Levels) - 1
	if pol.Controller.Floor != nil {
		allowed = policy.FloorLevel(pol.Levels, pol.Controller.Floor.LossPP)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "level\tspeedup\tloss pp\taccuracy\ttime us\tenergy J\tallowed\tconfig")
	for _, l := range pol.Levels {
		ok := "yes"
		if l.Level > allowed {
			ok = "no (floor)"
		}
		fmt.Fprintf(tw, "%d\t%.3f\t%.2f\t%.2f%%\t%.1f\t%.3g\t%s\t%s\n", l.Level, l.Speedup, l.QoSLossPP, 100*l.Accuracy, l.TimeUS, l.EnergyJ, ok, l.Config)
	}
	tw.Flush()
}
