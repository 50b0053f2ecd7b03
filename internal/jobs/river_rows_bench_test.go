package jobs

import (
	"context"
	"database/sql"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/dbtest"
)

// BenchmarkRiverRows measures the CPU of this process per job to insert batches of 7
// candidates' jobs with River's InsertManyTx and with riverRows, on each engine: only
// their Lever writes and deliveries ("lever", which riverRows writes itself), and the
// planners' whole mix of an invitation ("plan": the invitation email, three reminders
// and the opt-out, which are unique by args, and the Lever write).
//
//	go test -run NONE -bench RiverRows -benchtime 200x ./internal/jobs
//
// On SQLite all the work is in this process (and inside the write lock); on
// PostgreSQL the server's is not counted.
func BenchmarkRiverRows(b *testing.B) {
	const candidates = 7
	mixes := map[string]func(i int) []river.InsertManyParams{
		"lever": func(i int) []river.InsertManyParams {
			var ps []river.InsertManyParams
			for c := range candidates {
				id := strconv.Itoa(i*candidates + c)
				ps = append(ps, leverWriteParams([]*winnow.LeverWrite{{ID: "w-" + id, OrgID: "org-1", ApplicantID: "app-" + id,
					OpportunityID: "opp-" + id, Seq: 1}})...)
				ps = append(ps, deliveryParams(&winnow.LeverDelivery{ID: "del-" + id, OrgID: "org-1", Event: "candidateStageChange"}, 0))
			}
			return ps
		},
		"plan": func(i int) []river.InsertManyParams {
			var ps []river.InsertManyParams
			now := time.Now()
			deadline := now.Add(7 * 24 * time.Hour)
			for c := range candidates {
				id := strconv.Itoa(i*candidates + c)
				a := &winnow.Applicant{ID: "app-" + id, OrgID: "org-1", Deadline: deadline}
				emails := []*winnow.Email{{ID: "em-" + id, OrgID: a.OrgID, ApplicantID: a.ID, Kind: winnow.EmailInvitation, Seq: 1,
					Status: winnow.EmailQueued}}
				for r := range 3 {
					emails = append(emails, &winnow.Email{ID: "em-" + id + "-" + strconv.Itoa(r), OrgID: a.OrgID, ApplicantID: a.ID,
						Kind: winnow.EmailReminder, Seq: r + 2, Status: winnow.EmailScheduled,
						DueAt: now.Add(time.Duration(r+1) * 48 * time.Hour), Deadline: &deadline})
				}
				ps = append(ps, sendParams(emails)...)
				ps = append(ps, optOutParams(a))
				ps = append(ps, leverWriteParams([]*winnow.LeverWrite{{ID: "w-" + id, OrgID: a.OrgID, ApplicantID: a.ID,
					OpportunityID: "opp-" + id, Seq: 1}})...)
			}
			return ps
		},
	}
	for _, e := range dbtest.Available() {
		for _, mix := range []string{"lever", "plan"} {
			for _, how := range []string{"river", "rows"} {
				b.Run(e.Name+"/"+mix+"/"+how, func(b *testing.B) {
					ctx := context.Background()
					db := dbtest.MustOpen(b, e.URL(b))
					client := rowsInserter(b, db.RiverDriver())
					rows := newRiverRows(client, river.MaxAttemptsDefault)
					insert := func(tx *sql.Tx, ps []river.InsertManyParams) error {
						if how == "rows" {
							return rows.insert(ctx, tx, ps)
						}
						_, err := client.InsertManyTx(ctx, tx, ps)
						return err
					}
					jobs := 0
					var cpu time.Duration
					b.ResetTimer()
					for i := range b.N {
						ps := mixes[mix](i)
						jobs += len(ps)
						start := processCPU(b)
						tx, err := db.SQL().BeginTx(ctx, nil)
						if err != nil {
							b.Fatal(err)
						}
						if err := insert(tx, ps); err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(); err != nil {
							b.Fatal(err)
						}
						cpu += processCPU(b) - start
					}
					b.ReportMetric(float64(cpu.Microseconds())/float64(jobs), "cpu-µs/job")
					b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/batch")
				})
			}
		}
	}
}

// processCPU is the user and system CPU this process has used.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
