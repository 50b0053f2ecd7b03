-- +goose Up
-- Members can be removed; their reviews stay, by "a former member". The review's
-- reference to its reviewer therefore is no longer a foreign key.
ALTER TABLE reviews DROP CONSTRAINT reviews_org_id_reviewer_id_fkey;

-- How many applicants of each job ever reached invited, in progress and submitted,
-- kept beside the counts of each status now (rows whose status is "reached:<status>",
-- sqlstore/applicant_counts.go), so that a job's tiles count everyone who got that far.
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:invited', 0, COUNT(*) FROM applicants GROUP BY org_id, funnel_id;
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:in_progress', 0, COUNT(*) FROM applicants WHERE started_at IS NOT NULL GROUP BY org_id, funnel_id;
INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
SELECT org_id, funnel_id, 'reached:submitted', 0, COUNT(*) FROM applicants WHERE submitted_at IS NOT NULL GROUP BY org_id, funnel_id;
