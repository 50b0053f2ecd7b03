package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"

	"winnow"
)

// Counting a job's applicants per status by reading them (GROUP BY) costs as much as
// the job is large: 100,000 applicants took 25–50 ms on SQLite and over 100 ms on
// PostgreSQL, ten times a whole page. The store keeps the counts instead, in
// applicant_counts, in the transaction of every change that adds an applicant or moves
// one to another status, and sums a few rows to read them.

// countShards is how many rows one count is spread over. On PostgreSQL a change holds
// its count row's lock until it commits, so changes of one job in one status would
// wait for each other; spread by applicant, they rarely do. 64 rows, because with 8
// the Lever workers (100 per process, inviting into one job) queued on them: winnow
// bench process showed most transactions waiting on a count row's lock. SQLite has one
// writer at a time, so one row is enough.
func (db *DB) countShards() uint32 {
	if db.dialect == DialectPostgres {
		return 64
	}
	return 1
}

// countStatus adds delta to the count of the applicant's job in status, in tx. An
// applicant's changes always go to the same shard, so that no shard goes below zero.
func (s *Store) countStatus(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, status winnow.ApplicantStatus, delta int) error {
	r := s.countRowOf(a, string(status))
	_, err := tx.ExecContext(ctx, `INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id, funnel_id, status, shard) DO UPDATE SET n = applicant_counts.n + excluded.n`,
		r.org, r.funnel, r.status, r.shard, delta)
	if err != nil {
		return fmt.Errorf("count applicants: %w", err)
	}
	return nil
}

// countRowOf is the row of applicant_counts that counts the applicant in status (a
// status, or reachedPrefix and one).
func (s *Store) countRowOf(a *winnow.Applicant, status string) countRow {
	h := fnv.New32a()
	h.Write([]byte(a.ID))
	return countRow{org: a.OrgID, funnel: a.FunnelID, status: status, shard: int64(h.Sum32() % s.db.countShards())}
}

// reachedPrefix marks the rows of applicant_counts that count the applicants who ever
// reached a status (invited, in progress, submitted), beside the rows of those in it
// now. They only grow: an applicant counts once, when the status's time is first set.
const reachedPrefix = "reached:"

// countReached adds the applicant to the "ever reached" counts of the statuses whose
// times a has and was (nil for a new applicant) had not: invited for a new applicant,
// in progress once started, submitted once submitted.
func (s *Store) countReached(ctx context.Context, tx *sql.Tx, a, was *winnow.Applicant) error {
	for _, st := range reachedStatuses(a, was) {
		if err := s.countStatus(ctx, tx, a, reachedPrefix+st, 1); err != nil {
			return err
		}
	}
	return nil
}

// reachedStatuses are the statuses whose times a has and was (nil for a new
// applicant) had not, as countReached counts them.
func reachedStatuses(a, was *winnow.Applicant) []winnow.ApplicantStatus {
	var reached []winnow.ApplicantStatus
	if was == nil {
		reached = append(reached, winnow.StatusInvited)
	}
	if a.StartedAt != nil && (was == nil || was.StartedAt == nil) {
		reached = append(reached, winnow.StatusInProgress)
	}
	if a.SubmittedAt != nil && (was == nil || was.SubmittedAt == nil) {
		reached = append(reached, winnow.StatusSubmitted)
	}
	return reached
}

// countMove keeps the counts of an applicant who moved from one status to another, and
// the "ever reached" counts of an applicant who reached a status for the first time.
func (s *Store) countMove(ctx context.Context, tx *sql.Tx, a, was *winnow.Applicant) error {
	if err := s.countReached(ctx, tx, a, was); err != nil {
		return err
	}
	from := was.Status
	if from == a.Status {
		return nil
	}
	if err := s.countStatus(ctx, tx, a, from, -1); err != nil {
		return err
	}
	return s.countStatus(ctx, tx, a, a.Status, 1)
}

// CountStatuses returns how many of the org's applicants that filter keeps are in
// each status, from the kept counts; filter.Status is ignored. Statuses with no
// applicants are absent.
func (s *Store) CountStatuses(ctx context.Context, orgID string, filter winnow.ApplicantFilter) (map[winnow.ApplicantStatus]int, error) {
	return s.sumCounts(ctx, orgID, filter, false)
}

// CountReached returns how many of the org's applicants that filter keeps ever reached
// invited, in progress and submitted, from the kept counts: an applicant who has
// submitted counts in all three. filter.Status is ignored.
func (s *Store) CountReached(ctx context.Context, orgID string, filter winnow.ApplicantFilter) (map[winnow.ApplicantStatus]int, error) {
	return s.sumCounts(ctx, orgID, filter, true)
}

// sumCounts sums the kept counts that filter keeps, per status: those of the statuses
// applicants are in now, or with reached, those they ever reached.
func (s *Store) sumCounts(ctx context.Context, orgID string, filter winnow.ApplicantFilter, reached bool) (map[winnow.ApplicantStatus]int, error) {
	where, args := applicantWhere("applicant_counts", orgID, filter, false)
	op := "NOT LIKE"
	if reached {
		op = "LIKE"
	}
	where = append(where, `status `+op+` '`+reachedPrefix+`%'`)
	rows, err := s.db.db.QueryContext(ctx, `SELECT status, SUM(n) FROM applicant_counts WHERE `+strings.Join(where, ` AND `)+
		` GROUP BY status`, args...)
	if err != nil {
		return nil, fmt.Errorf("count applicants: %w", err)
	}
	defer rows.Close()
	counts := map[winnow.ApplicantStatus]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count applicants: %w", err)
		}
		if n > 0 {
			counts[winnow.ApplicantStatus(strings.TrimPrefix(status, reachedPrefix))] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count applicants: %w", err)
	}
	return counts, nil
}

// CountApplicants returns, per funnel ID, how many of the org's applicants are in each
// status, from the kept counts. Funnels without applicants are absent.
func (s *Store) CountApplicants(ctx context.Context, orgID string) (map[string]map[winnow.ApplicantStatus]int, error) {
	return s.sumCountsByJob(ctx, orgID, false)
}

// CountReachedByJob returns, per funnel ID, how many of the org's applicants ever
// reached invited, in progress and submitted, as CountReached does for one filter.
func (s *Store) CountReachedByJob(ctx context.Context, orgID string) (map[string]map[winnow.ApplicantStatus]int, error) {
	return s.sumCountsByJob(ctx, orgID, true)
}

// sumCountsByJob is sumCounts per job, for the whole org.
func (s *Store) sumCountsByJob(ctx context.Context, orgID string, reached bool) (map[string]map[winnow.ApplicantStatus]int, error) {
	op := "NOT LIKE"
	if reached {
		op = "LIKE"
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT funnel_id, status, SUM(n) FROM applicant_counts
		WHERE org_id = $1 AND status `+op+` '`+reachedPrefix+`%' GROUP BY funnel_id, status`, orgID)
	if err != nil {
		return nil, fmt.Errorf("count applicants: %w", err)
	}
	defer rows.Close()
	counts := map[string]map[winnow.ApplicantStatus]int{}
	for rows.Next() {
		var funnelID, status string
		var n int
		if err := rows.Scan(&funnelID, &status, &n); err != nil {
			return nil, fmt.Errorf("count applicants: %w", err)
		}
		if n <= 0 {
			continue
		}
		if counts[funnelID] == nil {
			counts[funnelID] = map[winnow.ApplicantStatus]int{}
		}
		counts[funnelID][winnow.ApplicantStatus(strings.TrimPrefix(status, reachedPrefix))] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count applicants: %w", err)
	}
	return counts, nil
}
