package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
)

// followInvite posts the member invitation form, which must redirect (POST-redirect-GET),
// and returns the page it leads to. Loading that page again must not show the link: it
// is shown once, and a reload sends nothing.
func followInvite(t *testing.T, b *browser, form url.Values) (int, string) {
	t.Helper()
	s, body, h := b.post("/settings/members/invites", form)
	if s != http.StatusSeeOther {
		return s, body
	}
	loc := h.Get("Location")
	s, body = b.get(loc)
	if _, again := b.get(loc); strings.Contains(again, "/invite/") {
		t.Fatalf("reloading %s shows the invitation link again", loc)
	}
	return s, body
}

// TestManageMembers manages the org's people through Settings → Members and the account
// page: roles change, the last admin cannot be demoted or removed (with a clear error),
// a removed member's session ends at once, a pending invitation is resent (a new link,
// the old one dead) and revoked, and everyone edits their own name and password.
func TestManageMembers(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		bob := MustUser(t, m, "Acme", "bob@acme.test", winnow.RoleMember)
		MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
		a, bobB, globex := signedIn(t, m, "admin@acme.test"), signedIn(t, m, "bob@acme.test"), signedIn(t, m, "admin@globex.test")
		post := func(b *browser, path string, form url.Values, want int) string {
			t.Helper()
			s, body, h := b.post(path, form)
			if s != want {
				t.Fatalf("POST %s: %d, want %d\n%s", path, s, want, body)
			}
			if s == http.StatusSeeOther {
				_, body = b.get(h.Get("Location"))
			}
			return body
		}

		// The last admin: refused with a reason, on the page.
		body := post(a, "/settings/members/"+admin.ID+"/role", url.Values{"role": {"member"}}, http.StatusConflict)
		if !strings.Contains(body, "is the last admin and must stay one: make another member admin first.") {
			t.Fatalf("demoting the last admin:\n%s", body)
		}
		post(a, "/settings/members/"+admin.ID+"/remove", url.Values{}, http.StatusUnprocessableEntity) // yourself
		post(bobB, "/settings/members/"+admin.ID+"/role", url.Values{"role": {"limited"}}, http.StatusForbidden)
		post(globex, "/settings/members/"+bob.ID+"/role", url.Values{"role": {"admin"}}, http.StatusNotFound)
		post(globex, "/settings/members/"+bob.ID+"/remove", url.Values{}, http.StatusNotFound)

		// Roles change; the page shows each member's role in its own form.
		body = post(a, "/settings/members/"+bob.ID+"/role", url.Values{"role": {"limited"}}, http.StatusSeeOther)
		if !strings.Contains(body, "Role changed.") || !has(t, body, `select#role-`+bob.ID+` option[value="limited"][selected]`) {
			t.Fatalf("after the role change:\n%s", body)
		}
		if !has(t, body, `form[action="/settings/members/`+bob.ID+`/remove"]`) || has(t, body, `form[action="/settings/members/`+admin.ID+`/remove"]`) {
			t.Fatal("remove is offered for the wrong members")
		}

		// Removing Bob signs him out at once.
		if s, _ := bobB.get("/jobs"); s != 200 {
			t.Fatalf("bob before removal: %d", s)
		}
		body = post(a, "/settings/members/"+bob.ID+"/remove", url.Values{}, http.StatusSeeOther)
		if !strings.Contains(body, "Member removed") || strings.Contains(body, "bob@acme.test") {
			t.Fatalf("after removal:\n%s", body)
		}
		if s, _, h := bobB.do("GET", "/jobs", nil, nil); s != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Fatalf("the removed member's session: %d %s", s, h.Get("Location"))
		}

		// A pending invitation: the page names the company; resend replaces its link; revoke ends it.
		_, body = followInvite(t, a, url.Values{"email": {"carla@acme.test"}, "role": {"member"}})
		first := strings.TrimPrefix(inviteLinkIn(t, m, body), m.Config.BaseURL)
		anon := newBrowser(t, m)
		if s, page := anon.get(first); s != 200 || !strings.Contains(page, "Join Acme on Winnow") {
			t.Fatalf("invite page: %d\n%s", s, page)
		}
		invites, err := m.Store.ListInvites(ctx, admin.OrgID, m.Clock.Now())
		if err != nil || len(invites) != 1 {
			t.Fatalf("invites: %v, %v", invites, err)
		}
		s, _, h := a.post("/settings/members/invites/"+invites[0].ID+"/resend", url.Values{})
		if s != http.StatusSeeOther {
			t.Fatalf("resend: %d", s)
		}
		_, body = a.get(h.Get("Location"))
		second := strings.TrimPrefix(inviteLinkIn(t, m, body), m.Config.BaseURL)
		if second == first {
			t.Fatal("resend kept the old link")
		}
		if s, _ := anon.get(first); s != http.StatusNotFound {
			t.Fatalf("the replaced link: %d", s)
		}
		invites, _ = m.Store.ListInvites(ctx, admin.OrgID, m.Clock.Now())
		post(globex, "/settings/members/invites/"+invites[0].ID+"/revoke", url.Values{}, http.StatusNotFound)
		if body := post(a, "/settings/members/invites/"+invites[0].ID+"/revoke", url.Values{}, http.StatusSeeOther); !strings.Contains(body, "Invitation revoked") {
			t.Fatalf("after revoke:\n%s", body)
		}
		if s, _ := anon.get(second); s != http.StatusNotFound {
			t.Fatalf("the revoked link: %d", s)
		}

		// Your account: name, and a password checked against the current one.
		post(a, "/account/name", url.Values{"name": {"  "}}, http.StatusUnprocessableEntity)
		if body := post(a, "/account/name", url.Values{"name": {"Ada Admin"}}, http.StatusSeeOther); !strings.Contains(body, "Your name is saved.") {
			t.Fatalf("after rename:\n%s", body)
		}
		body = post(a, "/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"a new long password"},
			"new_password_confirm": {"a new long password"}}, http.StatusUnprocessableEntity)
		if !strings.Contains(body, "Your current password is not right.") {
			t.Fatalf("wrong current password:\n%s", body)
		}
		other2 := signedIn(t, m, "admin@acme.test")
		post(a, "/account/password", url.Values{"current_password": {"password-admin@acme.test"}, "new_password": {"a new long password"},
			"new_password_confirm": {"a new long password"}}, http.StatusSeeOther)
		if s, _ := a.get("/jobs"); s != 200 {
			t.Fatalf("the session that changed the password: %d", s)
		}
		if s, _ := other2.get("/jobs"); s != http.StatusSeeOther {
			t.Fatalf("another session after the password change: %d", s)
		}
		fresh := newBrowser(t, m)
		fresh.login("admin@acme.test", "a new long password")
		if u, err := m.Store.FindUserByID(ctx, admin.OrgID, admin.ID); err != nil || u.Name != "Ada Admin" {
			t.Fatalf("admin after the changes: %+v, %v", u, err)
		}
	})
}
