-- +goose Up
-- Pages of applicants by keyset (sqlstore/applicant_pages.go): each list's filter
-- columns, then its order's column and id, so that a page is a range read of the index
-- that starts at the cursor and stops after one page, however many applicants a job
-- or an org has. They replace the two indexes that led with the same columns but
-- could only find the start of a list, not a place in it.
DROP INDEX applicants_org_idx;
DROP INDEX applicants_funnel_idx;
-- The Applicants list: the org's, newest first, and of one status.
CREATE INDEX applicants_org_page_idx ON applicants (org_id, created_at, id);
CREATE INDEX applicants_org_status_page_idx ON applicants (org_id, status, created_at, id);
-- A job's applicants, newest first, and of one status.
CREATE INDEX applicants_funnel_page_idx ON applicants (org_id, funnel_id, created_at, id);
CREATE INDEX applicants_funnel_status_page_idx ON applicants (org_id, funnel_id, status, created_at, id);
-- A job's review queue: its submitted applicants, those who submitted first first.
CREATE INDEX applicants_queue_idx ON applicants (org_id, funnel_id, status, submitted_at, id);

-- How many applicants each job has in each status, kept by the store in the same
-- transaction as every applicant it creates or moves (sqlstore/applicant_counts.go), so
-- that pages count in a few rows, not by reading every applicant of the job. A count
-- may be split over several shards, which add up: on PostgreSQL concurrent changes to
-- one job then rarely wait for the same row.
CREATE TABLE applicant_counts (
    org_id    TEXT NOT NULL,
    funnel_id TEXT NOT NULL,
    status    TEXT NOT NULL,
    shard     INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (org_id, funnel_id, status, shard)
);
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, status, 0, COUNT(*) FROM applicants GROUP BY org_id, funnel_id, status;
