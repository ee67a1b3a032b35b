package profile

import (
	"strings"
	"testing"
)

// TestDecodeProfile is the regression test of #19 item 22 for profiles:
// "Go struct field Profile.windows" leaked, and a policy or Pareto file
// given as a profile was not named as such.
func TestDecodeProfile(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"windows a string", `{"version": 1, "windows": "x"}`, `profile p.json: windows: got a JSON string, expected an integer`},
		{"a list", `[1]`, `profile p.json: got a JSON array, expected a JSON object`},
		{"a Pareto file", `{"version": 1, "configs": [], "exact_accuracy": 0.9}`, `profile p.json: this is a pareto file, expected a profile file`},
		{"a policy", `{"version": 1, "levels": [], "controller": {}, "checksum": "x"}`, `profile p.json: this is a policy file, expected a profile file`},
		{"a profile", `{"version": 1, "windows": 3, "pairs": [], "nodes": []}`, ``},
		{"a profile with a BOM", "\ufeff" + `{"version": 1, "windows": 3, "pairs": [], "nodes": []}`, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Profile
			err := decodeProfile("p.json", []byte(tc.data), &p)
			if tc.want == "" {
				if err != nil || p.Windows != 3 {
					t.Fatalf("%v, windows %d", err, p.Windows)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "Profile.") {
				t.Errorf("Go names leak: %v", err)
			}
		})
	}
}
