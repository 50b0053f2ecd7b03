package recruiter

import (
	"net/http"
	"net/url"

	"winnow"
)

// Pager is the Previous and Next links of a list shown a page at a time; a link is
// empty at the list's ends.
type Pager struct {
	Prev string
	Next string
}

// pager returns the links to the pages beside page, at path with query (its other
// parameters, such as a status filter, kept) and fragment (where the list is on the
// page; "" for none).
func pager(path string, query url.Values, fragment string, page *winnow.ApplicantPage) Pager {
	link := func(cursor string) string {
		if cursor == "" {
			return ""
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("cursor", cursor)
		u := url.URL{Path: path, RawQuery: q.Encode(), Fragment: fragment}
		return u.String()
	}
	return Pager{Prev: link(page.Prev), Next: link(page.Next)}
}

// cursor is the page a request asks for: its ?cursor=, "" for the first.
func cursor(r *http.Request) string { return r.URL.Query().Get("cursor") }
