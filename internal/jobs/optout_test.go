package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// setup returns a store on a fresh SQLite database, whose effects plan only the opt-out,
// with an open funnel, and the clock the store and workers share.
func setup(t *testing.T) (*sqlstore.Store, *dbtest.Clock, *winnow.Funnel) {
	t.Helper()
	ctx := context.Background()
	db := dbtest.SQLite.Open(t)
	clk := dbtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store, _ := newStore(t, db, clk, OptOutPlanner{})
	org := &winnow.Org{Name: "Acme"}
	if err := store.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	f := &winnow.Funnel{OrgID: org.ID, Title: "Dev", Status: winnow.FunnelOpen, Steps: oneQuestion()}
	if err := store.CreateFunnel(ctx, f); err != nil {
		t.Fatal(err)
	}
	return store, clk, f
}

func invite(t *testing.T, store *sqlstore.Store, f *winnow.Funnel, now time.Time) *winnow.Applicant {
	t.Helper()
	a, err := winnow.NewApplicant(f, "Ada", "ada@example.com", "tok-"+now.Format("150405.000000000")+"-0123456789abcdef", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateApplicant(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInvitationSchedulesOptOut(t *testing.T) {
	t.Parallel()
	store, clk, f := setup(t)
	a := invite(t, store, f, clk.Now())
	var kind string
	var scheduled time.Time
	err := store.DB().SQL().QueryRow(`SELECT kind, scheduled_at FROM river_job`).Scan(&kind, &scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if kind != (OptOutArgs{}).Kind() || !scheduled.Equal(a.Deadline) {
		t.Fatalf("job %s at %v, want %s at deadline %v", kind, scheduled, (OptOutArgs{}).Kind(), a.Deadline)
	}
	if want := clk.Now().Add(420 * time.Hour); !a.Deadline.Equal(want) {
		t.Fatalf("deadline %v, want 17.5 days later %v", a.Deadline, want)
	}
}

func TestOptOutWorker(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(t *testing.T, store *sqlstore.Store, a *winnow.Applicant, now time.Time)
		after   time.Duration // when the job runs, after the invitation
		moved   bool          // whether the deadline in the job's args is stale
		want    winnow.ApplicantStatus
	}{
		{"invited, deadline passed", nil, 420 * time.Hour, false, winnow.StatusOptedOut},
		{"in progress, deadline passed", start, 421 * time.Hour, false, winnow.StatusOptedOut},
		{"run early", nil, 419 * time.Hour, false, winnow.StatusInvited},
		{"submitted", submit, 500 * time.Hour, false, winnow.StatusSubmitted},
		{"deadline extended since", nil, 500 * time.Hour, true, winnow.StatusInvited},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store, clk, f := setup(t)
			a := invite(t, store, f, clk.Now())
			if c.prepare != nil {
				c.prepare(t, store, a, clk.Now().Add(time.Hour))
			}
			args := OptOutArgs{OrgID: a.OrgID, ApplicantID: a.ID, Deadline: a.Deadline}
			if c.moved {
				args.Deadline = a.Deadline.Add(-time.Hour)
			}
			clk.Set(a.InvitedAt.Add(c.after))
			w := &optOutWorker{deps: Deps{Applicants: store, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
			err := w.Work(context.Background(), &river.Job[OptOutArgs]{Args: args})
			var snooze *river.JobSnoozeError
			if early := c.after < 420*time.Hour && !c.moved && c.prepare == nil; early {
				// Before the deadline by our clock the job comes back at the deadline.
				if !errors.As(err, &snooze) || snooze.Duration != 420*time.Hour-c.after {
					t.Fatalf("early run: err = %v, want a snooze until the deadline", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, err := store.FindApplicantByID(context.Background(), a.OrgID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.want {
				t.Fatalf("status %s, want %s", got.Status, c.want)
			}
			if c.want == winnow.StatusOptedOut && got.Reason != "no submission within 17.5 days of the invitation" {
				t.Fatalf("reason %q", got.Reason)
			}
		})
	}
}

func start(t *testing.T, store *sqlstore.Store, a *winnow.Applicant, now time.Time) {
	t.Helper()
	if _, err := store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(a *winnow.Applicant) (winnow.Event, error) { return a.Start(now) }); err != nil {
		t.Fatal(err)
	}
}

func submit(t *testing.T, store *sqlstore.Store, a *winnow.Applicant, now time.Time) {
	t.Helper()
	start(t, store, a, now)
	if _, err := store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(a *winnow.Applicant) (winnow.Event, error) { return a.Submit(now) }); err != nil {
		t.Fatal(err)
	}
}
