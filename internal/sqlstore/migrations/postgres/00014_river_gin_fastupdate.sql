-- +goose Up
-- River's GIN indexes on river_job.args and river_job.metadata are built with
-- PostgreSQL's default fastupdate = on: new entries go to a pending list that is merged
-- into the index in one go once it outgrows gin_pending_list_limit (4 MB). Under a
-- burst of webhooks (every delivery inserts a job) that merge lands inside an intake
-- commit every second or two and stalls it for ~130 ms, so the 99th percentile of
-- webhook answers went from ~10 ms to 100-150 ms (measured, see shared/stack.md,
-- "Webhook intake"). With fastupdate off each insert updates the index itself: a little
-- more work per job, spread evenly, and no stalls. Entries already pending are merged
-- by the next VACUUM.
ALTER INDEX river_job_args_index SET (fastupdate = off);
ALTER INDEX river_job_metadata_index SET (fastupdate = off);
