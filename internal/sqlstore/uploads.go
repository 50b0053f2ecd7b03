package sqlstore

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"winnow"
)

const uploadColumns = `id, org_id, applicant_id, step_id, item, name, content_type, size, path, created_at, duration_ms`

// CreateUpload records a file the org's applicant uploaded and fills in ID and
// CreatedAt. Like answers, uploads are taken only while the applicant is in progress
// (ECONFLICT otherwise); an applicant not in the org gives ENOTFOUND. The file itself
// must already be in place: the row only says whose it is.
//
// With budget above zero, a file that would take the applicant's uploads together past
// budget bytes gives ETOOLARGE. The sum is read under the applicant's row lock, so
// uploads arriving at once cannot together slip past the budget.
func (s *Store) CreateUpload(ctx context.Context, u *winnow.Upload, budget int64) error {
	if err := validateUpload(u); err != nil {
		return err
	}
	nu := *u
	nu.ID, nu.CreatedAt = newID(), s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := s.lockInProgress(ctx, tx, nu.OrgID, nu.ApplicantID); err != nil {
		return err
	}
	if budget > 0 {
		used, err := uploadedBytes(ctx, tx, nu.OrgID, nu.ApplicantID)
		if err != nil {
			return err
		}
		if used > budget-nu.Size {
			return winnow.Errorf(winnow.ETOOLARGE, "This application already holds as many uploaded files as it may: %d MB.", budget>>20)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO uploads (`+uploadColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		nu.ID, nu.OrgID, nu.ApplicantID, nu.StepID, nu.Item, nu.Name, nu.ContentType, nu.Size, nu.Path, nu.CreatedAt, nu.DurationMs)
	switch {
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgApplicantNotFound)
	case isUnique(err, "path"):
		return winnow.Errorf(winnow.ECONFLICT, "This file is already recorded.")
	case err != nil:
		return fmt.Errorf("insert upload: %w", err)
	}
	if err := commit(tx); err != nil {
		return err
	}
	*u = nu
	return nil
}

// validateUpload checks what the row needs. The path must stay inside the uploads
// folder: it is relative, clean and never climbs out.
func validateUpload(u *winnow.Upload) error {
	switch {
	case u.OrgID == "" || u.ApplicantID == "" || u.StepID == "" || u.Item == "":
		return winnow.Errorf(winnow.EINVALID, "An upload needs an applicant, a step and an item.")
	case u.ContentType == "":
		return winnow.Errorf(winnow.EINVALID, "An upload needs a content type.")
	case u.Size < 0:
		return winnow.Errorf(winnow.EINVALID, "An upload cannot have a negative size.")
	case u.Path == "" || path.IsAbs(u.Path) || path.Clean(u.Path) != u.Path || u.Path == ".." ||
		strings.HasPrefix(u.Path, "../") || strings.Contains(u.Path, `\`):
		return winnow.Errorf(winnow.EINVALID, "An upload's path must be relative to the uploads folder.")
	case len(u.Name) > 255:
		return winnow.Errorf(winnow.EINVALID, "The file name must be at most 255 characters.")
	}
	return nil
}

// FindUpload returns the org's upload or ENOTFOUND.
func (s *Store) FindUpload(ctx context.Context, orgID, id string) (*winnow.Upload, error) {
	u, err := scanUpload(s.db.db.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgUploadNotFound, "find upload")
	}
	return u, nil
}

// scanUpload reads one row of uploadColumns.
func scanUpload(row interface{ Scan(...any) error }) (*winnow.Upload, error) {
	var u winnow.Upload
	if err := row.Scan(&u.ID, &u.OrgID, &u.ApplicantID, &u.StepID, &u.Item, &u.Name, &u.ContentType, &u.Size, &u.Path, &u.CreatedAt, &u.DurationMs); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// UploadedBytes returns how many bytes the org's applicant's recorded uploads take
// together; an applicant of another org, or none, has none.
func (s *Store) UploadedBytes(ctx context.Context, orgID, applicantID string) (int64, error) {
	return uploadedBytes(ctx, s.db.db, orgID, applicantID)
}

func uploadedBytes(ctx context.Context, q querier, orgID, applicantID string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM uploads WHERE org_id = $1 AND applicant_id = $2`,
		orgID, applicantID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sum uploads: %w", err)
	}
	return n, nil
}

// DeleteUnusedUploads deletes up to limit upload rows, of any org, that were recorded
// before the cutoff and that no answer names, and returns them so that the caller
// removes their files. Such rows are left when a file was recorded but the answer
// naming it was never saved (the application was submitted meanwhile, or the process
// stopped). Several processes may run it at once: each row is deleted, and returned,
// by one of them only.
func (s *Store) DeleteUnusedUploads(ctx context.Context, before time.Time, limit int) ([]*winnow.Upload, error) {
	rows, err := s.db.db.QueryContext(ctx, `DELETE FROM uploads WHERE id IN (
			SELECT u.id FROM uploads u WHERE u.created_at < $1 AND NOT EXISTS (
				SELECT 1 FROM step_answers a WHERE a.org_id = u.org_id AND a.applicant_id = u.applicant_id
					AND a.step_id = u.step_id AND a.files ->> u.item = u.id)
			ORDER BY u.created_at LIMIT $2)
		RETURNING `+uploadColumns, dbTime(before), limit)
	if err != nil {
		return nil, fmt.Errorf("delete unused uploads: %w", err)
	}
	defer rows.Close()
	var out []*winnow.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("delete unused uploads: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete unused uploads: %w", err)
	}
	return out, nil
}

// KnownUploadPaths reports which of paths (relative to the uploads folder) an upload
// row names, of any org.
func (s *Store) KnownUploadPaths(ctx context.Context, paths []string) (map[string]bool, error) {
	known := make(map[string]bool, len(paths))
	if len(paths) == 0 {
		return known, nil
	}
	args := make([]any, len(paths))
	marks := make([]string, len(paths))
	for i, p := range paths {
		args[i], marks[i] = p, "$"+strconv.Itoa(i+1)
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT path FROM uploads WHERE path IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find upload paths: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("find upload paths: %w", err)
		}
		known[p] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find upload paths: %w", err)
	}
	return known, nil
}
