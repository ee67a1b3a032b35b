// Package demo embeds the built-in demo: a trained model of each task and a
// short real trace of held-out subjects or speakers for each, so that kagen
// opens on something real with no files of the user's. See data/NOTICE for
// the data's attribution and licence.
package demo

import (
	"embed"
	"io/fs"
)

//go:embed data
var files embed.FS

// Task is one demo: a model and a trace.
type Task struct {
	// Name is the task ("har" or "kws").
	Name string
	// ModelName is the model's file name, for display.
	ModelName string
	// Model is the ONNX model file.
	Model []byte
	// Traces holds the trace files; Trace is the path to open in it (a
	// file, or a folder of files).
	Traces fs.FS
	Trace  string
}

// Tasks returns the demos, the activity-recognition one first.
func Tasks() []Task {
	var out []Task
	for _, t := range []struct{ name, model, trace string }{
		{"har", "har.onnx", "har"},
		{"kws", "kws-ds.onnx", "kws.wav"},
	} {
		m, err := files.ReadFile("data/" + t.model)
		if err != nil {
			continue // not in this build
		}
		sub, _ := fs.Sub(files, "data")
		out = append(out, Task{Name: t.name, ModelName: t.model, Model: m, Traces: sub, Trace: t.trace})
	}
	return out
}

// Notice returns the attribution and licence text of the embedded data.
func Notice() string {
	b, _ := files.ReadFile("data/NOTICE")
	return string(b)
}
