package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestNewNamesTheFlag checks that a setting that does not fit the Pareto
// file's levels is reported as the command line's mistake, naming its
// flag, not as the Pareto file's (#19 item 17), and pins the decision to
// accept --votes above --n (README: a run of reliable windows longer than
// the window of agreement is a stricter controller, not a contradiction).
func TestNewNamesTheFlag(t *testing.T) {
	par := testPareto(3, 2)
	for _, tc := range []struct {
		name       string
		controller string
		settings   []string
		want       string // "" accepted
	}{
		{"level beyond the levels", Static, []string{"level", "7"}, "--level got 7, expected 0..2"},
		{"kalman more below less", Kalman, []string{"kalman-less", "0.9", "kalman-more", "0.5"}, "--kalman-more got 0.5"},
		{"confidence more below less", Confidence, []string{"less-frac", "0.9", "more-frac", "0.5"}, "--more-frac got 0.5"},
		{"votes above n", State, []string{"votes", "5", "n", "3"}, ""},
		{"valid level", Static, []string{"level", "2"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			for i := 0; i+1 < len(tc.settings); i += 2 {
				if err := b.Set(tc.settings[i], tc.settings[i+1]); err != nil {
					t.Fatal(err)
				}
			}
			_, err := New(par, &b, tc.controller, "pareto.json")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FlagError
			if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pareto.json") {
				t.Fatalf("error %v, want a flag error %q that does not blame the file", err, tc.want)
			}
		})
	}
	// Each value out of its range is refused when it is set, naming the
	// flag (the flag package prefixes the name).
	for _, bad := range [][2]string{{"factor", "0"}, {"n", "0"}, {"votes", "0"}, {"floor", "NaN"}, {"budget-j", "-1"}, {FracFlag, "0"}} {
		var b Builder
		if err := b.Set(bad[0], bad[1]); err == nil || !strings.HasPrefix(err.Error(), "--"+bad[0]+" ") {
			t.Errorf("--%s %s: %v, want an error naming the flag", bad[0], bad[1], err)
		}
	}
}
