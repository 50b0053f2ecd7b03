package sqlstore

import (
	"context"
	"fmt"
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
