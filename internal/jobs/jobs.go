// Package jobs holds Winnow's background work as River job kinds and their workers, and
// the Effects function that enqueues them in the same transaction as the state change
// that calls for them.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"winnow"
)

// Deps is what the workers need.
type Deps struct {
	Applicants winnow.ApplicantService
	Clock      winnow.Clock
	Logger     *slog.Logger
}

// Client is River's client over database/sql, the same type on SQLite and PostgreSQL.
type Client = river.Client[*sql.Tx]

// NewClient builds the River client with every worker registered. With work false the
// client only inserts jobs (a web-only process); with work true it also works them.
func NewClient(driver riverdriver.Driver[*sql.Tx], deps Deps, work bool) (*Client, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &optOutWorker{deps: deps})
	cfg := &river.Config{
		Workers:           workers,
		Logger:            deps.Logger.With("component", "river"),
		FetchCooldown:     50 * time.Millisecond,
		FetchPollInterval: 500 * time.Millisecond,
		MaxAttempts:       10,
	}
	if work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}
	}
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}

// Effects returns the function the store calls inside each applicant change's
// transaction; it enqueues the jobs that carry the change's effects with InsertTx, so
// the change and its jobs commit together or not at all.
func Effects(client *Client) func(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error {
	return func(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error {
		switch ev.Kind {
		case winnow.EventInvited:
			args := OptOutArgs{OrgID: a.OrgID, ApplicantID: a.ID, Deadline: a.Deadline}
			_, err := client.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: a.Deadline})
			if err != nil {
				return fmt.Errorf("enqueue opt-out: %w", err)
			}
		}
		return nil
	}
}
