package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"winnow"
)

// EffectsFunc is called inside the transaction of every applicant change (creation
// and each transition), after the applicant row and its event are written, so that the
// caller can enqueue the River jobs carrying the change's effects with
// client.InsertManyTx(ctx, tx, …). Returning an error rolls the whole change back.
// It must use only tx: on SQLite the pool may have no connection to spare.
type EffectsFunc func(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error

// Store implements the domain's OrgService, UserService, SessionService,
// InviteService, FunnelService, ApplicantService, AnswerService, ReviewService and
// APITokenService on a DB.
type Store struct {
	db      *DB
	clock   winnow.Clock
	effects atomic.Pointer[EffectsFunc]
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

// NewStore returns a Store on db that stamps new rows with clock's time. A nil clock
// means the system clock.
func NewStore(db *DB, clock winnow.Clock) *Store {
	if clock == nil {
		clock = winnow.SystemClock{}
	}
	return &Store{db: db, clock: clock}
}

// DB returns the database the store writes to.
func (s *Store) DB() *DB { return s.db }

// SetEffects sets the function called inside every applicant change's transaction;
// nil removes it. It is safe to call while the store is in use.
func (s *Store) SetEffects(fn EffectsFunc) {
	if fn == nil {
		s.effects.Store(nil)
		return
	}
	s.effects.Store(&fn)
}

// runEffects calls the effects function, if any, inside tx.
func (s *Store) runEffects(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error {
	fn := s.effects.Load()
	if fn == nil {
		return nil
	}
	if err := (*fn)(ctx, tx, a, ev); err != nil {
		return fmt.Errorf("applicant effects: %w", err)
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
