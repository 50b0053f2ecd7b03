package sqlstore

import (
	"context"

	"winnow"
)

// inviteBatch is how many applicants CreateApplicants writes per transaction: enough
// that they share one commit (one fsync on SQLite), few enough that the write lock is
// not held long (a pasted list of 500 is five transactions).
const inviteBatch = 100

// CreateApplicants stores new applicants as CreateApplicant does, inviteBatch of them
// per transaction, and returns one error per applicant, nil for those stored (whose ID
// and times it fills in). Each applicant is written under a savepoint, so that one the
// database refuses (an address already in the job: ECONFLICT) leaves the others of its
// batch alone; any other failure fails the whole batch, whose applicants then all
// carry that error.
func (s *Store) CreateApplicants(ctx context.Context, apps []*winnow.Applicant, actorID string) []error {
	errs := make([]error, len(apps))
	for start := 0; start < len(apps); start += inviteBatch {
		end := min(start+inviteBatch, len(apps))
		s.createBatch(ctx, apps[start:end], actorID, errs[start:end])
	}
	return errs
}

// createBatch writes apps in one transaction, putting each one's outcome in errs.
func (s *Store) createBatch(ctx context.Context, apps []*winnow.Applicant, actorID string, errs []error) {
	stored := make([]*winnow.Applicant, len(apps))
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		fail(err)
		return
	}
	defer rollback(tx)
	for i, a := range apps {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT invite_one`); err != nil {
			fail(err)
			return
		}
		na, err := s.createApplicantTx(ctx, tx, a, actorID)
		switch winnow.ErrorCode(err) {
		case "":
			stored[i] = na
		case winnow.ECONFLICT, winnow.EINVALID, winnow.ENOTFOUND:
			// Undo this one; on PostgreSQL the refused insert has also made the
			// transaction unusable until it goes back to the savepoint.
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT invite_one`); err != nil {
				fail(err)
				return
			}
			errs[i] = err
		default:
			fail(err)
			return
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT invite_one`); err != nil {
			fail(err)
			return
		}
	}
	if err := commit(tx); err != nil {
		fail(err)
		return
	}
	for i, na := range stored {
		if na != nil {
			*apps[i] = *na
		}
	}
}
