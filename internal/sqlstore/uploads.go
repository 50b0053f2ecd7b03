package sqlstore

import (
	"context"
	"fmt"
	"path"
	"strings"

	"winnow"
)

const uploadColumns = `id, org_id, applicant_id, step_id, item, name, content_type, size, path, created_at`

// CreateUpload records a file the org's applicant uploaded and fills in ID and
// CreatedAt. Like answers, uploads are taken only while the applicant is in progress
// (ECONFLICT otherwise); an applicant not in the org gives ENOTFOUND. The file itself
// must already be in place: the row only says whose it is.
func (s *Store) CreateUpload(ctx context.Context, u *winnow.Upload) error {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO uploads (`+uploadColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		nu.ID, nu.OrgID, nu.ApplicantID, nu.StepID, nu.Item, nu.Name, nu.ContentType, nu.Size, nu.Path, nu.CreatedAt)
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
	var u winnow.Upload
	err := s.db.db.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE org_id = $1 AND id = $2`, orgID, id).
		Scan(&u.ID, &u.OrgID, &u.ApplicantID, &u.StepID, &u.Item, &u.Name, &u.ContentType, &u.Size, &u.Path, &u.CreatedAt)
	if err != nil {
		return nil, lookupErr(err, msgUploadNotFound, "find upload")
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}
