package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"

	"winnow"
)

// Tx is the view of one change's transaction that Effects works in: the reads and
// writes that planning a change's effects needs, all on the transaction, so that they
// commit or roll back with the change. It is valid only during the Effects call (or
// the WithTx function) it is handed to.
type Tx struct {
	s  *Store
	tx *sql.Tx
	b  *txBatch // the batch the change is one of (applicationBatcher), or nil
}

// view returns the view of tx.
func (s *Store) view(tx *sql.Tx) *Tx { return &Tx{s: s, tx: tx} }

// viewIn returns the view of tx as one change of the batch b (nil: none).
func (s *Store) viewIn(tx *sql.Tx, b *txBatch) *Tx { return &Tx{s: s, tx: tx, b: b} }

// CollectJobs takes the jobs that the effects of a change in a batch call for, to be
// inserted with insert once for the whole batch, before its commit; it reports false,
// taking nothing, when the change is not in a batch, and the caller then inserts them.
func (t *Tx) CollectJobs(insert func(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error, params []river.InsertManyParams) bool {
	if t.b == nil {
		return false
	}
	t.b.collect(insert, params)
	return true
}

// SQL returns the transaction itself, for River's InsertTx and InsertManyTx.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// WithTx runs fn in a new transaction, committed when fn returns nil and rolled back
// otherwise. It is for planning effects in bulk outside a single change, as the
// scheduling benchmark does, and for tests.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := fn(s.view(tx)); err != nil {
		return err
	}
	return commit(tx)
}

// FindFunnel returns the org's funnel, without its team.
func (t *Tx) FindFunnel(ctx context.Context, orgID, id string) (*winnow.Funnel, error) {
	if t.b != nil {
		if f := t.b.funnels[[2]string{orgID, id}]; f != nil {
			return f, nil
		}
	}
	f, err := scanFunnel(t.tx.QueryRowContext(ctx, `SELECT `+funnelColumns+` FROM funnels WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgFunnelNotFound, "find funnel")
	}
	return f, nil
}

// TemplateEnabled reports whether the template in force for kind is switched on; it
// decides whether a closing message is queued at all.
func (t *Tx) TemplateEnabled(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (bool, error) {
	tpl, err := findTemplate(ctx, t.tx, orgID, funnelID, kind)
	if err != nil {
		return false, fmt.Errorf("template enabled: %w", err)
	}
	return tpl.Enabled, nil
}
