package recruiter

import (
	"net/http"
	"time"

	"winnow"
	"winnow/internal/web/render"
)

// inviteFlashCookie carries a new member invitation's link from the POST that made it
// to the page it redirects to, sealed, for one minute: the link is shown once, and a
// reload of that page must not send the form again (POST-redirect-GET).
const inviteFlashCookie = "winnow_invite"

// inviteFlashTTL is how long the sealed link waits for the redirect to be followed.
const inviteFlashTTL = time.Minute

// setInviteFlash keeps the invitation's result for the page after the redirect.
func (h *Handler) setInviteFlash(w http.ResponseWriter, link, to, emailID string) error {
	sealed, err := h.Keyring.Seal(link + "\n" + to + "\n" + emailID)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: inviteFlashCookie, Value: sealed, Path: "/settings/members", MaxAge: int(inviteFlashTTL.Seconds()),
		HttpOnly: true, Secure: h.Sessions != nil && h.Sessions.Secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// takeInviteFlash reads and clears the invitation's result, if the request carries one
// this server sealed.
func (h *Handler) takeInviteFlash(w http.ResponseWriter, r *http.Request, page *MembersPage) {
	c, err := r.Cookie(inviteFlashCookie)
	if err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: inviteFlashCookie, Value: "", Path: "/settings/members", MaxAge: -1,
		HttpOnly: true, Secure: h.Sessions != nil && h.Sessions.Secure, SameSite: http.SameSiteStrictMode})
	open, err := h.Keyring.Open(c.Value)
	if err != nil {
		return
	}
	var parts [3]string
	for i, rest := 0, open; i < 3; i++ {
		j := indexNL(rest)
		if j < 0 {
			parts[i] = rest
			break
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	page.InviteLink, page.InviteTo, page.EmailID = parts[0], parts[1], parts[2]
}

func indexNL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}

// memberNotices are the sentences a redirect back to Members may ask for.
var memberNotices = map[string]string{
	"role":    "Role changed.",
	"removed": "Member removed: they are signed out and can no longer sign in.",
	"revoked": "Invitation revoked: its link no longer works.",
}

// ChangeMemberRole gives a member another role. The org keeps at least one admin.
func (h *Handler) ChangeMemberRole(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	role, err := winnow.ParseRole(r.PostFormValue("role"))
	var changed *winnow.User
	if err == nil {
		changed, err = h.People.ChangeRole(r.Context(), u.OrgID, r.PathValue("id"), role)
	}
	if err != nil {
		h.membersFailed(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "member role changed", "org_id", u.OrgID, "user_id", u.ID, "member_id", changed.ID, "role", string(role))
	if changed.ID == u.ID && !changed.IsAdmin() {
		// The admin gave up Settings: the members page is no longer theirs.
		http.Redirect(w, r, "/jobs", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/settings/members?done=role", http.StatusSeeOther)
}

// RemoveMember removes a member from the org: their sessions end at once and they leave
// every job team; their reviews stay. Admins cannot remove themselves, and the org keeps
// at least one admin.
func (h *Handler) RemoveMember(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	target, err := h.Users.FindUserByID(r.Context(), u.OrgID, r.PathValue("id"))
	if err == nil {
		err = u.MayRemove(target)
	}
	if err == nil {
		err = h.People.RemoveUser(r.Context(), u.OrgID, target.ID)
	}
	if err != nil {
		h.membersFailed(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "member removed", "org_id", u.OrgID, "user_id", u.ID, "member_id", target.ID)
	http.Redirect(w, r, "/settings/members?done=removed", http.StatusSeeOther)
}

// RevokeInvite ends a pending member invitation: its link stops working.
func (h *Handler) RevokeInvite(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	if err := h.People.RevokeInvite(r.Context(), u.OrgID, r.PathValue("id")); err != nil {
		h.membersFailed(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "member invitation revoked", "org_id", u.OrgID, "user_id", u.ID, "invite_id", r.PathValue("id"))
	http.Redirect(w, r, "/settings/members?done=revoked", http.StatusSeeOther)
}

// ResendInvite sends a pending invitation again: only the hash of its link is stored,
// so a new invitation with a new link (and a new week) replaces it, and the old link
// stops working once the new one exists.
func (h *Handler) ResendInvite(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	invites, err := h.Invites.ListInvites(r.Context(), u.OrgID, h.Clock.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var old *winnow.Invite
	for _, inv := range invites {
		if inv.ID == r.PathValue("id") {
			old = inv
		}
	}
	if old == nil {
		h.membersFailed(w, r, winnow.Errorf(winnow.ENOTFOUND, "This invitation is no longer pending: it was accepted, revoked or has expired."))
		return
	}
	if !h.inviteMember(w, r, old.Email, old.Role) {
		return
	}
	if err := h.People.RevokeInvite(r.Context(), u.OrgID, old.ID); err != nil && winnow.ErrorCode(err) != winnow.ENOTFOUND {
		// The new invitation exists; the old link keeps working until it expires.
		h.Logger.ErrorContext(r.Context(), "revoke the resent invitation", "org_id", u.OrgID, "invite_id", old.ID, "error", err)
	}
	http.Redirect(w, r, "/settings/members?invited=1", http.StatusSeeOther)
}

// membersFailed shows the members page with the error of a change, or an error page for
// errors the page cannot explain.
func (h *Handler) membersFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch winnow.ErrorCode(err) {
	case winnow.EINVALID, winnow.ECONFLICT, winnow.ENOTFOUND:
		h.renderMembers(w, r, render.Status(err), MembersPage{ChangeError: winnow.ErrorMessage(err)})
	default:
		h.fail(w, r, err)
	}
}
