-- +goose Up
-- Forward-only: Winnow never migrates down; a fix is a new migration.
-- PostgreSQL schema. Times are TIMESTAMPTZ and JSON is JSONB. Composite foreign keys
-- on (org_id, id) keep every reference inside one org, so a row can never point at
-- another tenant's row.

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (org_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ
);
CREATE INDEX invites_org_idx ON invites (org_id, created_at);

CREATE TABLE funnels (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    steps              JSONB NOT NULL DEFAULT '[]',
    lever_posting_id   TEXT NOT NULL DEFAULT '',
    qualified_stage_id TEXT NOT NULL DEFAULT '',
    cadence            JSONB NOT NULL DEFAULT '{}',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id)
);
CREATE INDEX funnels_org_idx ON funnels (org_id, created_at);

-- The job team is a table rather than a JSON array so that "jobs this limited member
-- may see" is a plain join and a team member must be a user of the same org.
CREATE TABLE funnel_team (
    org_id    TEXT NOT NULL,
    funnel_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (funnel_id, user_id),
    FOREIGN KEY (org_id, funnel_id) REFERENCES funnels (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX funnel_team_user_idx ON funnel_team (org_id, user_id);

CREATE TABLE applicants (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL,
    funnel_id            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL,
    token                TEXT NOT NULL UNIQUE,
    lever_opportunity_id TEXT NOT NULL DEFAULT '',
    reason               TEXT NOT NULL DEFAULT '',
    invited_at           TIMESTAMPTZ NOT NULL,
    started_at           TIMESTAMPTZ,
    submitted_at         TIMESTAMPTZ,
    decided_at           TIMESTAMPTZ,
    deadline             TIMESTAMPTZ NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, funnel_id) REFERENCES funnels (org_id, id)
);
CREATE INDEX applicants_org_idx ON applicants (org_id, created_at);
CREATE INDEX applicants_funnel_idx ON applicants (org_id, funnel_id, status);
CREATE UNIQUE INDEX applicants_opportunity_idx ON applicants (org_id, funnel_id, lever_opportunity_id)
    WHERE lever_opportunity_id <> '';

CREATE TABLE applicant_events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    from_status  TEXT NOT NULL DEFAULT '',
    to_status    TEXT NOT NULL DEFAULT '',
    message      TEXT NOT NULL DEFAULT '',
    actor_id     TEXT NOT NULL DEFAULT '',
    at           TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, applicant_id) REFERENCES applicants (org_id, id) ON DELETE CASCADE
);
CREATE INDEX applicant_events_applicant_idx ON applicant_events (org_id, applicant_id, at);
