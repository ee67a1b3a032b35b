package replay

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDefaultSpecs(t *testing.T) {
	tests := []struct {
		name  string
		spec  *Spec
		shape []int
	}{
		{"har", DefaultHARSpec(), []int{1, 6, 128}},
		{"kws", DefaultKWSSpec(), []int{1, 1, 98, 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.spec.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.spec.InputShape(); !equalInts(got, tc.shape) {
				t.Fatalf("InputShape = %v, want %v", got, tc.shape)
			}
			data, err := tc.spec.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSpec(data)
			if err != nil {
				t.Fatalf("ParseSpec(Marshal()) = %v\n%s", err, data)
			}
			again, _ := back.Marshal()
			if string(again) != string(data) {
				t.Fatalf("round trip changed the spec:\n%s\n%s", data, again)
			}
		})
	}
}

// mutate returns the default spec's JSON with a change applied to its
// generic map form.
func mutate(t *testing.T, base *Spec, f func(m map[string]any)) []byte {
	t.Helper()
	data, err := base.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func feat(m map[string]any) map[string]any { return m["features"].(map[string]any) }

func TestParseSpecErrors(t *testing.T) {
	har, kws := DefaultHARSpec(), DefaultKWSSpec()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte(""), "empty input"},
		{"syntax", []byte("{\n \"task\": \"har\",\n oops}"), "line 3 column 2"},
		{"type", []byte("{\"version\": \"one\"}"), `field "version": expected int`},
		{"unknown field", mutate(t, har, func(m map[string]any) { m["windw"] = 3 }), `unknown field "windw"`},
		{"trailing", append(mutate(t, har, func(map[string]any) {}), []byte(" {}")...), "unexpected data after"},
		{"version", mutate(t, har, func(m map[string]any) { m["version"] = 2 }), "version: got 2, expected 1"},
		{"task", mutate(t, har, func(m map[string]any) { m["task"] = "asr" }), `task: got "asr"`},
		{"rate", mutate(t, har, func(m map[string]any) { m["sample_rate"] = 0 }), "sample_rate: got 0"},
		{"window", mutate(t, har, func(m map[string]any) { m["window"] = -1 }), "window: got -1"},
		{"hop", mutate(t, har, func(m map[string]any) { m["hop"] = 0 }), "hop: got 0"},
		{"har feature type", mutate(t, har, func(m map[string]any) { feat(m)["type"] = "logmel" }), `features.type: got "logmel"`},
		{"orient channel", mutate(t, har, func(m map[string]any) { m["channels"] = []string{"x_acc"} }), `channels[0]: got "x_acc", expected one of`},
		{"dup channel", mutate(t, har, func(m map[string]any) { m["channels"] = []string{"acc_norm", "acc_norm"} }), `channels[1]: "acc_norm" repeats`},
		{"acc columns", mutate(t, har, func(m map[string]any) { feat(m)["acc_columns"] = []string{"a", "b"} }), "features.acc_columns: got 2 names, expected 3"},
		{"audio params on imu", mutate(t, har, func(m map[string]any) { feat(m)["n_mels"] = 40 }), "audio parameters given for IMU"},
		{"norm length", mutate(t, har, func(m map[string]any) {
			m["norm"] = map[string]any{"mean": []float64{0}, "std": []float64{1}}
		}), "norm: got 1 means and 1 stds, expected 6 of each (one per channel)"},
		{"norm std", mutate(t, har, func(m map[string]any) {
			m["norm"] = map[string]any{"mean": make([]float64, 6), "std": []float64{1, 1, 1, 0, 1, 1}}
		}), "norm.std[3]: got 0"},
		{"no classes", mutate(t, har, func(m map[string]any) { m["classes"] = []string{} }), "classes: got 0"},
		{"dup class", mutate(t, har, func(m map[string]any) { m["classes"] = []string{"A", "B", "A"} }), `classes[2]: "A" repeats classes[0]`},
		{"bad class", mutate(t, har, func(m map[string]any) { m["classes"] = []string{"A,B"} }), `classes[0]: got "A,B"`},
		{"shape", mutate(t, har, func(m map[string]any) { m["input_shape"] = []int{1, 128, 6} }), "input_shape: got [1 128 6], expected [1 6 128]"},
		{"kws type", mutate(t, kws, func(m map[string]any) { feat(m)["type"] = "imu-raw" }), `features.type: got "imu-raw"`},
		{"kws channels", mutate(t, kws, func(m map[string]any) { m["channels"] = []string{"mic"} }), "channels: must be empty"},
		{"frame length", mutate(t, kws, func(m map[string]any) { feat(m)["frame_length"] = 9000 }), "features.frame_length: got 9000"},
		{"n_fft", mutate(t, kws, func(m map[string]any) { feat(m)["n_fft"] = 300 }), "features.n_fft: got 300, expected a power of two"},
		{"n_fft small", mutate(t, kws, func(m map[string]any) { feat(m)["n_fft"] = 128 }), "features.n_fft: got 128"},
		{"fmax", mutate(t, kws, func(m map[string]any) { feat(m)["fmax"] = 5000 }), "features.fmax: got 5000"},
		{"empty band", mutate(t, kws, func(m map[string]any) { feat(m)["n_mels"] = 120 }), "covers no FFT bin"},
		{"mfcc on logmel", mutate(t, kws, func(m map[string]any) { feat(m)["n_mfcc"] = 13 }), "features.n_mfcc: got 13, expected 0"},
		{"mfcc count", mutate(t, kws, func(m map[string]any) { feat(m)["type"] = "mfcc"; feat(m)["n_mfcc"] = 41 }), "features.n_mfcc: got 41, expected 1..n_mels (40)"},
		{"window fn", mutate(t, kws, func(m map[string]any) { feat(m)["window_fn"] = "kaiser" }), `features.window_fn: got "kaiser"`},
		{"mel scale", mutate(t, kws, func(m map[string]any) { feat(m)["mel_scale"] = "slaney" }), `features.mel_scale: got "slaney"`},
		{"log floor", mutate(t, kws, func(m map[string]any) { feat(m)["log_floor"] = 0 }), "features.log_floor: got 0"},
		{"kws norm", mutate(t, kws, func(m map[string]any) {
			m["norm"] = map[string]any{"mean": make([]float64, 6), "std": make([]float64, 6)}
		}), "expected 40 of each (one per feature row)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec(tc.data)
			if err == nil {
				t.Fatalf("ParseSpec(%s) succeeded, want error containing %q", tc.data, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestSpecVariants(t *testing.T) {
	mfcc := DefaultKWSSpec()
	mfcc.Features.Type = FeatMFCC
	mfcc.Features.NMFCC = 13
	mfcc.Shape = nil
	raw := DefaultHARSpec()
	raw.Features = Features{Type: FeatIMURaw}
	raw.Channels = []string{"x_acc", "y_acc", "z_acc"}
	raw.Norm = &Norm{Mean: []float64{0, 0, 9.8}, Std: []float64{1, 1, 2}}
	raw.Shape = nil
	accOnly := DefaultHARSpec()
	accOnly.Channels = []string{ChanAccNorm, ChanAccAlongG}
	accOnly.Features.GyroColumns = nil
	accOnly.Shape = nil
	tests := []struct {
		name  string
		spec  *Spec
		shape []int
	}{
		{"mfcc", mfcc, []int{1, 1, 98, 13}},
		{"imu-raw", raw, []int{1, 3, 128}},
		{"acc only", accOnly, []int{1, 2, 128}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.spec.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseSpec(data)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(s.Shape, tc.shape) || !equalInts(s.InputShape(), tc.shape) {
				t.Fatalf("shape %v / %v, want %v", s.Shape, s.InputShape(), tc.shape)
			}
		})
	}
}
