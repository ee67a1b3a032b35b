package tui

import (
	"fmt"
	"math"
	"strings"
)

// fmtEnergy formats joules with an SI prefix: "5.74 µJ".
func fmtEnergy(j float64) string {
	a := math.Abs(j)
	switch {
	case j == 0:
		return "0 J"
	case a >= 1:
		return fmt.Sprintf("%.3g J", j)
	case a >= 1e-3:
		return fmt.Sprintf("%.3g mJ", j*1e3)
	case a >= 1e-6:
		return fmt.Sprintf("%.3g µJ", j*1e6)
	default:
		return fmt.Sprintf("%.3g nJ", j*1e9)
	}
}

// energyUnit is the SI unit of an axis whose largest value is j joules:
// its size in joules and its name.
func energyUnit(j float64) (float64, string) {
	switch {
	case j >= 1:
		return 1, "J"
	case j >= 1e-3:
		return 1e-3, "mJ"
	case j >= 1e-6:
		return 1e-6, "µJ"
	}
	return 1e-9, "nJ"
}

// fmtTime formats nanoseconds: "1.91 µs".
func fmtTime(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.3g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

// fmtMACs formats a count: "9.2k".
func fmtCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	default:
		return fmt.Sprint(n)
	}
}

// pct formats a fraction as a percentage, "-" when not a number.
func pct(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// signedPP formats a difference of fractions in percentage points.
func signedPP(d float64) string {
	if math.IsNaN(d) {
		return "-"
	}
	return fmt.Sprintf("%+.1f pp", 100*d)
}

func fmtShape(s []int) string {
	p := make([]string, len(s))
	for i, d := range s {
		p[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(p, " ") + "]"
}

// fmtSeconds formats a trace time: "76.8 s".
func fmtSeconds(s float64) string {
	if s < 10 {
		return trimFloat(math.Round(s*100)/100) + " s"
	}
	return fmt.Sprintf("%.1f s", s)
}

// plural formats a count and a noun: "1 level", "3 levels".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// trimFloat formats v with at most three decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}
