package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"winnow"
)

// Effects plans the background work that changes call for. The store calls it inside
// the transaction of each such change, after the change is written, with the
// transaction's view tx, so that the jobs carrying the change's effects (River's
// InsertManyTx on tx.SQL()) commit or roll back with it. An error rolls the whole
// change back. It must use only tx: on SQLite the pool may have no connection to spare.
// internal/jobs builds the one Winnow uses.
type Effects interface {
	// ApplicantChanged is called for every applicant change: its creation (ev is the
	// invited event) and each transition.
	ApplicantChanged(ctx context.Context, tx *Tx, a *winnow.Applicant, ev *winnow.Event) error
	// InviteCreated is called for a member invitation stored with its email.
	InviteCreated(ctx context.Context, tx *Tx, inv *winnow.Invite, e *winnow.Email) error
	// LeverDeliveriesRecorded is called for webhook deliveries from Lever stored to be
	// processed, one or a batch of them (group commit): it enqueues their processing
	// jobs.
	LeverDeliveriesRecorded(ctx context.Context, tx *Tx, ds []*winnow.LeverDelivery) error
	// LeverWritesAdded is called for writes to Lever the store added or put back in
	// the queue by itself (not through ApplicantChanged): it enqueues their jobs.
	LeverWritesAdded(ctx context.Context, tx *Tx, ws []*winnow.LeverWrite) error
	// LeverNeedsReconnecting is called when the org's Lever connection c turned to
	// needs reconnecting; incident counts those turns, so it names this one.
	LeverNeedsReconnecting(ctx context.Context, tx *Tx, c *winnow.LeverConnection, incident int) error
}

// Store implements the domain's OrgService, UserService, SessionService,
// InviteService, FunnelService, ApplicantService, AnswerService, ReviewService,
// APITokenService, EmailService, InvitationService and TemplateService on a DB.
type Store struct {
	db      *DB
	clock   winnow.Clock
	effects Effects

	insightsExact int // see exactLimit; 0 for the default

	apps applicationBatcher // group commit of ProcessLeverApplication
}

var (
	_ winnow.OrgService       = (*Store)(nil)
	_ winnow.UserService      = (*Store)(nil)
	_ winnow.SessionService   = (*Store)(nil)
	_ winnow.InviteService    = (*Store)(nil)
	_ winnow.FunnelService    = (*Store)(nil)
	_ winnow.ApplicantService = (*Store)(nil)
	_ winnow.AnswerService    = (*Store)(nil)
	_ winnow.ReviewService    = (*Store)(nil)
	_ winnow.APITokenService  = (*Store)(nil)
)

// NewStore returns a Store on db that stamps new rows with clock's time and plans the
// effects of changes with effects. A nil clock means the system clock; nil effects
// plan nothing, which only tests and the run-once commands want.
func NewStore(db *DB, clock winnow.Clock, effects Effects) *Store {
	if clock == nil {
		clock = winnow.SystemClock{}
	}
	return &Store{db: db, clock: clock, effects: effects}
}

// DB returns the database the store writes to.
func (s *Store) DB() *DB { return s.db }

// applicantChanged plans the effects of an applicant change in tx, if the store has
// effects.
func (s *Store) applicantChanged(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error {
	return s.plan("applicant", func(fx Effects) error { return fx.ApplicantChanged(ctx, s.view(tx), a, ev) })
}

// inviteCreated plans the effects of a new member invitation in tx, if the store has
// effects.
func (s *Store) inviteCreated(ctx context.Context, tx *sql.Tx, inv *winnow.Invite, e *winnow.Email) error {
	return s.plan("invite", func(fx Effects) error { return fx.InviteCreated(ctx, s.view(tx), inv, e) })
}

// plan runs call with the store's effects, if it has any; what names the change.
func (s *Store) plan(what string, call func(Effects) error) error {
	if s.effects == nil {
		return nil
	}
	if err := call(s.effects); err != nil {
		return fmt.Errorf("%s effects: %w", what, err)
	}
	return nil
}

// now returns the clock's time as stored.
func (s *Store) now() time.Time { return dbTime(s.clock.Now()) }

// dbTime is t as both engines store it: UTC, to the microsecond (PostgreSQL's
// precision), so a value read back is Equal to the value written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbTimePtr is dbTime for an optional time.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// nullTime is an optional time as a query argument.
func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

// timePtr is a scanned optional time, in UTC.
func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// newID returns a new UUIDv7: sortable by creation, unguessable enough for IDs that
// never grant access on their own.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// rollback ends tx after a failure; its own error adds nothing to the one returned.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// commit commits tx.
func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common, so that a write can run alone
// or as part of a larger transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
