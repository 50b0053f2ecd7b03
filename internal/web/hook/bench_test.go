package hook_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/jobs"
	"winnow/internal/lever"
	"winnow/internal/sqlstore"
)

// BenchmarkWebhookIntake measures the intake without HTTP: 64 goroutines hand signed
// applicationCreated webhooks to the handler, whose deliveries commit through the
// group committer with their River jobs. cpu-µs/op is the process's CPU time per
// webhook (user+sys), which other load on the machine does not inflate as it does
// ns/op.
func BenchmarkWebhookIntake(b *testing.B) {
	for _, e := range dbtest.Available() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			inserter, err := jobs.NewInserter(db.RiverDriver(), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			effects := jobs.NewEffects[*sqlstore.Tx](inserter, jobs.LeverPlanner{BaseURL: func() string { return "http://winnow.test" }})
			w := newBatchWorldOn(b, db, effects, "sig-token")
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			bodies := make([]string, b.N)
			for i := range bodies {
				tok := run + "-" + strconv.Itoa(i)
				at := time.Now().UnixMilli()
				bodies[i] = `{"event":"applicationCreated","triggeredAt":` + strconv.FormatInt(at, 10) + `,"token":"` + tok +
					`","signature":"` + lever.Sign("sig-token", tok, at) + `","data":{"opportunityId":"o-` + tok +
					`","applicationId":"a-` + tok + `"}}`
			}
			var next, failed atomic.Int64
			b.SetParallelism(32)
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					req := httptest.NewRequest("POST", winnow.LeverWebhookPath+"/"+w.orgKey, strings.NewReader(bodies[i]))
					req.SetPathValue("orgKey", w.orgKey)
					rec := httptest.NewRecorder()
					w.h.Lever(rec, req)
					if rec.Code != http.StatusOK {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d webhooks not acknowledged", n, b.N)
			}
		})
	}
}

// processCPU is the CPU time (user and system) the process has used, from
// /proc/self/stat in clock ticks of 10 ms; 0 where there is none.
func processCPU() time.Duration {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15 of the line
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
