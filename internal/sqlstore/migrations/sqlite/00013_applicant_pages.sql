-- +goose Up
-- Pages of applicants by keyset (sqlstore/applicant_pages.go): each list's filter
-- columns, then its order's column and id, so that a page is a range read of the index
-- that starts at the cursor and stops after one page, however many applicants a job
-- or an org has. They replace the two indexes that led with the same columns but
-- could only find the start of a list, not a place in it; the one per job and status
-- also counts a job's applicants per status (GROUP BY) without reading the table.
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
