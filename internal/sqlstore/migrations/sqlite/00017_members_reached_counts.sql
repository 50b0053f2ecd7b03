-- +goose Up
-- Members can be removed; their reviews stay, by "a former member". The review's
-- reference to its reviewer therefore is no longer a foreign key. SQLite cannot drop
-- a constraint, so the table is rebuilt with the same columns, rows and index.
CREATE TABLE reviews_new (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    reviewer_id  TEXT NOT NULL,
    score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
    comment      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (org_id, applicant_id, reviewer_id),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);
INSERT INTO reviews_new (id, org_id, applicant_id, reviewer_id, score, comment, created_at, updated_at)
    SELECT id, org_id, applicant_id, reviewer_id, score, comment, created_at, updated_at FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_new RENAME TO reviews;
CREATE INDEX reviews_applicant_idx ON reviews (org_id, applicant_id, created_at);

-- How many applicants of each job ever reached invited, in progress and submitted,
-- kept beside the counts of each status now (rows whose status is "reached:<status>",
-- sqlstore/applicant_counts.go), so that a job's tiles count everyone who got that far.
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:invited', 0, COUNT(*) FROM applicants GROUP BY org_id, funnel_id;
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:in_progress', 0, COUNT(*) FROM applicants WHERE started_at IS NOT NULL GROUP BY org_id, funnel_id;
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:submitted', 0, COUNT(*) FROM applicants WHERE submitted_at IS NOT NULL GROUP BY org_id, funnel_id;
