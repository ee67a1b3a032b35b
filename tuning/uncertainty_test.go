package tuning

import (
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
)

// TestLossUncertainty: a level's loss carries the paired interval when
// its file has the counts, the independent bound over its confidence
// windows when not, and none without windows; the CLI, the report and
// the workbench all get it from here.
func TestLossUncertainty(t *testing.T) {
	if n := Windows(policy.ConfidenceStats{CorrectN: []int{10, 5}, WrongN: []int{3, 1}}); n != 19 {
		t.Errorf("Windows = %d, want 19", n)
	}
	for _, tc := range []struct {
		exact, acc float64
		n          int
		want       float64 // half-width, pp
	}{
		{0.8, 0.8, 19, 100 * 1.96 * math.Sqrt(2*0.16/19)}, // the demo's split: ±25 pp
		{0.9, 0.88, 513, 100 * 1.96 * math.Sqrt(0.09/513+0.88*0.12/513)},
		{1, 1, 19, 100.0 / 19}, // no spread: one window
	} {
		l := IndependentLoss(2, tc.exact, tc.acc, tc.n)
		if math.Abs(l.Hi-2-tc.want) > 1e-9 || math.Abs(2-l.Lo-tc.want) > 1e-9 || l.Windows != tc.n || l.Paired {
			t.Errorf("IndependentLoss(2, %v, %v, %d) = %+v, want ±%v", tc.exact, tc.acc, tc.n, l, tc.want)
		}
	}
	if l := IndependentLoss(2, 0.8, 0.8, 0); l.Windows != 0 || l.String() != "2.00 pp" {
		t.Errorf("no windows: %+v %q", l, l)
	}

	counts := &policy.PairedCounts{Both: 17, Gained: 1, Neither: 1}
	conf := policy.ConfidenceStats{CorrectN: []int{18}, WrongN: []int{1}}
	paired := LevelLoss(policy.Level{QoSLossPP: -5.26, Accuracy: 18.0 / 19, Confidence: conf, Calib: counts}, 17.0/19)
	cand := CandidateLoss(profile.Candidate{LossPP: -5.26, Calib: measure.Paired{Both: 17, Gained: 1, Neither: 1}})
	if paired != cand || !paired.Paired || paired.Windows != 19 || paired.String() != "-5.26 pp [-25.2, +13.3] on 19" {
		t.Errorf("a level with counts: %+v %q, the same candidate: %+v", paired, paired, cand)
	}
	bound := LevelLoss(policy.Level{QoSLossPP: -5.26, Accuracy: 18.0 / 19, Confidence: conf}, 17.0/19)
	if bound.Paired || bound.Windows != 19 || !(bound.Hi-bound.Lo > 0) {
		t.Errorf("a level without counts: %+v, want the independent bound on 19 windows", bound)
	}
}

// TestParetoWarnings: the workbench warns of a split too small to decide
// at the file's threshold with kagen tune's words.
func TestParetoWarnings(t *testing.T) {
	conf := policy.ConfidenceStats{CorrectN: []int{18}, WrongN: []int{1}}
	p := &policy.Pareto{ExactAccuracy: 17.0 / 19, MaxLossPP: 1, Configs: []policy.Level{
		{Config: "exact", Speedup: 1, Accuracy: 17.0 / 19, Confidence: conf, Calib: &policy.PairedCounts{Both: 17, Neither: 2}},
		{Level: 1, Config: "c=int8", Speedup: 1.5, QoSLossPP: -5.26, Accuracy: 18.0 / 19, Confidence: conf, Calib: &policy.PairedCounts{Both: 17, Gained: 1, Neither: 1}},
	}}
	ws := ParetoWarnings(p, 20) // the file's own 1 pp wins over the setting
	if len(ws) != 1 || !strings.Contains(ws[0], "one calibration window weighs 5.26 pp, more than --max-loss 1") {
		t.Errorf("ParetoWarnings = %q", ws)
	}
	p.MaxLossPP = 0
	if ws := ParetoWarnings(p, 20); len(ws) != 0 {
		t.Errorf("at the setting's 20 pp: %q, want none", ws)
	}
	if ws := ParetoWarnings(p, 10); len(ws) != 1 || !strings.Contains(ws[0], "level 1 (up to 13.3 pp)") {
		t.Errorf("at the setting's 10 pp: %q, want level 1 undecided", ws)
	}
	if ws := ParetoWarnings(nil, 1); ws != nil {
		t.Errorf("no file: %q", ws)
	}
}
