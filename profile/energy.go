// Package profile measures a model on this device (per-node latency and the
// effect of each knob on the output and the accuracy), meters energy, and
// tunes: it finds the Pareto-optimal approximation configurations.
package profile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Device is an energy model of a device: what a busy core and the rest of
// the system draw. Figures computed from it are modelled, not measured.
type Device struct {
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

// builtinDevices are the device profiles every build knows. The numbers
// are documented in docs/energy.md.
var builtinDevices = []Device{
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

// Devices lists the built-in device profiles.
func Devices() []Device { return append([]Device(nil), builtinDevices...) }

// LookupDevice returns a built-in device profile by name, or reads a JSON
// device profile from a file path.
func LookupDevice(name string) (*Device, error) {
	for _, d := range builtinDevices {
		if d.Name == name {
			d := d
			return &d, nil
		}
	}
	if strings.ContainsAny(name, "/.") {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("device profile %q: %w", name, err)
		}
		var d Device
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
	for _, d := range builtinDevices {
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("unknown device profile %q; built-in: %s, or a JSON file", name, strings.Join(names, ", "))
}

// Validate checks the ranges of a device profile.
func (d *Device) Validate() error {
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
func (d *Device) DeviceTime(busy time.Duration) time.Duration {
	return time.Duration(float64(busy) * d.TimeFactor)
}

// InferenceEnergy is the modelled energy, in joules, of busy time measured
// on this machine: active power times the busy time scaled to the device.
func (d *Device) InferenceEnergy(busy time.Duration) float64 {
	return d.ActiveW * d.DeviceTime(busy).Seconds()
}

// SystemEnergy is the modelled system-wide energy of a workload: inference
// energy plus the baseline power over the workload's wall time (for example
// one inference per 2.56 s window).
func (d *Device) SystemEnergy(busy, wall time.Duration) float64 {
	return d.InferenceEnergy(busy) + d.BaselineW*wall.Seconds()
}

// Meter measures the energy of a stretch of work where hardware exposes it.
type Meter interface {
	// Name identifies the meter and what it covers.
	Name() string
	// Read returns a cumulative energy counter in joules.
	Read() (float64, error)
}

// RAPL reads Linux powercap energy counters (/sys/class/powercap/*/energy_uj),
// handling wrap-around with max_energy_range_uj.
type RAPL struct {
	zones []raplZone
}

type raplZone struct {
	path    string
	maxUJ   float64
	lastUJ  float64
	wrapsUJ float64
}

// OpenRAPL finds the readable top-level powercap zones; an error when none
// is readable (virtual machines and unprivileged users usually cannot).
func OpenRAPL(root string) (*RAPL, error) {
	if root == "" {
		root = "/sys/class/powercap"
	}
	paths, _ := filepath.Glob(filepath.Join(root, "*", "energy_uj"))
	sort.Strings(paths)
	r := &RAPL{}
	for _, p := range paths {
		dir := filepath.Dir(p)
		if strings.Count(filepath.Base(dir), ":") > 1 {
			continue // a sub-zone, counted in its parent
		}
		v, err := readFloat(p)
		if err != nil {
			continue
		}
		mx, _ := readFloat(filepath.Join(dir, "max_energy_range_uj"))
		r.zones = append(r.zones, raplZone{path: p, maxUJ: mx, lastUJ: v})
	}
	if len(r.zones) == 0 {
		return nil, fmt.Errorf("no readable powercap energy counter under %s", root)
	}
	return r, nil
}

// Name implements Meter.
func (r *RAPL) Name() string { return fmt.Sprintf("rapl (%d zones, measured)", len(r.zones)) }

// Read implements Meter.
func (r *RAPL) Read() (float64, error) {
	var total float64
	for i := range r.zones {
		z := &r.zones[i]
		v, err := readFloat(z.path)
		if err != nil {
			return 0, err
		}
		if v < z.lastUJ && z.maxUJ > 0 {
			z.wrapsUJ += z.maxUJ
		}
		z.lastUJ = v
		total += v + z.wrapsUJ
	}
	return total / 1e6, nil
}

// Battery integrates a fuel gauge (/sys/class/power_supply/*): it reads
// energy_now when the gauge has it, else power from current_now and
// voltage_now, sampled by the caller's Read calls.
type Battery struct {
	dir      string
	lastT    time.Time
	acc      float64
	useCount bool
	lastE    float64
}

// OpenBattery finds a battery fuel gauge; an error when there is none.
func OpenBattery(root string) (*Battery, error) {
	if root == "" {
		root = "/sys/class/power_supply"
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	for _, d := range dirs {
		if e, err := readFloat(filepath.Join(d, "energy_now")); err == nil {
			return &Battery{dir: d, useCount: true, lastE: e}, nil
		}
		if _, err := readFloat(filepath.Join(d, "current_now")); err == nil {
			if _, err := readFloat(filepath.Join(d, "voltage_now")); err == nil {
				return &Battery{dir: d, lastT: time.Now()}, nil
			}
		}
	}
	return nil, fmt.Errorf("no battery fuel gauge under %s", root)
}

// Name implements Meter.
func (b *Battery) Name() string { return "battery " + filepath.Base(b.dir) + " (measured)" }

// Read implements Meter: joules drawn since the gauge was opened.
func (b *Battery) Read() (float64, error) {
	if b.useCount {
		e, err := readFloat(filepath.Join(b.dir, "energy_now")) // µWh, falls while discharging
		if err != nil {
			return 0, err
		}
		b.acc += (b.lastE - e) * 3.6e-3
		b.lastE = e
		return b.acc, nil
	}
	i, err := readFloat(filepath.Join(b.dir, "current_now")) // µA
	if err != nil {
		return 0, err
	}
	v, err := readFloat(filepath.Join(b.dir, "voltage_now")) // µV
	if err != nil {
		return 0, err
	}
	now := time.Now()
	b.acc += abs(i) * 1e-6 * v * 1e-6 * now.Sub(b.lastT).Seconds()
	b.lastT = now
	return b.acc, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func readFloat(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(line), 64)
}
