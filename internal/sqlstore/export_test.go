package sqlstore

import (
	"context"
	"fmt"

	"winnow"
)

// MigrateTo applies Winnow's migrations up to and including version, so that a test can
// put rows in an older schema and check what a later migration makes of them.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s to %d: %w", db.dialect, version, err)
	}
	return nil
}

// Queued returns how many requests wait for the committer, so that a test can fill a
// batch before letting it commit.
func (b *IntakeBatcher) Queued() int { return len(b.queue) }

// ApplicationRequest is one delivery of ProcessLeverApplicationBatch.
type ApplicationRequest struct {
	OrgID, DeliveryID, Token string
	C                        winnow.LeverCandidate
}

// ProcessLeverApplicationBatch processes the requests as one batch, as concurrent
// calls of ProcessLeverApplication are when they meet, and returns each outcome.
func (s *Store) ProcessLeverApplicationBatch(ctx context.Context, reqs []ApplicationRequest) ([]*winnow.LeverDelivery, []error) {
	batch := make([]*applicationRequest, len(reqs))
	for i, r := range reqs {
		batch[i] = &applicationRequest{ctx: ctx, orgID: r.OrgID, deliveryID: r.DeliveryID, token: r.Token, c: r.C,
			answered: make(chan struct{}), lead: make(chan []*applicationRequest, 1)}
	}
	s.processApplications(ctx, batch)
	ds, errs := make([]*winnow.LeverDelivery, len(reqs)), make([]error, len(reqs))
	for i, r := range batch {
		<-r.answered
		ds[i], errs[i] = r.d, r.err
	}
	return ds, errs
}

// AnalyzeGrown runs one round of PostgreSQL's statistics keeper (pgstats.go) now and
// returns the tables it analysed.
func (db *DB) AnalyzeGrown(ctx context.Context) ([]string, error) { return db.analyzeGrown(ctx) }

// StatsLockKey is the advisory lock the statistics keeper holds while it analyses.
const StatsLockKey = int64(statsLockKey)
