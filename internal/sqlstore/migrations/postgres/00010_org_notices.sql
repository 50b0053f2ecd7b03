-- +goose Up
-- Emails to an org's admins about the org itself (Lever needs reconnecting) have no
-- applicant and no invitation, so neither unique key tells them apart. One per
-- recipient per incident (seq), however often the code that queues them runs.
CREATE UNIQUE INDEX emails_org_notice_idx ON emails (org_id, kind, seq, to_address)
    WHERE applicant_id IS NULL AND invite_id IS NULL;
