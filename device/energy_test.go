package device

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDeviceEnergy(t *testing.T) {
	d, err := Lookup("phone-big")
	if err != nil {
		t.Fatal(err)
	}
	busy := 10 * time.Millisecond
	if got, want := d.InferenceEnergy(busy), 2.0*0.010*1.5; math.Abs(got-want) > 1e-12 {
		t.Fatalf("inference energy %v, want %v", got, want)
	}
	if got, want := d.SystemEnergy(busy, 2560*time.Millisecond), 2.0*0.015+0.35*2.56; math.Abs(got-want) > 1e-12 {
		t.Fatalf("system energy %v, want %v", got, want)
	}
	for _, d := range Profiles() {
		if err := d.Validate(); err != nil || len(d.Sources) == 0 {
			t.Errorf("built-in %s: %v, %d sources", d.Name, err, len(d.Sources))
		}
	}
	if _, err := Lookup("toaster"); err == nil {
		t.Fatal("unknown profile accepted")
	}
	path := filepath.Join(t.TempDir(), "board.json")
	os.WriteFile(path, []byte(`{"name":"board","active_w":0.8,"baseline_w":1.2,"time_factor":6,"sources":["datasheet"]}`), 0o644)
	if d, err := Lookup(path); err != nil || d.Name != "board" || d.TimeFactor != 6 {
		t.Fatalf("file profile: %+v, %v", d, err)
	}
	os.WriteFile(path, []byte(`{"name":"board","active_w":-1,"baseline_w":1.2,"time_factor":6}`), 0o644)
	if _, err := Lookup(path); err == nil {
		t.Fatal("negative power accepted")
	}
}

func TestRAPLWrapAround(t *testing.T) {
	root := t.TempDir()
	zone := filepath.Join(root, "intel-rapl:0")
	os.MkdirAll(zone, 0o755)
	os.WriteFile(filepath.Join(zone, "max_energy_range_uj"), []byte("1000000\n"), 0o644)
	os.WriteFile(filepath.Join(zone, "energy_uj"), []byte("900000\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "intel-rapl:0:0"), 0o755) // sub-zone: skipped
	os.WriteFile(filepath.Join(root, "intel-rapl:0:0", "energy_uj"), []byte("5\n"), 0o644)
	r, err := OpenRAPL(root)
	if err != nil {
		t.Fatal(err)
	}
	e0, _ := r.Read()
	os.WriteFile(filepath.Join(zone, "energy_uj"), []byte("100000\n"), 0o644) // wrapped
	e1, _ := r.Read()
	if d := e1 - e0; math.Abs(d-0.2) > 1e-9 {
		t.Fatalf("energy across a wrap: %v J, want 0.2", d)
	}
	if _, err := OpenRAPL(t.TempDir()); err == nil {
		t.Fatal("empty powercap accepted")
	}
}

func TestBatteryGauge(t *testing.T) {
	root := t.TempDir()
	bat := filepath.Join(root, "battery")
	os.MkdirAll(bat, 0o755)
	os.WriteFile(filepath.Join(bat, "energy_now"), []byte("10000000\n"), 0o644) // 10 Wh in µWh
	b, err := OpenBattery(root)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bat, "energy_now"), []byte("9999000\n"), 0o644) // 1 mWh drawn
	e, _ := b.Read()
	if math.Abs(e-3.6) > 1e-9 {
		t.Fatalf("battery energy %v J, want 3.6", e)
	}
}
