package demo

import (
	"io/fs"
	"strings"
	"testing"
)

func TestTasksAreComplete(t *testing.T) {
	tasks := Tasks()
	if len(tasks) == 0 {
		t.Fatal("no demo embedded")
	}
	total := 0
	for _, task := range tasks {
		if len(task.Model) == 0 {
			t.Errorf("%s: empty model", task.Name)
		}
		total += len(task.Model)
		if _, err := fs.Stat(task.Traces, task.Trace); err != nil {
			t.Errorf("%s: trace %s: %v", task.Name, task.Trace, err)
		}
	}
	fs.WalkDir(tasks[0].Traces, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += int(info.Size())
			}
		}
		return nil
	})
	if total > 5<<20 {
		t.Errorf("the demo embeds %d bytes, more than 5 MB", total)
	}
	if !strings.Contains(Notice(), "CC BY 4.0") {
		t.Error("NOTICE lacks the HAR licence")
	}
}
