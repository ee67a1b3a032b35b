package replay

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readNPY parses a .npy file written by this package: its descr, shape and
// raw data.
func readNPY(t *testing.T, path string) (descr string, shape []int, data []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("%s: bad magic %q", path, b[:8])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hl)%64 != 0 || b[10+hl-1] != '\n' {
		t.Fatalf("%s: header length %d not aligned or not ending in newline", path, hl)
	}
	h := string(b[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '([<>a-z0-9]+)', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \} *\n$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("%s: header %q", path, h)
	}
	for _, d := range strings.Split(m[2], ",") {
		if d = strings.TrimSpace(d); d != "" {
			n, _ := strconv.Atoi(d)
			shape = append(shape, n)
		}
	}
	return m[1], shape, b[10+hl:]
}

func TestNPYHeader(t *testing.T) {
	tests := []struct {
		descr string
		shape []int64
		want  string
	}{
		{"<f4", []int64{3, 1, 98, 40}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 98, 40), }"},
		{"<i8", []int64{12}, "{'descr': '<i8', 'fortran_order': False, 'shape': (12,), }"},
		{"<i8", []int64{0}, "{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }"},
	}
	for _, tc := range tests {
		h, err := npyHeader(tc.descr, tc.shape)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != npyHeaderSize || !strings.HasPrefix(string(h[10:]), tc.want) || h[len(h)-1] != '\n' {
			t.Errorf("header %q", h)
		}
	}
	if _, err := npyHeader("<f4", make([]int64, 100)); err == nil {
		t.Error("oversized header accepted")
	}
}

func TestWriteFeatures(t *testing.T) {
	dir := t.TempDir()
	// Two subjects; the second file has a label outside the classes.
	p1 := writeFile(t, dir, "in/s01_01_sp.csv", labelledCSV(cat(rep("A", 8), rep("B", 8))...))
	p2 := writeFile(t, dir, "in/s02_01_sp.csv", labelledCSV(cat(rep("B", 4), rep("Z", 8))...))
	spec := rawSpec(4, 4, "A", "B")
	out := filepath.Join(dir, "out")
	sum, err := WriteFeatures(spec, []string{p1, p2}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Windows != 5 || sum.Skipped["Z"] != 2 || sum.PerClass["A"] != 2 || sum.PerClass["B"] != 3 {
		t.Fatalf("summary %+v", sum)
	}
	descr, shape, data := readNPY(t, filepath.Join(out, "X.npy"))
	if descr != "<f4" || !equalInts(shape, []int{5, 1, 4}) || len(data) != 5*4*4 {
		t.Fatalf("X: %s %v %d bytes", descr, shape, len(data))
	}
	// Window 2 of file 1 starts at sample 8, value 8.
	if v := math.Float32frombits(binary.LittleEndian.Uint32(data[2*16:])); v != 8 {
		t.Errorf("X[2,0,0] = %v, want 8", v)
	}
	descr, shape, data = readNPY(t, filepath.Join(out, "y.npy"))
	var y []int64
	for i := 0; i < len(data); i += 8 {
		y = append(y, int64(binary.LittleEndian.Uint64(data[i:])))
	}
	if descr != "<i8" || !equalInts(shape, []int{5}) || len(y) != 5 || y[0] != 0 || y[2] != 1 || y[4] != 1 {
		t.Errorf("y: %s %v %v", descr, shape, y)
	}
	_, _, data = readNPY(t, filepath.Join(out, "g.npy"))
	if len(data) != 40 || data[0] != 0 || data[32] != 1 {
		t.Errorf("g: % x", data)
	}
	mb, err := os.ReadFile(filepath.Join(out, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Spec       json.RawMessage `json:"spec"`
		Groups     []string        `json:"groups"`
		Classes    []string        `json:"classes"`
		XShape     []int           `json:"x_shape"`
		WindowList []windowMeta    `json:"window_list"`
	}
	if err := json.Unmarshal(mb, &meta); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSpec(meta.Spec); err != nil {
		t.Errorf("meta spec: %v", err)
	}
	if strings.Join(meta.Groups, ",") != "s01,s02" || len(meta.WindowList) != 5 || !equalInts(meta.XShape, []int{5, 1, 4}) {
		t.Errorf("meta %s", mb)
	}
	if w := meta.WindowList[4]; w.Group != "s02" || w.File != p2 || w.Label != "B" || w.Start != 0 {
		t.Errorf("meta window 4: %+v", w)
	}
	// No temporary files are left.
	ents, _ := os.ReadDir(out)
	if len(ents) != 4 {
		t.Errorf("output holds %d files", len(ents))
	}

	// Strict labels: the Z windows are an error naming the file.
	if _, err := WriteFeatures(spec, []string{p1, p2}, filepath.Join(dir, "strict"), Options{StrictLabels: true}); err == nil ||
		!strings.Contains(err.Error(), p2+`: window at 0.080-0.160 s has label "Z"`) {
		t.Errorf("strict: %v", err)
	}
	ents, _ = os.ReadDir(filepath.Join(dir, "strict"))
	if len(ents) != 0 {
		t.Errorf("failed export left %d files", len(ents))
	}
	// Nothing to write is an error.
	if _, err := WriteFeatures(rawSpec(4, 4, "Q"), []string{p1}, filepath.Join(dir, "none"), Options{}); err == nil {
		t.Error("export with no class windows succeeded")
	}
}

func TestGroupOf(t *testing.T) {
	tests := []struct{ task, file, want string }{
		{TaskHAR, "/d/DATA/s01/s01_02_sp.csv", "s01"},
		{TaskHAR, "trace.csv", "trace"},
		{TaskKWS, "recordings/7_jackson_32.wav", "jackson"},
		{TaskKWS, "demo.wav", "demo"},
	}
	for _, tc := range tests {
		if got := GroupOf(tc.task, tc.file); got != tc.want {
			t.Errorf("GroupOf(%q, %q) = %q, want %q", tc.task, tc.file, got, tc.want)
		}
	}
}
