package sqlstore

import (
	"context"
	"strings"

	"winnow"
)

// emailToSendQuery reads an email to an applicant with what its worker renders it
// from, in one statement: the applicant, their funnel's title and the org.
var emailToSendQuery = `SELECT ` + qualify("e", emailColumns) + `, ` + qualify("a", applicantColumns) +
	`, f.title, o.id, o.name, o.reply_to, o.created_at
	FROM emails e JOIN applicants a ON a.org_id = e.org_id AND a.id = e.applicant_id
	JOIN funnels f ON f.org_id = a.org_id AND f.id = a.funnel_id
	JOIN orgs o ON o.id = e.org_id
	WHERE e.org_id = $1 AND e.id = $2`

// FindEmailToSend returns the org's email to an applicant together with the applicant,
// the title of the applicant's funnel and the org, which the email worker renders and
// sends it with: one read instead of four. ENOTFOUND when any is missing (the email
// has no applicant, or the applicant is gone): the worker then reads them one by one.
func (s *Store) FindEmailToSend(ctx context.Context, orgID, id string) (*winnow.Email, *winnow.Applicant, string, *winnow.Org, error) {
	var e *winnow.Email
	var title string
	var o winnow.Org
	row := s.db.db.QueryRowContext(ctx, emailToSendQuery, orgID, id)
	// scanApplicant and scanEmail each scan once and then convert: nested, the
	// innermost scans the row's columns for both, and each converts its own.
	a, err := scanApplicant(scanFunc(func(applicant ...any) error {
		var err error
		e, err = scanEmail(scanFunc(func(email ...any) error {
			dest := append(append(email, applicant...), &title, &o.ID, &o.Name, &o.ReplyTo, &o.CreatedAt)
			return row.Scan(dest...)
		}))
		return err
	}))
	if err != nil {
		return nil, nil, "", nil, lookupErr(err, msgEmailNotFound, "find email to send")
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return e, a, title, &o, nil
}

// qualify prefixes each of the comma-separated columns with alias.
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

// Scan calls f.
func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
