package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"winnow"
)

const funnelColumns = `id, org_id, title, description, status, steps, lever_posting_id,
	qualified_stage_id, cadence, open_review, created_at, updated_at`

// cadenceJSON is how a Cadence is stored: durations as Go duration strings, which are
// exact to the nanosecond and readable in a SQL shell.
type cadenceJSON struct {
	Reminders   []string `json:"reminders"`
	OptOutAfter string   `json:"optOutAfter"`
}

// CreateFunnel validates and stores a new funnel with its team, filling in ID and
// timestamps. A team member who is not a user of the org gives EINVALID.
func (s *Store) CreateFunnel(ctx context.Context, f *winnow.Funnel) error {
	if err := f.Validate(); err != nil {
		return err
	}
	steps, cadence, err := encodeFunnel(f)
	if err != nil {
		return err
	}
	team := uniqueTeam(f.Team)
	id, now := newID(), s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := checkPostingFree(ctx, tx, f, ""); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO funnels (`+funnelColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		id, f.OrgID, f.Title, f.Description, string(f.Status), steps, f.LeverPostingID,
		f.QualifiedStageID, cadence, f.OpenReview, now, now)
	switch {
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	case isUnique(err, postingIndex...):
		return winnow.LeverPostingTaken("")
	case err != nil:
		return fmt.Errorf("insert funnel: %w", err)
	}
	if err := insertTeam(ctx, tx, f.OrgID, id, team); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	f.ID, f.Team, f.CreatedAt, f.UpdatedAt = id, team, now, now
	return nil
}

// UpdateFunnel validates and stores changes to the org's existing funnel f.ID, team
// included, and fills in UpdatedAt and CreatedAt. A funnel of another org, or none,
// gives ENOTFOUND and changes nothing.
func (s *Store) UpdateFunnel(ctx context.Context, f *winnow.Funnel) error {
	if err := f.Validate(); err != nil {
		return err
	}
	steps, cadence, err := encodeFunnel(f)
	if err != nil {
		return err
	}
	team := uniqueTeam(f.Team)
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := checkPostingFree(ctx, tx, f, f.ID); err != nil {
		return err
	}
	var created time.Time
	err = tx.QueryRowContext(ctx, `UPDATE funnels SET title = $1, description = $2, status = $3,
		steps = $4, lever_posting_id = $5, qualified_stage_id = $6, cadence = $7, open_review = $8,
		updated_at = $9 WHERE org_id = $10 AND id = $11 RETURNING created_at`,
		f.Title, f.Description, string(f.Status), steps, f.LeverPostingID, f.QualifiedStageID,
		cadence, f.OpenReview, now, f.OrgID, f.ID).Scan(&created)
	if isUnique(err, postingIndex...) {
		return winnow.LeverPostingTaken("")
	} else if err != nil {
		return lookupErr(err, msgFunnelNotFound, "update funnel")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM funnel_team WHERE org_id = $1 AND funnel_id = $2`, f.OrgID, f.ID); err != nil {
		return fmt.Errorf("clear funnel team: %w", err)
	}
	if err := insertTeam(ctx, tx, f.OrgID, f.ID, team); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	f.Team, f.CreatedAt, f.UpdatedAt = team, created.UTC(), now
	return nil
}

// postingIndex names the unique index "a posting feeds at most one open job" as each
// engine reports its violation: PostgreSQL by name, SQLite by its columns.
var postingIndex = []string{"funnels_open_posting_idx", "lever_posting_id"}

// checkPostingFree refuses an open funnel f linked to a Lever posting that another open
// funnel of the org (not self) is linked to, naming that funnel. The unique index
// decides in the end (a writer racing in between gets the conflict without the name);
// this is the check that can say which job holds the posting.
func checkPostingFree(ctx context.Context, q querier, f *winnow.Funnel, self string) error {
	if f.Status != winnow.FunnelOpen || f.LeverPostingID == "" {
		return nil
	}
	var title string
	err := q.QueryRowContext(ctx, `SELECT title FROM funnels WHERE org_id = $1 AND lever_posting_id = $2
		AND status = $3 AND id <> $4 ORDER BY created_at LIMIT 1`,
		f.OrgID, f.LeverPostingID, string(winnow.FunnelOpen), self).Scan(&title)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check lever posting: %w", err)
	}
	return winnow.LeverPostingTaken(title)
}

// FindFunnelByID returns the org's funnel with its team, or ENOTFOUND.
func (s *Store) FindFunnelByID(ctx context.Context, orgID, id string) (*winnow.Funnel, error) {
	row := s.db.db.QueryRowContext(ctx, `SELECT `+funnelColumns+` FROM funnels WHERE org_id = $1 AND id = $2`, orgID, id)
	f, err := scanFunnel(row)
	if err != nil {
		return nil, lookupErr(err, msgFunnelNotFound, "find funnel")
	}
	teams, err := s.teams(ctx, orgID, `AND funnel_id = $2`, id)
	if err != nil {
		return nil, err
	}
	f.Team = teams[f.ID]
	return f, nil
}

// ListFunnels returns the org's funnels, newest first. With filter.VisibleTo set, only
// the funnels that user may see: none for a user of another org, and for a limited
// member only those whose team they are on.
func (s *Store) ListFunnels(ctx context.Context, orgID string, filter winnow.FunnelFilter) ([]*winnow.Funnel, error) {
	where, args := []string{`org_id = $1`}, []any{orgID}
	if u := filter.VisibleTo; u != nil {
		if u.OrgID != orgID {
			return nil, nil
		}
		if u.Role != winnow.RoleAdmin && u.Role != winnow.RoleMember {
			args = append(args, u.ID)
			where = append(where, `EXISTS (SELECT 1 FROM funnel_team t
				WHERE t.org_id = funnels.org_id AND t.funnel_id = funnels.id AND t.user_id = $`+strconv.Itoa(len(args))+`)`)
		}
	}
	if filter.Status != "" {
		args = append(args, string(filter.Status))
		where = append(where, `status = $`+strconv.Itoa(len(args)))
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+funnelColumns+` FROM funnels WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list funnels: %w", err)
	}
	defer rows.Close()
	var funnels []*winnow.Funnel
	for rows.Next() {
		f, err := scanFunnel(rows)
		if err != nil {
			return nil, fmt.Errorf("list funnels: %w", err)
		}
		funnels = append(funnels, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list funnels: %w", err)
	}
	if len(funnels) == 0 {
		return nil, nil
	}
	teams, err := s.teams(ctx, orgID, "")
	if err != nil {
		return nil, err
	}
	for _, f := range funnels {
		f.Team = teams[f.ID]
	}
	return funnels, nil
}

// teams returns the org's job teams by funnel ID, members in their stored order.
func (s *Store) teams(ctx context.Context, orgID, and string, args ...any) (map[string][]string, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT funnel_id, user_id FROM funnel_team
		WHERE org_id = $1 `+and+` ORDER BY funnel_id, position`, append([]any{orgID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list funnel team: %w", err)
	}
	defer rows.Close()
	teams := map[string][]string{}
	for rows.Next() {
		var funnelID, userID string
		if err := rows.Scan(&funnelID, &userID); err != nil {
			return nil, fmt.Errorf("list funnel team: %w", err)
		}
		teams[funnelID] = append(teams[funnelID], userID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list funnel team: %w", err)
	}
	return teams, nil
}

func insertTeam(ctx context.Context, tx querier, orgID, funnelID string, team []string) error {
	for i, userID := range team {
		_, err := tx.ExecContext(ctx, `INSERT INTO funnel_team (org_id, funnel_id, user_id, position)
			VALUES ($1, $2, $3, $4)`, orgID, funnelID, userID, i)
		switch {
		case isForeignKey(err):
			return winnow.Errorf(winnow.EINVALID, "Every job team member must be a user of this organization.")
		case err != nil:
			return fmt.Errorf("insert funnel team: %w", err)
		}
	}
	return nil
}

// uniqueTeam drops repeated and empty user IDs, keeping the first position of each, and
// returns nil for an empty team so that a funnel reads back as it was written.
func uniqueTeam(team []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range team {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func encodeFunnel(f *winnow.Funnel) (steps, cadence string, err error) {
	st := f.Steps
	if st == nil {
		st = []winnow.Step{}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", "", fmt.Errorf("encode steps: %w", err)
	}
	c := cadenceJSON{Reminders: []string{}, OptOutAfter: f.Cadence.OptOutAfter.String()}
	for _, r := range f.Cadence.Reminders {
		c.Reminders = append(c.Reminders, r.String())
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return "", "", fmt.Errorf("encode cadence: %w", err)
	}
	return string(b), string(cb), nil
}

func scanFunnel(r scanner) (*winnow.Funnel, error) {
	var f winnow.Funnel
	var status string
	var steps, cadence []byte
	if err := r.Scan(&f.ID, &f.OrgID, &f.Title, &f.Description, &status, &steps, &f.LeverPostingID,
		&f.QualifiedStageID, &cadence, &f.OpenReview, &f.CreatedAt, &f.UpdatedAt); err != nil {
		return nil, err
	}
	f.Status, f.CreatedAt, f.UpdatedAt = winnow.FunnelStatus(status), f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	if err := json.Unmarshal(steps, &f.Steps); err != nil {
		return nil, fmt.Errorf("decode steps of funnel %s: %w", f.ID, err)
	}
	if len(f.Steps) == 0 {
		f.Steps = nil
	}
	var c cadenceJSON
	if err := json.Unmarshal(cadence, &c); err != nil {
		return nil, fmt.Errorf("decode cadence of funnel %s: %w", f.ID, err)
	}
	for _, r := range c.Reminders {
		d, err := time.ParseDuration(r)
		if err != nil {
			return nil, fmt.Errorf("decode cadence of funnel %s: %w", f.ID, err)
		}
		f.Cadence.Reminders = append(f.Cadence.Reminders, d)
	}
	if c.OptOutAfter != "" {
		d, err := time.ParseDuration(c.OptOutAfter)
		if err != nil {
			return nil, fmt.Errorf("decode cadence of funnel %s: %w", f.ID, err)
		}
		f.Cadence.OptOutAfter = d
	}
	return &f, nil
}
