package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
)

// Schema versions of the files this package reads and writes. A file with
// a newer version is refused: it may hold fields whose meaning this build
// does not know.
const (
	ParetoVersion = 1
	PolicyVersion = 1
)

// Limits of the readers. They bound what a corrupted file can make a reader
// allocate.
const (
	MaxFileBytes = 16 << 20 // bytes of a Pareto or policy file
	MaxLevels    = 4096
	MaxClasses   = 4096
)

// Objectives a Pareto file can be tuned for.
const (
	ObjectiveTime   = "time"
	ObjectiveEnergy = "energy"
)

// ConfidenceStats are the calibrated per-class confidence statistics of one
// level: for each predicted class, the mean softmax confidence of the
// correct and of the wrong predictions and how many there were. The slices
// are indexed like the file's classes; all four are empty when unknown.
type ConfidenceStats struct {
	CorrectMean []float64 `json:"correct_mean"`
	WrongMean   []float64 `json:"wrong_mean"`
	CorrectN    []int     `json:"correct_n"`
	WrongN      []int     `json:"wrong_n"`
}

// Level is one configuration of the Pareto list.
type Level struct {
	// Level is the index in the list: 0 is exact, higher is more
	// approximate.
	Level int `json:"level"`
	// Config is the configuration's text form (approx.Approximator.Text).
	Config string `json:"config"`
	// Speedup is level 0's time over this level's (level 0: 1).
	Speedup float64 `json:"speedup"`
	// QoSLossPP is the calibrated accuracy loss against exact, in
	// percentage points (negative when the level is more accurate).
	QoSLossPP float64 `json:"qos_loss_pp"`
	// Accuracy is the calibrated accuracy, a fraction.
	Accuracy float64 `json:"accuracy"`
	// PredictedLossPP is the tuner's prediction of QoSLossPP.
	PredictedLossPP float64 `json:"predicted_loss_pp"`
	// TimeUS is the measured inference time in microseconds.
	TimeUS float64 `json:"time_us"`
	// EnergyJ is the energy of one inference in joules, from the file's
	// meter.
	EnergyJ float64 `json:"energy_j"`
	// Confidence holds the calibrated confidence statistics.
	Confidence ConfidenceStats `json:"confidence"`
	// Calib counts the calibration windows exact and this level each got
	// right, paired, from which the loss's confidence interval follows;
	// nil in files written before kagen recorded it.
	Calib *PairedCounts `json:"calib,omitempty"`
}

// PairedCounts counts, over the same calibration windows, how exact and a
// level did: both right, only exact right (the level lost the window),
// only the level right (it gained it), both wrong.
type PairedCounts struct {
	Both    int `json:"both"`
	Lost    int `json:"lost"`
	Gained  int `json:"gained"`
	Neither int `json:"neither"`
}

// maxCalibWindows bounds each paired count read back.
const maxCalibWindows = 1 << 30

// Pareto is the content of pareto.json, written by `kagen tune`.
type Pareto struct {
	// Version is ParetoVersion.
	Version int `json:"version"`
	// ModelSHA256 is the hex SHA-256 of the model file the levels are for.
	ModelSHA256 string `json:"model_sha256"`
	// Device is the fingerprint of the device the levels were measured on.
	Device device.Fingerprint `json:"device"`
	// Meter names the meter or device profile energy_j comes from, with
	// "(modelled)" or "(measured)".
	Meter string `json:"meter"`
	// Objective is the cost the tuner minimised: "time" or "energy".
	Objective string `json:"objective"`
	// ExactAccuracy is the exact model's calibrated accuracy, a fraction.
	ExactAccuracy float64 `json:"exact_accuracy"`
	// QoS is "agreement" when the levels were tuned against the exact
	// model's own predictions rather than labels (kagen tune --qos
	// agreement): accuracies are then top-1 agreements with the exact
	// model and losses disagreements. Empty: against labels.
	QoS string `json:"qos,omitempty"`
	// Classes names the model's output classes by index.
	Classes []string `json:"classes"`
	// Configs are the levels, ordered by increasing approximation.
	Configs []Level `json:"configs"`
	// MaxLossPP is the tuner's accuracy loss threshold (optional).
	MaxLossPP float64 `json:"max_loss_pp,omitempty"`
	// PredictorMAEPP is the QoS predictor's mean absolute error on the
	// validated configurations, in pp (optional).
	PredictorMAEPP float64 `json:"predictor_mae_pp,omitempty"`
	// Note says anything the reader should know, such as why only the
	// exact level was kept (optional).
	Note string `json:"note,omitempty"`
	// TuneSeconds is how long the tuner ran (optional).
	TuneSeconds float64 `json:"tune_seconds,omitempty"`
	// Validated holds the tuner's record of every configuration it
	// validated, as the tuner wrote it (optional provenance; not read by
	// this package).
	Validated json.RawMessage `json:"validated,omitempty"`
}

// Policy is the content of policy.json: the levels copied from a Pareto
// file and the controller that moves between them.
type Policy struct {
	// Version is PolicyVersion.
	Version int `json:"version"`
	// ModelSHA256 binds the policy to one model file.
	ModelSHA256 string `json:"model_sha256"`
	// Device and Meter say where and with what the levels were measured.
	Device device.Fingerprint `json:"device"`
	Meter  string             `json:"meter"`
	// Objective is the tuner's objective ("time" or "energy").
	Objective string `json:"objective"`
	// ExactAccuracy is the exact model's calibrated accuracy.
	ExactAccuracy float64 `json:"exact_accuracy"`
	// Classes names the output classes; the confidence statistics are
	// indexed by them.
	Classes []string `json:"classes"`
	// Levels are the Pareto levels, level 0 exact.
	Levels []Level `json:"levels"`
	// Controller names the controller and holds its parameters.
	Controller Params `json:"controller"`
	// Checksum is "sha256:" and the hex SHA-256 of the file's compact JSON
	// encoding with Checksum empty. WritePolicy sets it; ReadPolicy checks
	// it, so that a file changed after it was written is refused.
	Checksum string `json:"checksum"`
}

// Error reports a bad Pareto or policy file: the file, the line of a JSON
// syntax error or the JSON path of the offending field, and what was
// expected.
type Error struct {
	File  string // file name
	Line  int    // 1-based line, 0 if not known
	Field string // JSON path such as "levels[2].speedup", "" if none
	Msg   string // what was wrong and what was expected
	Err   error  // underlying error, if any
}

// Error formats the error as "file:line: field: msg".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrModelMismatch is wrapped by the error of a file bound to another model.
var ErrModelMismatch = errors.New("file is for another model")

// ErrNewerVersion is wrapped by the error of a file with a newer schema
// version than this build reads.
var ErrNewerVersion = errors.New("newer schema version")

// ErrChecksum is wrapped by the error of a policy file whose content does
// not match its checksum.
var ErrChecksum = errors.New("checksum mismatch")

// ReadOptions control ReadPareto and ReadPolicy.
type ReadOptions struct {
	// ModelSHA256, if set, is the hex SHA-256 of the model the file must be
	// bound to (engine.Model.SHA256).
	ModelSHA256 string
}

// ReadPareto reads and validates a Pareto file. A file that is truncated,
// not valid JSON, has unknown fields, a newer version, values out of range
// or (with opts.ModelSHA256) another model is refused with an *Error.
func ReadPareto(path string, opts ReadOptions) (*Pareto, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParsePareto(data, path, opts)
}

// ParsePareto is ReadPareto on the bytes of a file; name is used in errors.
func ParsePareto(data []byte, name string, opts ReadOptions) (*Pareto, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := checkKind(data, name, KindPareto); err != nil {
		return nil, err
	}
	if err := checkVersion(data, name, ParetoVersion); err != nil {
		return nil, err
	}
	var p Pareto
	if err := decodeStrict(data, name, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, asFileError(name, err)
	}
	if err := checkModel(name, p.ModelSHA256, opts.ModelSHA256); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadPolicy reads and validates a policy file. A file that is truncated,
// not valid JSON, has unknown fields, a newer version, a wrong checksum,
// values out of range or (with opts.ModelSHA256) another model is refused
// with an *Error; nothing of a refused file is returned.
func ReadPolicy(path string, opts ReadOptions) (*Policy, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParsePolicy(data, path, opts)
}

// ParsePolicy is ReadPolicy on the bytes of a file; name is used in errors.
func ParsePolicy(data []byte, name string, opts ReadOptions) (*Policy, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := checkKind(data, name, KindPolicy); err != nil {
		return nil, err
	}
	if err := checkVersion(data, name, PolicyVersion); err != nil {
		return nil, err
	}
	var p Policy
	if err := decodeStrict(data, name, &p); err != nil {
		return nil, err
	}
	if p.Checksum == "" {
		return nil, &Error{File: name, Field: "checksum", Msg: "missing; policy files are written by `kagen policy new` or policy.WritePolicy, which seal them"}
	}
	sum, err := p.checksum()
	if err != nil {
		return nil, &Error{File: name, Msg: "re-encoding for the checksum", Err: err}
	}
	if sum != p.Checksum {
		return nil, &Error{File: name, Field: "checksum", Msg: fmt.Sprintf("file says %s, content hashes to %s: the file was changed after it was written (corrupted, or edited by hand)", p.Checksum, sum), Err: ErrChecksum}
	}
	if err := p.Validate(); err != nil {
		return nil, asFileError(name, err)
	}
	if err := checkModel(name, p.ModelSHA256, opts.ModelSHA256); err != nil {
		return nil, err
	}
	return &p, nil
}

// WritePareto validates p and writes it atomically as indented JSON.
func WritePareto(path string, p *Pareto) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("write pareto %s: %w", path, err)
	}
	data, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return fmt.Errorf("write pareto %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("write pareto: %w", err)
	}
	return nil
}

// WritePolicy validates p, seals it with its checksum and writes it to path
// atomically: through a temporary file in the same directory, synced and
// renamed over path, so a reader sees the old file or the new one, never a
// part. p.Version is set to PolicyVersion and p.Checksum is updated.
func WritePolicy(path string, p *Policy) error {
	data, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("write policy %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

// Marshal validates p, sets its version and checksum and returns the
// indented JSON WritePolicy writes.
func (p *Policy) Marshal() ([]byte, error) {
	p.Version = PolicyVersion
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sum, err := p.checksum()
	if err != nil {
		return nil, err
	}
	p.Checksum = sum
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// checksum hashes the compact JSON encoding of p with Checksum empty.
func (p *Policy) checksum() (string, error) {
	q := *p
	q.Checksum = ""
	data, err := json.Marshal(&q)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:]), nil
}

// readLimited reads a whole file of at most MaxFileBytes.
func readLimited(path string) ([]byte, error) {
	data, err := readfile.Regular(path, MaxFileBytes)
	if errors.Is(err, readfile.ErrTooLarge) {
		return nil, &Error{File: path, Msg: fmt.Sprintf("larger than %d bytes", MaxFileBytes)}
	}
	return data, err
}

// checkVersion reads the version field alone first, so that a newer file
// is refused as newer rather than for a field this build does not know.
func checkVersion(data []byte, name string, want int) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{File: name, Msg: "empty file, expected a JSON object"}
	}
	var v struct {
		Version *json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return jsonError(data, name, err, -1)
	}
	if v.Version == nil {
		return &Error{File: name, Field: "version", Msg: fmt.Sprintf("missing, expected %d", want)}
	}
	var n int
	if err := json.Unmarshal(*v.Version, &n); err != nil {
		return &Error{File: name, Field: "version", Msg: fmt.Sprintf("got %s, expected the integer %d", clip(string(*v.Version)), want)}
	}
	switch {
	case n > want:
		return &Error{File: name, Field: "version", Msg: fmt.Sprintf("schema version %d is newer than this kagen reads (%d); use a newer kagen", n, want), Err: ErrNewerVersion}
	case n < 1:
		return &Error{File: name, Field: "version", Msg: fmt.Sprintf("got %d, expected %d", n, want)}
	}
	return nil
}

// decodeStrict decodes one JSON value with no unknown fields and nothing
// after it.
func decodeStrict(data []byte, name string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, name, err, dec.InputOffset())
	}
	if dec.More() {
		return &Error{File: name, Line: lineAt(data, dec.InputOffset()), Msg: "unexpected data after the JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{File: name, Line: lineAt(data, dec.InputOffset()), Msg: "unexpected data after the JSON object"}
	}
	return nil
}

// jsonError turns an encoding/json error into an *Error with a line.
func jsonError(data []byte, name string, err error, off int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{File: name, Line: lineAt(data, int64(len(data))), Msg: "truncated: the JSON ends before the object is complete"}
	case errors.As(err, &se):
		msg := se.Error()
		switch {
		case strings.Contains(msg, "unexpected end of JSON input"):
			msg = "truncated: the JSON ends before the object is complete"
		case strings.Contains(msg, "after top-level value"):
			msg = "unexpected data after the JSON object"
		}
		return &Error{File: name, Line: lineAt(data, se.Offset), Msg: msg}
	case errors.As(err, &te):
		if te.Field == "" {
			return &Error{File: name, Line: lineAt(data, te.Offset), Msg: fmt.Sprintf("got a JSON %s, expected a JSON object", te.Value)}
		}
		return &Error{File: name, Line: lineAt(data, te.Offset), Field: te.Field, Msg: fmt.Sprintf("got a JSON %s, expected %s", te.Value, jsonType(te.Type))}
	}
	line := 0
	if off >= 0 {
		line = lineAt(data, off)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return &Error{File: name, Line: line, Msg: msg}
}

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	if off < 0 {
		return 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func checkModel(name, have, want string) error {
	if want == "" || strings.EqualFold(have, want) {
		return nil
	}
	return &Error{File: name, Field: "model_sha256", Msg: fmt.Sprintf("the file is bound to model %s, the model given has %s", short(have), short(want)), Err: ErrModelMismatch}
}

func short(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}

// fieldError is a validation error naming a JSON path.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func ferr(field, format string, a ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, a...)}
}

func asFileError(name string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &Error{File: name, Field: fe.field, Msg: fe.msg}
	}
	return &Error{File: name, Msg: err.Error()}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Validate checks every field of a Pareto file and returns the first
// problem, naming its JSON path.
func (p *Pareto) Validate() error {
	if p.Version != ParetoVersion {
		return ferr("version", "got %d, expected %d", p.Version, ParetoVersion)
	}
	if err := validateHeader(p.ModelSHA256, p.Objective, p.Meter, p.ExactAccuracy, p.Classes); err != nil {
		return err
	}
	if !finite(p.MaxLossPP) || p.MaxLossPP < 0 || p.MaxLossPP > 100 {
		return ferr("max_loss_pp", "got %v, expected 0..100", p.MaxLossPP)
	}
	if !finite(p.PredictorMAEPP) || p.PredictorMAEPP < 0 || p.PredictorMAEPP > 100 {
		return ferr("predictor_mae_pp", "got %v, expected 0..100", p.PredictorMAEPP)
	}
	if !finite(p.TuneSeconds) || p.TuneSeconds < 0 {
		return ferr("tune_seconds", "got %v, expected >= 0", p.TuneSeconds)
	}
	return validateLevels("configs", p.Configs, len(p.Classes))
}

// Validate checks every field of a policy and returns the first problem,
// naming its JSON path. It does not check the checksum (ReadPolicy does).
func (p *Policy) Validate() error {
	if p.Version != PolicyVersion {
		return ferr("version", "got %d, expected %d", p.Version, PolicyVersion)
	}
	if err := validateHeader(p.ModelSHA256, p.Objective, p.Meter, p.ExactAccuracy, p.Classes); err != nil {
		return err
	}
	if err := validateLevels("levels", p.Levels, len(p.Classes)); err != nil {
		return err
	}
	return p.Controller.Validate(len(p.Levels))
}

func validateHeader(sha, objective, meter string, exact float64, classes []string) error {
	if len(sha) != 64 {
		return ferr("model_sha256", "got %q, expected 64 hex digits", clip(sha))
	}
	if _, err := hex.DecodeString(sha); err != nil {
		return ferr("model_sha256", "got %q, expected 64 hex digits", clip(sha))
	}
	if objective != ObjectiveTime && objective != ObjectiveEnergy {
		return ferr("objective", "got %q, expected %q or %q", clip(objective), ObjectiveTime, ObjectiveEnergy)
	}
	if len(meter) > 200 {
		return ferr("meter", "longer than 200 bytes")
	}
	if !finite(exact) || exact < 0 || exact > 1 {
		return ferr("exact_accuracy", "got %v, expected a fraction 0..1", exact)
	}
	if len(classes) == 0 || len(classes) > MaxClasses {
		return ferr("classes", "got %d classes, expected 1..%d", len(classes), MaxClasses)
	}
	seen := make(map[string]bool, len(classes))
	for i, c := range classes {
		if c == "" || seen[c] {
			return ferr(fmt.Sprintf("classes[%d]", i), "got %q, expected a non-empty name not listed before", clip(c))
		}
		seen[c] = true
	}
	return nil
}

func validateLevels(key string, levels []Level, nc int) error {
	if len(levels) == 0 || len(levels) > MaxLevels {
		return ferr(key, "got %d levels, expected 1..%d", len(levels), MaxLevels)
	}
	for i := range levels {
		l := &levels[i]
		f := func(name string) string { return fmt.Sprintf("%s[%d].%s", key, i, name) }
		switch {
		case l.Level != i:
			return ferr(f("level"), "got %d, expected %d (levels are listed in order from 0)", l.Level, i)
		case l.Config == "" || len(l.Config) > 1<<16:
			return ferr(f("config"), "expected a configuration text of 1..65536 bytes")
		case i == 0 && l.Config != "exact":
			return ferr(f("config"), "got %q, expected \"exact\" for level 0", clip(l.Config))
		case !finite(l.Speedup) || l.Speedup <= 0 || l.Speedup > 1e6:
			return ferr(f("speedup"), "got %v, expected 0 < speedup <= 1e6", l.Speedup)
		case i == 0 && math.Abs(l.Speedup-1) > 1e-6:
			return ferr(f("speedup"), "got %v, expected 1 for level 0 (speedups are relative to it)", l.Speedup)
		case !finite(l.QoSLossPP) || l.QoSLossPP < -100 || l.QoSLossPP > 100:
			return ferr(f("qos_loss_pp"), "got %v, expected -100..100", l.QoSLossPP)
		case i == 0 && l.QoSLossPP != 0:
			return ferr(f("qos_loss_pp"), "got %v, expected 0 for level 0", l.QoSLossPP)
		case !finite(l.PredictedLossPP) || l.PredictedLossPP < -100 || l.PredictedLossPP > 100:
			return ferr(f("predicted_loss_pp"), "got %v, expected -100..100", l.PredictedLossPP)
		case !finite(l.Accuracy) || l.Accuracy < 0 || l.Accuracy > 1:
			return ferr(f("accuracy"), "got %v, expected a fraction 0..1", l.Accuracy)
		case !finite(l.TimeUS) || l.TimeUS < 0 || l.TimeUS > 1e12:
			return ferr(f("time_us"), "got %v, expected 0..1e12", l.TimeUS)
		case !finite(l.EnergyJ) || l.EnergyJ < 0 || l.EnergyJ > 1e9:
			return ferr(f("energy_j"), "got %v, expected 0..1e9", l.EnergyJ)
		}
		if err := l.Confidence.validate(f("confidence"), nc); err != nil {
			return err
		}
		if c := l.Calib; c != nil {
			for _, v := range []struct {
				name string
				n    int
			}{{"both", c.Both}, {"lost", c.Lost}, {"gained", c.Gained}, {"neither", c.Neither}} {
				if v.n < 0 || v.n > maxCalibWindows {
					return ferr(f("calib."+v.name), "got %d, expected 0..%d windows", v.n, maxCalibWindows)
				}
			}
			if c.Both+c.Lost+c.Gained+c.Neither == 0 {
				return ferr(f("calib"), "counts no windows, expected at least one (or no calib at all)")
			}
			if i == 0 && (c.Lost != 0 || c.Gained != 0) {
				return ferr(f("calib"), "level 0 lost %d and gained %d windows against itself, expected 0", c.Lost, c.Gained)
			}
		}
	}
	return nil
}

func (c *ConfidenceStats) validate(key string, nc int) error {
	n := len(c.CorrectMean)
	if n == 0 && len(c.WrongMean) == 0 && len(c.CorrectN) == 0 && len(c.WrongN) == 0 {
		return nil
	}
	for _, a := range []struct {
		name string
		n    int
	}{{"correct_mean", len(c.CorrectMean)}, {"wrong_mean", len(c.WrongMean)}, {"correct_n", len(c.CorrectN)}, {"wrong_n", len(c.WrongN)}} {
		if a.n != nc {
			return ferr(key+"."+a.name, "got %d entries, expected one per class (%d) or all four empty", a.n, nc)
		}
	}
	for k := 0; k < nc; k++ {
		switch {
		case !finite(c.CorrectMean[k]) || c.CorrectMean[k] < 0 || c.CorrectMean[k] > 1:
			return ferr(fmt.Sprintf("%s.correct_mean[%d]", key, k), "got %v, expected 0..1", c.CorrectMean[k])
		case !finite(c.WrongMean[k]) || c.WrongMean[k] < 0 || c.WrongMean[k] > 1:
			return ferr(fmt.Sprintf("%s.wrong_mean[%d]", key, k), "got %v, expected 0..1", c.WrongMean[k])
		case c.CorrectN[k] < 0:
			return ferr(fmt.Sprintf("%s.correct_n[%d]", key, k), "got %d, expected >= 0", c.CorrectN[k])
		case c.WrongN[k] < 0:
			return ferr(fmt.Sprintf("%s.wrong_n[%d]", key, k), "got %d, expected >= 0", c.WrongN[k])
		}
	}
	return nil
}

// FromPareto builds a policy from a Pareto file and controller parameters.
// The levels and their statistics are copied; missing controller
// parameters get their defaults (Params.WithDefaults).
func FromPareto(p *Pareto, c Params) (*Policy, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("pareto: %w", err)
	}
	c, err := c.WithDefaults()
	if err != nil {
		return nil, err
	}
	pol := &Policy{
		Version:       PolicyVersion,
		ModelSHA256:   strings.ToLower(p.ModelSHA256),
		Device:        p.Device,
		Meter:         p.Meter,
		Objective:     p.Objective,
		ExactAccuracy: p.ExactAccuracy,
		Classes:       append([]string(nil), p.Classes...),
		Levels:        make([]Level, len(p.Configs)),
		Controller:    c,
	}
	pol.Device.Features = append([]string(nil), p.Device.Features...)
	for i, l := range p.Configs {
		l.Confidence = ConfidenceStats{
			CorrectMean: append([]float64(nil), l.Confidence.CorrectMean...),
			WrongMean:   append([]float64(nil), l.Confidence.WrongMean...),
			CorrectN:    append([]int(nil), l.Confidence.CorrectN...),
			WrongN:      append([]int(nil), l.Confidence.WrongN...),
		}
		pol.Levels[i] = l
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	return pol, nil
}
