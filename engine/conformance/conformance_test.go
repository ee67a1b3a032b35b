package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata is where Debian's libonnx-testdata installs the ONNX backend tests.
const testdata = "/usr/share/libonnx-testdata/data"

// TestBackend runs the ONNX backend node and PyTorch tests. Without the
// test data it skips, unless KAGEN_REQUIRE_CONFORMANCE is set (as .ci/run
// does after installing the package), which turns the skip into a failure.
func TestBackend(t *testing.T) {
	if _, err := os.Stat(testdata); err != nil {
		if os.Getenv("KAGEN_REQUIRE_CONFORMANCE") != "" {
			t.Fatalf("KAGEN_REQUIRE_CONFORMANCE is set but %s is missing (apt-get install libonnx-testdata)", testdata)
		}
		t.Skipf("%s not found (apt-get install libonnx-testdata)", testdata)
	}
	var dirs []string
	for _, sub := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		dirs = append(dirs, filepath.Join(testdata, sub))
	}
	var sb strings.Builder
	s, err := Run(dirs, &sb)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range s.Results {
		if r.Status == Fail {
			failed++
			t.Errorf("FAIL %s: %s", r.Name, r.Reason)
		}
	}
	t.Logf("conformance: %d passed, %d failed, %d unsupported", s.Passed, s.Failed, s.Unsupported)
	for c, n := range s.Categories {
		if c == "" || c == "not implemented" {
			t.Errorf("%d unsupported tests have no category (%q)", n, c)
		}
	}
	if s.Passed < 250 {
		t.Errorf("only %d tests passed; expected at least 250", s.Passed)
	}
}
