package recruiter

import (
	"errors"
	"fmt"
	"net/http"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/password"
	"winnow/internal/web/render"
)

// MembersPage is the data of Settings → Members.
type MembersPage struct {
	render.Base
	Users      []*winnow.User
	Invites    []*winnow.Invite
	InviteLink string // shown once, right after an invitation is created
	InviteTo   string
	EmailID    string // the new invitation's email
	Outbox     bool   // no SMTP server is configured: invitation emails stay in the outbox
	Error      string // the invitation form's error
	// ChangeError is the error of a change to a member or an invitation.
	ChangeError string
	Roles       []winnow.Role
	Me          *winnow.User
}

// Members lists the org's people and pending invitations, with the link of the
// invitation just made, once, after the redirect from Invite.
func (h *Handler) Members(w http.ResponseWriter, r *http.Request) {
	var page MembersPage
	h.takeInviteFlash(w, r, &page)
	h.renderMembers(w, r, http.StatusOK, page)
}

func (h *Handler) renderMembers(w http.ResponseWriter, r *http.Request, status int, page MembersPage) {
	u := me(r)
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	invites, err := h.Invites.ListInvites(r.Context(), u.OrgID, h.Clock.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page.Base, page.Users, page.Invites, page.Me = h.base(r, "Members", "settings"), users, invites, u
	if status == http.StatusOK {
		page.Notice = memberNotices[r.URL.Query().Get("done")]
	}
	page.Roles = []winnow.Role{winnow.RoleMember, winnow.RoleLimited, winnow.RoleAdmin}
	page.Outbox = h.MailMode.Outbox
	h.Render.Page(w, r, status, render.PageSettingsMembers, page)
}

// Invite creates an invitation for a new member and queues the email that carries its
// link, both or neither. The link is also shown to the admin, this once and never again
// (only its token's hash and the sealed email are stored): with an SMTP server as a
// fallback should the email not arrive, in outbox mode because nothing is delivered.
func (h *Handler) Invite(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	role, err := winnow.ParseRole(r.PostFormValue("role"))
	if err != nil {
		h.renderMembers(w, r, http.StatusUnprocessableEntity, MembersPage{Error: winnow.ErrorMessage(err)})
		return
	}
	if h.inviteMember(w, r, r.PostFormValue("email"), role) {
		http.Redirect(w, r, "/settings/members?invited=1", http.StatusSeeOther)
	}
}

// inviteMember creates the invitation and its email, and keeps its link for the page
// after the redirect. It answers the request itself and returns false when it could not.
func (h *Handler) inviteMember(w http.ResponseWriter, r *http.Request, address string, role winnow.Role) bool {
	u := me(r)
	email, err := winnow.NormalizeEmail(address)
	if err == nil {
		if existing, ferr := h.Users.FindUserByEmail(r.Context(), email); ferr == nil {
			err = existing.RefuseInvite(u.OrgID)
		} else if winnow.ErrorCode(ferr) != winnow.ENOTFOUND {
			h.fail(w, r, ferr)
			return false
		}
	}
	if err != nil {
		h.renderMembers(w, r, render.Status(err), MembersPage{Error: winnow.ErrorMessage(err)})
		return false
	}
	token := keyring.Token()
	now := h.Clock.Now()
	inv := &winnow.Invite{OrgID: u.OrgID, Email: email, Role: role, TokenHash: h.Keyring.Hash(token), InvitedBy: u.ID,
		CreatedAt: now, ExpiresAt: now.Add(winnow.InviteTTL)}
	link := h.BaseURL + "/invite/" + token
	e, err := h.MemberInvites.InviteMember(r.Context(), inv, link)
	if winnow.ErrorCode(err) == winnow.EINTERNAL {
		h.fail(w, r, err) // logged there
		return false
	}
	if err != nil {
		h.renderMembers(w, r, render.Status(err), MembersPage{Error: winnow.ErrorMessage(err)})
		return false
	}
	h.Logger.InfoContext(r.Context(), "member invited", "org_id", u.OrgID, "invite_id", inv.ID, "email_id", e.ID,
		"role", string(role))
	if err := h.setInviteFlash(w, link, email, e.ID); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

// AcceptInvitePage is the data of the page where an invited person sets their password.
type AcceptInvitePage struct {
	render.Base
	Invite  *winnow.Invite
	OrgName string // the org that invites, for "Join Acme on Winnow"
	Name    string
	Error   string
}

// InviteForm shows the form to accept an invitation.
func (h *Handler) InviteForm(w http.ResponseWriter, r *http.Request) {
	inv, ok := h.pendingInvite(w, r)
	if !ok {
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageInviteAccept, h.acceptPage(r, inv, ""))
}

// AcceptInvite creates the invited person's account and signs them in.
func (h *Handler) AcceptInvite(w http.ResponseWriter, r *http.Request) {
	inv, ok := h.pendingInvite(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	page := h.acceptPage(r, inv, name)
	if err := winnow.ValidatePassword(pw); err != nil {
		page.Error = winnow.ErrorMessage(err)
		h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageInviteAccept, page)
		return
	}
	if pw != r.PostFormValue("password_confirm") {
		page.Error = "The two passwords do not match."
		h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageInviteAccept, page)
		return
	}
	hash, err := password.Hash(pw)
	if errors.Is(err, password.ErrBusy) {
		page.Error = winnow.ErrorMessage(err)
		w.Header().Set("Retry-After", fmt.Sprint(int(password.RetryAfter.Seconds())))
		h.Render.Page(w, r, http.StatusServiceUnavailable, render.PageInviteAccept, page)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u := &winnow.User{OrgID: inv.OrgID, Email: inv.Email, Name: name, Role: inv.Role, PasswordHash: hash}
	if err := h.Invites.AcceptInvite(r.Context(), inv.TokenHash, u, h.Clock.Now()); err != nil {
		if code := winnow.ErrorCode(err); code == winnow.EINVALID || code == winnow.ECONFLICT {
			page.Error = winnow.ErrorMessage(err)
			h.Render.Page(w, r, render.Status(err), render.PageInviteAccept, page)
			return
		}
		h.fail(w, r, err)
		return
	}
	if err := h.Sessions.Start(r.Context(), w, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/jobs", http.StatusSeeOther)
}

// acceptPage names the inviting org on the page; a failed lookup only loses the name.
func (h *Handler) acceptPage(r *http.Request, inv *winnow.Invite, name string) AcceptInvitePage {
	page := AcceptInvitePage{Base: h.base(r, "Join Winnow", ""), Invite: inv, Name: name}
	if org, err := h.Orgs.FindOrgByID(r.Context(), inv.OrgID); err == nil {
		page.OrgName, page.Title = org.Name, "Join "+org.Name+" on Winnow"
	} else {
		h.Logger.WarnContext(r.Context(), "find the inviting org", "org_id", inv.OrgID, "error", err)
	}
	return page
}

func (h *Handler) pendingInvite(w http.ResponseWriter, r *http.Request) (*winnow.Invite, bool) {
	inv, err := h.Invites.FindInviteByToken(r.Context(), h.Keyring.Hash(r.PathValue("token")), h.Clock.Now())
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusNotFound,
			"This invitation link is not valid. It may have expired or already been used; ask your admin for a new one.")
		return nil, false
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return inv, true
}
