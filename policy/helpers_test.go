package policy

import (
	"strings"

	"github.com/kagen-ai/kagen/device"
)

const testSHA = "e4024b86d27dbf3c6067d23a9c2b48cde3ce712ed17c871ae5ed5a13ff5b6452"

// testPareto returns a valid Pareto file with n levels and nc classes:
// level i has speedup 1+0.25i, loss 0.3i pp, energy 1/(1+0.25i) mJ, and
// confidence statistics c = 0.9-0.02i, w = 0.5 for every class.
func testPareto(n, nc int) *Pareto {
	p := &Pareto{
		Version: ParetoVersion, ModelSHA256: testSHA,
		Device:    device.Fingerprint{GOOS: "linux", GOARCH: "amd64", CPU: "test CPU", Features: []string{"avx2", "fma"}, Kagen: "dev"},
		Meter:     "phone-big (modelled)",
		Objective: ObjectiveTime, ExactAccuracy: 0.9,
	}
	for k := 0; k < nc; k++ {
		p.Classes = append(p.Classes, "C"+strings.Repeat("x", k))
	}
	for i := 0; i < n; i++ {
		cfg := "exact"
		if i > 0 {
			cfg = "Conv_0=samp:2:0"
		}
		s := 1 + 0.25*float64(i)
		l := Level{Level: i, Config: cfg, Speedup: s, QoSLossPP: 0.3 * float64(i), Accuracy: 0.9 - 0.003*float64(i),
			PredictedLossPP: 0.25 * float64(i), TimeUS: 100 / s, EnergyJ: 0.001 / s}
		for k := 0; k < nc; k++ {
			l.Confidence.CorrectMean = append(l.Confidence.CorrectMean, 0.9-0.02*float64(i))
			l.Confidence.WrongMean = append(l.Confidence.WrongMean, 0.5)
			l.Confidence.CorrectN = append(l.Confidence.CorrectN, 100)
			l.Confidence.WrongN = append(l.Confidence.WrongN, 10)
		}
		p.Configs = append(p.Configs, l)
	}
	return p
}

// testPolicy returns a policy over testPareto(n, nc) with controller c.
func testPolicy(n, nc int, c Params) *Policy {
	p, err := FromPareto(testPareto(n, nc), c)
	if err != nil {
		panic(err)
	}
	return p
}

func mustController(p *Policy) Controller {
	c, err := NewController(p)
	if err != nil {
		panic(err)
	}
	return c
}
