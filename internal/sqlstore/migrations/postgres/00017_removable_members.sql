-- +goose Up
-- Members can be removed; their reviews stay, by "a former member". The review's
-- reference to its reviewer therefore is no longer a foreign key.
ALTER TABLE reviews DROP CONSTRAINT reviews_org_id_reviewer_id_fkey;
