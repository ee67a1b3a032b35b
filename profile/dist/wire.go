package dist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kagen-ai/kagen/profile"
)

// Names of the JetStream assets. Every kagen coordinator and worker on a
// cluster shares them; trials of different models and runs interleave in
// one work queue and are told apart by their IDs.
const (
	// TrialStream is the work-queue stream of trials.
	TrialStream = "KAGEN_TRIALS"
	// ResultStream holds one result per trial ID.
	ResultStream = "KAGEN_RESULTS"
	// BlobBucket is the object store of models and data shards, named by
	// their hex SHA-256.
	BlobBucket = "kagen-blobs"
	// WorkerBucket is the key-value bucket where workers announce
	// themselves (key: worker name) while they live.
	WorkerBucket = "kagen-workers"

	anyConsumer    = "kagen-any"
	subjectPrefix  = "kagen.trials."
	anySubjects    = "kagen.trials.any."
	deviceSubjects = "kagen.trials.dev."
	resultPrefix   = "kagen.results."
)

// maxMessage bounds the trial and result messages a worker or coordinator
// decodes.
const maxMessage = 8 << 20

// trialSubject is where a trial is queued: kagen.trials.any.ID for trials
// that run anywhere, kagen.trials.dev.CLASS.ID for latency trials.
func trialSubject(t *profile.Trial, id string) string {
	if t.Kind.NeedsDevice() {
		return deviceSubjects + t.Device + "." + id
	}
	return anySubjects + id
}

// deviceConsumer is the durable consumer of a device class's trials.
func deviceConsumer(class string) string { return "kagen-dev-" + class }

// modelToken is the subject token of a model in result subjects.
func modelToken(sha string) string {
	if len(sha) < 16 {
		return "none"
	}
	return sha[:16]
}

// resultSubject is where a trial's result is stored:
// kagen.results.MODEL16.ID, one message per subject.
func resultSubject(model, id string) string {
	return resultPrefix + modelToken(model) + "." + id
}

// validToken reports whether s can stand as one subject token.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// EncodeTrial encodes a trial as a queue message body.
func EncodeTrial(t *profile.Trial) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("encoding trial: %w", err)
	}
	if t.Kind.NeedsDevice() && !validToken(t.Device) {
		return nil, fmt.Errorf("encoding trial: device class %q is not a subject token", t.Device)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encoding trial: %w", err)
	}
	return b, nil
}

// DecodeTrial decodes and checks a queue message: strict JSON of a
// profile.Trial that passes Validate and, when subject is not empty, was
// queued on the subject its kind, device class and ID call for. It never
// panics, whatever the bytes.
func DecodeTrial(data []byte, subject string) (*profile.Trial, error) {
	if len(data) > maxMessage {
		return nil, fmt.Errorf("trial message of %d bytes is too large", len(data))
	}
	var t profile.Trial
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decoding trial: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding trial: trailing data")
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("decoding trial: %w", err)
	}
	if t.Kind.NeedsDevice() && !validToken(t.Device) {
		return nil, fmt.Errorf("decoding trial: device class %q is not a subject token", t.Device)
	}
	if subject != "" {
		if want := trialSubject(&t, t.ID()); subject != want {
			return nil, fmt.Errorf("decoding trial: queued on %s, its content belongs on %s", subject, want)
		}
	}
	return &t, nil
}

// EncodeResult encodes a trial result as a result message body.
func EncodeResult(r *profile.TrialResult) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding trial result: %w", err)
	}
	return b, nil
}

// DecodeResult decodes a result message; when subject is not empty, the
// result's ID must be the subject's last token.
func DecodeResult(data []byte, subject string) (*profile.TrialResult, error) {
	if len(data) > maxMessage {
		return nil, fmt.Errorf("result message of %d bytes is too large", len(data))
	}
	var r profile.TrialResult
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decoding trial result: %w", err)
	}
	if r.ID == "" {
		return nil, errors.New("decoding trial result: no trial ID")
	}
	if subject != "" && !strings.HasSuffix(subject, "."+r.ID) {
		return nil, fmt.Errorf("decoding trial result: result of %s stored on %s", r.ID, subject)
	}
	return &r, nil
}
