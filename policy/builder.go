package policy

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FracFlag is the setting that gives the budget controller's energy goal
// as a fraction of exact inference's energy; the caller says what exact
// inference costs (Builder.Build's frac).
const FracFlag = "budget-frac"

// FlagError is a setting that is unknown, out of range or given to a
// controller it does not apply to: a mistake on the command line.
type FlagError struct {
	Flag string // the setting's name, "" for the controller's name
	Msg  string
}

func (e *FlagError) Error() string {
	if e.Flag == "" {
		return e.Msg
	}
	return "--" + e.Flag + " " + e.Msg
}

// Builder builds controller parameters from named settings, as the
// command line gives them ("--floor 1 --votes 3"). Every setting is a
// parameter of the registry (LookupParam) or FracFlag; Flags defines
// them all on a flag set, so kagen's commands take the same flags with
// the same defaults and ranges.
type Builder struct {
	given map[string]string
	order []string
}

// Set records a setting after checking its value.
func (b *Builder) Set(name, text string) error {
	if name == FracFlag {
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || !(f > 0 && f <= 1) {
			return &FlagError{name, fmt.Sprintf("%s, expected 0 < F <= 1", text)}
		}
	} else {
		p, _ := LookupParam(name)
		if p == nil {
			return &FlagError{name, "is not a controller parameter"}
		}
		var c Params
		if err := p.Set(&c, text); err != nil {
			return &FlagError{name, err.Error()}
		}
	}
	if b.given == nil {
		b.given = map[string]string{}
	}
	if _, ok := b.given[name]; !ok {
		b.order = append(b.order, name)
	}
	b.given[name] = text
	return nil
}

// Given returns the names of the settings made, in order.
func (b *Builder) Given() []string { return slices.Clone(b.order) }

func (b *Builder) has(name string) bool { _, ok := b.given[name]; return ok }

// Flags defines one flag per controller parameter (and FracFlag, with
// fracDoc) on fs; setting a flag sets it in b.
func (b *Builder) Flags(fs *flag.FlagSet, fracDoc string) {
	seen := map[string]bool{}
	define := func(p *Param) {
		if seen[p.Flag] {
			return
		}
		seen[p.Flag] = true
		doc := p.Doc
		if _, owners := LookupParam(p.Flag); owners != nil {
			doc = strings.Join(owners, ", ") + ": " + doc
		}
		fs.Var(&builderFlag{b: b, name: p.Flag, def: p.Default()}, p.Flag, doc)
	}
	for _, p := range floorParams {
		define(p)
	}
	for _, c := range registry {
		for _, p := range c.Params {
			define(p)
		}
	}
	fs.Var(&builderFlag{b: b, name: FracFlag, def: "0"}, FracFlag, "budget: "+fracDoc)
}

// builderFlag is one flag of Builder.Flags.
type builderFlag struct {
	b         *Builder
	name, def string
}

func (f *builderFlag) String() string {
	if f.b == nil {
		return ""
	}
	if v, ok := f.b.given[f.name]; ok {
		return v
	}
	return f.def
}

func (f *builderFlag) Set(s string) error {
	err := f.b.Set(f.name, s)
	if fe, ok := err.(*FlagError); ok {
		return errors.New(fe.Msg) // the flag package names the flag
	}
	return err
}

// Build returns the parameters of controller name: its defaults, then the
// settings made. A setting of another controller is an error. frac turns
// a FracFlag fraction into joules (it is called only when FracFlag was
// set).
func (b *Builder) Build(name string, frac func(float64) (float64, error)) (Params, error) {
	return b.build(name, b.order, frac)
}

func (b *Builder) build(name string, given []string, frac func(float64) (float64, error)) (Params, error) {
	info := Lookup(name)
	if info == nil {
		return Params{}, &FlagError{"controller", fmt.Sprintf("%q, expected one of %s", name, strings.Join(Names(), ", "))}
	}
	for _, g := range given {
		if owners := b.owners(g); owners != nil && !slices.Contains(owners, name) {
			return Params{}, &FlagError{g, fmt.Sprintf("applies to controller %s, not %s", strings.Join(owners, ", "), name)}
		}
	}
	p := Params{Name: name}
	for _, q := range info.Params {
		if err := q.Set(&p, q.Default()); err != nil {
			return Params{}, fmt.Errorf("default of %s: %w", q.Flag, err) // a registry mistake
		}
	}
	for _, g := range given {
		if g == FracFlag {
			continue
		}
		if q := info.param(g); q != nil {
			if err := q.Set(&p, b.given[g]); err != nil {
				return Params{}, &FlagError{g, err.Error()}
			}
		}
	}
	if name == Budget {
		n := 0
		for _, g := range given {
			if g == "budget-j" || g == "budget-us" || g == FracFlag {
				n++
			}
		}
		if n != 1 {
			return p, &FlagError{"", "controller budget needs exactly one of --budget-j, --budget-us and --budget-frac"}
		}
		if slices.Contains(given, FracFlag) {
			f, _ := strconv.ParseFloat(b.given[FracFlag], 64)
			j, err := frac(f)
			if err != nil {
				return p, err
			}
			p.Budget.EnergyJ = j
		}
	}
	if slices.Contains(given, "floor") || slices.Contains(given, "hard-frac") {
		for _, q := range floorParams {
			v := q.Default()
			if b.has(q.Flag) {
				v = b.given[q.Flag]
			}
			if err := q.Set(&p, v); err != nil {
				return Params{}, &FlagError{q.Flag, err.Error()}
			}
		}
	}
	return p.WithDefaults()
}

// owners returns the controllers a setting applies to (nil: all).
func (b *Builder) owners(name string) []string {
	if name == FracFlag {
		return []string{Budget}
	}
	_, owners := LookupParam(name)
	return owners
}

// ForPolicy returns the parameters of the controllers to run on pol's
// levels: which is "" (the policy's own controller, changed by the
// settings made), a controller's name (its defaults and the settings,
// strictly: a setting of another controller is an error) or "all" (every
// controller side by side, each taking the settings that apply to it; the
// budget controller only when a goal was given, and the static one at the
// highest level the floor allows unless --level was given). A controller
// without a floor setting keeps the policy's floor.
func (b *Builder) ForPolicy(pol *Policy, which string, frac func(float64) (float64, error)) ([]Params, error) {
	var names []string
	switch which {
	case "":
		names = []string{pol.Controller.Name}
	case "all":
		names = Names()
	default:
		if Lookup(which) == nil {
			return nil, &FlagError{"controller", fmt.Sprintf("%q, expected one of %s, or all", which, strings.Join(Names(), ", "))}
		}
		names = []string{which}
	}
	floorGiven := b.has("floor") || b.has("hard-frac")
	var out []Params
	for _, n := range names {
		var p Params
		var err error
		switch {
		case n == pol.Controller.Name && len(b.order) == 0:
			p = pol.Controller
		case which == "all":
			var mine []string
			for _, g := range b.order {
				if o := b.owners(g); o == nil || slices.Contains(o, n) {
					mine = append(mine, g)
				}
			}
			if n == Budget && !slices.ContainsFunc(mine, func(g string) bool { return g == "budget-j" || g == "budget-us" || g == FracFlag }) {
				continue // a budget controller needs a goal
			}
			p, err = b.build(n, mine, frac)
		default:
			p, err = b.build(n, b.order, frac)
		}
		if err != nil {
			return nil, err
		}
		if p.Floor == nil && !floorGiven {
			p.Floor = pol.Controller.Floor
		}
		if which == "all" && n == Static && !b.has("level") && pol.Controller.Name != Static {
			top := len(pol.Levels) - 1
			if p.Floor != nil {
				top = FloorLevel(pol.Levels, p.Floor.LossPP)
			}
			p.Static = &StaticParams{Level: top}
		}
		if p, err = p.WithDefaults(); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// New builds the policy of a Pareto file with controller name and the
// settings made (FracFlag is a fraction of level 0's energy_j in the
// file); paretoName names the file in errors.
func New(par *Pareto, settings *Builder, name, paretoName string) (*Policy, error) {
	if settings == nil {
		settings = &Builder{}
	}
	params, err := settings.Build(name, func(f float64) (float64, error) {
		e := par.Configs[0].EnergyJ
		if !(e > 0) {
			return 0, fmt.Errorf("--%s: %s has no energy_j for level 0; give --budget-j", FracFlag, paretoName)
		}
		return f * e, nil
	})
	if err != nil {
		return nil, err
	}
	if err := par.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", paretoName, err)
	}
	// The settings against the file's levels: a mistake there is the
	// command line's, named by its flag, not the Pareto file's.
	if err := params.Validate(len(par.Configs)); err != nil {
		return nil, asFlagError(err)
	}
	pol, err := FromPareto(par, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", paretoName, err)
	}
	return pol, nil
}

// asFlagError turns a parameter's error (named by its JSON path, such as
// controller.static.level) into a FlagError naming its flag (--level).
func asFlagError(err error) error {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return err
	}
	parts := strings.Split(fe.field, ".")
	if len(parts) != 3 || parts[0] != "controller" {
		return err
	}
	ps := floorParams
	if parts[1] != "floor" {
		info := Lookup(parts[1])
		if info == nil {
			return err
		}
		ps = info.Params
	}
	for _, p := range ps {
		if p.Name == parts[2] {
			return &FlagError{Flag: p.Flag, Msg: fe.msg}
		}
	}
	return err
}
