package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"
)

// sgemmShapes are (M, N, K): C[M,N] = A[M,K] · B[K,N]. 64x128x288 is a
// typical small conv-as-GEMM (64 filters, 128 output positions, 32x3x3
// patch).
var sgemmShapes = [][3]int{{64, 128, 288}, {256, 256, 256}, {512, 512, 512}}

// gemmRunner is one SGEMM implementation on fixed operands.
type gemmRunner struct {
	name string
	run  func() error
	out  func() []float32
}

// benchSgemm times ORT's MatMul (B a graph input, and B a constant that ORT
// may pre-pack) against kagen's gemm, interleaved, and prints GFLOP/s.
func benchSgemm(cfg config) error {
	if !cfg.jsonOnly {
		fmt.Printf("SGEMM C[M,N] = A[M,K]·B[K,N], float32, row-major; GFLOP/s = 2·M·N·K / time\n")
		fmt.Printf("  ort = one-node ONNX MatMul with A and B as inputs; ort-constB = B an initializer (ORT pre-packs it)\n")
		fmt.Printf("  kagen = engine/gemm Sgemm on raw A, B; kagen-packB = B packed once with gemm.PackB; kernel %q\n", kagenGemmKernel())
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if !cfg.jsonOnly {
		fmt.Fprintln(tw, "M×N×K\tengine\tGFLOP/s (median)\tGFLOP/s (best)\tmedian µs\tmax|Δ| vs fp64\t")
	}
	failed := false
	var lines []string // JSON, printed after the table
	for _, sh := range sgemmShapes {
		m, n, k := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(cfg.seed, uint64(m*1_000_000+n*1000+k)))
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.Float64()*2 - 1)
		}
		for i := range b {
			b[i] = float32(rng.Float64()*2 - 1)
		}
		ref := refGemm(m, n, k, a, b)

		runners := kagenGemmRunners(m, n, k, a, b, cfg.threads)
		kagenWired := len(runners) > 0
		for _, constB := range []bool{false, true} {
			name, model, data := "ort", matMulModel(m, k, n, nil), [][]float32{a, b}
			if constB {
				name, model, data = "ort-constB", matMulModel(m, k, n, b), [][]float32{a}
			}
			e, err := newORTMulti(model, data, cfg.threads)
			if err != nil {
				return fmt.Errorf("%s %dx%dx%d: %w", name, m, n, k, err)
			}
			defer e.Close()
			e.fillInputs()
			e.fixedInputs = true
			runners = append(runners, gemmRunner{name, e.Run, e.firstOutput})
		}

		times := make([][]time.Duration, len(runners))
		diffs := make([]float64, len(runners))
		for i, r := range runners {
			if err := r.run(); err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			diffs[i] = maxAbsDiff64(r.out(), ref)
			// fp32 accumulation over K terms of size <= 1.
			if tol := 1e-5 * float64(k); diffs[i] > tol {
				fmt.Fprintf(os.Stderr, "sgemm %dx%dx%d: %s differs from the fp64 reference by %.3g (> %.3g)\n", m, n, k, r.name, diffs[i], tol)
				failed = true
			}
		}
		for round := 0; round < cfg.warmup+cfg.runs; round++ {
			for i, r := range runners {
				if cfg.rewarm && round >= cfg.warmup {
					r.run() // untimed, as in the model benchmark
				}
				t0 := time.Now()
				if err := r.run(); err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
				if dt := time.Since(t0); round >= cfg.warmup {
					times[i] = append(times[i], dt)
				}
			}
		}

		flop := 2 * float64(m) * float64(n) * float64(k)
		gf := map[string]float64{}
		for i, r := range runners {
			s := summarise(times[i])
			gf[r.name] = flop / s.median / 1e3
			if !cfg.jsonOnly {
				fmt.Fprintf(tw, "%dx%dx%d\t%s\t%.1f\t%.1f\t%.1f\t%.2g\t\n", m, n, k, r.name, gf[r.name], flop/s.min/1e3, s.median, diffs[i])
			}
		}
		if !cfg.jsonOnly && !kagenWired {
			fmt.Fprintf(tw, "%dx%dx%d\tkagen\tn/a\tn/a\t-\t-\t\n", m, n, k)
		}
		opt := func(name string) *float64 {
			if v, ok := gf[name]; ok {
				v = math.Round(v*100) / 100
				return &v
			}
			return nil
		}
		var ratio *float64
		if kg, og := opt("kagen"), opt("ort"); kg != nil && og != nil {
			v := math.Round(*kg / *og * 1000) / 1000
			ratio = &v
		}
		line, _ := json.Marshal(struct {
			Sgemm     string   `json:"sgemm"`
			M         int      `json:"m"`
			N         int      `json:"n"`
			K         int      `json:"k"`
			Kagen     *float64 `json:"kagen_gflops"`
			KagenPack *float64 `json:"kagen_packb_gflops"`
			Ort       *float64 `json:"ort_gflops"`
			OrtConstB *float64 `json:"ort_constb_gflops"`
			Ratio     *float64 `json:"ratio"`
			Threads   int      `json:"threads"`
			Runs      int      `json:"runs"`
		}{fmt.Sprintf("%dx%dx%d", m, n, k), m, n, k, opt("kagen"), opt("kagen-packB"), opt("ort"), opt("ort-constB"), ratio, cfg.threads, cfg.runs})
		lines = append(lines, string(line))
	}
	tw.Flush()
	for _, l := range lines {
		fmt.Println(l)
	}
	if failed {
		return fmt.Errorf("an SGEMM result is wrong")
	}
	return nil
}

// refGemm is a float64 reference C = A·B.
func refGemm(m, n, k int, a, b []float32) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			av := float64(a[i*k+p])
			row := b[p*n : (p+1)*n]
			ci := c[i*n : (i+1)*n]
			for j, bv := range row {
				ci[j] += av * float64(bv)
			}
		}
	}
	return c
}

func maxAbsDiff64(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}
