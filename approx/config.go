package approx

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/readfile"
)

// Approximator prepares and caches the approximate kernels of one model.
// Kernels (packed, sampled or quantised weights, gather tables) are built
// once per (node, knob), eagerly with Prepare or on first use, and shared by
// all sessions. It is safe for concurrent use.
type Approximator struct {
	m     *engine.Model
	nodes []engine.NodeInfo
	byKey map[string]int // node name -> step

	mu      sync.Mutex
	kernels map[kernelKey]engine.Kernel
}

type kernelKey struct {
	step int
	knob Knob
}

// New returns the approximator of a model.
func New(m *engine.Model) *Approximator {
	a := &Approximator{m: m, nodes: m.Nodes(), byKey: map[string]int{}, kernels: map[kernelKey]engine.Kernel{}}
	for _, n := range a.nodes {
		a.byKey[n.Name] = n.Step
	}
	return a
}

// Model returns the model.
func (a *Approximator) Model() *engine.Model { return a.m }

// Nodes describes the model's steps.
func (a *Approximator) Nodes() []engine.NodeInfo { return a.nodes }

// Applicable lists the knobs of the node at step.
func (a *Approximator) Applicable(step int) []Knob { return Applicable(a.m, step) }

// Kernel returns the kernel of knob k at step, building it on first use;
// nil for the exact knob.
func (a *Approximator) Kernel(step int, k Knob) (engine.Kernel, error) {
	if k.IsExact() {
		return nil, nil
	}
	if err := checkApplicable(a.m, step, k); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	key := kernelKey{step, k}
	if kr, ok := a.kernels[key]; ok {
		return kr, nil
	}
	var kr engine.Kernel
	if cs, ok := a.m.Conv(step); ok {
		kr = newConvKernelPrec(cs, k)
	} else if ds, ok := a.m.Dense(step); ok {
		kr = newDenseKernelPrec(ds, k)
	} else if ms, ok := a.m.ActMatMul(step); ok && k.Shape == Red && k.Prec == FP32 {
		kr = newActMatMulKernel(ms, k)
	} else if rs, ok := a.m.RNN(step); ok {
		var err error
		if kr, err = a.m.RNNApprox(step, rnnApprox(rs, k)); err != nil {
			return nil, fmt.Errorf("node %q: %w", a.nodes[step].Name, err)
		}
	}
	if kr == nil {
		return nil, fmt.Errorf("node %q: no kernel for knob %s", a.nodes[step].Name, k)
	}
	a.kernels[key] = kr
	return kr, nil
}

func newConvKernelPrec(cs *engine.ConvSpec, k Knob) engine.Kernel {
	return newConvKernel(cs, k)
}

func newDenseKernelPrec(ds *engine.DenseSpec, k Knob) engine.Kernel {
	if k.Shape != Red && k.Prec == FP32 {
		return nil
	}
	return newDenseKernel(ds, k)
}

// Config assigns a knob to every step of a model; the zero knob is exact.
type Config struct {
	knobs []Knob
}

// NewConfig returns the exact configuration of a model with n steps.
func (a *Approximator) NewConfig() Config { return Config{knobs: make([]Knob, len(a.nodes))} }

// Knob returns the knob of step i.
func (c Config) Knob(i int) Knob { return c.knobs[i] }

// With returns a copy of c with step i set to k.
func (c Config) With(i int, k Knob) Config {
	n := Config{knobs: append([]Knob(nil), c.knobs...)}
	n.knobs[i] = k
	return n
}

// Len returns the number of steps.
func (c Config) Len() int { return len(c.knobs) }

// IsExact reports whether every knob is exact.
func (c Config) IsExact() bool {
	for _, k := range c.knobs {
		if !k.IsExact() {
			return false
		}
	}
	return true
}

// Equal reports whether two configurations set the same knobs.
func (c Config) Equal(d Config) bool {
	if len(c.knobs) != len(d.knobs) {
		return false
	}
	for i := range c.knobs {
		if c.knobs[i] != d.knobs[i] {
			return false
		}
	}
	return true
}

// Text returns the canonical text form: NODE=KNOB for every non-exact step,
// in step order, or "exact".
func (a *Approximator) Text(c Config) string {
	var parts []string
	for i, k := range c.knobs {
		if !k.IsExact() {
			parts = append(parts, a.nodes[i].Name+"="+k.String())
		}
	}
	if len(parts) == 0 {
		return "exact"
	}
	return strings.Join(parts, ",")
}

// Parse reads a configuration: "exact", or comma-separated SELECTOR=KNOB
// where SELECTOR is a node name, an op type ("Conv") or "*", later entries
// overriding earlier ones. A node-name selector must name a node the knob
// applies to; op-type and "*" selectors set every node the knob applies to
// and must match at least one. The text may also be a JSON object
// {"nodes": {"NAME": "KNOB", ...}} or the path of a file holding either
// form (a regular file of at most 1 MiB).
func (a *Approximator) Parse(text string) (Config, error) {
	c, _, err := a.ParseNoted(text)
	return c, err
}

// ParseNoted is Parse that also returns a note for each op-type or "*"
// selector that matched nodes the knob does not apply to: which nodes
// it set and which it skipped, to show the user.
func (a *Approximator) ParseNoted(text string) (Config, []string, error) {
	text = strings.TrimSpace(text)
	var notes []string
	if IsConfigText(text) {
		c, err := a.parseText(text, &notes)
		return c, notes, err
	}
	data, err := readConfigFile(text)
	if err != nil {
		return a.NewConfig(), nil, fmt.Errorf("configuration %q is neither SELECTOR=KNOB pairs nor a readable file: %w", text, err)
	}
	c, err := a.parseText(strings.TrimPrefix(string(data), "\ufeff"), &notes) // a UTF-8 byte order mark is skipped
	return c, notes, err
}

// IsConfigText reports whether text is a configuration itself rather than
// the name of a file holding one: "exact", "fp32", empty, SELECTOR=KNOB
// pairs or a JSON object.
func IsConfigText(text string) bool {
	text = strings.TrimSpace(text)
	return text == "" || text == "exact" || text == "fp32" || strings.Contains(text, "=") || strings.HasPrefix(text, "{")
}

// maxConfigBytes bounds a configuration file.
const maxConfigBytes = 1 << 20

func readConfigFile(path string) ([]byte, error) { return readfile.Regular(path, maxConfigBytes) }

// ParseText is Parse of a configuration text, never read from a file:
// "exact" (or "fp32", or empty), SELECTOR=KNOB pairs or a JSON object.
func (a *Approximator) ParseText(text string) (Config, error) {
	return a.parseText(text, nil)
}

// parseText is ParseText, appending to notes (if not nil) the nodes a
// selector of several skipped.
func (a *Approximator) parseText(text string, notes *[]string) (Config, error) {
	c := a.NewConfig()
	text = strings.TrimSpace(text)
	if text == "" || text == "exact" || text == "fp32" {
		return c, nil
	}
	if !strings.Contains(text, "=") && !strings.HasPrefix(text, "{") {
		return c, fmt.Errorf("configuration %q: expected \"exact\", SELECTOR=KNOB pairs or a JSON object", clipText(text))
	}
	if strings.HasPrefix(text, "{") {
		var j struct {
			Nodes map[string]string `json:"nodes"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return c, fmt.Errorf("configuration JSON: %w", err)
		}
		names := make([]string, 0, len(j.Nodes))
		for n := range j.Nodes {
			names = append(names, n)
		}
		sort.Strings(names)
		var parts []string
		for _, n := range names {
			parts = append(parts, n+"="+j.Nodes[n])
		}
		if len(parts) == 0 {
			return c, nil // no node approximated: exact
		}
		text = strings.Join(parts, ",")
	}
	for _, entry := range strings.Split(text, ",") {
		sel, ks, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			return c, fmt.Errorf("configuration entry %q: expected SELECTOR=KNOB", entry)
		}
		k, err := ParseKnob(ks)
		if err != nil {
			return c, err
		}
		if step, ok := a.byKey[sel]; ok {
			if err := checkApplicable(a.m, step, k); err != nil {
				return c, err
			}
			c.knobs[step] = k
			continue
		}
		matched, opSeen := 0, false
		var set, skipped []string
		for i, n := range a.nodes {
			if sel != "*" && n.Op != sel {
				continue
			}
			opSeen = true
			if checkApplicable(a.m, i, k) == nil {
				c.knobs[i] = k
				matched++
				set = append(set, n.Name)
			} else if !n.View {
				skipped = append(skipped, n.Name)
			}
		}
		if matched == 0 {
			if !opSeen && sel != "*" {
				return c, fmt.Errorf("selector %q is neither a node nor an op type of the model; nodes: %s", sel, a.nodeList())
			}
			return c, fmt.Errorf("knob %s applies to no node selected by %q", k, sel)
		}
		if notes != nil && len(skipped) > 0 {
			what := sel + " nodes"
			if sel == "*" {
				what = "nodes"
			}
			*notes = append(*notes, fmt.Sprintf("%s=%s set %d of %d %s: %s; skipped, as the knob does not apply to them: %s",
				sel, k, len(set), len(set)+len(skipped), what, listNames(set), listNames(skipped)))
		}
	}
	return c, nil
}

// listNames lists node names for a note, at most 8 of them.
func listNames(names []string) string {
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(" and %d more", len(names)-8)
	}
	return strings.Join(names, ", ")
}

func (a *Approximator) nodeList() string {
	var s []string
	for _, n := range a.nodes {
		if !n.View {
			s = append(s, n.Name+" ("+n.Op+")")
		}
	}
	return strings.Join(s, ", ")
}

// JSON returns the configuration's JSON form.
func (a *Approximator) JSON(c Config) ([]byte, error) {
	m := map[string]string{}
	for i, k := range c.knobs {
		if !k.IsExact() {
			m[a.nodes[i].Name] = k.String()
		}
	}
	return json.Marshal(struct {
		Nodes map[string]string `json:"nodes"`
	}{m})
}

// Selector is a prepared configuration: it hands the engine the kernel of
// each step. Switching between prepared selectors costs nothing.
type Selector struct {
	kernels []engine.Kernel
}

// Kernel implements engine.Selector.
func (s *Selector) Kernel(step int) engine.Kernel { return s.kernels[step] }

// Prepare builds (or finds) the kernels of a configuration.
func (a *Approximator) Prepare(c Config) (*Selector, error) {
	if len(c.knobs) != len(a.nodes) {
		return nil, errors.New("configuration belongs to another model")
	}
	s := &Selector{kernels: make([]engine.Kernel, len(c.knobs))}
	for i, k := range c.knobs {
		kr, err := a.Kernel(i, k)
		if err != nil {
			return nil, err
		}
		s.kernels[i] = kr
	}
	return s, nil
}

// clipText shortens a text quoted in an error.
func clipText(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
