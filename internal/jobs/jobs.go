// Package jobs holds Winnow's background work as River job kinds and their workers, and
// the store's Effects: planners (one per kind of effect: emails, the opt-out at the
// deadline, …) composed into the function that enqueues their jobs in the same
// transaction as the change that calls for them.
//
// Time. Jobs that must wait (reminders, the opt-out at the deadline, retries) are
// scheduled with River at times computed from the injected winnow.Clock: ScheduledAt for
// planned work, NextRetry for retries. In production that clock is the wall clock, so
// River's own scheduler runs them when they are due. Workers judge "is it due?" by the
// injected clock too and snooze a job that River hands them early. Tests move a fake
// clock forward and make the jobs that are due by it available with River's JobRetry,
// so the same River client, workers and SQL run as in production, weeks in milliseconds.
package jobs

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"winnow"
	"winnow/internal/mail"
)

// Deps is what the workers need.
type Deps struct {
	Applicants winnow.ApplicantService
	Clock      winnow.Clock
	Logger     *slog.Logger

	// Emails is the store behind email jobs. Without it email jobs are cancelled, which
	// only tests of other workers want.
	Emails EmailStore
	// Sender delivers email. Nil is outbox mode: emails are rendered and kept in the
	// database as "in outbox", never reported as delivered.
	Sender mail.Sender
	// From is the sender address, for outbox copies; SMTP senders use their own.
	From string
	// Sealer opens sealed email content (member invitations) right before it is sent.
	// Without it such emails fail rather than go out unreadable.
	Sealer Sealer
	// Uploads and Files are the upload rows and the uploads folder that the periodic
	// upload sweep tidies. Without them the sweep does nothing.
	Uploads UploadStore
	Files   UploadFiles
	// Lever gives the Lever workers a client per org, and LeverStore is the store
	// behind them. Without them Lever jobs are cancelled, which only tests of other
	// workers want.
	Lever      LeverConnector
	LeverStore LeverStore
	// BaseURL returns the public URL that candidate links start with. It is a function
	// because serve learns its address only after listening.
	BaseURL func() string
	// PollInterval is how often workers look for new jobs; zero means the engine's
	// (riverTuning). There is no LISTEN/NOTIFY on SQLite or through database/sql.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before a worker takes it over
	// as stuck (its process died); zero means River's default of an hour.
	RescueAfter time.Duration
}

// Client is River's client over database/sql, the same type on SQLite and PostgreSQL.
type Client = river.Client[*sql.Tx]

// NewInserter builds a River client that only inserts jobs: no queues, no workers. It
// exists before the store, for the store's effects (see NewEffects), since the workers
// need the store; it is also all a web-only process needs.
func NewInserter(driver riverdriver.Driver[*sql.Tx], logger *slog.Logger) (*Client, error) {
	c, err := river.NewClient(driver, &river.Config{
		Logger: logger.With("component", "river"),
		// The kinds' workers live on the working client, built after the store.
		SkipUnknownJobCheck: true,
	})
	if err != nil {
		return nil, fmt.Errorf("river inserter: %w", err)
	}
	return c, nil
}

// NewClient builds the River client that works jobs, with every worker registered.
func NewClient(driver riverdriver.Driver[*sql.Tx], deps Deps) (*Client, error) {
	if deps.Clock == nil {
		deps.Clock = winnow.SystemClock{}
	}
	if deps.BaseURL == nil {
		deps.BaseURL = func() string { return "" }
	}
	tune := tuningFor(driver)
	if deps.PollInterval > 0 {
		tune.pollInterval = deps.PollInterval
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &optOutWorker{deps: deps})
	river.AddWorker(workers, &sendEmailWorker{deps: deps})
	river.AddWorker(workers, &sweepUploadsWorker{deps: deps})
	river.AddWorker(workers, &leverWriteWorker{deps: deps})
	river.AddWorker(workers, &leverDeliveryWorker{deps: deps})
	c, err := river.NewClient(driver, &river.Config{
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: tune.maxWorkers}},
		Logger:            deps.Logger.With("component", "river"),
		FetchCooldown:     min(tune.fetchCooldown, tune.pollInterval),
		FetchPollInterval: tune.pollInterval,
		MaxAttempts:       defaultMaxAttempts,
		// Every effect has its own claim (an email's, a Lever write's lease, a delivery's
		// status), so a job taken over while still running elsewhere does nothing twice.
		RescueStuckJobsAfter: deps.RescueAfter,
		// River refuses a rescue sooner than the default timeout of kinds that set
		// none; such kinds then time out at the rescue.
		JobTimeout: jobTimeout(deps.RescueAfter),
		// River's leader inserts periodic jobs, so one sweep starts per interval however
		// many processes work; the sweep is safe to run in several at once anyway.
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(uploadSweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SweepUploadsArgs{}, nil }, &river.PeriodicJobOpts{ID: "uploads_sweep"})},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}

// defaultJobTimeout bounds a run of the kinds that set no timeout of their own.
const defaultJobTimeout = time.Minute

// jobTimeout is defaultJobTimeout, or the rescue delay when that is shorter.
func jobTimeout(rescue time.Duration) time.Duration {
	if rescue > 0 && rescue < defaultJobTimeout {
		return rescue
	}
	return defaultJobTimeout
}

// defaultMaxAttempts bounds the attempts of kinds that do not set their own.
const defaultMaxAttempts = 10

// riverTuning is how the working client fetches and works jobs on one engine.
type riverTuning struct {
	// maxWorkers is how many jobs one process works at once.
	maxWorkers int
	// pollInterval is how often an idle process looks for new jobs. Neither engine
	// wakes the workers on insert here: SQLite has no LISTEN/NOTIFY, and River's
	// database/sql driver (riverdatabasesql, which the store's transactions need for
	// InsertTx) cannot LISTEN on PostgreSQL. So the poll is short: it bounds the
	// latency from a webhook to its processing, and from an invitation to its
	// CP-Sent tag (two hops, each waiting at most one poll).
	pollInterval time.Duration
	// fetchCooldown is the least time between two fetches while jobs keep coming;
	// with maxWorkers it bounds a busy process's rate at maxWorkers/fetchCooldown.
	fetchCooldown time.Duration
}

// The engines' tunings, measured with winnow bench process on 2 cores (README).
var (
	// sqliteTuning: SQLite lets one transaction write at a time, and River's fetch
	// and completion are writes, so more workers mostly queue for the lock (stack.md:
	// 50 workers reached 1,900 jobs/s, 100 reached 2,200); a poll is a write too, so
	// it stays at 100 ms.
	sqliteTuning = riverTuning{maxWorkers: 50, pollInterval: 100 * time.Millisecond, fetchCooldown: 10 * time.Millisecond}
	// postgresTuning: PostgreSQL works jobs in parallel (stack.md: 100 workers
	// reached ~9,000 jobs/s, 10 only 940); the pool (postgresMaxConns) bounds the
	// transactions at once, so more workers than that mostly wait on Lever's HTTP
	// calls, which is what they should be doing. A poll is one cheap query.
	postgresTuning = riverTuning{maxWorkers: 100, pollInterval: 50 * time.Millisecond, fetchCooldown: 10 * time.Millisecond}
)

// tuningFor returns the tuning of the driver's engine.
func tuningFor(driver riverdriver.Driver[*sql.Tx]) riverTuning {
	if _, ok := driver.(*riversqlite.Driver); ok {
		return sqliteTuning
	}
	return postgresTuning
}
