//go:build !nokagen

package main

// The kagen side of the SGEMM comparison (--sgemm): kagen's gemm package.

import (
	"sync"

	"github.com/kagen-ai/kagen/engine/gemm"
)

func kagenGemmKernel() string { return gemm.KernelName() }

// kagenGemmRunners returns kagen's SGEMM on C = A·B (row-major A [m,k],
// B [k,n]): "kagen" with both operands raw (B is packed per call, like ORT's
// MatMul with B an input) and "kagen-packB" with B packed once (like ORT with
// B a constant initializer). Scratch is preallocated, so calls allocate
// nothing.
func kagenGemmRunners(m, n, k int, a, b []float32, threads int) []gemmRunner {
	var runners []gemmRunner
	for _, packB := range []bool{false, true} {
		c := make([]float32, m*n)
		args := &gemm.Args{M: m, N: n, K: k, A: a, B: b, C: c}
		name := "kagen"
		if packB {
			name = "kagen-packB"
			args.B = nil
			args.PackedB = gemm.PackB(nil, k, n, b, 0, false)
		}
		if threads > 1 {
			args.Parallel, args.Tasks = goParallel(threads), threads
		}
		args.Scratch = make([]float32, gemm.ScratchSize(args))
		runners = append(runners, gemmRunner{name,
			func() error { gemm.Sgemm(args); return nil },
			func() []float32 { return c }})
	}
	return runners
}

// goParallel is a plain goroutine-per-worker gemm.Parallel for --threads > 1.
func goParallel(workers int) gemm.Parallel {
	return func(tasks int, run func(int)) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		next := 0
		for w := 0; w < min(workers, tasks); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					t := next
					next++
					mu.Unlock()
					if t >= tasks {
						return
					}
					run(t)
				}
			}()
		}
		wg.Wait()
	}
}
