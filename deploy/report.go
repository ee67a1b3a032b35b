package deploy

import (
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/replay"
)

// Report is the outcome of one controller's replay against the exact run.
// Energies are modelled from busy time by a device profile.
type Report struct {
	Model      string   `json:"model"`
	Policy     string   `json:"policy"`
	Traces     []string `json:"traces"`
	Controller string   `json:"controller"`
	Params     string   `json:"params"`
	// Meter names the device profile and says the figures are modelled.
	Meter         string  `json:"meter"`
	DeviceProfile string  `json:"device_profile"`
	Cost          string  `json:"cost"`
	Realtime      bool    `json:"realtime"`
	Windows       int     `json:"windows"`
	Labelled      int     `json:"labelled"`
	HopS          float64 `json:"hop_s"`
	WallS         float64 `json:"wall_s"`

	// QoS is replay.QoSAccuracy or replay.QoSAgreement: with agreement,
	// Labelled counts the windows with a finite exact output, Accuracy
	// is the top-1 agreement with the exact run and ExactAccuracy 1.
	QoS            string  `json:"qos"`
	Accuracy       float64 `json:"accuracy"`
	ExactAccuracy  float64 `json:"exact_accuracy"`
	AccuracyLossPP float64 `json:"accuracy_loss_pp"`

	InferenceEnergyJ      float64 `json:"inference_energy_j"`
	ExactInferenceEnergyJ float64 `json:"exact_inference_energy_j"`
	InferenceEnergySaving float64 `json:"inference_energy_saving"`
	// InferenceSavingMargin is the half-width of the saving's 95%
	// interval from the per-window busy-time differences against the
	// exact run (0 with a cost that is not measured); FormatSaving shows
	// a saving within it as "~0%".
	InferenceSavingMargin float64 `json:"inference_energy_saving_margin"`
	SystemEnergyJ         float64 `json:"system_energy_j"`
	ExactSystemEnergyJ    float64 `json:"exact_system_energy_j"`
	SystemEnergySaving    float64 `json:"system_energy_saving"`
	// InferenceShare is the exact run's inference energy over its system
	// energy.
	InferenceShare     float64 `json:"inference_share"`
	MeanLatencyUS      float64 `json:"mean_latency_us"`
	ExactMeanLatencyUS float64 `json:"exact_mean_latency_us"`
	// BudgetJ and MeanInferenceEnergyJ compare a budget controller's
	// target with what it spent per inference.
	BudgetJ              float64 `json:"budget_j,omitempty"`
	MeanInferenceEnergyJ float64 `json:"mean_inference_energy_j"`

	// OutliersReplaced counts measured busy times (of every run) replaced
	// by their level's median as outliers.
	OutliersReplaced int `json:"outliers_replaced"`
	// AllExact is set when every window ran an exact level: the run did
	// the exact run's work, so its energy is the exact run's and its
	// saving 0 (a measured difference would be timing noise only; with
	// the load drifting during a replay, the per-window interval does
	// not cover it).
	AllExact bool `json:"all_exact,omitempty"`
	// NonFinite counts the inferences (of every run, exact included)
	// whose outputs held a NaN or an infinity: each is scored wrong and
	// reported to the controller with confidence 0. FirstNonFinite says
	// where the first came from: the window, the level and the node
	// that first produced one.
	NonFinite      int    `json:"non_finite,omitempty"`
	FirstNonFinite string `json:"first_non_finite,omitempty"`

	Switches int              `json:"switches"`
	Levels   []LevelTime      `json:"levels"`
	Rules    map[string]int   `json:"rules"`
	Profiles []ProfileSavings `json:"profiles"`
}

// LevelTime is the time a controller spent at one level.
type LevelTime struct {
	Level    int     `json:"level"`
	Config   string  `json:"config"`
	Windows  int     `json:"windows"`
	Seconds  float64 `json:"seconds"`
	Fraction float64 `json:"fraction"`
}

// ProfileSavings are the modelled savings under one built-in device
// profile.
type ProfileSavings struct {
	Name                  string  `json:"name"`
	InferenceEnergySaving float64 `json:"inference_energy_saving"`
	SystemEnergySaving    float64 `json:"system_energy_saving"`
	InferenceShare        float64 `json:"inference_share"`
}

// Report returns controller i's figures so far, with model naming the
// model in it.
func (r *Replayer) Report(i int, model string) *Report {
	t := r.runs[i]
	n := int(r.windows)
	wall := time.Duration(float64(n) * r.hopS * float64(time.Second))
	rep := &Report{
		Model: model, Policy: r.d.Name, Controller: t.ctrl.Name(), Params: t.params.String(),
		Meter: r.dev.Name + " (modelled)", DeviceProfile: r.dev.Name, Cost: r.cost.Name(), Realtime: r.o.Realtime,
		Windows: n, Labelled: r.labelled, HopS: r.hopS, WallS: wall.Seconds(),
		Switches: t.switches, Rules: maps.Clone(t.rules), QoS: replay.QoSAccuracy,
	}
	if r.o.QoS == replay.QoSAgreement {
		rep.QoS = replay.QoSAgreement
	}
	for _, tr := range r.o.Traces {
		rep.Traces = append(rep.Traces, tr.Name)
	}
	if m, ok := r.cost.(*MeasuredCost); ok {
		rep.OutliersReplaced = m.Replaced()
	}
	rep.NonFinite, rep.FirstNonFinite = r.nonFinite, r.firstNonFinite
	busy, diffSum, diffSq := t.busy, t.diffSum, t.diffSq
	rep.AllExact = n > 0
	for i, w := range t.windows {
		if w > 0 && r.d.Policy.Levels[i].Config != "exact" {
			rep.AllExact = false
		}
	}
	if rep.AllExact {
		busy, diffSum, diffSq = r.exactBusy, 0, 0
	}
	if r.labelled > 0 {
		rep.Accuracy = float64(t.correct) / float64(r.labelled)
		rep.ExactAccuracy = float64(r.exactRight) / float64(r.labelled)
		rep.AccuracyLossPP = 100 * (rep.ExactAccuracy - rep.Accuracy)
	}
	rep.InferenceEnergyJ = r.dev.InferenceEnergy(busy)
	rep.ExactInferenceEnergyJ = r.dev.InferenceEnergy(r.exactBusy)
	rep.SystemEnergyJ = r.dev.SystemEnergy(busy, wall)
	rep.ExactSystemEnergyJ = r.dev.SystemEnergy(r.exactBusy, wall)
	rep.InferenceEnergySaving = saving(rep.InferenceEnergyJ, rep.ExactInferenceEnergyJ)
	rep.InferenceSavingMargin = savingMargin(diffSum, diffSq, n, r.exactBusy)
	rep.SystemEnergySaving = saving(rep.SystemEnergyJ, rep.ExactSystemEnergyJ)
	if rep.ExactSystemEnergyJ > 0 {
		rep.InferenceShare = rep.ExactInferenceEnergyJ / rep.ExactSystemEnergyJ
	}
	if n > 0 {
		rep.MeanLatencyUS = float64(busy) / 1e3 / float64(n)
		rep.ExactMeanLatencyUS = float64(r.exactBusy) / 1e3 / float64(n)
		rep.MeanInferenceEnergyJ = t.energyJ / float64(n)
		if rep.AllExact {
			rep.MeanInferenceEnergyJ = rep.InferenceEnergyJ / float64(n)
		}
	}
	if t.params.Budget != nil {
		rep.BudgetJ = t.params.Budget.EnergyJ
	}
	for i, w := range t.windows {
		f := 0.0
		if n > 0 {
			f = float64(w) / float64(n)
		}
		rep.Levels = append(rep.Levels, LevelTime{Level: i, Config: r.d.Policy.Levels[i].Config, Windows: w,
			Seconds: float64(w) * r.hopS, Fraction: f})
	}
	for _, d := range device.Profiles() {
		ie, ee := d.InferenceEnergy(busy), d.InferenceEnergy(r.exactBusy)
		se, es := d.SystemEnergy(busy, wall), d.SystemEnergy(r.exactBusy, wall)
		ps := ProfileSavings{Name: d.Name, InferenceEnergySaving: saving(ie, ee), SystemEnergySaving: saving(se, es)}
		if es > 0 {
			ps.InferenceShare = ee / es
		}
		rep.Profiles = append(rep.Profiles, ps)
	}
	return rep
}

// Controllers returns the number of controllers replayed.
func (r *Replayer) Controllers() int { return len(r.runs) }

// savingMargin is the half-width of the 95% interval of a saving of
// inference energy (a fraction; energy is proportional to busy time)
// from the per-window differences of busy time against the exact run
// (their sum and sum of squares, in ns, over n windows): 1.96 standard
// errors of their mean, over the exact run's mean busy time.
func savingMargin(sum, sumSq float64, n int, exactBusy time.Duration) float64 {
	if n < 2 || exactBusy <= 0 {
		return 0
	}
	nf := float64(n)
	mean := sum / nf
	v := max(sumSq/nf-mean*mean, 0) * nf / (nf - 1)
	return measure.Z95 * math.Sqrt(v/nf) / (float64(exactBusy) / nf)
}

// FormatSaving is a saving (a fraction) as the CLI and the workbench
// show it: "~0%" when it lies within margin of zero (a difference the
// measurement's noise explains), else the percentage with its margin,
// "35.5% ±1.2".
func FormatSaving(saving, margin float64) string {
	if math.Abs(saving) <= margin {
		return fmt.Sprintf("~0%% (%+.1f%% ±%.1f, within the timing noise)", 100*saving, 100*margin)
	}
	if margin == 0 {
		return fmt.Sprintf("%.1f%%", 100*saving)
	}
	return fmt.Sprintf("%.1f%% ±%.1f", 100*saving, 100*margin)
}

// saving is 1 - e/exact (0 when exact is 0).
func saving(e, exact float64) float64 {
	if exact == 0 {
		return 0
	}
	return 1 - e/exact
}
