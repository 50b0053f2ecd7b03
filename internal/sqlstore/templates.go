package sqlstore

import (
	"context"
	"fmt"

	"winnow"
)

const templateColumns = `org_id, funnel_id, kind, subject, body, enabled, updated_by, updated_at`

// FindTemplate returns the template in force for kind: the job's own when funnelID is
// set and it has one, else the org's, else the built-in default. Another org's job ID
// finds nothing of that org: only orgID's rows are read.
func (s *Store) FindTemplate(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (*winnow.Template, error) {
	return findTemplate(ctx, s.db.db, orgID, funnelID, kind)
}

func findTemplate(ctx context.Context, q querier, orgID, funnelID string, kind winnow.EmailKind) (*winnow.Template, error) {
	if !kind.Valid() {
		return nil, winnow.Errorf(winnow.EINVALID, "Unknown email kind %q.", kind)
	}
	ts, err := loadTemplates(ctx, q, orgID, funnelID, []winnow.EmailKind{kind})
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// ListTemplates returns the template in force for every kind, in EmailKinds order; for
// a job, only the kinds that go to candidates.
func (s *Store) ListTemplates(ctx context.Context, orgID, funnelID string) ([]*winnow.Template, error) {
	var kinds []winnow.EmailKind
	for _, k := range winnow.EmailKinds {
		if funnelID == "" || k.ForCandidates() {
			kinds = append(kinds, k)
		}
	}
	return loadTemplates(ctx, s.db.db, orgID, funnelID, kinds)
}

// loadTemplates resolves each kind to the job's, the org's or the default template.
func loadTemplates(ctx context.Context, q querier, orgID, funnelID string, kinds []winnow.EmailKind) ([]*winnow.Template, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+templateColumns+` FROM email_templates
		WHERE org_id = $1 AND (funnel_id = '' OR funnel_id = $2)`, orgID, funnelID)
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	defer rows.Close()
	org, job := map[winnow.EmailKind]*winnow.Template{}, map[winnow.EmailKind]*winnow.Template{}
	for rows.Next() {
		var t winnow.Template
		var kind string
		if err := rows.Scan(&t.OrgID, &t.FunnelID, &kind, &t.Subject, &t.Body, &t.Enabled, &t.UpdatedBy, &t.UpdatedAt); err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		t.Kind, t.UpdatedAt = winnow.EmailKind(kind), t.UpdatedAt.UTC()
		if t.FunnelID == "" {
			t.Source = winnow.SourceOrg
			org[t.Kind] = &t
		} else {
			t.Source = winnow.SourceFunnel
			job[t.Kind] = &t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	out := make([]*winnow.Template, len(kinds))
	for i, k := range kinds {
		switch {
		case funnelID != "" && job[k] != nil:
			out[i] = job[k]
		case org[k] != nil:
			out[i] = org[k]
		default:
			out[i] = winnow.DefaultTemplate(orgID, k)
		}
	}
	return out, nil
}

// SaveTemplate validates and stores the org's or job's own template of its kind,
// replacing the one before. A job of another org is ENOTFOUND.
func (s *Store) SaveTemplate(ctx context.Context, t *winnow.Template) error {
	if err := t.Validate(); err != nil {
		return err
	}
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if t.FunnelID != "" {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM funnels WHERE org_id = $1 AND id = $2`, t.OrgID, t.FunnelID).Scan(&one); err != nil {
			return lookupErr(err, msgFunnelNotFound, "find funnel")
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO email_templates (`+templateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org_id, funnel_id, kind) DO UPDATE SET subject = excluded.subject, body = excluded.body,
		enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		t.OrgID, t.FunnelID, string(t.Kind), t.Subject, t.Body, t.Enabled, t.UpdatedBy, now)
	switch {
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	case err != nil:
		return fmt.Errorf("save template: %w", err)
	}
	if err := commit(tx); err != nil {
		return err
	}
	t.UpdatedAt, t.Source = now, winnow.SourceOrg
	if t.FunnelID != "" {
		t.Source = winnow.SourceFunnel
	}
	return nil
}

// DeleteTemplate removes the org's or job's own template of kind, so that the next
// level applies again.
func (s *Store) DeleteTemplate(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) error {
	_, err := s.db.db.ExecContext(ctx, `DELETE FROM email_templates WHERE org_id = $1 AND funnel_id = $2 AND kind = $3`,
		orgID, funnelID, string(kind))
	if err != nil {
		return fmt.Errorf("delete template: %w", err)
	}
	return nil
}
