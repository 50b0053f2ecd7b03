package winnow

import (
	"encoding/base64"
	"encoding/json"
)

// Lists that can grow without bound (a job's applicants) are read a page at a time, by
// keyset: a page starts right after (or ends right before) the row its cursor names,
// found through an index, so every page costs the same however long the list.

// Page sizes.
const (
	// DefaultPageSize is how many rows a page holds when the caller does not say.
	DefaultPageSize = 50
	// MaxPageSize is the most rows a page may hold.
	MaxPageSize = 100
)

// PageLimit returns the number of rows a page of limit holds: DefaultPageSize for 0,
// EINVALID outside 1 to MaxPageSize.
func PageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 1 || limit > MaxPageSize:
		return 0, Errorf(EINVALID, "A page holds 1 to %d rows; %d is out of range.", MaxPageSize, limit)
	}
	return limit, nil
}

// Cursor marks a place in an ordered list, next to one row: the page it opens starts
// right after that row, or, with Before, ends right before it. Callers see it only
// encoded (Encode), as an opaque string.
type Cursor struct {
	// Order is the order of the list the cursor was made for; a cursor is refused by
	// a list in another order.
	Order string `json:"o"`
	// Key is the row's sort value, as the store writes it for the order.
	Key string `json:"k"`
	// ID is the row's ID, which orders rows with the same Key.
	ID string `json:"i"`
	// Before says the page lies before the row (a "Previous" link).
	Before bool `json:"b,omitempty"`
}

// Encode returns the cursor as an opaque string fit for a URL.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorLen bounds an encoded cursor: the keys Winnow writes are far shorter.
const maxCursorLen = 1024

// errBadCursor is the answer to a cursor that Winnow did not make for this list.
var errBadCursor = Errorf(EINVALID, "This page link is not valid for this list: start again from the first page.")

// ParseCursor reads an encoded cursor of a list in order. Anything Encode did not
// make for that order is EINVALID.
func ParseCursor(s, order string) (Cursor, error) {
	if len(s) > maxCursorLen {
		return Cursor{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, errBadCursor
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Order != order || c.Key == "" || c.ID == "" || !ValidText(c.Key) || !ValidText(c.ID) {
		return Cursor{}, errBadCursor
	}
	return c, nil
}

// ApplicantOrder is the order of a list of applicants.
type ApplicantOrder string

// The orders of applicant lists.
const (
	// OrderNewest lists the applicants invited last first.
	OrderNewest ApplicantOrder = "newest"
	// OrderWaiting lists submitted applicants, those who submitted first first: the
	// order of the review queue. Applicants who never submitted are not in it.
	OrderWaiting ApplicantOrder = "waiting"
	// OrderOldest lists the applicants invited first first.
	OrderOldest ApplicantOrder = "oldest"
)

// Valid reports whether o is a known order; "" is OrderNewest.
func (o ApplicantOrder) Valid() bool {
	return o == "" || o == OrderNewest || o == OrderWaiting || o == OrderOldest
}

// ApplicantQuery asks for one page of a list of applicants: which (the filter), in
// what order, and where the page starts.
type ApplicantQuery struct {
	ApplicantFilter
	// Order is the list's order; "" is OrderNewest.
	Order ApplicantOrder
	// Cursor is where the page starts: a Next or Prev of an earlier page of the same
	// list; "" is the first page.
	Cursor string
	// Limit is how many applicants the page holds, up to MaxPageSize; 0 is
	// DefaultPageSize.
	Limit int
}

// ApplicantPage is one page of a list of applicants.
type ApplicantPage struct {
	Applicants []*Applicant
	// Next is the cursor of the page after this one; "" when this is the last.
	Next string
	// Prev is the cursor of the page before this one; "" when this is the first.
	Prev string
}
