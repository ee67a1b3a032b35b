package deploy

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// labelledWord says what Labelled counts: labelled windows, or with the
// agreement QoS the windows the exact run gave a reference for.
func (r *Report) labelledWord() string {
	if r.QoS == replay.QoSAgreement {
		return "with an exact reference"
	}
	return "labelled"
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "replay of %d windows (%d %s), hop %.3g s: %.1f s of stream; energy modelled by device profile %s from %s busy time\n",
		r.Windows, r.Labelled, r.labelledWord(), r.HopS, r.WallS, r.DeviceProfile, r.Cost)
	fmt.Fprintf(w, "controller %s\n", r.Params)
	if r.QoS == replay.QoSAgreement {
		fmt.Fprintf(w, "agreement with the exact run %.2f%% (QoS agreement: the exact model's predictions are the reference, labels unused): disagreement %.2f pp\n", 100*r.Accuracy, r.AccuracyLossPP)
	} else {
		fmt.Fprintf(w, "accuracy %.2f%% (exact %.2f%%): loss %.2f pp\n", 100*r.Accuracy, 100*r.ExactAccuracy, r.AccuracyLossPP)
	}
	saving := FormatSaving(r.InferenceEnergySaving, r.InferenceSavingMargin)
	if r.AllExact {
		saving = "0% (every window ran the exact model: the exact run's work)"
	}
	fmt.Fprintf(w, "inference energy %.4g J (exact %.4g J): saving %s; mean latency %.1f us (exact %.1f us)\n",
		r.InferenceEnergyJ, r.ExactInferenceEnergyJ, saving, r.MeanLatencyUS, r.ExactMeanLatencyUS)
	fmt.Fprintf(w, "system energy %.4g J (exact %.4g J): saving %.3f%%; inference is %.3f%% of the exact run's system energy\n",
		r.SystemEnergyJ, r.ExactSystemEnergyJ, 100*r.SystemEnergySaving, 100*r.InferenceShare)
	if r.BudgetJ > 0 {
		fmt.Fprintf(w, "budget %.4g J per inference, spent %.4g J (%+.1f%%)\n", r.BudgetJ, r.MeanInferenceEnergyJ, 100*(r.MeanInferenceEnergyJ-r.BudgetJ)/r.BudgetJ)
	}
	fmt.Fprintf(w, "switches %d\n", r.Switches)
	if r.NonFinite > 0 {
		fmt.Fprintf(w, "warning: %d inferences gave NaN or infinite outputs, scored wrong; the first: %s\n", r.NonFinite, r.FirstNonFinite)
	}
	if r.OutliersReplaced > 0 {
		fmt.Fprintf(w, "%d measured busy times over %dx their level's median were replaced by it (preemption)\n", r.OutliersReplaced, OutlierFactor)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "level\twindows\ttime s\tshare\tconfig")
	for _, l := range r.Levels {
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f%%\t%s\n", l.Level, l.Windows, l.Seconds, 100*l.Fraction, l.Config)
	}
	tw.Flush()
	rules := make([]string, 0, len(r.Rules))
	for k := range r.Rules {
		rules = append(rules, k)
	}
	sort.Slice(rules, func(i, j int) bool {
		return r.Rules[rules[i]] > r.Rules[rules[j]] || r.Rules[rules[i]] == r.Rules[rules[j]] && rules[i] < rules[j]
	})
	fmt.Fprintln(w, "rules fired:")
	for _, k := range rules {
		fmt.Fprintf(w, "  %6d  %s\n", r.Rules[k], k)
	}
	fmt.Fprintln(w, "system-wide saving under each built-in device profile (modelled):")
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "  %-13s inference saving %.1f%%, system saving %.3f%%, inference share of system %.3f%%\n", p.Name, 100*p.InferenceEnergySaving, 100*p.SystemEnergySaving, 100*p.InferenceShare)
	}
}

// WriteTable writes reports of controllers replayed side by side as one
// table.
func WriteTable(w io.Writer, rs []*Report) {
	if len(rs) == 0 {
		return
	}
	r0 := rs[0]
	ref := fmt.Sprintf("exact accuracy %.2f%%", 100*r0.ExactAccuracy)
	head := "controller\taccuracy\tloss pp\tinference saving\tswitches\tmean level"
	if r0.QoS == replay.QoSAgreement {
		ref = "QoS agreement: accuracy is top-1 agreement with the exact run, labels unused"
		head = "controller\tagreement\tdisagreement pp\tinference saving\tswitches\tmean level"
	}
	fmt.Fprintf(w, "replay of %d windows (%d %s), hop %.3g s: %.1f s of stream; %s; energy modelled from %s busy time\n",
		r0.Windows, r0.Labelled, r0.labelledWord(), r0.HopS, r0.WallS, ref, r0.Cost)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r0.Profiles {
		head += "\tsystem saving " + p.Name
	}
	fmt.Fprintln(tw, head)
	for _, r := range rs {
		mean := 0.0
		for _, l := range r.Levels {
			mean += float64(l.Level) * l.Fraction
		}
		line := fmt.Sprintf("%s\t%.2f%%\t%.2f\t%.1f%%\t%d\t%.2f", r.Params, 100*r.Accuracy, r.AccuracyLossPP, 100*r.InferenceEnergySaving, r.Switches, mean)
		for _, p := range r.Profiles {
			line += fmt.Sprintf("\t%.3f%%", 100*p.SystemEnergySaving)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprint(w, "inference share of the exact run's system energy:")
	for _, p := range r0.Profiles {
		fmt.Fprintf(w, " %s %.3f%%", p.Name, 100*p.InferenceShare)
	}
	fmt.Fprintln(w)
}

// WriteLevels writes the policy's levels as a table, with which the floor
// allows.
func WriteLevels(w io.Writer, pol *policy.Policy) {
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

// StreamSummary is the line a live run (kagen run) ends with: windows, why
// it stopped, windows per level, and the gaps st split and the malformed
// lines it skipped (the first few quoted).
func (r *Report) StreamSummary(st replay.Stats, why string) string {
	var perLevel []int
	for _, l := range r.Levels {
		perLevel = append(perLevel, l.Windows)
	}
	s := fmt.Sprintf("%d windows, stopped by %s; windows per level %v", r.Windows, why, perLevel)
	if st.Gaps > 0 {
		s += fmt.Sprintf("; %d gaps in the timestamps split the stream (no window spans one)", st.Gaps)
	}
	if st.BadLines > 0 {
		s += fmt.Sprintf("; %d malformed lines skipped", st.BadLines)
		for i, e := range st.FirstBad {
			sep := "; "
			if i == 0 {
				sep = " ("
			}
			s += sep + e.Error()
		}
		if st.BadLines > len(st.FirstBad) {
			s += "; ..."
		}
		s += ")"
	}
	return s
}
