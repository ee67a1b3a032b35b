package engine

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chanPool is the pool as it was before the dynamic split: one channel
// send per task and a WaitGroup, tasks assigned statically. It is kept
// here as the baseline of BenchmarkParallelRegion.
type chanPool struct {
	work chan chanTask
	wg   sync.WaitGroup
}

type chanTask struct {
	run func(int)
	i   int
}

func newChanPool(threads int) *chanPool {
	p := &chanPool{work: make(chan chanTask)}
	for i := 1; i < threads; i++ {
		go func() {
			for t := range p.work {
				t.run(t.i)
				p.wg.Done()
			}
		}()
	}
	return p
}

func (p *chanPool) run(tasks int, fn func(int)) {
	p.wg.Add(tasks - 1)
	for i := 1; i < tasks; i++ {
		p.work <- chanTask{fn, i}
	}
	fn(0)
	p.wg.Wait()
}

// BenchmarkParallelRegion measures the cost of one empty parallel region
// of two tasks (the handoff to a worker and back): the old channel pool
// against the claiming pool, back to back, and with a pause between
// regions long enough for the workers to park.
func BenchmarkParallelRegion(b *testing.B) {
	var sink atomic.Int64
	task := func(i int) { sink.Add(int64(i)) }
	b.Run("chan", func(b *testing.B) {
		p := newChanPool(2)
		defer close(p.work)
		for b.Loop() {
			p.run(2, task)
		}
	})
	b.Run("claim", func(b *testing.B) {
		p := newPool(2)
		defer p.close()
		for b.Loop() {
			p.run(2, task)
		}
	})
	b.Run("claim-for", func(b *testing.B) {
		p := newPool(2)
		defer p.close()
		x := &Exec{threads: 2, pool: p}
		var r countRanger
		for b.Loop() {
			x.For(8, 1, &r)
		}
	})
	// After a pause the claiming pool's worker has parked: the region
	// pays a wake-up, as the channel pool always does.
	b.Run("chan-parked", func(b *testing.B) {
		p := newChanPool(2)
		defer close(p.work)
		for b.Loop() {
			b.StopTimer()
			time.Sleep(2 * spinFor)
			b.StartTimer()
			p.run(2, task)
		}
	})
	b.Run("claim-parked", func(b *testing.B) {
		p := newPool(2)
		defer p.close()
		for b.Loop() {
			b.StopTimer()
			time.Sleep(2 * spinFor)
			b.StartTimer()
			p.run(2, task)
		}
	})
}

// countRanger counts the indices it is run over.
type countRanger struct{ n atomic.Int64 }

func (r *countRanger) RunRange(lo, hi int) { r.n.Add(int64(hi - lo)) }

// markRanger marks every index it is run over, once.
type markRanger struct {
	seen []atomic.Int32
	gids sync.Map
}

func (r *markRanger) RunRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		r.seen[i].Add(1)
	}
	r.gids.Store(goid(), true)
}

// goid returns the current goroutine's id.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	return string(buf[:bytes.IndexByte(buf, ' ')])
}

// TestForCoversOnce checks that For runs every index exactly once for
// various sizes, grains and thread counts, and that Parallel runs every
// task once, including regions started from inside a region.
func TestForCoversOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4} {
		var p *pool
		if threads > 1 {
			p = newPool(threads)
		}
		x := &Exec{threads: threads, pool: p}
		for _, n := range []int{1, 2, 7, 64, 1000, 4097} {
			for _, grain := range []int{0, 1, 3, 100, 5000} {
				r := &markRanger{seen: make([]atomic.Int32, n)}
				x.For(n, grain, r)
				for i := range r.seen {
					if c := r.seen[i].Load(); c != 1 {
						t.Fatalf("threads %d n %d grain %d: index %d run %d times", threads, n, grain, i, c)
					}
				}
			}
		}
		for _, tasks := range []int{0, 1, 2, 5, 33} {
			seen := make([]atomic.Int32, tasks*3)
			x.Parallel(tasks, func(i int) {
				seen[i].Add(1)
				x.Parallel(2, func(j int) { seen[tasks+2*i+j].Add(1) }) // nested: inline
			})
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("threads %d Parallel(%d): slot %d run %d times", threads, tasks, i, c)
				}
			}
		}
		if p != nil {
			p.close()
		}
	}
}

// TestForBelowGrainOnCaller checks that work at or below the grain runs on
// the calling goroutine, in one call.
func TestForBelowGrainOnCaller(t *testing.T) {
	p := newPool(4)
	defer p.close()
	x := &Exec{threads: 4, pool: p}
	me := goid()
	for _, n := range []int{1, 10, 100} {
		r := &markRanger{seen: make([]atomic.Int32, n)}
		x.For(n, 100, r)
		count := 0
		r.gids.Range(func(k, _ any) bool {
			count++
			if k.(string) != me {
				t.Errorf("n %d: ran on goroutine %s, the caller is %s", n, k, me)
			}
			return true
		})
		if count != 1 {
			t.Errorf("n %d: ran on %d goroutines", n, count)
		}
	}
}

// TestForDescheduledWorker checks that a region completes while a worker
// is stuck in a long task: the other threads take the remaining chunks.
func TestForDescheduledWorker(t *testing.T) {
	p := newPool(2)
	defer p.close()
	x := &Exec{threads: 2, pool: p}
	release := make(chan struct{})
	var stuck atomic.Bool
	blocked := blockRanger{release: release, stuck: &stuck, me: goid()}
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(release)
	}()
	r := &markRanger{seen: make([]atomic.Int32, 64)}
	blocked.inner = r
	x.For(64, 1, &blocked)
	for i := range r.seen {
		if c := r.seen[i].Load(); c != 1 {
			t.Fatalf("index %d run %d times", i, c)
		}
	}
	// The caller waited 50 ms for the stuck worker: the next regions run
	// on the caller alone (backoffWait).
	if stuck.Load() {
		r2 := &markRanger{seen: make([]atomic.Int32, 64)}
		x.For(64, 1, r2)
		me := goid()
		r2.gids.Range(func(k, _ any) bool {
			if k.(string) != me {
				t.Errorf("after a stall, a range ran on goroutine %s, not the caller %s", k, me)
			}
			return true
		})
	}
}

// blockRanger blocks the first range that a worker (not the caller) runs
// until release is closed.
type blockRanger struct {
	release chan struct{}
	stuck   *atomic.Bool
	me      string
	inner   Ranger
}

func (b *blockRanger) RunRange(lo, hi int) {
	if goid() != b.me && b.stuck.CompareAndSwap(false, true) {
		<-b.release
	}
	b.inner.RunRange(lo, hi)
}

// TestForAllocs checks that a region allocates nothing.
func TestForAllocs(t *testing.T) {
	if raceBuild {
		t.Skip("allocation counts differ under -race")
	}
	for _, threads := range []int{2, 4} {
		p := newPool(threads)
		x := &Exec{threads: threads, pool: p}
		var r countRanger
		fn := func(int) {}
		if a := testing.AllocsPerRun(100, func() {
			x.For(1000, 10, &r)
			x.Parallel(threads, fn)
		}); a != 0 {
			t.Errorf("threads %d: %v allocations per region", threads, a)
		}
		p.close()
	}
}

// TestDroppedSessionStopsWorkers checks that the pool of a session that
// is dropped without Close is closed (its workers exit) once the session
// is collected.
func TestDroppedSessionStopsWorkers(t *testing.T) {
	m := splitModel(t, 4)
	var pools []*pool
	for range 5 {
		pools = append(pools, m.NewSession().pool)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		open := 0
		for _, p := range pools {
			if !p.closed.Load() {
				open++
			}
		}
		if open == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the pools of dropped sessions are still open")
}
