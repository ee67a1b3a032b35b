package replay

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Trace names one recorded trace: a file or folder on disk, or in an
// fs.FS (the embedded demo).
type Trace struct {
	// Name is shown to the user.
	Name string
	// FS, if not nil, holds Path; else Path is a path on disk.
	FS   fs.FS
	Path string
	// Match, if set, is the file name pattern of a folder (--match),
	// overriding Options.Match.
	Match string
}

// DiskTraces returns the traces of paths on disk.
func DiskTraces(paths []string) []Trace {
	out := make([]Trace, len(paths))
	for i, p := range paths {
		out[i] = Trace{Name: p, Path: p}
	}
	return out
}

// UniqueTraces returns the traces of paths on disk with every file read
// once, and a note for each path dropped: a path given twice, or through
// a symbolic link, or a file inside a folder also given (a .csv at any
// depth, as IMU folders are searched recursively; a .wav directly in
// it), is the same trace and would count its windows twice. Files are
// compared by identity (os.SameFile), not by name. Paths that cannot be
// read are kept: opening them reports the error.
func UniqueTraces(paths []string) ([]Trace, []string) {
	type seen struct {
		path string
		info os.FileInfo
	}
	var dirs, files []seen
	var keep []string
	var notes []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			keep = append(keep, p)
			continue
		}
		dup := ""
		for _, s := range append(dirs, files...) {
			if os.SameFile(fi, s.info) {
				dup = s.path
				break
			}
		}
		switch {
		case dup != "":
			notes = append(notes, fmt.Sprintf("%s is the same %s as %s (given twice, or through a link): read once", p, kindOf(fi), dup))
			continue
		case fi.IsDir():
			dirs = append(dirs, seen{p, fi})
		default:
			files = append(files, seen{p, fi})
		}
		keep = append(keep, p)
	}
	// a file inside a folder also given
	drop := map[string]string{}
	for _, d := range dirs {
		for _, f := range files {
			if _, ok := drop[f.path]; !ok && inFolder(d.path, f.info, strings.EqualFold(filepath.Ext(f.path), ".csv")) {
				drop[f.path] = d.path
			}
		}
	}
	out := make([]Trace, 0, len(keep))
	for _, p := range keep {
		if d, ok := drop[p]; ok {
			notes = append(notes, fmt.Sprintf("%s is also in the folder %s: read once", p, d))
			continue
		}
		out = append(out, Trace{Name: p, Path: p})
	}
	return out, notes
}

func kindOf(fi os.FileInfo) string {
	if fi.IsDir() {
		return "folder"
	}
	return "file"
}

// inFolder reports whether the file fi is in dir (in a folder under it
// if deep), as listFiles would find it: symbolic links to folders are
// not followed.
func inFolder(dir string, fi os.FileInfo, deep bool) bool {
	found := false
	var walk func(d string, depth int)
	walk = func(d string, depth int) {
		if depth > 32 || found {
			return
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			return
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			if e.IsDir() {
				if deep {
					walk(p, depth+1)
				}
				continue
			}
			if st, err := os.Stat(p); err == nil && os.SameFile(st, fi) {
				found = true
				return
			}
		}
	}
	walk(dir, 0)
	return found
}

// dropSame drops the files of a folder that are the same file as an
// earlier one (a symbolic link beside its target).
func dropSame(fsys fileSystem, files []string) []string {
	if _, ok := fsys.(osFS); !ok || len(files) < 2 {
		return files
	}
	out := files[:0:0]
	var infos []os.FileInfo
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			out = append(out, f)
			continue
		}
		if slices.ContainsFunc(infos, func(s os.FileInfo) bool { return os.SameFile(s, fi) }) {
			continue
		}
		infos = append(infos, fi)
		out = append(out, f)
	}
	return out
}

// Open opens the trace through spec's front-end (see Open).
func (t Trace) Open(spec *Spec, opts Options) (Source, error) {
	opts = t.options(spec, opts)
	if t.FS != nil {
		return OpenFS(t.FS, t.Path, spec, opts)
	}
	return Open(t.Path, spec, opts)
}

// options are opts with the trace's Match, and the default pattern of
// spec's task when none is given.
func (t Trace) options(spec *Spec, opts Options) Options {
	if t.Match != "" {
		opts.Match = t.Match
	}
	if opts.Match == "" {
		opts.Match = "*.wav"
		if spec.Task == TaskHAR {
			opts.Match = "*.csv"
		}
	}
	return opts
}

// WithMatch returns traces with Match set to pattern ("" leaves them as
// they are).
func WithMatch(traces []Trace, pattern string) []Trace {
	if pattern == "" {
		return traces
	}
	out := make([]Trace, len(traces))
	for i, t := range traces {
		t.Match = pattern
		out[i] = t
	}
	return out
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
