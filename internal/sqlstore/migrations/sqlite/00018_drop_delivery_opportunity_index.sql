-- +goose Up
-- No query looks webhook deliveries up by opportunity (the applicants of an
-- opportunity are found through applicants_lever_idx), yet every webhook paid for
-- this index: its keys are random, so a batch of intake dirties about one of its
-- pages per delivery, written to the WAL at each commit.
DROP INDEX IF EXISTS lever_deliveries_opportunity_idx;
