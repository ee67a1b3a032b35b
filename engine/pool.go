package engine

import (
	"runtime"
	"sync/atomic"
	"time"
)

// pool runs the parallel regions of one session on a fixed set of worker
// goroutines plus the calling one. Handing out work allocates nothing and
// starts no goroutine.
//
// Work is claimed, not assigned: a region of n tasks is published as one
// atomic word (n and the next unclaimed task), and the workers and the
// caller take tasks from it one at a time until none is left. The caller
// then waits only for the tasks that were claimed, so a worker the
// operating system has descheduled (another process shares the cores)
// costs the region at most the task it is running, never the tasks it has
// not started: the others take them. Callers cut their work into more
// tasks than threads for that reason (see Exec.For).
//
// Between regions the workers spin for a while (consecutive nodes of a
// model follow each other within microseconds, and waking a parked
// goroutine costs several) and then park on a channel of their own until a
// region wakes them.
type pool struct {
	threads int
	// state describes the region being handed out: its task count in the
	// high 32 bits, the next task to claim in the low 32. A task index
	// below the count claims that task; the caller publishes a new region
	// only once every task of the previous one has finished, so a worker
	// that claimed a task may read fn and the For fields without a lock.
	state atomic.Uint64
	done  atomic.Int64 // tasks of the current region finished
	fn    func(int)    // the current region's task; written before state publishes it
	// busy is set while a region runs: a region started from inside one
	// (a kernel's range calling a GEMM) runs inline on its goroutine.
	busy atomic.Bool
	// The range split of For: task c runs body over chunk c of n.
	body      Ranger
	n, chunks int
	forTask   func(int) // p.runChunk, bound once

	workers []*worker
	closed  atomic.Bool
	// The caller parks here when the tasks it waits for outlast waitSpin:
	// the worker that finishes the last one wakes it.
	caller worker
	// serialUntil: regions run on the caller alone until then (see
	// backoffWait). Only the goroutine holding busy uses it.
	serialUntil time.Time
}

// worker is one pool goroutine's parking place.
type worker struct {
	sleeping atomic.Bool
	wake     chan struct{} // one token, sent by whoever clears sleeping
}

// Ranger is work over the indices [0, n) that splits into independent
// ranges: RunRange(lo, hi) does the part [lo, hi). Calls for disjoint
// ranges may run concurrently, on different goroutines. Implementations
// are bound once (a kernel, or a struct kept in per-session state) so
// that passing one to Exec.For allocates nothing.
type Ranger interface {
	RunRange(lo, hi int)
}

// Tuning of the pool. On the 2-core x86 machine of issue #17, an empty
// region of two tasks (BenchmarkParallelRegion, -benchtime 3000x -count 3,
// load average 14) cost 60 ns with a spinning worker against 340-1430 ns
// for the channel pool this one replaced, and 10-14 µs once the worker has
// parked (the channel pool: 8-13 µs).
const (
	// spinFor is how long an idle worker keeps looking for work before it
	// parks. A spinning worker holds a core: when another process wants
	// it, a long spin takes time from the caller's serial work.
	spinFor = 30 * time.Microsecond
	// waitSpin is how long the caller spins for the tasks it waits for
	// before it parks.
	waitSpin = 10 * time.Microsecond
	// When the caller of a region waits longer than backoffWait, and
	// longer than its own share of the region took, for a task another
	// thread claimed, that thread was most likely descheduled (another
	// process wants the core): a second thread costs more than it gives,
	// and the session's regions run on the caller alone for backoffFor
	// before it tries again. Each retry under such load costs one stall,
	// about a few percent at these settings; without load a region's
	// tasks are within microseconds of each other and this never fires.
	backoffWait = 300 * time.Microsecond
	backoffFor  = 50 * time.Millisecond
	// chunksPerThread is how many ranges Exec.For cuts per thread (at
	// most): a descheduled worker then delays a region by about
	// 1/(threads*chunksPerThread) of it.
	chunksPerThread = 4
)

func newPool(threads int) *pool {
	p := &pool{threads: threads, caller: worker{wake: make(chan struct{}, 1)}}
	p.forTask = p.runChunk
	for i := 1; i < threads; i++ { // the caller is the last worker
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.work(w)
	}
	return p
}

// work is a worker goroutine's loop.
func (p *pool) work(w *worker) {
	for !p.closed.Load() {
		if p.claim() || p.spin() {
			continue
		}
		w.sleeping.Store(true)
		if p.pending() || p.closed.Load() {
			if !w.sleeping.CompareAndSwap(true, false) {
				<-w.wake // a caller cleared the flag and sent a token: take it
			}
			continue
		}
		<-w.wake
	}
}

// pending reports whether the current region has unclaimed tasks.
func (p *pool) pending() bool {
	s := p.state.Load()
	return uint32(s) < uint32(s>>32)
}

// spin waits up to spinFor for a region with unclaimed tasks and reports
// whether one came.
func (p *pool) spin() bool {
	start := time.Now()
	for {
		for range 64 {
			if p.pending() {
				return true
			}
		}
		if p.closed.Load() || time.Since(start) > spinFor {
			return false
		}
		runtime.Gosched()
	}
}

// claim runs tasks of the current region until none is left unclaimed and
// reports whether it ran any.
func (p *pool) claim() bool {
	ran := false
	for p.pending() {
		s := p.state.Add(1) - 1
		i, n := uint32(s), uint32(s>>32)
		if i >= n {
			break
		}
		p.fn(int(i))
		if p.done.Add(1) == int64(n) && p.caller.sleeping.CompareAndSwap(true, false) {
			p.caller.wake <- struct{}{}
		}
		ran = true
	}
	return ran
}

// run calls fn(0..tasks-1) on the pool and the calling goroutine and waits.
func (p *pool) run(tasks int, fn func(int)) {
	if tasks <= 1 || !p.busy.CompareAndSwap(false, true) {
		for i := range tasks {
			fn(i)
		}
		return
	}
	if p.serial() {
		for i := range tasks {
			fn(i)
		}
	} else {
		p.region(tasks, fn)
	}
	p.busy.Store(false)
}

// serial reports whether regions run on the caller alone for now (see
// backoffWait). The caller holds busy.
func (p *pool) serial() bool {
	return !p.serialUntil.IsZero() && time.Now().Before(p.serialUntil)
}

// forRange runs body over [0, n) cut into chunks ranges.
func (p *pool) forRange(n, chunks int, body Ranger) {
	if chunks <= 1 || !p.busy.CompareAndSwap(false, true) {
		body.RunRange(0, n)
		return
	}
	if p.serial() {
		body.RunRange(0, n)
		p.busy.Store(false)
		return
	}
	p.body, p.n, p.chunks = body, n, chunks
	p.region(chunks, p.forTask)
	p.body = nil
	p.busy.Store(false)
}

// runChunk is For's task c.
func (p *pool) runChunk(c int) {
	lo, hi := p.n*c/p.chunks, p.n*(c+1)/p.chunks
	if lo < hi {
		p.body.RunRange(lo, hi)
	}
}

// region publishes a region of tasks, takes part in it and waits for the
// tasks that were claimed. p.busy is held.
func (p *pool) region(tasks int, fn func(int)) {
	p.fn = fn
	p.done.Store(0)
	p.state.Store(uint64(tasks) << 32)
	woken := 0
	for _, w := range p.workers {
		if woken >= tasks-1 {
			break
		}
		if w.sleeping.Load() && w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
			woken++
		}
	}
	start := time.Now()
	p.claim()
	if p.done.Load() < int64(tasks) {
		mid := time.Now()
		p.wait(int64(tasks))
		end := time.Now()
		if w := end.Sub(mid); w > backoffWait && w > mid.Sub(start) {
			p.serialUntil = end.Add(backoffFor)
		}
	}
	p.fn = nil
}

// wait returns once tasks tasks of the current region are done: it spins
// for waitSpin, then parks so that the thread running the last task (one
// the operating system may have descheduled to run another process) can
// have this core.
func (p *pool) wait(tasks int64) {
	start := time.Now()
	for p.done.Load() < tasks {
		for range 64 {
			if p.done.Load() >= tasks {
				return
			}
		}
		if time.Since(start) > waitSpin {
			c := &p.caller
			c.sleeping.Store(true)
			if p.done.Load() >= tasks {
				if !c.sleeping.CompareAndSwap(true, false) {
					<-c.wake // the last task's thread sent a token: take it
				}
				return
			}
			// Woken by the thread that finished the last task, or (rarely)
			// by one finishing the previous region late: look again.
			<-c.wake
		}
	}
}

// close stops the goroutines.
func (p *pool) close() {
	if p.closed.Swap(true) {
		return
	}
	for _, w := range p.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}
