-- +goose Up
-- Candidate and member email: every message Winnow sends, holds in the outbox or plans
-- (reminders), the templates orgs edit, and the requests for a new link.

-- One row per email, keyed by (applicant, kind, seq) so that each is sent once however
-- often its job runs. A reminder is planned at invitation as a 'scheduled' row with its
-- due time; an extension cancels the planned rows and plans new ones with the next
-- sequence numbers. applicant_id is NULL for member invitations. The content is
-- rendered once, at the first attempt, and kept, so a retry sends the same message.
CREATE TABLE emails (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    applicant_id TEXT,
    funnel_id    TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    to_address   TEXT NOT NULL,
    status       TEXT NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    deadline     TIMESTAMP,
    subject      TEXT NOT NULL DEFAULT '',
    body_text    TEXT NOT NULL DEFAULT '',
    body_html    TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    uncertain    INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP,
    UNIQUE (org_id, applicant_id, kind, seq),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);
CREATE INDEX emails_org_idx ON emails (org_id, created_at);
CREATE INDEX emails_status_idx ON emails (org_id, status);

-- A job's template overrides the org's (funnel_id ''), which overrides the built-in one.
CREATE TABLE email_templates (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    funnel_id  TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, funnel_id, kind)
);

-- "Send me a new link" requests, counted per address to rate-limit them whether or not
-- the address is known. Only a hash of the address is kept; rows older than the window
-- are deleted as new requests come in.
CREATE TABLE link_requests (
    address_hash TEXT NOT NULL,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX link_requests_address_idx ON link_requests (address_hash, at);
CREATE INDEX link_requests_at_idx ON link_requests (at);

-- Finding the applicants behind a new-link request.
CREATE INDEX applicants_email_idx ON applicants (email);
