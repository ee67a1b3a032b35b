package device

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

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
