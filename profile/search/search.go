package search

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Options control a search.
type Options struct {
	Predictor Predictor // P1 or P2
	// Seed seeds the search: one seed, one sequence of configurations.
	Seed uint64
	// Budget is the search's time.
	Budget time.Duration
	// MaxEvaluations, if positive, stops the search once it has scored
	// that many configurations instead of when Budget is spent (Budget is
	// then ignored), so that it gives the same result on any machine.
	MaxEvaluations int
}

// Point is a configuration with its prediction.
type Point struct {
	Genome Genome // the configuration
	// LossPP is the predicted accuracy loss in percentage points, US the
	// predicted time in microseconds.
	LossPP, US float64
}

// Search explores the space with a seeded evolutionary search whose three
// mutation operators are picked by a UCB1 bandit (rewarded when the child
// enters the archive), keeping an archive of the configurations that are
// not dominated in (predicted loss, predicted time) with loss up to limit.
// Every configuration of one knob is scored first. It returns the
// successive non-dominated fronts of every configuration it scored within
// limit, best first, until at least want are taken (see fronts), in order
// of predicted loss; and the number of configurations it scored. The
// search stops when o's budget or evaluations are spent, when ctx is
// cancelled, or after 200,000 steps.
func (s *Space) Search(ctx context.Context, o Options, limit float64, want int) ([]Point, int) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x6b6167656e))
	seen := map[string]bool{}
	var archive, within []Point
	evaluated := 0
	consider := func(g Genome) bool {
		if seen[g.key()] {
			return false
		}
		seen[g.key()] = true
		loss, us := s.Predict(g, o.Predictor)
		evaluated++
		if loss > limit {
			return false
		}
		p := Point{append(Genome(nil), g...), loss, us}
		within = append(within, p)
		for _, q := range archive {
			if q.LossPP <= p.LossPP && q.US <= p.US {
				return false
			}
		}
		kept := archive[:0]
		for _, q := range archive {
			if !(p.LossPP <= q.LossPP && p.US <= q.US) {
				kept = append(kept, q)
			}
		}
		archive = append(kept, p)
		return true
	}
	n := len(s.steps)
	base := make(Genome, n)
	consider(base)
	for i := range s.choices { // every single pair
		for c := 1; c < len(s.choices[i]); c++ {
			g := make(Genome, n)
			g[i] = uint8(c)
			consider(g)
		}
	}
	if n == 0 {
		return archive, evaluated
	}
	ops := []func(Genome) Genome{
		func(g Genome) Genome { // change one node
			i := rng.IntN(n)
			g[i] = uint8(rng.IntN(len(s.choices[i])))
			return g
		},
		func(g Genome) Genome { // change two nodes
			for t := 0; t < 2; t++ {
				i := rng.IntN(n)
				g[i] = uint8(rng.IntN(len(s.choices[i])))
			}
			return g
		},
		func(g Genome) Genome { // uniform crossover with another archive point
			o := archive[rng.IntN(len(archive))].Genome
			for i := range g {
				if rng.IntN(2) == 0 {
					g[i] = o[i]
				}
			}
			return g
		},
	}
	pulls := make([]float64, len(ops))
	wins := make([]float64, len(ops))
	deadline := time.Now().Add(o.Budget)
	for it := 0; ; it++ {
		if o.MaxEvaluations > 0 && evaluated >= o.MaxEvaluations {
			break
		}
		if it%256 == 0 && (o.MaxEvaluations <= 0 && time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		if it > 200000 {
			break
		}
		// UCB1 over the operators
		op, best := 0, math.Inf(-1)
		total := 1.0
		for _, p := range pulls {
			total += p
		}
		for i := range ops {
			v := math.Inf(1)
			if pulls[i] > 0 {
				v = wins[i]/pulls[i] + math.Sqrt(2*math.Log(total)/pulls[i])
			}
			if v > best {
				op, best = i, v
			}
		}
		parent := archive[rng.IntN(len(archive))].Genome
		child := ops[op](append(Genome(nil), parent...))
		pulls[op]++
		if consider(child) {
			wins[op]++
		}
	}
	return fronts(within, want), evaluated
}

// fronts returns the successive non-dominated fronts of pts over
// (predicted loss, predicted time), best first, each in order of loss,
// until at least want points are taken (every point if fewer; the first
// front alone when want <= 0). The first front alone is often a handful
// of configurations; the next ones are worth validating too, since the
// prediction that ranked them is not exact.
func fronts(pts []Point, want int) []Point {
	rest := append([]Point(nil), pts...)
	sort.Slice(rest, func(i, j int) bool {
		return rest[i].LossPP < rest[j].LossPP || rest[i].LossPP == rest[j].LossPP && rest[i].US < rest[j].US
	})
	var out []Point
	for len(rest) > 0 && (len(out) < want || len(out) == 0) {
		var front, next []Point
		best := math.Inf(1)
		for _, p := range rest {
			if p.US < best {
				front = append(front, p)
				best = p.US
			} else {
				next = append(next, p)
			}
		}
		out = append(out, front...)
		rest = next
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LossPP < out[j].LossPP })
	return out
}
