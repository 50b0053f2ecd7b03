package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"winnow"
)

// applicantOrder is how the store reads one order of applicant lists: the column the
// order sorts by (after which rows sort by id), its direction, and which rows it holds.
type applicantOrder struct {
	column string
	desc   bool
	where  string // rows outside the order: those with no value in column
}

// applicantOrders are the orders of winnow.ApplicantOrder; each has an index that
// leads with the filter's columns and ends with (column, id), so that a page is found
// by a range scan (migration 00013).
var applicantOrders = map[winnow.ApplicantOrder]applicantOrder{
	winnow.OrderNewest:  {column: "created_at", desc: true},
	winnow.OrderWaiting: {column: "submitted_at", where: "submitted_at IS NOT NULL"},
	winnow.OrderOldest:  {column: "created_at"},
}

// applicantWhere returns the conditions and arguments that keep the org's rows of
// filter in table, applicants or applicant_counts (which have the same org, job and
// status columns); further arguments are numbered after them. withStatus says whether
// filter.Status applies.
func applicantWhere(table, orgID string, filter winnow.ApplicantFilter, withStatus bool) ([]string, []any) {
	where, args := []string{`org_id = $1`}, []any{orgID}
	if filter.FunnelID != "" {
		args = append(args, filter.FunnelID)
		where = append(where, `funnel_id = $`+strconv.Itoa(len(args)))
	}
	if withStatus && filter.Status != "" {
		args = append(args, string(filter.Status))
		where = append(where, `status = $`+strconv.Itoa(len(args)))
	}
	if u := filter.VisibleTo; u != nil {
		switch {
		case u.OrgID != orgID:
			where = append(where, `1 = 0`)
		case u.Role != winnow.RoleAdmin && u.Role != winnow.RoleMember:
			args = append(args, u.ID)
			where = append(where, `EXISTS (SELECT 1 FROM funnel_team t WHERE t.org_id = `+table+`.org_id
				AND t.funnel_id = `+table+`.funnel_id AND t.user_id = $`+strconv.Itoa(len(args))+`)`)
		}
	}
	if table == "applicants" && filter.Search != "" {
		where, args = searchWhere(where, args, filter)
	}
	return where, args
}

// searchWhere adds filter's search to the conditions: a name or email that contains
// it, among the applicants whose identity shows (decided, or of a job with open
// review), or a job whose title matched. LIKE's wildcards in the search are literal.
// A search reads the list's index range and filters it, so a rare match costs a
// longer read than an unfiltered page.
func searchWhere(where []string, args []any, filter winnow.ApplicantFilter) ([]string, []any) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	args = append(args, "%"+esc.Replace(strings.ToLower(strings.TrimSpace(filter.Search)))+"%")
	p := `$` + strconv.Itoa(len(args))
	var final []string
	for _, st := range winnow.Statuses {
		if st.Final() {
			final = append(final, `'`+string(st)+`'`)
		}
	}
	or := []string{`((LOWER(name) LIKE ` + p + ` ESCAPE '\' OR LOWER(email) LIKE ` + p + ` ESCAPE '\')
		AND (status IN (` + strings.Join(final, `, `) + `) OR EXISTS (SELECT 1 FROM funnels f
			WHERE f.org_id = applicants.org_id AND f.id = applicants.funnel_id AND f.open_review)))`}
	if len(filter.SearchFunnelIDs) > 0 {
		var in []string
		for _, id := range filter.SearchFunnelIDs {
			args = append(args, id)
			in = append(in, `$`+strconv.Itoa(len(args)))
		}
		or = append(or, `funnel_id IN (`+strings.Join(in, `, `)+`)`)
	}
	return append(where, `(`+strings.Join(or, ` OR `)+`)`), args
}

// ListApplicantPage returns one page of the org's applicants that q keeps, in q's
// order. It reads one row more than the page holds, to tell whether another page
// follows. A page after a cursor has a page before it (the cursor's row was there);
// a page before one has a page after it.
func (s *Store) ListApplicantPage(ctx context.Context, orgID string, q winnow.ApplicantQuery) (*winnow.ApplicantPage, error) {
	if q.Order == "" {
		q.Order = winnow.OrderNewest
	}
	ord, ok := applicantOrders[q.Order]
	if !ok {
		return nil, winnow.Errorf(winnow.EINVALID, "Unknown order %q: use %s, %s or %s.", q.Order, winnow.OrderNewest, winnow.OrderOldest, winnow.OrderWaiting)
	}
	limit, err := winnow.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	where, args := applicantWhere("applicants", orgID, q.ApplicantFilter, true)
	if ord.where != "" {
		where = append(where, ord.where)
	}
	var cur *winnow.Cursor
	if q.Cursor != "" {
		c, err := winnow.ParseCursor(q.Cursor, string(q.Order))
		if err != nil {
			return nil, err
		}
		at, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return nil, winnow.Errorf(winnow.EINVALID, "This page link is not valid for this list: start again from the first page.")
		}
		cur = &c
		// Rows past the cursor's in the direction the page is read.
		op := ">"
		if ord.desc != c.Before {
			op = "<"
		}
		args = append(args, dbTime(at), c.ID)
		where = append(where, `(`+ord.column+`, id) `+op+` ($`+strconv.Itoa(len(args)-1)+`, $`+strconv.Itoa(len(args))+`)`)
	}
	backward := cur != nil && cur.Before
	dir := "ASC"
	if ord.desc != backward {
		dir = "DESC"
	}
	args = append(args, limit+1)
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+applicantColumns+` FROM applicants WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY `+ord.column+` `+dir+`, id `+dir+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list applicants: %w", err)
	}
	defer rows.Close()
	page := &winnow.ApplicantPage{}
	for rows.Next() {
		a, err := scanApplicant(rows)
		if err != nil {
			return nil, fmt.Errorf("list applicants: %w", err)
		}
		page.Applicants = append(page.Applicants, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list applicants: %w", err)
	}
	if backward && len(page.Applicants) == 0 {
		// Nothing is left before the cursor's row (rows were removed): what there is
		// before it is the first page.
		q.Cursor = ""
		return s.ListApplicantPage(ctx, orgID, q)
	}
	more := len(page.Applicants) > limit
	if more {
		page.Applicants = page.Applicants[:limit]
	}
	if backward {
		slices.Reverse(page.Applicants)
	}
	if n := len(page.Applicants); n > 0 {
		first, last := page.Applicants[0], page.Applicants[n-1]
		if (backward && more) || (!backward && cur != nil) {
			page.Prev = applicantCursor(q.Order, ord, first, true)
		}
		if (!backward && more) || backward {
			page.Next = applicantCursor(q.Order, ord, last, false)
		}
	}
	return page, nil
}

// applicantCursor is the cursor next to a in the list of order o: before it for the
// page before, after it for the page after.
func applicantCursor(o winnow.ApplicantOrder, ord applicantOrder, a *winnow.Applicant, before bool) string {
	var at time.Time
	switch ord.column {
	case "submitted_at":
		if a.SubmittedAt != nil {
			at = *a.SubmittedAt
		}
	default:
		at = a.CreatedAt
	}
	return winnow.Cursor{Order: string(o), Key: at.UTC().Format(time.RFC3339Nano), ID: a.ID, Before: before}.Encode()
}
