-- +goose Up
-- Job-team reviews, org API tokens, and the per-job choice of open (not blind) review.

-- One review per reviewer and applicant: saving again replaces it. Both references
-- stay inside the org through the composite keys.
CREATE TABLE reviews (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    reviewer_id  TEXT NOT NULL,
    score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
    comment      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (org_id, applicant_id, reviewer_id),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, reviewer_id) REFERENCES users (org_id, id)
);
CREATE INDEX reviews_applicant_idx ON reviews (org_id, applicant_id, created_at);

-- Only the keyed hash of a token is stored. created_by is empty for tokens made with
-- `winnow token create`, so it is not a foreign key.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    UNIQUE (org_id, id)
);
CREATE INDEX api_tokens_org_idx ON api_tokens (org_id, created_at);

-- Blind review is the default: existing jobs stay blind.
ALTER TABLE funnels ADD COLUMN open_review BOOLEAN NOT NULL DEFAULT FALSE;
