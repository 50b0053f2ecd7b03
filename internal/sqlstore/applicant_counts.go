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
	h := fnv.New32a()
	h.Write([]byte(a.ID))
	shard := h.Sum32() % s.db.countShards()
	_, err := tx.ExecContext(ctx, `INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id, funnel_id, status, shard) DO UPDATE SET n = applicant_counts.n + excluded.n`,
		a.OrgID, a.FunnelID, string(status), int64(shard), delta)
	if err != nil {
		return fmt.Errorf("count applicants: %w", err)
	}
	return nil
}

// countMove keeps the counts of an applicant who moved from one status to another.
func (s *Store) countMove(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, from winnow.ApplicantStatus) error {
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
	where, args := applicantWhere("applicant_counts", orgID, filter, false)
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
			counts[winnow.ApplicantStatus(status)] = n
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
	rows, err := s.db.db.QueryContext(ctx, `SELECT funnel_id, status, SUM(n) FROM applicant_counts
		WHERE org_id = $1 GROUP BY funnel_id, status`, orgID)
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
		counts[funnelID][winnow.ApplicantStatus(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count applicants: %w", err)
	}
	return counts, nil
}
