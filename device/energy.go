package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/internal/readfile"
)

// Profile is an energy model of a device: what a busy core and the rest of
// the system draw. Figures computed from it are modelled, not measured.
type Profile struct {
	// Name identifies the profile ("phone-big").
	Name string `json:"name"`
	// Description says what the numbers stand for.
	Description string `json:"description"`
	// ActiveW is the power of one busy core above idle, in watts.
	ActiveW float64 `json:"active_w"`
	// BaselineW is the power of the rest of the system while the workload
	// runs (screen, radios, awake SoC), in watts.
	BaselineW float64 `json:"baseline_w"`
	// TimeFactor scales busy time measured on the profiling machine to
	// this device (a phone's little core is several times slower than a
	// server core). 1 means the device is this machine.
	TimeFactor float64 `json:"time_factor"`
	// Sources cites where the numbers come from.
	Sources []string `json:"sources"`
}

// builtin are the device profiles every build knows. The numbers
// are documented in docs/energy.md.
var builtin = []Profile{
	{
		Name:        "phone-big",
		Description: "one big core of a recent phone (Cortex-A73/A76 class) with the screen on",
		ActiveW:     2.0, BaselineW: 0.35, TimeFactor: 1.5,
		Sources: []string{
			"A73 big core at 2.36 GHz ~1.8 W, A72 at 2.3 GHz ~1.35 W (system minus idle with a static screen, measured by others)",
			"Snapdragon 855 power profile: prime core ~505 mA at 3.85-4.0 V (~1.9-2.0 W); screen on ~85 mA, CPU awake 8 mA (~0.35 W)",
			"time factor 1.5: a 2.4-2.8 GHz phone big core against one 2-3 GHz server core (an estimate, not a measurement)",
		},
	},
	{
		Name:        "phone-little",
		Description: "one little core (Cortex-A53/A55 class) of a phone with the screen on",
		ActiveW:     0.2, BaselineW: 0.35, TimeFactor: 4,
		Sources: []string{
			"Snapdragon 855 power profile: silver core ~55 mA at ~3.85 V (~0.2 W); A53 little core ~0.65 W at its top frequency (measured by others)",
			"screen on ~85 mA plus CPU awake 8 mA at ~3.85 V (~0.35 W)",
			"time factor 4: in-order little cores are several times slower than a server core (an estimate)",
		},
	},
	{
		Name:        "host",
		Description: "this machine, as a model: one busy server core and an idle share of the package; no meter read",
		ActiveW:     6, BaselineW: 20, TimeFactor: 1,
		Sources: []string{
			"a modelled figure: ~6 W per busy core and ~20 W of idle package and platform for a 2-core cloud VM slice (no power meter is readable here)",
		},
	},
}

// Profiles lists the built-in device profiles.
func Profiles() []Profile { return append([]Profile(nil), builtin...) }

// Lookup returns a built-in device profile by name, or reads a JSON
// device profile from a file path.
func Lookup(name string) (*Profile, error) {
	for _, d := range builtin {
		if d.Name == name {
			d := d
			return &d, nil
		}
	}
	if strings.ContainsAny(name, "/.") {
		data, err := readProfileFile(name)
		if err != nil {
			return nil, fmt.Errorf("device profile %s: %w", name, err)
		}
		var d Profile
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("device profile %s: %w", name, err)
		}
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("device profile %s: %w", name, err)
		}
		return &d, nil
	}
	var names []string
	for _, d := range builtin {
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("unknown device profile %q; built-in: %s, or a JSON file", name, strings.Join(names, ", "))
}

// Validate checks the ranges of a device profile.
func (d *Profile) Validate() error {
	switch {
	case d.Name == "":
		return errors.New("name is empty")
	case !(d.ActiveW > 0 && d.ActiveW < 1000):
		return fmt.Errorf("active_w %v, expected 0 < W < 1000", d.ActiveW)
	case !(d.BaselineW >= 0 && d.BaselineW < 10000):
		return fmt.Errorf("baseline_w %v, expected 0 <= W < 10000", d.BaselineW)
	case !(d.TimeFactor > 0 && d.TimeFactor < 1000):
		return fmt.Errorf("time_factor %v, expected 0 < f < 1000", d.TimeFactor)
	}
	return nil
}

// DeviceTime is busy time measured here, scaled to the device.
func (d *Profile) DeviceTime(busy time.Duration) time.Duration {
	return time.Duration(float64(busy) * d.TimeFactor)
}

// InferenceEnergy is the modelled energy, in joules, of busy time measured
// on this machine: active power times the busy time scaled to the device.
func (d *Profile) InferenceEnergy(busy time.Duration) float64 {
	return d.ActiveW * d.DeviceTime(busy).Seconds()
}

// SystemEnergy is the modelled system-wide energy of a workload: inference
// energy plus the baseline power over the workload's wall time (for example
// one inference per 2.56 s window).
func (d *Profile) SystemEnergy(busy, wall time.Duration) float64 {
	return d.InferenceEnergy(busy) + d.BaselineW*wall.Seconds()
}

// maxProfileBytes bounds a device profile file.
const maxProfileBytes = 1 << 20

// readProfileFile reads a device profile file: a regular file of at most
// maxProfileBytes.
func readProfileFile(path string) ([]byte, error) { return readfile.Regular(path, maxProfileBytes) }
