package jobs

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// BenchmarkScheduleReminders plans what an invitation calls for (the invitation email,
// four reminder rows with their River jobs scheduled days ahead, and the opt-out job) for
// 100,000 applicants, through the planners Effects uses, 1,000 applicants per
// transaction. It reports applicants and River jobs inserted per second and the
// process's peak memory: peak RSS (VmHWM) and the largest heap seen.
//
//	go test -run NONE -bench ScheduleReminders -benchtime 1x ./internal/jobs
//
// WINNOW_BENCH_APPLICANTS changes the count; WINNOW_TEST_POSTGRES_URL adds PostgreSQL.
func BenchmarkScheduleReminders(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("WINNOW_BENCH_APPLICANTS")); err == nil && v > 0 {
		n = v
	}
	for _, e := range dbtest.Available() {
		b.Run(e.Name, func(b *testing.B) { benchSchedule(b, e.URL(b), n) })
	}
}

func benchSchedule(b *testing.B, dbURL string, n int) {
	ctx := context.Background()
	db := dbtest.MustOpen(b, dbURL)
	clk := dbtest.NewClock(time.Now().UTC().Truncate(time.Second))
	store, inserter := newStore(b, db, clk)
	org := &winnow.Org{Name: "Bench " + strconv.Itoa(b.N)}
	if err := store.CreateOrg(ctx, org); err != nil {
		b.Fatal(err)
	}
	f := &winnow.Funnel{OrgID: org.ID, Title: "Engineer", Status: winnow.FunnelOpen, Steps: oneQuestion()}
	if err := store.CreateFunnel(ctx, f); err != nil {
		b.Fatal(err)
	}
	var p EmailPlanner

	var heapPeak atomic.Uint64
	stop := sampleHeap(&heapPeak)
	defer stop()
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		as := insertApplicants(b, db, f, clk.Now(), n)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		for i := 0; i < len(as); i += 1000 {
			batch := as[i:min(i+1000, len(as))]
			err := store.WithTx(ctx, func(tx *sqlstore.Tx) error {
				params, err := p.schedule(ctx, tx, batch, f, clk.Now(), true)
				if err != nil {
					return err
				}
				for _, a := range batch {
					params = append(params, optOutParams(a))
				}
				_, err = inserter.InsertManyTx(ctx, tx.SQL(), params)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
	}
	b.StopTimer()
	var jobs, emails int
	db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&jobs)
	db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM emails`).Scan(&emails)
	if want := b.N * n * 6; jobs != want || emails != b.N*n*5 {
		b.Fatalf("%d jobs and %d emails, want %d and %d", jobs, emails, want, b.N*n*5)
	}
	secs := elapsed.Seconds()
	b.ReportMetric(float64(b.N*n)/secs, "applicants/s")
	b.ReportMetric(float64(jobs)/secs, "jobs/s")
	b.ReportMetric(float64(emails)/secs, "email_rows/s")
	b.ReportMetric(float64(vmHWM())/(1<<20), "peak_rss_MiB")
	b.ReportMetric(float64(heapPeak.Load())/(1<<20), "peak_heap_MiB")
}

// insertApplicants adds n invited applicants of f straight into the table, outside the
// timed part.
func insertApplicants(b *testing.B, db *sqlstore.DB, f *winnow.Funnel, now time.Time, n int) []*winnow.Applicant {
	b.Helper()
	ctx := context.Background()
	as := make([]*winnow.Applicant, 0, n)
	const rows = 500
	for i := 0; i < n; i += rows {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO applicants (id, org_id, funnel_id, name, email, status, token, invited_at, deadline, created_at, updated_at) VALUES `)
		var args []any
		for j := i; j < min(i+rows, n); j++ {
			buf := make([]byte, 16)
			rand.Read(buf)
			a := &winnow.Applicant{ID: "bench-" + hex.EncodeToString(buf[:8]), OrgID: f.OrgID, FunnelID: f.ID, Name: "Candidate " + strconv.Itoa(j),
				Email: fmt.Sprintf("c%d@example.com", j), Status: winnow.StatusInvited, Token: hex.EncodeToString(buf),
				InvitedAt: now, Deadline: now.Add(f.Cadence.OptOutAfter)}
			if j > i {
				sb.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9, k+10, k+11)
			args = append(args, a.ID, a.OrgID, a.FunnelID, a.Name, a.Email, string(a.Status), a.Token, now, a.Deadline, now, now)
			as = append(as, a)
		}
		if _, err := db.SQL().ExecContext(ctx, sb.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	return as
}

// sampleHeap records the largest HeapInuse seen every 20 ms until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// vmHWM returns the process's peak resident set size in bytes, from /proc/self/status
// (Linux), or 0 where that is not available.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
