package lever

import (
	"context"
	"fmt"
	"net/url"
)

// Posting is a job posting in Lever.
type Posting struct {
	// ID is the posting id.
	ID string `json:"id"`
	// Text is the posting's title.
	Text string `json:"text"`
	// State is published, internal, closed, draft, pending or rejected.
	State string `json:"state"`
	// Confidentiality is "non-confidential" or "confidential".
	Confidentiality string `json:"confidentiality"`
	// Categories holds team, location and the like.
	Categories PostingCategories `json:"categories"`
	// Tags are the posting's tags.
	Tags []string `json:"tags"`
	// Owner and HiringManager are user ids.
	Owner string `json:"owner"`
	// HiringManager is the user id of the hiring manager.
	HiringManager string `json:"hiringManager"`
	// URLs may be nil, e.g. for closed postings.
	URLs *PostingURLs `json:"urls"`
	// CreatedAt is when the posting was created.
	CreatedAt Timestamp `json:"createdAt"`
	// UpdatedAt is when it last changed.
	UpdatedAt Timestamp `json:"updatedAt"`
}

// PostingCategories are a posting's descriptive categories.
type PostingCategories struct {
	// Team, Department, Location, Commitment and Level are free text.
	Team       string `json:"team"`
	Department string `json:"department"`
	Location   string `json:"location"`
	Commitment string `json:"commitment"`
	Level      string `json:"level"`
}

// PostingURLs are a posting's public links.
type PostingURLs struct {
	// List, Show and Apply are the public job-site links.
	List  string `json:"list"`
	Show  string `json:"show"`
	Apply string `json:"apply"`
}

// ListPostingsOptions filters ListPostings.
type ListPostingsOptions struct {
	// States keeps postings in any of these states (e.g. "published",
	// "internal"); empty means Lever's default.
	States []string
	// PageSize is the page size asked for (1–100; 0 means Lever's default).
	PageSize int
}

// ListPostings returns every posting matching opts, following all pages.
func (c *Client) ListPostings(ctx context.Context, opts ListPostingsOptions) ([]Posting, error) {
	q := url.Values{}
	for _, s := range opts.States {
		q.Add("state", s)
	}
	ps, err := listAll[Posting](ctx, c, "/postings", q, opts.PageSize)
	if err != nil {
		return nil, fmt.Errorf("list postings: %w", err)
	}
	return ps, nil
}
