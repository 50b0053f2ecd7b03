package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"winnow"
)

// Sealer encrypts text at rest and opens it again; *keyring.Keyring is the one Winnow
// uses (AES-GCM with the key from WINNOW_SECRET_KEY). Member invitation emails are
// stored sealed because their link is a credential.
type Sealer interface {
	// Seal returns plaintext encrypted, as text.
	Seal(plaintext string) (string, error)
	// Open returns what Seal sealed, or an error when the text was changed or sealed
	// with another key.
	Open(sealed string) (string, error)
}

// InviteStore is what member invitations need from the store; *sqlstore.Store
// implements it, and its methods of the same names document each.
type InviteStore interface {
	FindOrgByID(ctx context.Context, id string) (*winnow.Org, error)
	FindUserByID(ctx context.Context, orgID, id string) (*winnow.User, error)
	FindTemplate(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (*winnow.Template, error)
	CreateInviteWithEmail(ctx context.Context, inv *winnow.Invite, e *winnow.Email) error
}

// MemberInvites invites people to an org by email; it implements
// winnow.MemberInviteService. The link exists in plain text only in memory: the email
// is rendered from the org's member invitation template while the link is at hand,
// sealed with Sealer, and stored with the invitation in one transaction, in which the
// store's effects (EmailPlanner) plan its send job. The send worker opens it right before handing it to the mail server,
// outside any transaction; in outbox mode it stays sealed and the mail viewer opens it.
// Every field must be set.
type MemberInvites struct {
	Store  InviteStore
	Sealer Sealer
	Logger *slog.Logger
}

var _ winnow.MemberInviteService = (*MemberInvites)(nil)

// InviteMember stores inv and queues its email carrying link, both or neither, and
// returns the email, whose content is sealed.
func (mi *MemberInvites) InviteMember(ctx context.Context, inv *winnow.Invite, link string) (*winnow.Email, error) {
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	if link == "" || mi.Sealer == nil {
		return nil, errors.New("invite member: a link and a sealer are required")
	}
	content, err := mi.render(ctx, inv, link)
	if err != nil {
		return nil, err
	}
	e := &winnow.Email{OrgID: inv.OrgID, Kind: winnow.EmailMemberInvite, To: inv.Email, Sealed: true}
	for _, p := range []struct{ dst, src *string }{{&e.Subject, &content.Subject}, {&e.Text, &content.Text}, {&e.HTML, &content.HTML}} {
		if *p.dst, err = mi.Sealer.Seal(*p.src); err != nil {
			return nil, fmt.Errorf("seal member invitation: %w", err)
		}
	}
	if err := mi.Store.CreateInviteWithEmail(ctx, inv, e); err != nil {
		return nil, err
	}
	return e, nil
}

// render fills in the org's member invitation template. A stored template that no
// longer renders falls back to the built-in one rather than sending nothing.
func (mi *MemberInvites) render(ctx context.Context, inv *winnow.Invite, link string) (winnow.RenderedEmail, error) {
	org, err := mi.Store.FindOrgByID(ctx, inv.OrgID)
	if err != nil {
		return winnow.RenderedEmail{}, fmt.Errorf("load org: %w", err)
	}
	data := winnow.TemplateData{Company: org.Name, Link: link, Role: inv.Role.Label()}
	if inv.InvitedBy != "" {
		// An inviter who cannot be found only loses the email its "X has invited you".
		if u, err := mi.Store.FindUserByID(ctx, inv.OrgID, inv.InvitedBy); err == nil {
			data.InviterName = u.Name
		} else if winnow.ErrorCode(err) != winnow.ENOTFOUND {
			return winnow.RenderedEmail{}, fmt.Errorf("load inviter: %w", err)
		}
	}
	t, err := mi.Store.FindTemplate(ctx, inv.OrgID, "", winnow.EmailMemberInvite)
	if err != nil {
		return winnow.RenderedEmail{}, fmt.Errorf("load template: %w", err)
	}
	return renderTemplate(ctx, mi.Logger.With("org_id", inv.OrgID), t, data)
}
