package replay

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Inventory says what a set of traces holds as a reader opens them: how
// many files of which kind, from how many folders, and (once counted with
// Count) how many windows each kind gave. Every command that reads data
// prints it, so that a folder mixing kinds of file (a phone's and a
// watch's recordings side by side) is seen, not averaged silently.
type Inventory struct {
	// Files counts the files read; Folders the folders given, Given the
	// files given by name.
	Files   int `json:"files"`
	Folders int `json:"folders"`
	Given   int `json:"files_given"`
	// Windows counts the windows Count was called with.
	Windows int `json:"windows"`
	// Kinds are the kinds of file, by format and name pattern, in order
	// of their first file.
	Kinds []FileKind `json:"kinds"`
	// kindOf maps a file as the readers name it (Window.File) to its kind.
	kindOf map[string]int
}

// FileKind is one kind of file of an Inventory.
type FileKind struct {
	// Format is how the files are read: "IMU CSV", "WAV clips" (one
	// window per clip, or clips played back to back) or "WAV".
	Format string `json:"format"`
	// Pattern is the files' base name with every run of digits replaced
	// by "*" (s17_01_sp.csv: s*_*_sp.csv), a pattern --match takes; "*.wav"
	// for clip folders, whose names hold labels and speakers.
	Pattern string `json:"pattern"`
	Files   int    `json:"files"`
	Windows int    `json:"windows"`
}

// Survey lists the files traces hold as Open would read them with spec
// and opts (and each trace's Match), without reading them: a folder's
// matching files (recursively for IMU), a file itself. Paths that cannot
// be read are left out (opening them reports the error).
func Survey(spec *Spec, traces []Trace, opts Options) *Inventory {
	inv := &Inventory{kindOf: map[string]int{}}
	for _, t := range traces {
		var fsys fileSystem = osFS{}
		if t.FS != nil {
			fsys = ioFS{t.FS}
		}
		o := t.options(spec, opts)
		fi, err := fsys.stat(t.Path)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			inv.Given++
			format := "IMU CSV"
			if spec.Task == TaskKWS {
				format = "WAV"
			}
			inv.add(t.Path, format, namePattern(t.Path))
			continue
		}
		files, err := listFiles(fsys, t.Path, o.Match, spec.Task == TaskHAR)
		if err != nil {
			continue
		}
		inv.Folders++
		for _, f := range dropSame(fsys, files) {
			if spec.Task == TaskKWS {
				inv.add(f, "WAV clips", "*.wav")
			} else {
				inv.add(f, "IMU CSV", namePattern(f))
			}
		}
	}
	return inv
}

// add records file of a kind (once).
func (inv *Inventory) add(file, format, pattern string) {
	if _, ok := inv.kindOf[file]; ok {
		return
	}
	k := -1
	for i, kd := range inv.Kinds {
		if kd.Format == format && kd.Pattern == pattern {
			k = i
			break
		}
	}
	if k < 0 {
		k = len(inv.Kinds)
		inv.Kinds = append(inv.Kinds, FileKind{Format: format, Pattern: pattern})
	}
	inv.Kinds[k].Files++
	inv.Files++
	inv.kindOf[file] = k
}

// namePattern is a file's base name with every run of digits replaced by
// "*", and the glob's special characters escaped.
func namePattern(file string) string {
	base := path.Base(filepath.ToSlash(file))
	var b strings.Builder
	digits := false
	for _, r := range base {
		switch {
		case r >= '0' && r <= '9':
			if !digits {
				b.WriteByte('*')
			}
			digits = true
			continue
		case r == '*' || r == '?' || r == '[' || r == '\\':
			b.WriteByte('\\')
		}
		digits = false
		b.WriteRune(r)
	}
	return b.String()
}

// Count counts one window read from file (Window.File); a file the
// survey did not list counts in Windows only.
func (inv *Inventory) Count(file string) {
	inv.Windows++
	if k, ok := inv.kindOf[file]; ok {
		inv.Kinds[k].Windows++
	}
}

// CountFiles counts one window per entry of files (dataset.Dataset.Files).
func (inv *Inventory) CountFiles(files []string) {
	for _, f := range files {
		inv.Count(f)
	}
}

// maxKindsListed bounds the kinds String names one by one.
const maxKindsListed = 4

// String says what was read, as "read 30 files (IMU CSV s*_*_sp.csv) from
// 3 folders: 513 windows", each kind with its files and windows when
// there are several.
func (inv *Inventory) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %s", plural(inv.Files, "file"))
	switch {
	case len(inv.Kinds) == 1:
		fmt.Fprintf(&b, " (%s %s)", inv.Kinds[0].Format, inv.Kinds[0].Pattern)
	case len(inv.Kinds) > maxKindsListed:
		fmt.Fprintf(&b, " (%s, %d name patterns)", strings.Join(inv.formats(), " and "), len(inv.Kinds))
	}
	switch {
	case inv.Folders > 0 && inv.Given > 0:
		fmt.Fprintf(&b, " from %s and %s named", plural(inv.Folders, "folder"), plural(inv.Given, "file"))
	case inv.Folders > 0:
		fmt.Fprintf(&b, " from %s", plural(inv.Folders, "folder"))
	}
	fmt.Fprintf(&b, ": %s", plural(inv.Windows, "window"))
	if len(inv.Kinds) > 1 && len(inv.Kinds) <= maxKindsListed {
		counted := 0
		for _, k := range inv.Kinds {
			counted += k.Windows
		}
		parts := make([]string, len(inv.Kinds))
		for i, k := range inv.Kinds {
			parts[i] = fmt.Sprintf("%s %s %s", plural(k.Files, "file"), k.Format, k.Pattern)
			if counted == inv.Windows && counted > 0 {
				parts[i] += fmt.Sprintf(" (%s)", plural(k.Windows, "window"))
			}
		}
		fmt.Fprintf(&b, " from %s", strings.Join(parts, ", "))
	}
	return b.String()
}

// formats lists the kinds' formats, each once.
func (inv *Inventory) formats() []string {
	var out []string
	for _, k := range inv.Kinds {
		if !strings.Contains(strings.Join(out, "\x00"), k.Format) {
			out = append(out, k.Format)
		}
	}
	return out
}

// Mixed returns a warning when the data mixes kinds of file: two formats,
// or two name patterns that each hold at least two files (a phone's
// s*_*_sp.csv beside a watch's s*_*_sw.csv). Files whose names share no
// pattern with another (walk.csv, run.csv) are not a mix. "" otherwise.
func (inv *Inventory) Mixed() string {
	var many []FileKind
	for _, k := range inv.Kinds {
		if k.Files >= 2 {
			many = append(many, k)
		}
	}
	if len(inv.formats()) < 2 && len(many) < 2 {
		return ""
	}
	if len(many) < 2 {
		many = inv.Kinds
	}
	sort.SliceStable(many, func(i, j int) bool { return many[i].Files > many[j].Files })
	parts := make([]string, 0, len(many))
	for _, k := range many {
		parts = append(parts, fmt.Sprintf("%d %s %s", k.Files, k.Format, k.Pattern))
	}
	return fmt.Sprintf("the data mixes kinds of file (%s); if the model reads one of them, name it with --match (e.g. --match '%s')",
		strings.Join(parts, ", "), many[0].Pattern)
}

// plural is "1 file", "2 files".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
