-- +goose Up
-- One invitation per address and job: the database, not a check before the insert,
-- refuses a second applicant with the same email in the same funnel, so two requests
-- racing cannot both invite. Applicants without an address (a Lever opportunity may
-- have none) never collide.
--
-- A live database may already hold such duplicates, invited before this index by
-- requests that raced. They are all kept, with their answers, reviews and timelines:
-- deleting a candidate's application in a migration would be the greater surprise.
-- The oldest applicant of each address and job stays in the index, so a new
-- invitation of that address is refused as for any other; the later ones are marked
-- duplicate_email and left out of it. Nothing but this index reads the column.
ALTER TABLE applicants ADD COLUMN duplicate_email BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE applicants SET duplicate_email = TRUE
WHERE email <> '' AND EXISTS (
    SELECT 1 FROM applicants older
    WHERE older.org_id = applicants.org_id AND older.funnel_id = applicants.funnel_id
      AND older.email = applicants.email
      AND (older.created_at < applicants.created_at
           OR (older.created_at = applicants.created_at AND older.id < applicants.id)));
CREATE UNIQUE INDEX applicants_funnel_email_idx ON applicants (org_id, funnel_id, email)
    WHERE email <> '' AND NOT duplicate_email;
