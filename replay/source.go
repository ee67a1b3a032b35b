package replay

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/internal/readfile"
)

// Options adjust how a trace is cut into windows. The zero value uses the
// spec's hop, plays clip directories back to back without gaps, and adds no
// noise.
type Options struct {
	// Hop overrides spec.Hop (samples at spec.SampleRate) when > 0.
	Hop int
	// OnePerClip makes an audio clip directory (or a single WAV without a
	// sidecar) yield one window per clip, the clip centred in it: for
	// evaluation. It is ignored for IMU traces.
	OnePerClip bool
	// Gap is the seconds of silence (or noise) before each clip and after
	// the last one when a clip directory is played as a stream.
	Gap float64
	// Noise adds white Gaussian noise at SNR dB below each clip's RMS level,
	// to the clip and to the gap before it (clip directories only).
	Noise bool
	// SNR is the signal-to-noise ratio in dB used when Noise is set.
	SNR float64
	// Seed seeds the noise and shuffle generator.
	Seed uint64
	// Shuffle plays a clip directory in a random (seeded) order instead of
	// sorted by name.
	Shuffle bool
	// Match is a path.Match pattern on file base names used when reading a
	// directory; default "*.csv" for IMU and "*.wav" for audio. Sidecar
	// label files (*.labels.csv) never match.
	Match string
	// StrictLabels makes WriteFeatures fail on a window whose label is not
	// a class instead of skipping and counting it.
	StrictLabels bool
	// MaxClipSeconds bounds the length of one clip of a clip directory,
	// which is held in memory; default 30.
	MaxClipSeconds float64
	// MaxGap is the longest gap in seconds between two samples of an IMU
	// trace that is interpolated across; at a longer gap the trace is
	// split (no window spans it) and the split is counted (Stats.Gaps).
	// 0: one window's length; at most MaxGapMS/1000.
	MaxGap float64
	// SkipBadLines skips a malformed data line of an IMU trace (a field
	// that is not a finite number, a wrong field count, a timestamp
	// going backwards, a line too long) and counts it (Stats.BadLines)
	// instead of failing: for live streams, where a sensor glitch should
	// not end the stream.
	SkipBadLines bool
}

// Stats are what a Source read and what it stepped over.
type Stats struct {
	// Windows counts the windows returned so far.
	Windows int
	// Gaps counts the gaps longer than Options.MaxGap at which an IMU
	// trace was split.
	Gaps int
	// BadLines counts the malformed lines skipped (Options.SkipBadLines);
	// FirstBad holds the first few of them.
	BadLines int
	FirstBad []error
	// Short says, for each file that gave no window, why, in words.
	Short []string
}

// StatsOf returns the Stats of a Source of this package (zero Stats for
// another Source).
func StatsOf(src Source) Stats {
	if s, ok := src.(interface{ stats() Stats }); ok {
		return s.stats()
	}
	return Stats{}
}

// Window describes one window produced by a Source.
type Window struct {
	// Index counts the windows of the Source from 0.
	Index int
	// Start and End are the window's span in seconds from the start of its
	// trace (its file, or the stream a clip directory is played as; for one
	// window per clip, the clip's own start, so Start < 0 when the clip is
	// padded).
	Start, End float64
	// Label is the window's label: for IMU the majority label of its
	// samples; for audio the label of the interval covering its centre, else
	// SilenceLabel; "" if the trace has no labels.
	Label string
	// File is the file the window comes from; for a clip stream the clip
	// covering the centre, else the nearest clip.
	File string
}

// Source yields the feature windows of a trace.
type Source interface {
	// Next writes the next window's input tensor into dst, which must have
	// spec.InputSize() elements, and returns its metadata; io.EOF after the
	// last window. It allocates nothing in steady state.
	Next(dst []float32) (Window, error)
	// Close releases the open file, if any.
	Close() error
}

// fileSystem abstracts the OS file system and fs.FS (embedded traces).
type fileSystem interface {
	open(name string) (fs.File, error)
	stat(name string) (fs.FileInfo, error)
	readDir(name string) ([]fs.DirEntry, error)
	join(dir, name string) string
}

type osFS struct{}

func (osFS) open(name string) (fs.File, error)          { return readfile.Open(name) }
func (osFS) stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (osFS) readDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFS) join(dir, name string) string               { return filepath.Join(dir, name) }

type ioFS struct{ fsys fs.FS }

func (f ioFS) open(name string) (fs.File, error)          { return f.fsys.Open(name) }
func (f ioFS) stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.fsys, name) }
func (f ioFS) readDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.fsys, name) }
func (ioFS) join(dir, name string) string                 { return path.Join(dir, name) }

// Open opens a trace for replay through spec's front-end. For task har,
// path is an IMU CSV file or a directory searched recursively for them
// (each file a separate trace; windows never span two files). For task kws,
// path is a WAV file (with labels from NAME.labels.csv beside it, if there
// is one) or a directory of clips named LABEL_*.wav, played back to back or,
// with opts.OnePerClip, one window per clip.
func Open(path string, spec *Spec, opts Options) (Source, error) {
	return open(osFS{}, path, spec, opts)
}

// OpenFS is Open on a file system such as an embed.FS.
func OpenFS(fsys fs.FS, name string, spec *Spec, opts Options) (Source, error) {
	return open(ioFS{fsys}, name, spec, opts)
}

func open(fsys fileSystem, name string, spec *Spec, opts Options) (Source, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxClipSeconds == 0 {
		opts.MaxClipSeconds = 30
	}
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if opts.Match == "" {
		opts.Match = "*.wav"
		if spec.Task == TaskHAR {
			opts.Match = "*.csv"
		}
	}
	hop := spec.Hop
	if opts.Hop > 0 {
		hop = opts.Hop
	}
	fi, err := fsys.stat(name)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	var files []string
	if fi.IsDir() {
		if files, err = listFiles(fsys, name, opts.Match, spec.Task == TaskHAR); err != nil {
			return nil, err
		}
		files = dropSame(fsys, files) // a link beside its target is read once
		if len(files) == 0 {
			return nil, fmt.Errorf("open trace %s: no files matching %q", name, opts.Match)
		}
	}
	if spec.Task == TaskHAR {
		if !fi.IsDir() {
			if !strings.EqualFold(path.Ext(filepath.ToSlash(name)), ".csv") {
				return nil, fmt.Errorf("open trace %s: expected an IMU .csv file or a directory of them for task %q", name, spec.Task)
			}
			files = []string{name}
		}
		return newIMUSource(fsys, files, spec, hop, opts)
	}
	fe, err := NewAudioFrontEnd(spec)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if !strings.EqualFold(path.Ext(filepath.ToSlash(name)), ".wav") {
			return nil, fmt.Errorf("open trace %s: expected a .wav file or a directory of clips for task %q", name, spec.Task)
		}
		if opts.OnePerClip {
			files = []string{name}
		} else {
			return newWAVStream(fsys, name, spec, fe, hop)
		}
	}
	labels := make([]string, len(files))
	for i, f := range files {
		if labels[i], err = clipLabel(f); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6b6167656e))
	if opts.Shuffle {
		rng.Shuffle(len(files), func(i, j int) {
			files[i], files[j] = files[j], files[i]
			labels[i], labels[j] = labels[j], labels[i]
		})
	}
	cl := &clipLoader{fsys: fsys, rate: spec.SampleRate, max: int(opts.MaxClipSeconds * float64(spec.SampleRate))}
	if opts.OnePerClip {
		return &clipWindows{spec: spec, fe: fe, files: files, labels: labels, cl: cl, rng: rng, opts: opts,
			win: make([]float32, spec.Window)}, nil
	}
	cs := &clipStream{files: files, labels: labels, cl: cl, rng: rng, opts: opts,
		gap: int(math.Round(opts.Gap * float64(spec.SampleRate))), rate: float64(spec.SampleRate)}
	return newAudioStream(spec, fe, hop, cs, &cs.intervals, SilenceLabel, "", nil), nil
}

// listFiles returns the files under dir whose base name matches pattern,
// sorted; recursively if recursive.
func listFiles(fsys fileSystem, dir, pattern string, recursive bool) ([]string, error) {
	var out []string
	var walk func(d string, depth int) error
	walk = func(d string, depth int) error {
		if depth > 32 {
			return fmt.Errorf("open trace %s: directories nested more than 32 deep", d)
		}
		ents, err := fsys.readDir(d)
		if err != nil {
			return fmt.Errorf("open trace: %w", err)
		}
		for _, e := range ents {
			p := fsys.join(d, e.Name())
			if e.IsDir() {
				if recursive {
					if err := walk(p, depth+1); err != nil {
						return err
					}
				}
				continue
			}
			if ok, _ := path.Match(pattern, e.Name()); ok && !strings.HasSuffix(strings.ToLower(e.Name()), ".labels.csv") {
				// A pipe or device named like a trace would block or never
				// end: refused before any window is read.
				if t := e.Type(); !t.IsRegular() && t&fs.ModeSymlink == 0 {
					return fmt.Errorf("open trace: %w", readfile.NotRegular(p, t))
				}
				out = append(out, p)
			}
		}
		return nil
	}
	if err := walk(dir, 0); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// clipLabel returns the label of a clip named LABEL_rest.wav.
func clipLabel(file string) (string, error) {
	base := path.Base(filepath.ToSlash(file))
	i := strings.IndexByte(base, '_')
	if i <= 0 {
		return "", fmt.Errorf("%s: clip name %q does not start with its label followed by '_' (as in 7_jackson_32.wav)", file, base)
	}
	return base[:i], nil
}

// GroupOf returns the group (subject or speaker) of a trace file for
// splitting data: for task har the file name up to the first '_'
// (s01_02_sp.csv: "s01"); for kws the second '_'-separated field of a clip
// name (7_jackson_32.wav: "jackson"), else the file name without extension.
func GroupOf(task, file string) string {
	base := path.Base(filepath.ToSlash(file))
	base = strings.TrimSuffix(base, path.Ext(base))
	parts := strings.Split(base, "_")
	if task == TaskHAR {
		return parts[0]
	}
	if len(parts) >= 3 {
		return parts[1]
	}
	return base
}

// ---------------------------------------------------------------- IMU

type imuSource struct {
	spec     *Spec
	fe       *IMUFrontEnd
	fsys     fileSystem
	files    []string
	nextFile int // index of the next file to open
	hop      int
	nc       int
	labels   *labelTable
	counts   []int
	maxGap   float64 // ms
	skipBad  bool
	st       Stats

	file   fs.File
	name   string
	res    *imuResampler
	raw    []float64 // Window x nc
	lab    []int32   // Window
	filled int
	skip   int
	start  int64 // sample index of the window start in the file
	index  int
	// windows and samples of the file being read
	fileWindows int
	fileSamples int64
	size        int
	err         error // sticky
}

func newIMUSource(fsys fileSystem, files []string, spec *Spec, hop int, opts Options) (*imuSource, error) {
	fe, err := NewIMUFrontEnd(spec)
	if err != nil {
		return nil, err
	}
	nc := len(fe.cols)
	maxGap := opts.MaxGap * 1000
	if maxGap == 0 {
		maxGap = float64(spec.Window) * 1000 / float64(spec.SampleRate)
	}
	return &imuSource{spec: spec, fe: fe, fsys: fsys, files: files, hop: hop, nc: nc, labels: newLabelTable(),
		maxGap: maxGap, skipBad: opts.SkipBadLines,
		raw: make([]float64, spec.Window*nc), lab: make([]int32, spec.Window), size: spec.InputSize()}, nil
}

func (s *imuSource) stats() Stats {
	st := s.st
	if s.res != nil { // the file being read
		st.Gaps += s.res.gaps
		st.BadLines += s.res.src.bad
		st.FirstBad = appendBad(st.FirstBad, s.res.src.badShown)
	}
	st.FirstBad = slices.Clip(st.FirstBad)
	st.Short = slices.Clip(st.Short)
	return st
}

func appendBad(dst, errs []error) []error {
	for _, e := range errs {
		if len(dst) < maxBadShown {
			dst = append(dst, e)
		}
	}
	return dst
}

// done adds the counts of the file just read to the source's and says
// why it gave no window, if it gave none.
func (s *imuSource) done() {
	r, c := s.res, s.res.src
	s.st.Gaps += r.gaps
	s.st.BadLines += c.bad
	s.st.FirstBad = appendBad(s.st.FirstBad, c.badShown)
	if s.fileWindows > 0 {
		return
	}
	T, rate := s.spec.Window, float64(s.spec.SampleRate)
	span := (c.lastTS - c.firstTS) / 1000
	why := fmt.Sprintf("%s: no window: %d rows over %s s give %d samples at %d Hz, fewer than one window (%d samples, %s s)",
		s.name, c.rows, fmtNum(math.Round(span*1000)/1000), s.fileSamples, s.spec.SampleRate, T, fmtNum(float64(T)/rate))
	switch {
	case c.rows > 1 && c.distinctTS == 1:
		why += fmt.Sprintf("; every row has timestamp %s: expected Unix milliseconds that advance", fmtNum(c.firstTS))
	case c.rows >= T && span*rate < float64(T) && c.firstTS > 1e8 && c.firstTS < 1e11:
		why += fmt.Sprintf("; the timestamps (%s...) look like seconds: expected Unix milliseconds", fmtNum(c.firstTS))
	case r.gaps > 0:
		why += fmt.Sprintf("; the trace is split at %d gaps longer than %s s", r.gaps, fmtNum(s.maxGap/1000))
	}
	s.st.Short = append(s.st.Short, why)
}

func (s *imuSource) openNext() error {
	name := s.files[s.nextFile]
	s.nextFile++
	f, err := s.fsys.open(name)
	if err != nil {
		return fmt.Errorf("open trace: %w", err)
	}
	r, err := newCSVReader(f, name, s.fe.cols, s.labels)
	if err != nil {
		f.Close()
		return err
	}
	r.skipBad = s.skipBad
	s.file, s.name, s.res = f, name, newIMUResampler(r, s.spec.SampleRate, s.maxGap)
	s.filled, s.skip, s.start = 0, 0, 0
	s.fileWindows, s.fileSamples = 0, 0
	return nil
}

func (s *imuSource) closeFile() error {
	var err error
	if s.res != nil {
		s.done()
	}
	if s.file != nil {
		err = s.file.Close()
		s.file, s.res = nil, nil
	}
	return err
}

// Next implements Source. After an error other than io.EOF it keeps
// returning that error.
func (s *imuSource) Next(dst []float32) (Window, error) {
	if s.err != nil {
		return Window{}, s.err
	}
	w, err := s.next(dst)
	if err != nil {
		s.err = err
	}
	return w, err
}

func (s *imuSource) next(dst []float32) (Window, error) {
	if len(dst) != s.size {
		return Window{}, fmt.Errorf("replay: destination has %d elements, expected %d", len(dst), s.size)
	}
	T, nc := s.spec.Window, s.nc
	for s.filled < T {
		if s.res == nil {
			if s.nextFile >= len(s.files) {
				return Window{}, io.EOF
			}
			if err := s.openNext(); err != nil {
				return Window{}, err
			}
		}
		l, err := s.res.next(s.raw[s.filled*nc : (s.filled+1)*nc])
		if err == errSplit {
			// no window spans the gap: start one at the first sample after it
			s.filled, s.skip = 0, 0
			s.start = int64(math.Round((s.res.t0 - s.res.first) / s.res.step))
			continue
		}
		if err == io.EOF {
			if err := s.closeFile(); err != nil {
				return Window{}, fmt.Errorf("replay: closing %s: %w", s.name, err)
			}
			continue
		}
		if err != nil {
			return Window{}, err
		}
		s.fileSamples++
		if s.skip > 0 {
			s.skip--
			continue
		}
		s.lab[s.filled] = l
		s.filled++
	}
	if err := s.fe.Compute(s.raw, dst); err != nil {
		return Window{}, err
	}
	rate := float64(s.spec.SampleRate)
	w := Window{Index: s.index, Start: float64(s.start) / rate, End: float64(s.start+int64(T)) / rate,
		Label: s.majority(), File: s.name}
	s.index++
	s.fileWindows++
	s.st.Windows++
	s.start += int64(s.hop)
	if s.hop < T {
		copy(s.raw, s.raw[s.hop*nc:])
		copy(s.lab, s.lab[s.hop:])
		s.filled = T - s.hop
	} else {
		s.filled, s.skip = 0, s.hop-T
	}
	return w, nil
}

// majority returns the most frequent label of the window; ties go to the
// label that occurs first in the window.
func (s *imuSource) majority() string {
	if n := len(s.labels.names) + 1; len(s.counts) < n {
		s.counts = make([]int, n+8)
	}
	best, bestN := int32(-1), 0
	for _, l := range s.lab {
		s.counts[l+1]++
	}
	for _, l := range s.lab {
		if c := s.counts[l+1]; c > bestN {
			best, bestN = l, c
		}
	}
	for _, l := range s.lab {
		s.counts[l+1] = 0
	}
	return s.labels.name(best)
}

func (s *imuSource) Close() error {
	s.nextFile = len(s.files)
	return s.closeFile()
}

// ---------------------------------------------------------------- audio

// audioStream cuts a mono sample stream into windows with a hop and labels
// each by the interval covering its centre.
type audioStream struct {
	spec      *Spec
	fe        *AudioFrontEnd
	hop       int
	src       monoReader
	intervals *[]Interval
	dflt      string // label when no interval covers the centre
	file      string // file for windows of a single trace
	closer    io.Closer
	buf       []float32
	filled    int
	skip      int
	start     int64
	index     int
	cursor    int
	done      bool
	samples   int64 // read so far
	size      int
	err       error // sticky
}

func (s *audioStream) stats() Stats {
	st := Stats{Windows: s.index}
	if s.done && s.index == 0 {
		name := s.file
		if name == "" {
			name = "the clip folder"
		}
		T, rate := s.spec.Window, float64(s.spec.SampleRate)
		st.Short = []string{fmt.Sprintf("%s: no window: %d samples (%s s at %d Hz), fewer than one window (%d samples, %s s)",
			name, s.samples, fmtNum(math.Round(float64(s.samples)/rate*1000)/1000), s.spec.SampleRate, T, fmtNum(float64(T)/rate))}
	}
	return st
}

func newAudioStream(spec *Spec, fe *AudioFrontEnd, hop int, src monoReader, iv *[]Interval, dflt, file string, closer io.Closer) *audioStream {
	return &audioStream{spec: spec, fe: fe, hop: hop, src: src, intervals: iv, dflt: dflt, file: file, closer: closer,
		buf: make([]float32, spec.Window), size: spec.InputSize()}
}

// Next implements Source. After an error other than io.EOF it keeps
// returning that error.
func (s *audioStream) Next(dst []float32) (Window, error) {
	if s.err != nil {
		return Window{}, s.err
	}
	w, err := s.next(dst)
	if err != nil {
		s.err = err
	}
	return w, err
}

func (s *audioStream) next(dst []float32) (Window, error) {
	if len(dst) != s.size {
		return Window{}, fmt.Errorf("replay: destination has %d elements, expected %d", len(dst), s.size)
	}
	T := s.spec.Window
	for s.filled < T {
		if s.done {
			return Window{}, io.EOF
		}
		var n int
		var err error
		if s.skip > 0 {
			n, err = s.src.Read(s.buf[s.filled:min(T, s.filled+s.skip)])
			s.skip -= n
		} else {
			n, err = s.src.Read(s.buf[s.filled:])
			s.filled += n
		}
		s.samples += int64(n)
		if err == io.EOF {
			s.done = true
			continue
		}
		if err != nil {
			return Window{}, err
		}
	}
	if err := s.fe.Compute(s.buf, dst); err != nil {
		return Window{}, err
	}
	rate := float64(s.spec.SampleRate)
	w := Window{Index: s.index, Start: float64(s.start) / rate, End: float64(s.start+int64(T)) / rate, Label: s.dflt, File: s.file}
	w.Label, w.File = s.labelAt((w.Start + w.End) / 2)
	s.index++
	s.start += int64(s.hop)
	if s.hop < T {
		copy(s.buf, s.buf[s.hop:])
		s.filled = T - s.hop
	} else {
		s.filled, s.skip = 0, s.hop-T
	}
	return w, nil
}

// labelAt returns the label and file at time t (seconds): the interval
// covering t, else the default label and the nearest interval's file.
func (s *audioStream) labelAt(t float64) (string, string) {
	if s.intervals == nil || len(*s.intervals) == 0 {
		return s.dflt, s.file
	}
	iv := *s.intervals
	// Centres only move forward: advance the cursor past intervals ending
	// at or before t.
	for s.cursor < len(iv) && iv[s.cursor].End <= t {
		s.cursor++
	}
	file := func(i int) string {
		if iv[i].File != "" {
			return iv[i].File
		}
		return s.file
	}
	if s.cursor < len(iv) && iv[s.cursor].Start <= t {
		return iv[s.cursor].Label, file(s.cursor)
	}
	// Nearest interval: the previous one or the next one.
	switch {
	case s.cursor == 0:
		return s.dflt, file(0)
	case s.cursor == len(iv):
		return s.dflt, file(len(iv) - 1)
	case t-iv[s.cursor-1].End <= iv[s.cursor].Start-t:
		return s.dflt, file(s.cursor - 1)
	default:
		return s.dflt, file(s.cursor)
	}
}

func (s *audioStream) Close() error {
	s.done = true
	if s.closer != nil {
		c := s.closer
		s.closer = nil
		return c.Close()
	}
	return nil
}

// newWAVStream opens one WAV trace and its sidecar labels, if any.
func newWAVStream(fsys fileSystem, name string, spec *Spec, fe *AudioFrontEnd, hop int) (Source, error) {
	var iv []Interval
	dflt := ""
	side := strings.TrimSuffix(name, path.Ext(filepath.ToSlash(name))) + ".labels.csv"
	if lf, err := fsys.open(side); err == nil {
		iv, err = ReadLabels(lf, side)
		lf.Close()
		if err != nil {
			return nil, err
		}
		dflt = SilenceLabel
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open trace labels: %w", err)
	}
	f, err := fsys.open(name)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	wr, err := NewWAVReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	var src monoReader = wr
	if r := wr.Info().SampleRate; r != spec.SampleRate {
		src = newSincResampler(wr, r, spec.SampleRate)
	}
	return newAudioStream(spec, fe, hop, src, &iv, dflt, name, f), nil
}

// clipLoader reads whole clips, resampled to rate, into a reused buffer.
type clipLoader struct {
	fsys  fileSystem
	rate  int
	max   int // samples
	buf   []float32
	chunk []float32
}

func (c *clipLoader) load(name string) ([]float32, error) {
	f, err := c.fsys.open(name)
	if err != nil {
		return nil, fmt.Errorf("open clip: %w", err)
	}
	defer f.Close()
	wr, err := NewWAVReader(f, name)
	if err != nil {
		return nil, err
	}
	var src monoReader = wr
	if r := wr.Info().SampleRate; r != c.rate {
		src = newSincResampler(wr, r, c.rate)
	}
	if c.chunk == nil {
		c.chunk = make([]float32, 4096)
	}
	c.buf = c.buf[:0]
	for {
		n, err := src.Read(c.chunk)
		if len(c.buf)+n > c.max {
			return nil, fileErr(name, nil, "clip longer than %d samples (%.0f s at %d Hz), the limit for a clip of a clip folder: cut it into shorter clips, or give the .wav file itself to read it as a stream", c.max, float64(c.max)/float64(c.rate), c.rate)
		}
		c.buf = append(c.buf, c.chunk[:n]...)
		if err == io.EOF {
			return c.buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func rms(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// clipStream plays clips back to back: a gap, clip 0, a gap, clip 1, ...,
// a final gap. It records each clip's interval as it loads it.
type clipStream struct {
	files, labels []string
	cl            *clipLoader
	rng           *rand.Rand
	opts          Options
	gap           int
	rate          float64
	intervals     []Interval

	i        int // next clip to load
	clip     []float32
	phase    int // 0 gap before clip, 1 clip, 2 final gap, 3 done
	pos      int // position in the phase
	t        int64
	noiseStd float64
	loaded   bool
}

func (c *clipStream) Read(dst []float32) (int, error) {
	n := 0
	for n < len(dst) {
		switch c.phase {
		case 0, 2:
			if c.phase == 0 && !c.loaded {
				if c.i >= len(c.files) {
					c.phase, c.pos = 2, 0
					if len(c.files) == 0 {
						c.phase = 3
					}
					continue
				}
				clip, err := c.cl.load(c.files[c.i])
				if err != nil {
					return n, err
				}
				c.clip, c.loaded = clip, true
				c.noiseStd = 0
				if c.opts.Noise {
					c.noiseStd = rms(clip) / math.Pow(10, c.opts.SNR/20)
				}
				start := c.t + int64(c.gap)
				c.intervals = append(c.intervals, Interval{Start: float64(start) / c.rate,
					End: float64(start+int64(len(clip))) / c.rate, Label: c.labels[c.i], File: c.files[c.i]})
			}
			k := min(len(dst)-n, c.gap-c.pos)
			for j := range k {
				dst[n+j] = float32(c.rng.NormFloat64() * c.noiseStd)
			}
			n, c.pos, c.t = n+k, c.pos+k, c.t+int64(k)
			if c.pos == c.gap {
				if c.phase == 2 {
					c.phase = 3
				} else {
					c.phase, c.pos = 1, 0
				}
			}
		case 1:
			k := min(len(dst)-n, len(c.clip)-c.pos)
			for j := range k {
				dst[n+j] = c.clip[c.pos+j] + float32(c.rng.NormFloat64()*c.noiseStd)
			}
			n, c.pos, c.t = n+k, c.pos+k, c.t+int64(k)
			if c.pos == len(c.clip) {
				c.phase, c.pos, c.loaded = 0, 0, false
				c.i++
			}
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// clipWindows yields one window per clip, the clip centred in it: zero
// padding around a short clip; a long one is cropped around its energy
// centre.
type clipWindows struct {
	spec          *Spec
	fe            *AudioFrontEnd
	files, labels []string
	cl            *clipLoader
	rng           *rand.Rand
	opts          Options
	win           []float32
	i             int
	err           error // sticky
}

// Next implements Source. After an error other than io.EOF it keeps
// returning that error.
func (c *clipWindows) Next(dst []float32) (Window, error) {
	if c.err != nil {
		return Window{}, c.err
	}
	w, err := c.next(dst)
	if err != nil {
		c.err = err
	}
	return w, err
}

func (c *clipWindows) next(dst []float32) (Window, error) {
	if n := c.spec.InputSize(); len(dst) != n {
		return Window{}, fmt.Errorf("replay: destination has %d elements, expected %d", len(dst), n)
	}
	if c.i >= len(c.files) {
		return Window{}, io.EOF
	}
	name := c.files[c.i]
	clip, err := c.cl.load(name)
	if err != nil {
		return Window{}, err
	}
	if len(clip) == 0 {
		// a window of padding alone would be scored as a clip of its label
		return Window{}, fileErr(name, nil, "empty clip: no samples, expected a spoken clip (remove it from the folder)")
	}
	W := len(c.win)
	var start int
	clear(c.win)
	if len(clip) <= W {
		off := (W - len(clip)) / 2
		copy(c.win[off:], clip)
		start = -off
	} else {
		var e, m float64
		for i, v := range clip {
			p := float64(v) * float64(v)
			e += p
			m += float64(i) * p
		}
		centre := float64(len(clip)) / 2
		if e > 0 {
			centre = m / e
		}
		start = int(math.Round(centre - float64(W)/2))
		start = max(0, min(start, len(clip)-W))
		copy(c.win, clip[start:start+W])
	}
	if c.opts.Noise {
		std := rms(clip) / math.Pow(10, c.opts.SNR/20)
		for i := range c.win {
			c.win[i] += float32(c.rng.NormFloat64() * std)
		}
	}
	if err := c.fe.Compute(c.win, dst); err != nil {
		return Window{}, err
	}
	rate := float64(c.spec.SampleRate)
	w := Window{Index: c.i, Start: float64(start) / rate, End: float64(start+W) / rate, Label: c.labels[c.i], File: name}
	c.i++
	return w, nil
}

func (c *clipWindows) Close() error {
	c.i = len(c.files)
	return nil
}

// OptionError is an Options field out of range. Field is named as the
// commands' flags name it (hop, gap, snr, max-clip, max-gap, match), so
// that a command can name its flag; Problem says what was expected.
type OptionError struct{ Field, Problem string }

func (e *OptionError) Error() string {
	return "replay options: " + e.Field + " " + e.Problem
}

// Check checks every field of the options (Open checks them too): hop
// 0..MaxWindow samples, gap and max clip length 0..3600 s, SNR
// -100..200 dB, max gap 0..MaxGapMS/1000 s, a match pattern that parses.
func (o Options) Check() error {
	bad := func(field, format string, args ...any) error {
		return &OptionError{field, fmt.Sprintf(format, args...)}
	}
	switch {
	case o.Hop < 0 || o.Hop > MaxWindow:
		return bad("hop", "%d, expected 0 (the model's) to %d samples", o.Hop, MaxWindow)
	case !finite(o.Gap) || o.Gap < 0 || o.Gap > 3600:
		return bad("gap", "%v, expected 0..3600 seconds", o.Gap)
	case !finite(o.SNR) || o.SNR < -100 || o.SNR > 200:
		return bad("snr", "%v, expected -100..200 dB", o.SNR)
	case !finite(o.MaxClipSeconds) || o.MaxClipSeconds < 0 || o.MaxClipSeconds > 3600:
		return bad("max-clip", "%v, expected 0 (30 s) to 3600 seconds", o.MaxClipSeconds)
	case !finite(o.MaxGap) || o.MaxGap < 0 || o.MaxGap > MaxGapMS/1000:
		return bad("max-gap", "%v, expected 0 (one window) to %d seconds", o.MaxGap, MaxGapMS/1000)
	}
	if o.Match != "" {
		if _, err := path.Match(o.Match, ""); err != nil {
			return bad("match", "%q, expected a file name pattern such as s*_sp.csv (%v)", o.Match, err)
		}
	}
	return nil
}
