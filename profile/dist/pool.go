package dist

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Pool is a cluster connection, in-process workers and the coordinator of
// one model: what kagen profile and kagen tune run. With an embedded
// cluster it is a single machine's profiler and tuner whose trials go
// through JetStream.
type Pool struct {
	*Coordinator
	Cluster *Cluster
	Workers []*Worker
}

// NewPool starts (or connects to) the cluster of cfg, starts workers
// in-process workers with wopts (sharing the cores among them and polling
// every 100 ms unless wopts says otherwise) and a coordinator for model.
func NewPool(ctx context.Context, cfg Config, model []byte, workers int, wopts WorkerOptions, copts CoordinatorOptions) (*Pool, error) {
	c, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p := &Pool{Cluster: c}
	if wopts.Parallel <= 0 && workers > 0 {
		// The workers share this machine's cores.
		wopts.Parallel = max(1, runtime.GOMAXPROCS(0)/(workers*max(1, wopts.Concurrency)))
	}
	if wopts.Poll <= 0 {
		wopts.Poll = 100 * time.Millisecond // Close waits for a poll to end
	}
	for i := 0; i < workers; i++ {
		o := wopts
		if o.Name != "" {
			o.Name = fmt.Sprintf("%s-%d", wopts.Name, i+1)
		}
		w, err := c.StartWorker(ctx, o)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Workers = append(p.Workers, w)
	}
	if p.Coordinator, err = c.NewCoordinator(ctx, model, copts); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close stops the workers (letting running trials finish) and closes the
// cluster. A nil pool is closed already.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	if p.Coordinator != nil {
		p.Coordinator.Close()
	}
	for _, w := range p.Workers {
		w.Stop()
	}
	p.Cluster.Close()
}
