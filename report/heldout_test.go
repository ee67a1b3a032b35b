package report

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestHeldOutModels checks that HeldOut reports the models present in the
// models folder, in its fixed order, each with its kind of held-out data:
// the activity models read the kept-out subjects' smartphone streams (one
// folder), the keyword models theo's clips (and a replay subset).
func TestHeldOutModels(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"har-spsw/DATA/s17/s17_01_sp.csv", "har-spsw/DATA/s17/s17_01_sw.csv", "fsdd/recordings/0_theo_0.wav"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		files []string
		want  []string
	}{
		{[]string{"har.onnx"}, []string{"har"}},
		{[]string{"har-lstm.onnx", "kws-ds.onnx", "har-mobilenet.onnx"}, []string{"har-mobilenet", "har-lstm", "kws-ds"}},
		{[]string{"har.onnx", "har-mobilenet.onnx", "har-lstm.onnx", "kws.onnx", "kws-ds.onnx"},
			[]string{"har", "har-mobilenet", "har-lstm", "kws", "kws-ds"}},
	}
	for _, tt := range tests {
		models := t.TempDir()
		for _, f := range tt.files {
			if err := os.WriteFile(filepath.Join(models, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ms, cleanup, err := HeldOut(root, models, 0)
		if err != nil {
			t.Fatalf("%v: %v", tt.files, err)
		}
		var names []string
		for _, m := range ms {
			names = append(names, m.Name)
			if len(m.Data) != 1 {
				t.Errorf("%s: %d data folders, want 1", m.Name, len(m.Data))
				continue
			}
			got, _ := filepath.Glob(filepath.Join(m.Data[0], "*"))
			want := "s17_01_sp.csv"
			if m.Name == "kws" || m.Name == "kws-ds" {
				want = "0_theo_0.wav"
			}
			if len(got) != 1 || filepath.Base(got[0]) != want {
				t.Errorf("%s: data %v, want only %s", m.Name, got, want)
			}
		}
		cleanup()
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("models %v: reported %v, want %v", tt.files, names, tt.want)
		}
	}
	if _, _, err := HeldOut(root, t.TempDir(), 0); err == nil {
		t.Error("an empty models folder: no error")
	}
}
