package measure

import "math"

// Z95 is the standard normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// Wilson returns Wilson's score interval for a proportion: k successes
// in n trials, at the normal quantile z (Z95 for 95%). n <= 0 gives the
// whole range 0..1.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	p, nf, z2 := float64(k)/float64(n), float64(n), z*z
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = max(0, centre-half), min(1, centre+half)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// Paired counts, over the same windows, how a reference (the exact
// model) and a candidate (an approximate configuration) did: both right,
// only the reference right (the candidate lost the window), only the
// candidate right (it gained the window), both wrong.
type Paired struct {
	Both, Lost, Gained, Neither int
}

// N is the number of windows.
func (p Paired) N() int { return p.Both + p.Lost + p.Gained + p.Neither }

// LossPP is the candidate's accuracy loss in percentage points: the
// reference's accuracy minus the candidate's, (Lost - Gained) / N.
func (p Paired) LossPP() float64 {
	if p.N() == 0 {
		return 0
	}
	return 100 * float64(p.Lost-p.Gained) / float64(p.N())
}

// LossInterval returns a confidence interval, in percentage points, of
// the accuracy loss of a candidate measured on the same windows as the
// reference, at the normal quantile z (Z95 for 95%): Newcombe's hybrid
// score interval for the difference of paired proportions (Newcombe
// 1998, "Improved confidence intervals for the difference between
// binomial proportions based on paired data", method 10), built from the
// Wilson intervals of the two accuracies and their correlation. Being
// paired, it is narrow when the two disagree on few windows, whatever
// their accuracy; on few windows it is wide (one window of 19 is 5.3 pp).
// No windows give -100..100.
func (p Paired) LossInterval(z float64) (lo, hi float64) {
	n := p.N()
	if n == 0 {
		return -100, 100
	}
	nf := float64(n)
	r1, r2 := p.Both+p.Lost, p.Both+p.Gained // reference right, candidate right
	p1, p2 := float64(r1)/nf, float64(r2)/nf
	l1, u1 := Wilson(r1, n, z)
	l2, u2 := Wilson(r2, n, z)
	// the correlation of the two, corrected as Newcombe's method 10 does
	// (zero when a margin is empty)
	phi := 0.0
	if den := float64(r1) * float64(n-r1) * float64(r2) * float64(n-r2); den > 0 {
		b := float64(p.Both)*float64(p.Neither) - float64(p.Lost)*float64(p.Gained)
		c := 0.0
		switch {
		case b > nf/2:
			c = b - nf/2
		case b < 0:
			c = b
		}
		phi = c / math.Sqrt(den)
	}
	d := p1 - p2
	lo = d - math.Sqrt(max(0, sq(p1-l1)-2*phi*(p1-l1)*(u2-p2)+sq(u2-p2)))
	hi = d + math.Sqrt(max(0, sq(p2-l2)-2*phi*(p2-l2)*(u1-p1)+sq(u1-p1)))
	return 100 * max(lo, -1), 100 * min(hi, 1)
}

// Decides reports whether the loss interval at z lies wholly on one side
// of maxPP: below it (the candidate meets the threshold) or above it (it
// does not). A split too small, or a loss too near the threshold, does
// not decide.
func (p Paired) Decides(maxPP, z float64) bool {
	lo, hi := p.LossInterval(z)
	return hi <= maxPP || lo > maxPP
}

func sq(x float64) float64 { return x * x }
