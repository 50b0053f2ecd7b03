package lever_test

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// BenchmarkClientCalls measures client calls per second against the
// sandbox over real HTTP, with Lever's default limiter (10/s, burst 20)
// and without one. The sandbox's own limit is off so only the client
// paces; the calls/s metric shows the limiter's ceiling.
func BenchmarkClientCalls(b *testing.B) {
	cases := []struct {
		name    string
		limiter *rate.Limiter
	}{
		{"limiter=on", rate.NewLimiter(lever.DefaultRateLimit, lever.DefaultRateBurst)},
		{"limiter=off", rate.NewLimiter(rate.Inf, 0)},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			sb := startSandbox(b, leversandbox.Options{})
			cfg := sb.config()
			cfg.Limiter = bc.limiter
			c, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey()))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.ListStages(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
