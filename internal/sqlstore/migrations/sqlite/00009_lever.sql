-- +goose Up
-- The Lever loop: each org's connection, the OAuth states of connections being made,
-- the webhook deliveries Lever sends, and the writes Winnow makes back.

-- One row per org that ever opened Settings → Integrations. org_key names the org in
-- its webhook URL (Lever's payloads carry no account) and survives reconnections.
-- Secret columns hold keyring ciphertext. A refresh of the OAuth tokens happens at
-- most once at a time per connection across processes: a process takes the refresh
-- lease (refresh_until in the future) under a row lock, refreshes outside any
-- transaction, and stores the rotated tokens with the lease it holds.
CREATE TABLE lever_connections (
    org_id               TEXT PRIMARY KEY REFERENCES orgs (id),
    org_key              TEXT NOT NULL UNIQUE,
    mode                 TEXT NOT NULL DEFAULT '',
    state                TEXT NOT NULL DEFAULT '',
    state_reason         TEXT NOT NULL DEFAULT '',
    incidents            INTEGER NOT NULL DEFAULT 0,
    account_id           TEXT NOT NULL DEFAULT '',
    connected_by         TEXT NOT NULL DEFAULT '',
    connected_at         TIMESTAMP,
    scopes               TEXT NOT NULL DEFAULT '',
    access_token         TEXT NOT NULL DEFAULT '',
    refresh_token        TEXT NOT NULL DEFAULT '',
    token_expiry         TIMESTAMP,
    api_key              TEXT NOT NULL DEFAULT '',
    webhooks             TEXT NOT NULL DEFAULT '[]',
    signature_token      TEXT NOT NULL DEFAULT '',
    qualified_stage_id   TEXT NOT NULL DEFAULT '',
    qualified_stage_name TEXT NOT NULL DEFAULT '',
    tag_prefix           TEXT NOT NULL DEFAULT 'CP-',
    perform_as           TEXT NOT NULL DEFAULT '',
    perform_as_name      TEXT NOT NULL DEFAULT '',
    perform_as_warning   TEXT NOT NULL DEFAULT '',
    last_webhook_at      TIMESTAMP,
    last_verified_at     TIMESTAMP,
    refresh_owner        TEXT NOT NULL DEFAULT '',
    refresh_until        TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

-- An OAuth state is single-use, bound to the admin's session, and expires: the row is
-- deleted when the callback uses it.
CREATE TABLE lever_oauth_states (
    state_hash   TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    user_id      TEXT NOT NULL,
    session_hash TEXT NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX lever_oauth_states_expiry_idx ON lever_oauth_states (expires_at);

-- Every verified delivery, stored with its processing job before Lever gets its 200.
-- dedup_key makes repeats (retries, Rerun, the same application again) change nothing.
CREATE TABLE lever_deliveries (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    event          TEXT NOT NULL,
    token          TEXT NOT NULL,
    dedup_key      TEXT NOT NULL,
    triggered_at   TIMESTAMP NOT NULL,
    opportunity_id TEXT NOT NULL DEFAULT '',
    application_id TEXT NOT NULL DEFAULT '',
    to_stage_id    TEXT NOT NULL DEFAULT '',
    from_stage_id  TEXT NOT NULL DEFAULT '',
    archived       BOOLEAN,
    archive_reason TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    outcome        TEXT NOT NULL DEFAULT '',
    applicant_id   TEXT NOT NULL DEFAULT '',
    received_at    TIMESTAMP NOT NULL,
    processed_at   TIMESTAMP,
    UNIQUE (org_id, dedup_key)
);
CREATE INDEX lever_deliveries_org_idx ON lever_deliveries (org_id, received_at);
CREATE INDEX lever_deliveries_opportunity_idx ON lever_deliveries (org_id, opportunity_id);

-- One row per call Winnow makes to Lever on an opportunity, performed one at a time in
-- seq order per opportunity (tags, then note, then stage move, transition after
-- transition). applicant_id is NULL for a note about an opportunity that never became
-- an applicant (no email address).
CREATE TABLE lever_writes (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    applicant_id   TEXT,
    opportunity_id TEXT NOT NULL,
    event_id       TEXT NOT NULL DEFAULT '',
    seq            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    for_status     TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '[]',
    note           TEXT NOT NULL DEFAULT '',
    note_at        TIMESTAMP,
    stage_id       TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    note_id        TEXT NOT NULL DEFAULT '',
    lease_until    TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    done_at        TIMESTAMP,
    UNIQUE (org_id, opportunity_id, seq),
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);
CREATE INDEX lever_writes_applicant_idx ON lever_writes (org_id, applicant_id);
CREATE INDEX lever_writes_status_idx ON lever_writes (org_id, status);

-- Lever's side of an applicant: archived there (no more reminders) or deleted there
-- (personal data erased, an anonymous row kept).
ALTER TABLE applicants ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE applicants ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX applicants_lever_idx ON applicants (org_id, lever_opportunity_id) WHERE lever_opportunity_id <> '';

-- A posting feeds at most one open job.
CREATE UNIQUE INDEX funnels_open_posting_idx ON funnels (org_id, lever_posting_id)
    WHERE status = 'open' AND lever_posting_id <> '';

