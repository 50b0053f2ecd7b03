-- +goose Up
-- A recorded WebM carries no duration in its container (browsers report Infinity), so
-- the length the candidate's recorder measured is kept beside the file; 0 means unknown
-- (an uploaded file, or a recording from before this column).
ALTER TABLE uploads ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0;
-- The address candidates may write to, shown where a page tells them to contact the
-- company; empty until an admin sets one.
ALTER TABLE orgs ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
