package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"winnow"
)

const answerColumns = `org_id, applicant_id, step_id, questions, text_answer, files, completed_at, updated_at`

// Person-readable messages of the answer and upload methods.
const (
	msgUploadNotFound  = "File not found."
	msgAnswersFinished = "This application can no longer be changed: it is not in progress."
)

// SaveStepAnswer stores the applicant's answer for a step, replacing an earlier one,
// and fills in UpdatedAt. Answers change only while the applicant is in progress, so a
// submitted or decided application never changes afterwards: any other status gives
// ECONFLICT and an applicant not in the org ENOTFOUND, both changing nothing. The status
// is checked in the same transaction as the write, so a concurrent submission cannot
// slip in between.
//
// The uploads the earlier answer named and this one does not (a video recorded again)
// are deleted in the same transaction and returned: their files are the caller's to
// remove, after this commit, so that no file goes while a committed row still names it.
// A crash in between leaves files without rows, which the upload sweep removes.
func (s *Store) SaveStepAnswer(ctx context.Context, a *winnow.StepAnswer) ([]*winnow.Upload, error) {
	if a.OrgID == "" || a.ApplicantID == "" || a.StepID == "" {
		return nil, winnow.Errorf(winnow.EINVALID, "An answer needs an applicant and a step.")
	}
	na := *a
	normalizeAnswer(&na)
	na.UpdatedAt = s.now()
	questions, err := json.Marshal(nonNilMap(na.Questions))
	if err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	files, err := json.Marshal(nonNilMap(na.Files))
	if err != nil {
		return nil, fmt.Errorf("encode answer files: %w", err)
	}
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	if err := s.lockInProgress(ctx, tx, na.OrgID, na.ApplicantID); err != nil {
		return nil, err
	}
	replaced, err := s.deleteReplacedUploads(ctx, tx, &na)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO step_answers (`+answerColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org_id, applicant_id, step_id) DO UPDATE SET questions = excluded.questions,
			text_answer = excluded.text_answer, files = excluded.files,
			completed_at = excluded.completed_at, updated_at = excluded.updated_at`,
		na.OrgID, na.ApplicantID, na.StepID, string(questions), na.Text, string(files),
		nullTime(na.CompletedAt), na.UpdatedAt)
	switch {
	case isForeignKey(err):
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgApplicantNotFound)
	case err != nil:
		return nil, fmt.Errorf("save step answer: %w", err)
	}
	if err := refreshInsight(ctx, tx, s.db.dialect, na.OrgID, na.ApplicantID); err != nil {
		return nil, err
	}
	if err := refreshQuestionInsights(ctx, tx, s.db.dialect, na.OrgID, na.ApplicantID); err != nil {
		return nil, err
	}
	if err := commit(tx); err != nil {
		return nil, err
	}
	*a = na
	return replaced, nil
}

// deleteReplacedUploads deletes, in tx, the applicant's uploads that the stored answer
// for a's step names and a does not, and returns them. The applicant's row is locked,
// so no other save of theirs runs between the read and the write.
func (s *Store) deleteReplacedUploads(ctx context.Context, tx *sql.Tx, a *winnow.StepAnswer) ([]*winnow.Upload, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT files FROM step_answers WHERE org_id = $1 AND applicant_id = $2 AND step_id = $3`,
		a.OrgID, a.ApplicantID, a.StepID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load earlier answer files: %w", err)
	}
	var before map[string]string
	if err := json.Unmarshal(raw, &before); err != nil {
		return nil, fmt.Errorf("decode earlier answer files: %w", err)
	}
	keep := make(map[string]bool, len(a.Files))
	for _, id := range a.Files {
		keep[id] = true
	}
	var gone []*winnow.Upload
	for _, id := range before {
		if keep[id] {
			continue
		}
		keep[id] = true // an ID named twice is deleted once
		u, err := scanUpload(tx.QueryRowContext(ctx, `DELETE FROM uploads WHERE org_id = $1 AND applicant_id = $2 AND id = $3
			RETURNING `+uploadColumns, a.OrgID, a.ApplicantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			continue // already gone
		}
		if err != nil {
			return nil, fmt.Errorf("delete replaced upload: %w", err)
		}
		gone = append(gone, u)
	}
	return gone, nil
}

// lockInProgress locks the org's applicant row for the rest of tx and reports
// ENOTFOUND when there is none and ECONFLICT unless it is in progress.
func (s *Store) lockInProgress(ctx context.Context, tx *sql.Tx, orgID, applicantID string) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM applicants WHERE org_id = $1 AND id = $2`+s.db.forUpdate(),
		orgID, applicantID).Scan(&status)
	if err != nil {
		return lookupErr(err, msgApplicantNotFound, "load applicant")
	}
	if winnow.ApplicantStatus(status) != winnow.StatusInProgress {
		return winnow.Errorf(winnow.ECONFLICT, msgAnswersFinished)
	}
	return nil
}

// ListStepAnswers returns the org's applicant's answers, oldest first. An applicant of
// another org, or none, has no answers.
func (s *Store) ListStepAnswers(ctx context.Context, orgID, applicantID string) ([]*winnow.StepAnswer, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+answerColumns+` FROM step_answers
		WHERE org_id = $1 AND applicant_id = $2 ORDER BY updated_at, step_id`, orgID, applicantID)
	if err != nil {
		return nil, fmt.Errorf("list step answers: %w", err)
	}
	defer rows.Close()
	var list []*winnow.StepAnswer
	for rows.Next() {
		var a winnow.StepAnswer
		var questions, files []byte
		var completed sql.NullTime
		if err := rows.Scan(&a.OrgID, &a.ApplicantID, &a.StepID, &questions, &a.Text, &files, &completed, &a.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list step answers: %w", err)
		}
		if err := json.Unmarshal(questions, &a.Questions); err != nil {
			return nil, fmt.Errorf("decode answers of applicant %s: %w", applicantID, err)
		}
		if err := json.Unmarshal(files, &a.Files); err != nil {
			return nil, fmt.Errorf("decode answer files of applicant %s: %w", applicantID, err)
		}
		a.CompletedAt, a.UpdatedAt = timePtr(completed), a.UpdatedAt.UTC()
		normalizeAnswer(&a)
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list step answers: %w", err)
	}
	return list, nil
}

// normalizeAnswer makes a as it reads back: empty maps and value lists are nil and
// times are as the database stores them.
func normalizeAnswer(a *winnow.StepAnswer) {
	if len(a.Questions) == 0 {
		a.Questions = nil
	}
	for id, v := range a.Questions {
		if len(v) == 0 {
			a.Questions[id] = nil
		}
	}
	if len(a.Files) == 0 {
		a.Files = nil
	}
	a.CompletedAt = dbTimePtr(a.CompletedAt)
}

// nonNilMap returns m, or an empty map for nil, so that JSON says {} rather than null.
func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// encodeSteps is an applicant's step snapshot as stored: a JSON array, never null.
func encodeSteps(steps []winnow.Step) (string, error) {
	if steps == nil {
		steps = []winnow.Step{}
	}
	b, err := json.Marshal(steps)
	if err != nil {
		return "", fmt.Errorf("encode steps: %w", err)
	}
	return string(b), nil
}

// decodeSteps reads a stored step snapshot back; an empty one is nil, as it was written.
func decodeSteps(b []byte) ([]winnow.Step, error) {
	var steps []winnow.Step
	if err := json.Unmarshal(b, &steps); err != nil {
		return nil, fmt.Errorf("decode steps: %w", err)
	}
	if len(steps) == 0 {
		return nil, nil
	}
	return steps, nil
}
