package engine

import "testing"

// TestOpGroupsDisjoint checks that no op type is registered by two groups
// (mergeOpGroups would silently keep the last).
func TestOpGroupsDisjoint(t *testing.T) {
	seen := map[string]int{}
	total := 0
	for i, g := range opGroups {
		for op := range g {
			if j, dup := seen[op]; dup {
				t.Errorf("%s is registered by groups %d and %d", op, j, i)
			}
			seen[op] = i
			total++
		}
	}
	if total != len(opTable) {
		t.Errorf("groups hold %d ops, the table %d: a group is missing from opTable", total, len(opTable))
	}
}
