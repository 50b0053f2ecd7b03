package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// Tx is the transaction of a change as planners see it: the transaction itself, for
// River, and what planners read and write in it. The store's view of a transaction
// (*sqlstore.Tx) implements it; jobs declares only what its planners use.
type Tx interface {
	// SQL returns the transaction, for River's InsertManyTx.
	SQL() *sql.Tx
	EmailTx
	LeverTx
}

// Change is one change the store has written, as planners see it: an applicant's
// creation or transition (Applicant and Event), a member invitation stored with its
// email (Invite and Email), or an org's Lever connection that turned to needs
// reconnecting (Lever, and Incident, which numbers those turns).
type Change struct {
	Applicant *winnow.Applicant
	Event     *winnow.Event
	Invite    *winnow.Invite
	Email     *winnow.Email
	Lever     *winnow.LeverConnection
	Incident  int
}

// Planner turns a change into the River jobs that carry one kind of its effects,
// writing in tx the rows those jobs work on (emails, …). It is called inside the
// change's transaction and must use only tx. A change it has nothing to do with gives
// no jobs and no error.
type Planner interface {
	Plan(ctx context.Context, tx Tx, c Change) ([]river.InsertManyParams, error)
}

// Effects is the store's effects function: it asks each planner for the jobs a change
// calls for and inserts them all in the change's transaction (riverRows: those it can
// write as River writes them, unique by args included; the rest with InsertManyTx),
// so the change and its jobs commit together or not at all. T is the store's transaction
// view, *sqlstore.Tx, so that *Effects[T] implements sqlstore.Effects without this
// package importing sqlstore.
type Effects[T Tx] struct {
	rows     *riverRows
	planners []Planner
	pacer    *DeliveryPacer
}

// NewEffects composes planners into the effects function. inserter only inserts jobs;
// it is built before the store (see NewInserter), the working client after it.
func NewEffects[T Tx](inserter *Client, planners ...Planner) *Effects[T] {
	// NewInserter sets no MaxAttempts, so River's default is the inserter's.
	return &Effects[T]{rows: newRiverRows(inserter, river.MaxAttemptsDefault), planners: planners}
}

// PaceDeliveries makes the effects give webhook deliveries their priority from p, so
// that one org's backlog does not hold up another's candidates; without it every
// delivery has the same priority. It returns e.
func (e *Effects[T]) PaceDeliveries(p *DeliveryPacer) *Effects[T] {
	e.pacer = p
	return e
}

// ApplicantChanged plans the effects of the applicant change ev.
func (e *Effects[T]) ApplicantChanged(ctx context.Context, tx T, a *winnow.Applicant, ev *winnow.Event) error {
	if err := e.plan(ctx, tx, Change{Applicant: a, Event: ev}); err != nil {
		return fmt.Errorf("%s effects: %w", ev.Kind, err)
	}
	return nil
}

// InviteCreated plans the effects of the member invitation inv and its email em.
func (e *Effects[T]) InviteCreated(ctx context.Context, tx T, inv *winnow.Invite, em *winnow.Email) error {
	if err := e.plan(ctx, tx, Change{Invite: inv, Email: em}); err != nil {
		return fmt.Errorf("invitation effects: %w", err)
	}
	return nil
}

// LeverDeliveriesRecorded enqueues the processing jobs of the webhook deliveries ds,
// stored in tx, in a few multi-row INSERTs however many a batch holds (riverRows).
// Intake calls it for every batch of its group commit.
func (e *Effects[T]) LeverDeliveriesRecorded(ctx context.Context, tx T, ds []*winnow.LeverDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ds))
	now := time.Now() // wall clock: the pace is about real time, even when tests freeze the domain's
	for i, d := range ds {
		params[i] = deliveryParams(d, e.pacer.priority(d.OrgID, d.Event, now))
	}
	if err := e.rows.insert(ctx, tx.SQL(), params); err != nil {
		return fmt.Errorf("enqueue lever delivery: %w", err)
	}
	return nil
}

// LeverWritesAdded enqueues the jobs of writes to Lever stored (or retried) in tx.
func (e *Effects[T]) LeverWritesAdded(ctx context.Context, tx T, ws []*winnow.LeverWrite) error {
	if len(ws) == 0 {
		return nil
	}
	if err := e.rows.insert(ctx, tx.SQL(), leverWriteParams(ws)); err != nil {
		return fmt.Errorf("enqueue lever writes: %w", err)
	}
	return nil
}

// LeverNeedsReconnecting plans the effects of the org's Lever connection c turning to
// needs reconnecting, for the incident-th time.
func (e *Effects[T]) LeverNeedsReconnecting(ctx context.Context, tx T, c *winnow.LeverConnection, incident int) error {
	if err := e.plan(ctx, tx, Change{Lever: c, Incident: incident}); err != nil {
		return fmt.Errorf("lever needs reconnecting effects: %w", err)
	}
	return nil
}

func (e *Effects[T]) plan(ctx context.Context, tx Tx, c Change) error {
	var params []river.InsertManyParams
	for _, p := range e.planners {
		ps, err := p.Plan(ctx, tx, c)
		if err != nil {
			return err
		}
		params = append(params, ps...)
	}
	if len(params) == 0 {
		return nil
	}
	if c, ok := tx.(jobCollector); ok && c.CollectJobs(e.insertJobs, params) {
		return nil
	}
	return e.insertJobs(ctx, tx.SQL(), params)
}

// insertJobs inserts jobs in tx (riverRows).
func (e *Effects[T]) insertJobs(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error {
	if err := e.rows.insert(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// jobCollector is a transaction view that may take a change's jobs to insert them
// later in the same transaction, with those of other changes: the store does so for
// the changes of one batch (its group commit of Lever applications), which then cost
// one insert for the batch instead of one each.
type jobCollector interface {
	CollectJobs(insert func(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error, params []river.InsertManyParams) bool
}
