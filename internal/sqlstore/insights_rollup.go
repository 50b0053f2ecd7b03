package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"winnow"
)

// The insights rollup, rewritten in the same transaction as every change to an
// applicant, their answers or their reviews:
//
//   - applicant_insights: one row per applicant, in whole seconds: when each stage was
//     reached (from the applicant row, which the transition writes with its timeline
//     entry), why they opted out (from the timeline), steps completed, reminders sent
//     before the start, review scores;
//   - question_insights: one row per answered question, knocked out or not;
//   - insight_days: counts per job and day of invitation (metric and key: "started",
//     a step's stops, a question's answers, a duration's bucket, a reviewer's scores…),
//     moved from what the applicant's rows counted to what they count now.
//
// A job's insights for a range of days are then a range read of insight_days: a few
// thousand rows however many applicants and timeline entries the job has (see
// BenchmarkInsights and the README), where reading the timeline itself took seconds.
// On SQLite the tables are WITHOUT ROWID, so a range is the table itself.

// insightsVersion is the goose version of the Go migration that creates the rollup
// and fills it from the applicants already stored.
const insightsVersion = 15

var insightsDDL = map[string][]string{
	DialectSQLite: {
		`CREATE TABLE applicant_insights (
			org_id       TEXT NOT NULL,
			funnel_id    TEXT NOT NULL,
			invited_s    INTEGER NOT NULL,
			applicant_id TEXT NOT NULL,
			status       TEXT NOT NULL,
			started_s    INTEGER,
			submitted_s  INTEGER,
			decided_s    INTEGER,
			knocked_out  INTEGER NOT NULL DEFAULT 0,
			opt_out      TEXT NOT NULL DEFAULT '',
			steps_done   INTEGER NOT NULL DEFAULT 0,
			reminders    INTEGER NOT NULL DEFAULT 0,
			review_n     INTEGER NOT NULL DEFAULT 0,
			score_sum    INTEGER NOT NULL DEFAULT 0,
			score_min    INTEGER NOT NULL DEFAULT 0,
			score_max    INTEGER NOT NULL DEFAULT 0,
			review_scores TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (org_id, funnel_id, invited_s, applicant_id)
		) WITHOUT ROWID`,
		`CREATE TABLE insight_days (
			org_id    TEXT NOT NULL,
			funnel_id TEXT NOT NULL,
			day       INTEGER NOT NULL,
			metric    TEXT NOT NULL,
			key       TEXT NOT NULL,
			shard     INTEGER NOT NULL,
			n         INTEGER NOT NULL,
			PRIMARY KEY (org_id, funnel_id, day, metric, key, shard)
		) WITHOUT ROWID`,
		`CREATE TABLE question_insights (
			org_id       TEXT NOT NULL,
			funnel_id    TEXT NOT NULL,
			invited_s    INTEGER NOT NULL,
			applicant_id TEXT NOT NULL,
			question_id  TEXT NOT NULL,
			knocked_out  INTEGER NOT NULL,
			PRIMARY KEY (org_id, funnel_id, invited_s, applicant_id, question_id)
		) WITHOUT ROWID`,
	},
	DialectPostgres: {
		`CREATE TABLE applicant_insights (
			org_id       TEXT NOT NULL,
			funnel_id    TEXT NOT NULL,
			invited_s    BIGINT NOT NULL,
			applicant_id TEXT NOT NULL,
			status       TEXT NOT NULL,
			started_s    BIGINT,
			submitted_s  BIGINT,
			decided_s    BIGINT,
			knocked_out  INTEGER NOT NULL DEFAULT 0,
			opt_out      TEXT NOT NULL DEFAULT '',
			steps_done   INTEGER NOT NULL DEFAULT 0,
			reminders    INTEGER NOT NULL DEFAULT 0,
			review_n     INTEGER NOT NULL DEFAULT 0,
			score_sum    INTEGER NOT NULL DEFAULT 0,
			score_min    INTEGER NOT NULL DEFAULT 0,
			score_max    INTEGER NOT NULL DEFAULT 0,
			review_scores TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (org_id, funnel_id, invited_s, applicant_id)
		)`,
		`CREATE TABLE insight_days (
			org_id    TEXT NOT NULL,
			funnel_id TEXT NOT NULL,
			day       INTEGER NOT NULL,
			metric    TEXT NOT NULL,
			key       TEXT NOT NULL,
			shard     INTEGER NOT NULL,
			n         BIGINT NOT NULL,
			PRIMARY KEY (org_id, funnel_id, day, metric, key, shard)
		)`,
		`CREATE TABLE question_insights (
			org_id       TEXT NOT NULL,
			funnel_id    TEXT NOT NULL,
			invited_s    BIGINT NOT NULL,
			applicant_id TEXT NOT NULL,
			question_id  TEXT NOT NULL,
			knocked_out  INTEGER NOT NULL,
			PRIMARY KEY (org_id, funnel_id, invited_s, applicant_id, question_id)
		)`,
	},
}

// migrateInsights creates the rollup and fills it for every applicant already stored.
func migrateInsights(dialect string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range insightsDDL[dialect] {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create insights rollup: %w", err)
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT org_id, id FROM applicants`)
		if err != nil {
			return fmt.Errorf("list applicants for insights: %w", err)
		}
		var ids [][2]string
		for rows.Next() {
			var org, id string
			if err := rows.Scan(&org, &id); err != nil {
				rows.Close()
				return fmt.Errorf("list applicants for insights: %w", err)
			}
			ids = append(ids, [2]string{org, id})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list applicants for insights: %w", err)
		}
		for _, id := range ids {
			if err := refreshInsight(ctx, tx, dialect, id[0], id[1]); err != nil {
				return err
			}
			if err := refreshQuestionInsights(ctx, tx, dialect, id[0], id[1]); err != nil {
				return err
			}
		}
		return nil
	}
}

// unixS is t in whole seconds since the epoch, as the rollup stores times.
func unixS(t time.Time) int64 { return t.Unix() }

func nullUnix(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.Unix(), Valid: true}
}

// loadApplicantTx reads what the rollup needs of the org's applicant in tx. It names
// its columns rather than using applicantColumns, because migration 15 runs it too:
// columns added by later migrations do not exist yet there.
func loadApplicantTx(ctx context.Context, tx *sql.Tx, orgID, id string) (*winnow.Applicant, error) {
	a := &winnow.Applicant{ID: id, OrgID: orgID}
	var status string
	var started, submitted, decided sql.NullTime
	var steps []byte
	err := tx.QueryRowContext(ctx, `SELECT funnel_id, status, invited_at, started_at, submitted_at, decided_at,
			deadline, updated_at, steps
		FROM applicants WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&a.FunnelID, &status, &a.InvitedAt,
		&started, &submitted, &decided, &a.Deadline, &a.UpdatedAt, &steps)
	if err != nil {
		return nil, lookupErr(err, msgApplicantNotFound, "load applicant for insights")
	}
	if a.Steps, err = decodeSteps(steps); err != nil {
		return nil, fmt.Errorf("applicant %s: %w", id, err)
	}
	a.Status = winnow.ApplicantStatus(status)
	a.InvitedAt, a.Deadline, a.UpdatedAt = a.InvitedAt.UTC(), a.Deadline.UTC(), a.UpdatedAt.UTC()
	a.StartedAt, a.SubmittedAt, a.DecidedAt = timePtr(started), timePtr(submitted), timePtr(decided)
	return a, nil
}

// insightRow is an applicant's row of applicant_insights.
type insightRow struct {
	funnelID                    string
	invitedS                    int64
	status                      string
	started, submitted, decided sql.NullInt64
	knockedOut                  int
	optOut                      string
	stepsDone, reminders        int
	reviewN, scoreSum, lo, hi   int
	reviewScores                string // "reviewer:score" pairs, comma-separated
}

// readInsightRow returns the applicant's rollup row, nil when there is none yet.
func readInsightRow(ctx context.Context, tx *sql.Tx, orgID, funnelID string, invitedS int64, id string) (*insightRow, error) {
	r := &insightRow{funnelID: funnelID, invitedS: invitedS}
	err := tx.QueryRowContext(ctx, `SELECT status, started_s, submitted_s, decided_s, knocked_out, opt_out, steps_done,
			reminders, review_n, score_sum, score_min, score_max, review_scores
		FROM applicant_insights WHERE org_id = $1 AND funnel_id = $2 AND invited_s = $3 AND applicant_id = $4`,
		orgID, funnelID, invitedS, id).Scan(&r.status, &r.started, &r.submitted, &r.decided, &r.knockedOut, &r.optOut,
		&r.stepsDone, &r.reminders, &r.reviewN, &r.scoreSum, &r.lo, &r.hi, &r.reviewScores)
	switch {
	case err == sql.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("insights: read applicant row: %w", err)
	}
	return r, nil
}

// refreshInsight rewrites the applicant's rollup row in tx from what is stored about
// them: the applicant row (when each stage was reached: set once, by the transition
// that also writes the timeline entry), the timeline (when and why they opted out),
// their completed steps, the reminders sent before they started and their reviews;
// and moves the row's counts in insight_days from what it was to what it is.
func refreshInsight(ctx context.Context, tx *sql.Tx, dialect, orgID, id string) error {
	a, err := loadApplicantTx(ctx, tx, orgID, id)
	if err != nil {
		return err
	}
	r := insightRowOf(a)
	if a.Status == winnow.StatusOptedOut {
		var at time.Time
		err := tx.QueryRowContext(ctx, `SELECT at FROM applicant_events
			WHERE org_id = $1 AND applicant_id = $2 AND kind = $3 ORDER BY at DESC LIMIT 1`,
			orgID, id, string(winnow.EventOptedOut)).Scan(&at)
		switch {
		case err == sql.ErrNoRows:
			at = a.UpdatedAt
		case err != nil:
			return fmt.Errorf("insights: find opt-out: %w", err)
		}
		r.optOut = "declined"
		if !at.Before(a.Deadline) {
			r.optOut = "deadline"
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM step_answers
		WHERE org_id = $1 AND applicant_id = $2 AND completed_at IS NOT NULL`, orgID, id).Scan(&r.stepsDone); err != nil {
		return fmt.Errorf("insights: count completed steps: %w", err)
	}
	if a.StartedAt != nil {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM emails
			WHERE org_id = $1 AND applicant_id = $2 AND kind = $3 AND sent_at IS NOT NULL AND sent_at <= $4`,
			orgID, id, string(winnow.EmailReminder), *a.StartedAt).Scan(&r.reminders); err != nil {
			return fmt.Errorf("insights: count reminders: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT reviewer_id, score FROM reviews WHERE org_id = $1 AND applicant_id = $2
		ORDER BY reviewer_id`, orgID, id)
	if err != nil {
		return fmt.Errorf("insights: list reviews: %w", err)
	}
	var pairs []string
	for rows.Next() {
		var who string
		var score int
		if err := rows.Scan(&who, &score); err != nil {
			rows.Close()
			return fmt.Errorf("insights: list reviews: %w", err)
		}
		if r.reviewN == 0 || score < r.lo {
			r.lo = score
		}
		r.hi = max(r.hi, score)
		r.reviewN++
		r.scoreSum += score
		pairs = append(pairs, who+":"+strconv.Itoa(score))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: list reviews: %w", err)
	}
	r.reviewScores = strings.Join(pairs, ",")
	old, err := readInsightRow(ctx, tx, orgID, r.funnelID, r.invitedS, id)
	if err != nil {
		return err
	}
	if err := writeInsightRow(ctx, tx, orgID, id, r); err != nil {
		return err
	}
	d := dayCounts{}
	if old != nil {
		d.add(old, -1)
	}
	d.add(r, 1)
	return d.apply(ctx, tx, orgID, r.funnelID, insightShard(dialect, id))
}

// insightRowOf is the rollup row of what the applicant row itself says: the rest
// (opt-out, steps, reminders, reviews) is read from other tables.
func insightRowOf(a *winnow.Applicant) *insightRow {
	r := &insightRow{funnelID: a.FunnelID, invitedS: unixS(a.InvitedAt), status: string(a.Status),
		started: nullUnix(a.StartedAt), submitted: nullUnix(a.SubmittedAt)}
	if a.Status == winnow.StatusUnqualified && a.SubmittedAt == nil {
		r.knockedOut = 1
	}
	if a.SubmittedAt != nil {
		r.decided = nullUnix(a.DecidedAt) // a decision on a submission; a knockout is not one
	}
	return r
}

// newApplicantInsight writes the rollup row and counts of an applicant created in tx
// (createApplicantIn) without reading anything: a new applicant, invited, has no
// previous row, no answers, no reviews and no reminder sent, so refreshInsight's five
// reads would find nothing. The counts go to b, when set, for the batch to write.
func newApplicantInsight(ctx context.Context, tx *sql.Tx, b *txBatch, dialect string, a *winnow.Applicant) error {
	r := insightRowOf(a)
	d := dayCounts{}
	d.add(r, 1)
	if b != nil {
		b.curInsights = append(b.curInsights, insightArgs(a.OrgID, a.ID, r))
		b.countDays(a.OrgID, r.funnelID, insightShard(dialect, a.ID), d)
		return nil
	}
	if err := writeInsightRow(ctx, tx, a.OrgID, a.ID, r); err != nil {
		return err
	}
	return d.apply(ctx, tx, a.OrgID, r.funnelID, insightShard(dialect, a.ID))
}

// insightColumns are the columns of applicant_insights, in insightArgs's order.
const insightColumns = `org_id, funnel_id, invited_s, applicant_id, status, started_s, submitted_s, decided_s,
	knocked_out, opt_out, steps_done, reminders, review_n, score_sum, score_min, score_max, review_scores`

// insightArgs are the values of the applicant's rollup row r, for insightColumns.
func insightArgs(orgID, id string, r *insightRow) []any {
	return []any{orgID, r.funnelID, r.invitedS, id, r.status, r.started, r.submitted, r.decided, r.knockedOut, r.optOut,
		r.stepsDone, r.reminders, r.reviewN, r.scoreSum, r.lo, r.hi, r.reviewScores}
}

// writeInsightRow writes the applicant's rollup row r.
func writeInsightRow(ctx context.Context, tx *sql.Tx, orgID, id string, r *insightRow) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO applicant_insights (`+insightColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (org_id, funnel_id, invited_s, applicant_id) DO UPDATE SET status = excluded.status,
			started_s = excluded.started_s, submitted_s = excluded.submitted_s, decided_s = excluded.decided_s,
			knocked_out = excluded.knocked_out, opt_out = excluded.opt_out, steps_done = excluded.steps_done,
			reminders = excluded.reminders, review_n = excluded.review_n, score_sum = excluded.score_sum,
			score_min = excluded.score_min, score_max = excluded.score_max, review_scores = excluded.review_scores`,
		insightArgs(orgID, id, r)...)
	if err != nil {
		return fmt.Errorf("insights: write applicant row: %w", err)
	}
	return nil
}

// dayKey is one count of insight_days within a job.
type dayKey struct {
	day         int64
	metric, key string
}

// dayCounts is a change to insight_days.
type dayCounts map[dayKey]int

func (d dayCounts) inc(day int64, metric, key string, n int) {
	if n != 0 {
		d[dayKey{day, metric, key}] += n
	}
}

// daySeconds is the length of a day; insight_days counts by day since the epoch, UTC.
const daySeconds = 24 * 3600

// add adds (sign 1) or takes away (sign -1) what the applicant's row counts. Every
// count is of the day of the invitation, so that a range of days is a cohort, except
// the ev_ counts of the org overview, which are of the day the thing happened.
func (d dayCounts) add(r *insightRow, sign int) {
	day := r.invitedS / daySeconds
	one := func(metric, key string) { d.inc(day, metric, key, sign) }
	one(mInvited, "")
	if r.started.Valid {
		one(mStarted, "")
		one(mReminders, strconv.Itoa(r.reminders))
		one(mStepsDone, strconv.Itoa(r.stepsDone))
		switch {
		case r.knockedOut == 1:
			one(mStopKnockedOut, strconv.Itoa(r.stepsDone))
		case r.optOut != "":
			one(mStop+r.optOut, strconv.Itoa(r.stepsDone))
		}
		one(mStartTime, bucketKey(r.started.Int64-r.invitedS))
	}
	if r.submitted.Valid {
		one(mSubmitted, "")
		if r.started.Valid {
			one(mSubmitTime, bucketKey(r.submitted.Int64-r.started.Int64))
		}
		d.inc(r.submitted.Int64/daySeconds, mEvSubmitted, "", sign)
	}
	if r.decided.Valid {
		one(mDecided, "")
		if r.submitted.Valid {
			one(mDecideTime, bucketKey(r.decided.Int64-r.submitted.Int64))
		}
		if r.status == string(winnow.StatusQualified) {
			d.inc(r.decided.Int64/daySeconds, mEvQualified, "", sign)
		}
	}
	if r.status == string(winnow.StatusQualified) {
		one(mQualified, "")
	}
	if r.knockedOut == 1 {
		one(mKnockedOut, "")
	}
	if r.optOut != "" {
		one(mOptOut+r.optOut, "")
	}
	if r.reviewN > 0 {
		one(mReviewed, "")
		if (r.status == string(winnow.StatusQualified) && 2*r.scoreSum < 5*r.reviewN) ||
			(r.status == string(winnow.StatusUnqualified) && 2*r.scoreSum > 5*r.reviewN) {
			one(mAgainst, "")
		}
		if r.reviewN >= 2 {
			one(mSpread, strconv.Itoa(r.hi-r.lo))
		}
		for _, p := range strings.Split(r.reviewScores, ",") {
			who, score, _ := strings.Cut(p, ":")
			n, _ := strconv.Atoi(score)
			one(mReviewerScores, who)
			d.inc(day, mReviewerSum, who, sign*n)
		}
	}
}

// The metrics of insight_days.
const (
	mInvited        = "invited"
	mStarted        = "started"
	mSubmitted      = "submitted"
	mDecided        = "decided"
	mQualified      = "qualified"
	mKnockedOut     = "knocked_out"
	mOptOut         = "opt_out_"   // + "declined" or "deadline"
	mReminders      = "reminders"  // key: reminders sent before the start
	mStepsDone      = "steps_done" // key: steps completed, of those who started
	mStop           = "stop_"      // + "declined" or "deadline"; key: the step index
	mStopKnockedOut = "stop_knocked_out"
	mStartTime      = "t_start" // key: the duration's bucket (bucketKey)
	mSubmitTime     = "t_submit"
	mDecideTime     = "t_decide"
	mReviewed       = "reviewed"
	mAgainst        = "against"
	mSpread         = "spread"          // key: highest minus lowest score
	mReviewerScores = "reviewer_scores" // key: reviewer ID
	mReviewerSum    = "reviewer_sum"    // key: reviewer ID; n: the sum of their scores
	mAnswered       = "answered"        // key: question ID
	mQuestionKO     = "question_ko"     // key: question ID
	mEvSubmitted    = "ev_submitted"    // by the day of the submission
	mEvQualified    = "ev_qualified"    // by the day of the decision
)

// bucketBase is the ratio between consecutive duration buckets: a percentile read
// from the buckets is at most 5 % below the true one.
const bucketBase = 1.05

// bucketKey is the bucket of a duration in seconds: the duration itself up to two
// minutes, above that the lower bound of its bucket, so that a day of a large job
// holds a few hundred counts, not one per applicant.
func bucketKey(s int64) string {
	return strconv.FormatInt(bucketFloor(s), 10)
}

func bucketFloor(s int64) int64 {
	if s <= 120 {
		return max(s, 0)
	}
	b := math.Floor(math.Log(float64(s)/120) / math.Log(bucketBase))
	return int64(math.Ceil(120 * math.Pow(bucketBase, b)))
}

// bucketed reports whether metric counts durations by bucket.
func bucketed(metric string) bool {
	return metric == mStartTime || metric == mSubmitTime || metric == mDecideTime
}

// insightShard is the shard of insight_days an applicant's counts go to. As with
// applicant_counts, PostgreSQL holds a count row's lock until the change commits, so
// the invitations of one job on one day would wait for each other on one row; spread
// over eight by applicant, they rarely do. Reads add the shards up. SQLite has one
// writer at a time: one shard.
func insightShard(dialect, applicantID string) int64 {
	if dialect != DialectPostgres {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(applicantID))
	return int64(h.Sum32() % 8)
}

// apply writes the change to the job's counts in tx, in the applicant's shard. The
// durations' buckets stay in shard 0: they are most of a day's rows, and spread over
// many keys already, so they are rarely one change's wait.
func (d dayCounts) apply(ctx context.Context, tx *sql.Tx, orgID, funnelID string, shard int64) error {
	// Rows are locked in one order (day, metric, key) by every transaction: in a map's
	// random order, two transactions counting the same days deadlock on PostgreSQL.
	keys := slices.SortedFunc(maps.Keys(d), func(a, b dayKey) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.metric, b.metric), cmp.Compare(a.key, b.key))
	})
	for _, k := range keys {
		n := d[k]
		if n == 0 {
			continue
		}
		shard := shard
		if bucketed(k.metric) {
			shard = 0
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO insight_days (org_id, funnel_id, day, metric, key, shard, n)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (org_id, funnel_id, day, metric, key, shard) DO UPDATE SET n = insight_days.n + excluded.n`,
			orgID, funnelID, k.day, k.metric, k.key, shard, n); err != nil {
			return fmt.Errorf("insights: count: %w", err)
		}
	}
	return nil
}

// refreshQuestionInsights rewrites the applicant's answered questions in tx: one row
// per question of their steps with a stored answer, saying whether it knocked them
// out, with the counts of insight_days. Answers are stored when a step is completed
// or when a knockout ends it.
func refreshQuestionInsights(ctx context.Context, tx *sql.Tx, dialect, orgID, id string) error {
	a, err := loadApplicantTx(ctx, tx, orgID, id)
	if err != nil {
		return err
	}
	invitedS := unixS(a.InvitedAt)
	day := invitedS / daySeconds
	d := dayCounts{}
	old, err := tx.QueryContext(ctx, `SELECT question_id, knocked_out FROM question_insights
		WHERE org_id = $1 AND funnel_id = $2 AND invited_s = $3 AND applicant_id = $4`, orgID, a.FunnelID, invitedS, id)
	if err != nil {
		return fmt.Errorf("insights: read questions: %w", err)
	}
	for old.Next() {
		var q string
		var ko int
		if err := old.Scan(&q, &ko); err != nil {
			old.Close()
			return fmt.Errorf("insights: read questions: %w", err)
		}
		d.inc(day, mAnswered, q, -1)
		d.inc(day, mQuestionKO, q, -ko)
	}
	old.Close()
	if err := old.Err(); err != nil {
		return fmt.Errorf("insights: read questions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM question_insights
		WHERE org_id = $1 AND funnel_id = $2 AND invited_s = $3 AND applicant_id = $4`,
		orgID, a.FunnelID, invitedS, id); err != nil {
		return fmt.Errorf("insights: clear questions: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT step_id, questions FROM step_answers
		WHERE org_id = $1 AND applicant_id = $2`, orgID, id)
	if err != nil {
		return fmt.Errorf("insights: list answers: %w", err)
	}
	answers := map[string]map[string][]string{}
	for rows.Next() {
		var step string
		var raw []byte
		if err := rows.Scan(&step, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("insights: list answers: %w", err)
		}
		var qs map[string][]string
		if err := json.Unmarshal(raw, &qs); err != nil {
			rows.Close()
			return fmt.Errorf("insights: decode answers: %w", err)
		}
		answers[step] = qs
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: list answers: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range a.Steps {
		qs := answers[s.ID]
		for i := range s.Questions {
			q := &s.Questions[i]
			vals, ok := qs[q.ID]
			if !ok || len(vals) == 0 || seen[q.ID] {
				continue
			}
			seen[q.ID] = true
			ko := 0
			if q.KnocksOut(vals) {
				ko = 1
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO question_insights
				(org_id, funnel_id, invited_s, applicant_id, question_id, knocked_out) VALUES ($1, $2, $3, $4, $5, $6)`,
				orgID, a.FunnelID, invitedS, id, q.ID, ko); err != nil {
				return fmt.Errorf("insights: write question row: %w", err)
			}
			d.inc(day, mAnswered, q.ID, 1)
			d.inc(day, mQuestionKO, q.ID, ko)
		}
	}
	return d.apply(ctx, tx, orgID, a.FunnelID, insightShard(dialect, id))
}

// RebuildInsightDays recounts the job's insight_days from its applicant_insights and
// question_insights rows, in one transaction. The store keeps the counts as it goes;
// this is for rows written around it (bulk imports, the insights benchmark) and for
// repairing counts by hand.
func (s *Store) RebuildInsightDays(ctx context.Context, orgID, funnelID string) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `DELETE FROM insight_days WHERE org_id = $1 AND funnel_id = $2`, orgID, funnelID); err != nil {
		return fmt.Errorf("insights: clear day counts: %w", err)
	}
	// Each applicant's counts go to their shard, as the store puts them.
	shards := map[int64]dayCounts{}
	of := func(id string) dayCounts {
		sh := insightShard(s.db.dialect, id)
		if shards[sh] == nil {
			shards[sh] = dayCounts{}
		}
		return shards[sh]
	}
	rows, err := tx.QueryContext(ctx, `SELECT applicant_id, invited_s, status, started_s, submitted_s, decided_s, knocked_out, opt_out,
			steps_done, reminders, review_n, score_sum, score_min, score_max, review_scores
		FROM applicant_insights WHERE org_id = $1 AND funnel_id = $2`, orgID, funnelID)
	if err != nil {
		return fmt.Errorf("insights: read applicant rows: %w", err)
	}
	for rows.Next() {
		r := insightRow{funnelID: funnelID}
		var id string
		if err := rows.Scan(&id, &r.invitedS, &r.status, &r.started, &r.submitted, &r.decided, &r.knockedOut, &r.optOut,
			&r.stepsDone, &r.reminders, &r.reviewN, &r.scoreSum, &r.lo, &r.hi, &r.reviewScores); err != nil {
			rows.Close()
			return fmt.Errorf("insights: read applicant rows: %w", err)
		}
		of(id).add(&r, 1)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: read applicant rows: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT applicant_id, invited_s, question_id, knocked_out FROM question_insights
		WHERE org_id = $1 AND funnel_id = $2`, orgID, funnelID)
	if err != nil {
		return fmt.Errorf("insights: read question rows: %w", err)
	}
	for rows.Next() {
		var invited int64
		var id, q string
		var ko int
		if err := rows.Scan(&id, &invited, &q, &ko); err != nil {
			rows.Close()
			return fmt.Errorf("insights: read question rows: %w", err)
		}
		of(id).inc(invited/daySeconds, mAnswered, q, 1)
		of(id).inc(invited/daySeconds, mQuestionKO, q, ko)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: read question rows: %w", err)
	}
	// Many rows a statement: the table was just emptied, so nothing conflicts.
	const per = 100
	type row struct {
		k     dayKey
		shard int64
		n     int
	}
	merged := map[dayKey]map[int64]int{}
	for sh, d := range shards {
		for k, n := range d {
			to := sh
			if bucketed(k.metric) {
				to = 0
			}
			if merged[k] == nil {
				merged[k] = map[int64]int{}
			}
			merged[k][to] += n
		}
	}
	var all []row
	for k, bySh := range merged {
		for sh, n := range bySh {
			if n != 0 {
				all = append(all, row{k, sh, n})
			}
		}
	}
	for start := 0; start < len(all); start += per {
		chunk := all[start:min(start+per, len(all))]
		args := make([]any, 0, 7*len(chunk))
		for _, r := range chunk {
			args = append(args, orgID, funnelID, r.k.day, r.k.metric, r.k.key, r.shard, r.n)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO insight_days (org_id, funnel_id, day, metric, key, shard, n) VALUES `+
			valuesList(len(chunk), 7), args...); err != nil {
			return fmt.Errorf("insights: write day counts: %w", err)
		}
	}
	return commit(tx)
}
