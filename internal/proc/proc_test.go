package proc

import (
	"os"
	"testing"
)

func TestAlive(t *testing.T) {
	for _, tc := range []struct {
		pid  int
		want bool
	}{
		{os.Getpid(), true},
		{0, false},
		{-1, false},
		{1 << 30, false}, // above any pid_max
	} {
		if got := Alive(tc.pid); got != tc.want {
			t.Errorf("Alive(%d) = %v, want %v", tc.pid, got, tc.want)
		}
	}
}
