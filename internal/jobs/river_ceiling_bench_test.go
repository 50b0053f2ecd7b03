package jobs

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"winnow/internal/dbtest"
)

// noopArgs is a job that does nothing, for BenchmarkRiverCeiling.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// BenchmarkRiverCeiling measures how many jobs a second River itself works on each
// engine with Winnow's tuning (riverTuning) when the jobs do nothing: the ceiling of
// any design that spends one River job per candidate and effect. 20,000 queued jobs
// are worked to completion.
//
//	go test -run NONE -bench RiverCeiling -benchtime 1x ./internal/jobs
//
// WINNOW_BENCH_JOBS changes the count; WINNOW_TEST_POSTGRES_URL adds PostgreSQL.
func BenchmarkRiverCeiling(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("WINNOW_BENCH_JOBS")); err == nil && v > 0 {
		n = v
	}
	for _, e := range dbtest.Available() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db := dbtest.MustOpen(b, e.URL(b))
			driver := db.RiverDriver()
			tune := tuningFor(driver)
			workers := river.NewWorkers()
			river.AddWorker(workers, noopWorker{})
			client, err := river.NewClient(driver, &river.Config{
				Workers:           workers,
				Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: tune.maxWorkers}},
				Logger:            slog.New(slog.DiscardHandler),
				FetchCooldown:     tune.fetchCooldown,
				FetchPollInterval: tune.pollInterval,
			})
			if err != nil {
				b.Fatal(err)
			}
			var elapsed time.Duration
			for range b.N {
				params := make([]river.InsertManyParams, 0, 1000)
				for i := 0; i < n; i += cap(params) {
					params = params[:0]
					for range min(cap(params), n-i) {
						params = append(params, river.InsertManyParams{Args: noopArgs{}})
					}
					if _, err := client.InsertManyFast(ctx, params); err != nil {
						b.Fatal(err)
					}
				}
				done, cancel := client.Subscribe(river.EventKindJobCompleted)
				start := time.Now()
				if err := client.Start(ctx); err != nil {
					b.Fatal(err)
				}
				for range n {
					select {
					case <-done:
					case <-time.After(time.Minute):
						b.Fatal("no job completed for a minute")
					}
				}
				elapsed += time.Since(start)
				cancel()
				if err := client.Stop(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "jobs/s")
		})
	}
}
