package winnow

import (
	"context"
	"strings"
	"time"
)

// Org is a company using Winnow. Every other object belongs to exactly one Org, and no
// query ever crosses from one Org to another.
type Org struct {
	ID        string
	Name      string
	ReplyTo   string // where candidates may write; empty until an admin sets one
	CreatedAt time.Time
}

// MaxNameLength is the most characters in the name of an org, a user or a candidate.
const MaxNameLength = 200

// Validate reports whether the org can be stored.
func (o *Org) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	switch {
	case o.Name == "":
		return Errorf(EINVALID, "Organization name is required.")
	case tooLong(o.Name, MaxNameLength):
		return Errorf(EINVALID, "Organization name must be at most %d characters.", MaxNameLength)
	}
	return nil
}

// OrgService stores organisations.
type OrgService interface {
	// CreateOrg stores a new org and fills in its ID and CreatedAt.
	CreateOrg(ctx context.Context, o *Org) error
	// FindOrgByID returns the org or an ENOTFOUND error.
	FindOrgByID(ctx context.Context, id string) (*Org, error)
	// FindOrgByName returns the org with this name, ignoring letter case and surrounding
	// spaces, or an ENOTFOUND error.
	FindOrgByName(ctx context.Context, name string) (*Org, error)
	// SetOrgReplyTo stores the address candidates may write to (see NormalizeReplyTo);
	// an empty address removes it. An unknown org is ENOTFOUND.
	SetOrgReplyTo(ctx context.Context, orgID, replyTo string) error
}

// NormalizeReplyTo trims and checks an org's reply-to address; empty is allowed and
// means none.
func NormalizeReplyTo(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	addr, err := NormalizeEmail(s)
	if err != nil {
		return "", Errorf(EINVALID, "The reply-to address %q is not a valid email address.", clip(strings.TrimSpace(s)))
	}
	return addr, nil
}
