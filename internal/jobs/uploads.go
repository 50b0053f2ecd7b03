package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// OrphanUploadAge is how old an upload row that no answer names, or a file that no
// row names, must be before the sweep removes it. An upload in flight is briefly both:
// its file is kept before its row is written, and its row before the answer that
// names it. A day leaves any request time to finish.
const OrphanUploadAge = 24 * time.Hour

// uploadSweepInterval is how often the sweep runs.
const uploadSweepInterval = time.Hour

// uploadSweepBatch is how many rows or paths the sweep handles per query.
const uploadSweepBatch = 500

// UploadStore is what the upload sweep needs of the database.
type UploadStore interface {
	// DeleteUnusedUploads deletes up to limit upload rows recorded before the cutoff that
	// no answer names, and returns them.
	DeleteUnusedUploads(ctx context.Context, before time.Time, limit int) ([]*winnow.Upload, error)
	// KnownUploadPaths reports which of the paths an upload row names.
	KnownUploadPaths(ctx context.Context, paths []string) (map[string]bool, error)
}

// UploadFiles is what the upload sweep needs of the bucket of uploaded files.
type UploadFiles interface {
	// Walk calls fn with the path and last write time of every file in the bucket.
	Walk(ctx context.Context, fn func(rel string, modTime time.Time) error) error
	// Remove deletes a file; one already gone is not an error.
	Remove(ctx context.Context, rel string) error
}

// SweepUploadsArgs removes what uploads leave behind: rows that no answer names (the
// answer was never saved) with their files, files that no row names (a crash between
// writing the file and its row, or between deleting a replaced file's row and the
// file), and the temporary files a folder bucket lists for uploads never finished. It
// works through the bucket's listing, so it serves a folder and a shared S3 bucket
// alike. Only what is older than OrphanUploadAge goes. River inserts it every
// uploadSweepInterval; any number may run at once, in any processes sharing the
// database and the bucket.
type SweepUploadsArgs struct{}

// Kind names the job in River's table.
func (SweepUploadsArgs) Kind() string { return "uploads_sweep" }

type sweepUploadsWorker struct {
	river.WorkerDefaults[SweepUploadsArgs]
	deps Deps
}

// Timeout bounds one sweep: it lists the whole bucket.
func (w *sweepUploadsWorker) Timeout(*river.Job[SweepUploadsArgs]) time.Duration {
	return 30 * time.Minute
}

func (w *sweepUploadsWorker) Work(ctx context.Context, job *river.Job[SweepUploadsArgs]) error {
	if w.deps.Uploads == nil || w.deps.Files == nil {
		return river.JobCancel(errors.New("uploads are not configured in this process"))
	}
	rows, files, err := sweepUploads(ctx, w.deps.Uploads, w.deps.Files, w.deps.Clock.Now().Add(-OrphanUploadAge))
	if rows > 0 || files > 0 {
		w.deps.Logger.InfoContext(ctx, "swept unused uploads", "rows", rows, "files", files, "job_id", job.ID)
	}
	if err != nil {
		return fmt.Errorf("sweep uploads: %w", err)
	}
	return nil
}

// sweepUploads removes upload rows recorded before the cutoff that no answer names,
// then their files, then files last written before the cutoff that no row names (a
// folder bucket's leftover temporary files among them). It returns how many rows and
// files (theirs included) it removed. A file goes only after its row is gone, never
// the other way round.
func sweepUploads(ctx context.Context, store UploadStore, files UploadFiles, before time.Time) (rows, removed int, err error) {
	for {
		gone, err := store.DeleteUnusedUploads(ctx, before, uploadSweepBatch)
		if err != nil {
			return rows, removed, err
		}
		rows += len(gone)
		for _, u := range gone {
			if err := files.Remove(ctx, u.Path); err != nil {
				return rows, removed, err
			}
			removed++
		}
		if len(gone) < uploadSweepBatch {
			break
		}
	}
	var batch []string
	flush := func() error {
		known, err := store.KnownUploadPaths(ctx, batch)
		if err != nil {
			return err
		}
		for _, p := range batch {
			if known[p] {
				continue
			}
			if err := files.Remove(ctx, p); err != nil {
				return err
			}
			removed++
		}
		batch = batch[:0]
		return nil
	}
	err = files.Walk(ctx, func(rel string, modTime time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A file written since the cutoff may belong to an upload in flight whose row
		// is not written yet.
		if !modTime.Before(before) {
			return nil
		}
		if batch = append(batch, rel); len(batch) == uploadSweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return rows, removed, err
}
