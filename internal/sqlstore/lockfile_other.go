//go:build !unix

package sqlstore

import "context"

// lockFile does nothing where advisory file locks are not available: there, only one
// process should migrate a SQLite database at a time.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
