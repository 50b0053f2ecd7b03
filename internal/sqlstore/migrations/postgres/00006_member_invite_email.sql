-- +goose Up
-- Member invitations by email. The email carries the invitation link, a credential
-- that is otherwise stored only as a hash, so its content is rendered when the
-- invitation is created and stored sealed (AES-GCM with the key from WINNOW_SECRET_KEY):
-- sealed rows hold ciphertext in subject, body_text and body_html.
ALTER TABLE emails ADD COLUMN invite_id TEXT REFERENCES invites (id) ON DELETE CASCADE;
ALTER TABLE emails ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT FALSE;

-- One email per invitation, however often the code that queues it runs. applicant_id
-- is NULL on these rows, so the (org_id, applicant_id, kind, seq) key cannot tell them
-- apart; this one does, and it serves the join that lists invitations with their email.
CREATE UNIQUE INDEX emails_invite_idx ON emails (org_id, invite_id) WHERE invite_id IS NOT NULL;
