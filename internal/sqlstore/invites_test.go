package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"winnow"
)

func testInvites(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	admin := mustUser(t, env, org, winnow.RoleAdmin)
	now := env.Clock.Now()

	inv := &winnow.Invite{OrgID: org.ID, Email: "New@Example.com", Role: winnow.RoleLimited, TokenHash: "inv-1", InvitedBy: admin.ID}
	if err := env.Store.CreateInvite(ctx, inv); err != nil {
		t.Fatalf("create: %v", err)
	}
	if inv.ID == "" || inv.Email != "new@example.com" || !inv.ExpiresAt.Equal(inv.CreatedAt.Add(winnow.InviteTTL)) {
		t.Fatalf("created invite = %+v", inv)
	}
	env.Clock.Advance(time.Second)
	short := &winnow.Invite{OrgID: org.ID, Email: "short@example.com", Role: winnow.RoleMember, TokenHash: "inv-2",
		ExpiresAt: now.Add(time.Hour)}
	if err := env.Store.CreateInvite(ctx, short); err != nil {
		t.Fatalf("create: %v", err)
	}

	got, err := env.Store.FindInviteByToken(ctx, "inv-1", now)
	if err != nil || !reflect.DeepEqual(got, inv) {
		t.Fatalf("FindInviteByToken = %+v, %v; want %+v", got, err, inv)
	}
	lists := []struct {
		name string
		at   time.Time
		want []*winnow.Invite
	}{
		{"both pending", now.Add(time.Minute), []*winnow.Invite{inv, short}},
		{"short one expired", now.Add(time.Hour), []*winnow.Invite{inv}},
		{"all expired", now.Add(winnow.InviteTTL + time.Second), nil},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.ListInvites(ctx, org.ID, tt.at)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ListInvites = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}

	errs := []struct {
		name string
		run  func() error
		code string
	}{
		{"expired token", func() error { _, err := env.Store.FindInviteByToken(ctx, "inv-2", now.Add(2*time.Hour)); return err }, winnow.ENOTFOUND},
		{"unknown token", func() error { _, err := env.Store.FindInviteByToken(ctx, "nope", now); return err }, winnow.ENOTFOUND},
		{"duplicate token", func() error {
			return env.Store.CreateInvite(ctx, &winnow.Invite{OrgID: org.ID, Email: "x@example.com", Role: winnow.RoleMember, TokenHash: "inv-1"})
		}, winnow.ECONFLICT},
		{"bad email", func() error {
			return env.Store.CreateInvite(ctx, &winnow.Invite{OrgID: org.ID, Email: "x", Role: winnow.RoleMember, TokenHash: "inv-9"})
		}, winnow.EINVALID},
		{"bad role", func() error {
			return env.Store.CreateInvite(ctx, &winnow.Invite{OrgID: org.ID, Email: "x@example.com", Role: "boss", TokenHash: "inv-9"})
		}, winnow.EINVALID},
		{"no token", func() error {
			return env.Store.CreateInvite(ctx, &winnow.Invite{OrgID: org.ID, Email: "x@example.com", Role: winnow.RoleMember})
		}, winnow.EINVALID},
		{"unknown org", func() error {
			return env.Store.CreateInvite(ctx, &winnow.Invite{OrgID: "nope", Email: "x@example.com", Role: winnow.RoleMember, TokenHash: "inv-9"})
		}, winnow.ENOTFOUND},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), tt.code) })
	}
	if n := count(t, env, "invites", ""); n != 2 {
		t.Fatalf("invites = %d, want 2", n)
	}
}

func testAcceptInvite(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	taken := mustUser(t, env, org, winnow.RoleMember)
	now := env.Clock.Now()
	invite := func(email, token string) *winnow.Invite {
		t.Helper()
		inv := &winnow.Invite{OrgID: org.ID, Email: email, Role: winnow.RoleLimited, TokenHash: token}
		if err := env.Store.CreateInvite(ctx, inv); err != nil {
			t.Fatalf("create invite: %v", err)
		}
		return inv
	}
	good := invite("joiner@example.com", "tok-good")
	clash := invite(taken.Email, "tok-clash")
	invite("late@example.com", "tok-late")

	// The user's org, role and email come from the invitation, whatever the form said.
	u := &winnow.User{OrgID: "forged", Role: winnow.RoleAdmin, Email: "other@example.com", Name: "Joiner", PasswordHash: "h"}
	if err := env.Store.AcceptInvite(ctx, "tok-good", u, now.Add(time.Minute)); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if u.ID == "" || u.OrgID != org.ID || u.Role != winnow.RoleLimited || u.Email != good.Email {
		t.Fatalf("accepted user = %+v", u)
	}
	stored, err := env.Store.FindUserByID(ctx, org.ID, u.ID)
	if err != nil || !reflect.DeepEqual(stored, u) {
		t.Fatalf("stored user = %+v, %v; want %+v", stored, err, u)
	}
	_, err = env.Store.FindInviteByToken(ctx, "tok-good", now)
	wantCode(t, err, winnow.ENOTFOUND)
	if n := count(t, env, "invites", "token_hash = $1 AND accepted_at IS NOT NULL", "tok-good"); n != 1 {
		t.Fatal("the accepted invitation is not marked used")
	}

	users := count(t, env, "users", "")
	tests := []struct {
		name  string
		token string
		user  winnow.User
		at    time.Time
		code  string
		still bool // the invitation is still pending afterwards
	}{
		{"used twice", "tok-good", winnow.User{Name: "Again", PasswordHash: "h"}, now.Add(time.Minute), winnow.ENOTFOUND, false},
		{"email already a user rolls back", "tok-clash", winnow.User{Name: "Clash", PasswordHash: "h"}, now.Add(time.Minute), winnow.ECONFLICT, true},
		{"invalid user rolls back", "tok-late", winnow.User{Name: "No password"}, now.Add(time.Minute), winnow.EINVALID, true},
		{"expired", "tok-late", winnow.User{Name: "Late", PasswordHash: "h"}, now.Add(winnow.InviteTTL + time.Hour), winnow.ENOTFOUND, false},
		{"unknown token", "tok-none", winnow.User{Name: "X", PasswordHash: "h"}, now, winnow.ENOTFOUND, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, env.Store.AcceptInvite(ctx, tt.token, &tt.user, tt.at), tt.code)
			if tt.user.ID != "" {
				t.Fatal("a failed accept filled in a user ID")
			}
			if tt.still {
				if _, err := env.Store.FindInviteByToken(ctx, tt.token, now); err != nil {
					t.Fatalf("invitation no longer pending: %v", err)
				}
			}
		})
	}
	if n := count(t, env, "users", ""); n != users {
		t.Fatalf("users = %d, want %d: failed accepts must create nobody", n, users)
	}
	if _, err := env.Store.FindInviteByToken(ctx, clash.TokenHash, now); err != nil {
		t.Fatalf("clashing invitation no longer pending: %v", err)
	}
}
