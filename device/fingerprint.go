package device

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"
)

// KagenVersion is the kagen version recorded in fingerprints, profiles
// and Pareto files.
const KagenVersion = "0.1.0-dev"

// Fingerprint identifies the device a profile was measured on.
type Fingerprint struct {
	GOOS     string   `json:"goos"`
	GOARCH   string   `json:"goarch"`
	CPU      string   `json:"cpu"`
	Features []string `json:"features"`
	Kagen    string   `json:"kagen"`
}

// String is a compact one-line form.
func (f Fingerprint) String() string {
	return fmt.Sprintf("%s/%s %q [%s] kagen %s", f.GOOS, f.GOARCH, f.CPU, strings.Join(f.Features, ","), f.Kagen)
}

// Equal reports whether two fingerprints name the same device and build.
func (f Fingerprint) Equal(g Fingerprint) bool {
	return f.GOOS == g.GOOS && f.GOARCH == g.GOARCH && f.CPU == g.CPU && slices.Equal(f.Features, g.Features) && f.Kagen == g.Kagen
}

// This returns the fingerprint of this machine.
func This() Fingerprint {
	f := Fingerprint{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: cpuModel(), Kagen: KagenVersion}
	switch runtime.GOARCH {
	case "amd64":
		for _, x := range []struct {
			on   bool
			name string
		}{{cpu.X86.HasAVX2, "avx2"}, {cpu.X86.HasFMA, "fma"}, {cpu.X86.HasF16C, "f16c"}, {cpu.X86.HasAVX512F, "avx512f"}, {cpu.X86.HasAVX512VNNI, "avx512vnni"}, {cpu.X86.HasAVXVNNI, "avxvnni"}} {
			if x.on {
				f.Features = append(f.Features, x.name)
			}
		}
	case "arm64":
		for _, x := range []struct {
			on   bool
			name string
		}{{cpu.ARM64.HasASIMD, "asimd"}, {cpu.ARM64.HasASIMDDP, "asimddp"}, {cpu.ARM64.HasFPHP, "fphp"}, {cpu.ARM64.HasASIMDHP, "asimdhp"}} {
			if x.on {
				f.Features = append(f.Features, x.name)
			}
		}
	}
	return f
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (strings.TrimSpace(k) == "model name" || strings.TrimSpace(k) == "Hardware" || strings.TrimSpace(k) == "CPU part") {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Class returns the short hash that names a device fingerprint: the
// device class that latency trials are addressed to.
func Class(f Fingerprint) string {
	b, _ := json.Marshal(f)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
