package winnow

import (
	"context"
	"time"
)

// Invite is an admin's invitation for a person to join the org with a role. The link
// carries a random token; only its hash is stored.
type Invite struct {
	ID         string
	OrgID      string
	Email      string
	Role       Role
	TokenHash  string
	InvitedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	// EmailID and EmailStatus are the invitation's email, as ListInvites reports it;
	// empty for an invitation whose link was only shown to the admin.
	EmailID     string
	EmailStatus EmailStatus
}

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// Validate normalises the invite and reports whether it can be stored.
func (i *Invite) Validate() error {
	email, err := NormalizeEmail(i.Email)
	if err != nil {
		return err
	}
	i.Email = email
	if !i.Role.Valid() {
		return Errorf(EINVALID, "Unknown role %q: use admin, member or limited.", i.Role)
	}
	if i.OrgID == "" || i.TokenHash == "" {
		return Errorf(EINVALID, "An invitation needs an organization and a token.")
	}
	return nil
}

// InviteService stores member invitations.
type InviteService interface {
	// CreateInvite stores a new invitation and fills in ID and CreatedAt.
	CreateInvite(ctx context.Context, inv *Invite) error
	// ListInvites returns the org's pending (unaccepted, unexpired) invitations, each
	// with its email's ID and status.
	ListInvites(ctx context.Context, orgID string, now time.Time) ([]*Invite, error)
	// FindInviteByToken returns the pending invitation with this token hash, or ENOTFOUND.
	FindInviteByToken(ctx context.Context, tokenHash string, now time.Time) (*Invite, error)
	// AcceptInvite creates the user and marks the invitation used, both or neither.
	AcceptInvite(ctx context.Context, tokenHash string, u *User, now time.Time) error
}

// MemberInviteService invites people to join an org by email.
type MemberInviteService interface {
	// InviteMember stores the invitation and queues its email, which carries link (the
	// invitation's URL with its token), both or neither; it fills in inv's ID and times
	// and returns the queued email. The link is written into the email's content, which
	// is encrypted at rest, and is stored nowhere else.
	InviteMember(ctx context.Context, inv *Invite, link string) (*Email, error)
}
