package replay

import (
	"io/fs"
	"os"
)

// Trace names one recorded trace: a file or folder on disk, or in an
// fs.FS (the embedded demo).
type Trace struct {
	// Name is shown to the user.
	Name string
	// FS, if not nil, holds Path; else Path is a path on disk.
	FS   fs.FS
	Path string
}

// DiskTraces returns the traces of paths on disk.
func DiskTraces(paths []string) []Trace {
	out := make([]Trace, len(paths))
	for i, p := range paths {
		out[i] = Trace{Name: p, Path: p}
	}
	return out
}

// Open opens the trace through spec's front-end (see Open).
func (t Trace) Open(spec *Spec, opts Options) (Source, error) {
	if t.FS != nil {
		return OpenFS(t.FS, t.Path, spec, opts)
	}
	return Open(t.Path, spec, opts)
}

// IsDir reports whether the trace is a folder.
func (t Trace) IsDir() bool {
	var st fs.FileInfo
	var err error
	if t.FS != nil {
		st, err = fs.Stat(t.FS, t.Path)
	} else {
		st, err = os.Stat(t.Path)
	}
	return err == nil && st.IsDir()
}

// DatasetOptions are o as traces are read for evaluation and tuning: a
// keyword clip folder gives one window per clip, the clip centred in it;
// everything else is read as a stream.
func DatasetOptions(spec *Spec, t Trace, o Options) Options {
	if spec.Task == TaskKWS && t.IsDir() {
		o.OnePerClip = true
	}
	return o
}
