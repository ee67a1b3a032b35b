package deploy

import (
	"errors"
	"testing"

	"github.com/kagen-ai/kagen/replay"
)

// TestStreamSummary pins the line kagen run ends with.
func TestStreamSummary(t *testing.T) {
	r := &Report{Windows: 7, Levels: []LevelTime{{Windows: 5}, {Windows: 2}}}
	for _, tc := range []struct {
		st   replay.Stats
		want string
	}{
		{replay.Stats{}, "7 windows, stopped by end of input; windows per level [5 2]"},
		{replay.Stats{Gaps: 2}, "7 windows, stopped by end of input; windows per level [5 2]; 2 gaps in the timestamps split the stream (no window spans one)"},
		{replay.Stats{BadLines: 3, FirstBad: []error{errors.New("line 4: NaN"), errors.New("line 9: 2 fields")}},
			"7 windows, stopped by end of input; windows per level [5 2]; 3 malformed lines skipped (line 4: NaN; line 9: 2 fields; ...)"},
	} {
		if got := r.StreamSummary(tc.st, "end of input"); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
