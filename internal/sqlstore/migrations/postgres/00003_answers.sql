-- +goose Up
-- What candidates answer: the steps each applicant was invited to, their answers step
-- by step, and the files they uploaded (the bytes live under DATA_DIR/uploads).

-- The snapshot of the funnel's steps taken at invitation, so that editing a job never
-- changes what earlier applicants answer. Applicants invited before this migration get
-- their job's steps as they are now, the closest thing to what they were shown.
ALTER TABLE applicants ADD COLUMN steps JSONB NOT NULL DEFAULT '[]';
UPDATE applicants SET steps = (SELECT f.steps FROM funnels f
    WHERE f.org_id = applicants.org_id AND f.id = applicants.funnel_id);

-- One row per applicant and step, replaced as the candidate saves. questions maps a
-- question ID to its values; files maps an item ("homework", "prompt-0", …) to an
-- upload ID.
CREATE TABLE step_answers (
    org_id       TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    questions    JSONB NOT NULL DEFAULT '{}',
    text_answer  TEXT NOT NULL DEFAULT '',
    files        JSONB NOT NULL DEFAULT '{}',
    completed_at TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, applicant_id, step_id),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);

-- path is relative to the uploads folder and unique, so two rows never share a file.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    item         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL CHECK (size >= 0),
    path         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);
CREATE INDEX uploads_applicant_idx ON uploads (org_id, applicant_id, created_at);
