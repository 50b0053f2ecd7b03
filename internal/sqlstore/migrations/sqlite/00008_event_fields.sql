-- +goose Up
-- Timeline entries say what they are about in fields, not in their text: the email an
-- email event is about, and the outbound API call an integration event records. Pages
-- then show the address (from the email) or hold it back under blind review.
ALTER TABLE applicant_events ADD COLUMN email_id TEXT NOT NULL DEFAULT '';
ALTER TABLE applicant_events ADD COLUMN call_method TEXT NOT NULL DEFAULT '';
ALTER TABLE applicant_events ADD COLUMN call_path TEXT NOT NULL DEFAULT '';
ALTER TABLE applicant_events ADD COLUMN call_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applicant_events ADD COLUMN call_duration_ms INTEGER NOT NULL DEFAULT 0;

-- Email entries written before this named the recipient in their text ("… queued for
-- ada@example.com", "… sent to …", "… email to … failed"). Take the address out, so
-- that blind review holds on old entries too.
UPDATE applicant_events SET message = REPLACE(REPLACE(message,
        ' for ' || (SELECT a.email FROM applicants a WHERE a.org_id = applicant_events.org_id AND a.id = applicant_events.applicant_id), ''),
        ' to ' || (SELECT a.email FROM applicants a WHERE a.org_id = applicant_events.org_id AND a.id = applicant_events.applicant_id), '')
    WHERE kind LIKE 'email\_%' ESCAPE '\'
      AND EXISTS (SELECT 1 FROM applicants a WHERE a.org_id = applicant_events.org_id AND a.id = applicant_events.applicant_id
                  AND a.email <> '');
