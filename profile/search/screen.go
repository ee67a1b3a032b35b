package search

import (
	"math"
	"slices"
	"sort"
)

// ScreenPairs picks up to max two-knob configurations to measure before
// the first validation round: the pairs of knobs (by node and family, as
// the interactions are learned) that the predicted front combines most
// often, each with the choice the front uses most for its family, the
// larger expected interaction (the windows' products of the two deltas'
// norms) first among equally frequent ones. Their measured losses, given
// to Calibrate, teach it the interactions of exactly those pairs before
// any candidate is validated: without them the first round is predicted
// additively, and one combination that interacts badly (kws-ds's sampling
// knobs on consecutive blocks lose 6-12 pp where their sums predict 0)
// costs the whole run its accuracy.
func (s *Space) ScreenPairs(front []Point, max int) []Genome {
	uses := s.pairUses(front)
	list := make([]*pairUse, 0, len(uses))
	for _, u := range uses {
		u.size = s.expectedInteraction(u)
		list = append(list, u)
	}
	sort.Slice(list, func(a, b int) bool {
		if list[a].count != list[b].count {
			return list[a].count > list[b].count
		}
		if list[a].size != list[b].size {
			return list[a].size > list[b].size
		}
		ka, kb := list[a].key, list[b].key
		return slices.Compare([]uint16{ka.i, ka.fi, ka.j, ka.fj}, []uint16{kb.i, kb.fi, kb.j, kb.fj}) < 0
	})
	var gs []Genome
	for _, u := range list[:min(max, len(list))] {
		g := make(Genome, len(s.steps))
		g[u.i], g[u.j] = uint8(u.ci), uint8(u.cj)
		gs = append(gs, g)
	}
	return gs
}

// pairUse is how a front uses one pair of node families: the choices
// that represent them, how often it combines them, and their expected
// interaction.
type pairUse struct {
	key          pairKey
	i, ci, j, cj int
	count        int
	size         float64
}

// pairUses counts the pairs of node families the front combines, each
// represented by the choice the front uses most for its family.
func (s *Space) pairUses(front []Point) map[pairKey]*pairUse {
	uses := map[pairKey]*pairUse{}
	choiceCount := map[[2]int]int{}
	for _, pt := range front {
		for i, c := range pt.Genome {
			if c != 0 {
				choiceCount[[2]int{i, int(c)}]++
			}
		}
	}
	for _, pt := range front {
		g := pt.Genome
		s.eachPair(g, func(i, j int, k pairKey) {
			u := uses[k]
			if u == nil {
				u = &pairUse{key: k, i: i, ci: int(g[i]), j: j, cj: int(g[j])}
				uses[k] = u
			}
			u.count++
			// the family's most used choice represents it
			if choiceCount[[2]int{i, int(g[i])}] > choiceCount[[2]int{i, u.ci}] {
				u.ci = int(g[i])
			}
			if choiceCount[[2]int{j, int(g[j])}] > choiceCount[[2]int{j, u.cj}] {
				u.cj = int(g[j])
			}
		})
	}
	return uses
}

// expectedInteraction is the sum over the profile windows of the product
// of the norms of a pair's two output deltas.
func (s *Space) expectedInteraction(u *pairUse) float64 {
	C := s.in.Classes
	da, db := s.choices[u.i][u.ci].Delta, s.choices[u.j][u.cj].Delta
	var size float64
	for w := 0; w+C <= len(da) && w+C <= len(db); w += C {
		var na, nb float64
		for k := w; k < w+C; k++ {
			na += float64(da[k]) * float64(da[k])
			nb += float64(db[k]) * float64(db[k])
		}
		size += math.Sqrt(na * nb)
	}
	return size
}
