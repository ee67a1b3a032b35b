package engine

import "sync"

// pool runs independent tasks on a fixed set of goroutines owned by one
// session. Handing out work allocates nothing.
type pool struct {
	work chan poolTask
	wg   sync.WaitGroup
	once sync.Once
}

type poolTask struct {
	run func(int)
	i   int
}

func newPool(threads int) *pool {
	p := &pool{work: make(chan poolTask)}
	for i := 1; i < threads; i++ { // the caller is the last worker
		go func() {
			for t := range p.work {
				t.run(t.i)
				p.wg.Done()
			}
		}()
	}
	return p
}

// run calls fn(0..tasks-1) on the pool and the calling goroutine and waits.
func (p *pool) run(tasks int, fn func(int)) {
	if tasks <= 0 {
		return
	}
	p.wg.Add(tasks - 1)
	for i := 1; i < tasks; i++ {
		p.work <- poolTask{fn, i}
	}
	fn(0)
	p.wg.Wait()
}

// close stops the goroutines.
func (p *pool) close() { p.once.Do(func() { close(p.work) }) }
