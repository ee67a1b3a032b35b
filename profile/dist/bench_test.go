package dist

import (
	"context"
	"testing"

	"github.com/kagen-ai/kagen/profile"
)

// BenchmarkNoopTrialRoundTrip measures the cost of one trial through
// JetStream, one at a time: queue it, a worker fetches it, checks for a
// result, publishes its (empty) result and acks it, the coordinator
// receives the result. Run with
//
//	go test -run '^$' -bench NoopTrial -benchtime 2000x ./profile/dist/
func BenchmarkNoopTrialRoundTrip(b *testing.B) {
	p := benchPool(b, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Execute(context.Background(), noopBatch(i, 1), func(int, *profile.TrialResult) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoopTrialThroughput measures trials per second through
// JetStream with batches of 500 no-op trials and 1 or 2 workers.
func BenchmarkNoopTrialThroughput(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			p := benchPool(b, workers)
			b.ResetTimer()
			for i := 0; i < b.N; i += 500 {
				if err := p.Execute(context.Background(), noopBatch(i, 500), func(int, *profile.TrialResult) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocalNoopTrial is the same no-op trial through the local
// executor, for comparison.
func BenchmarkLocalNoopTrial(b *testing.B) {
	f := tinyFixture(b)
	ex := profile.NewLocalExecutor(f.a, 1)
	defer ex.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ex.Execute(context.Background(), noopBatch(i, 1), func(int, *profile.TrialResult) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPool(b *testing.B, workers int) *Pool {
	f := tinyFixture(b)
	p, err := NewPool(context.Background(), Config{}, f.model, workers, WorkerOptions{}, CoordinatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	return p
}
