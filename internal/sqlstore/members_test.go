package sqlstore_test

import (
	"testing"
	"time"

	"winnow"
)

// TestStoreMembers runs the conformance tests of member management on both engines.
func TestStoreMembers(t *testing.T) {
	runSuite(t, []suiteCase{
		{"Members", testMembers},
		{"ReachedCounts", testReachedCounts},
	})
}

// testMembers changes roles, removes a member who reviewed (the review stays, their
// sessions end), keeps the last admin, renames, sets a password ending the other
// sessions, and revokes an invitation; another org's IDs are not found.
func testMembers(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org, other := mustOrg(t, env), mustOrg(t, env)
	admin := mustUser(t, env, org, winnow.RoleAdmin)
	bob := mustUser(t, env, org, winnow.RoleMember)
	f := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Team = []string{bob.ID, admin.ID} })
	a := mustSubmitted(t, env, f)
	if err := env.Store.SaveReview(ctx, &winnow.Review{OrgID: org.ID, ApplicantID: a.ID, ReviewerID: bob.ID, Score: 3}); err != nil {
		t.Fatal(err)
	}
	session := func(u *winnow.User, hash string) {
		t.Helper()
		now := env.Clock.Now()
		if err := env.Store.CreateSession(ctx, &winnow.Session{TokenHash: hash, UserID: u.ID, OrgID: u.OrgID, CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	session(bob, "bob-1")
	session(admin, "admin-1")
	session(admin, "admin-2")

	// The last admin stays one, and cannot be removed.
	if _, err := env.Store.ChangeRole(ctx, org.ID, admin.ID, winnow.RoleMember); winnow.ErrorCode(err) != winnow.ECONFLICT {
		t.Fatalf("demote the last admin: %v", err)
	}
	if err := env.Store.RemoveUser(ctx, org.ID, admin.ID); winnow.ErrorCode(err) != winnow.ECONFLICT {
		t.Fatalf("remove the last admin: %v", err)
	}
	// With a second admin, the first may be demoted.
	if u, err := env.Store.ChangeRole(ctx, org.ID, bob.ID, winnow.RoleAdmin); err != nil || u.Role != winnow.RoleAdmin {
		t.Fatalf("promote: %+v, %v", u, err)
	}
	if _, err := env.Store.ChangeRole(ctx, org.ID, admin.ID, winnow.RoleLimited); err != nil {
		t.Fatalf("demote with another admin: %v", err)
	}
	if _, err := env.Store.ChangeRole(ctx, org.ID, bob.ID, "owner"); winnow.ErrorCode(err) != winnow.EINVALID {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := env.Store.ChangeRole(ctx, other.ID, bob.ID, winnow.RoleMember); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("another org changes a role: %v", err)
	}
	if _, err := env.Store.ChangeRole(ctx, org.ID, admin.ID, winnow.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	// Removing Bob ends his sessions and keeps his review.
	if err := env.Store.RemoveUser(ctx, other.ID, bob.ID); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("another org removes: %v", err)
	}
	if err := env.Store.RemoveUser(ctx, org.ID, bob.ID); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := env.Store.FindSession(ctx, "bob-1", env.Clock.Now()); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("the removed member's session: %v", err)
	}
	if _, err := env.Store.FindUserByID(ctx, org.ID, bob.ID); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("the removed member: %v", err)
	}
	if rs, err := env.Store.ListReviews(ctx, org.ID, a.ID); err != nil || len(rs) != 1 || rs[0].ReviewerID != bob.ID {
		t.Fatalf("reviews after the removal: %v, %v", rs, err)
	}
	if got, err := env.Store.FindFunnelByID(ctx, org.ID, f.ID); err != nil || got.OnTeam(bob.ID) || !got.OnTeam(admin.ID) {
		t.Fatalf("the job team after the removal: %+v, %v", got, err)
	}

	// Renaming, and a new password that ends the other sessions.
	if err := env.Store.RenameUser(ctx, org.ID, admin.ID, "  "); winnow.ErrorCode(err) != winnow.EINVALID {
		t.Fatalf("empty name: %v", err)
	}
	if err := env.Store.RenameUser(ctx, org.ID, admin.ID, " Grace "); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SetPassword(ctx, org.ID, admin.ID, "new-hash", "admin-1"); err != nil {
		t.Fatal(err)
	}
	u, err := env.Store.FindUserByID(ctx, org.ID, admin.ID)
	if err != nil || u.Name != "Grace" || u.PasswordHash != "new-hash" {
		t.Fatalf("after rename and password: %+v, %v", u, err)
	}
	if _, err := env.Store.FindSession(ctx, "admin-1", env.Clock.Now()); err != nil {
		t.Fatalf("the session that changed the password: %v", err)
	}
	if _, err := env.Store.FindSession(ctx, "admin-2", env.Clock.Now()); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("another session after the password change: %v", err)
	}

	// Revoking an invitation.
	inv := &winnow.Invite{OrgID: org.ID, Email: "new@example.com", Role: winnow.RoleMember, TokenHash: "inv-" + randomHex(4),
		InvitedBy: admin.ID, ExpiresAt: env.Clock.Now().Add(time.Hour)}
	if err := env.Store.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.RevokeInvite(ctx, other.ID, inv.ID); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("another org revokes: %v", err)
	}
	if err := env.Store.RevokeInvite(ctx, org.ID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.FindInviteByToken(ctx, inv.TokenHash, env.Clock.Now()); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("a revoked invitation: %v", err)
	}
	if err := env.Store.RevokeInvite(ctx, org.ID, inv.ID); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("revoke twice: %v", err)
	}
}

// testReachedCounts counts everyone who ever reached a status: three invitations read 3
// invited after one started and one submitted, however they moved on, while the counts
// of the statuses now stay apart and add up to the applicants.
func testReachedCounts(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	mustApplicant(t, env, f, "")
	mustStarted(t, env, f)
	sub := mustSubmitted(t, env, f)
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, sub.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Qualify(env.Clock.Now(), "")
	}); err != nil {
		t.Fatal(err)
	}
	filter := winnow.ApplicantFilter{FunnelID: f.ID}
	reached, err := env.Store.CountReached(ctx, org.ID, filter)
	if err != nil || reached[winnow.StatusInvited] != 3 || reached[winnow.StatusInProgress] != 2 || reached[winnow.StatusSubmitted] != 1 ||
		len(reached) != 3 {
		t.Fatalf("reached %v, %v; want 3 invited, 2 in progress, 1 submitted", reached, err)
	}
	now, err := env.Store.CountStatuses(ctx, org.ID, filter)
	if err != nil || now[winnow.StatusInvited] != 1 || now[winnow.StatusInProgress] != 1 || now[winnow.StatusQualified] != 1 || len(now) != 3 {
		t.Fatalf("statuses now %v, %v", now, err)
	}
	all, err := env.Store.CountApplicants(ctx, org.ID)
	if err != nil || len(all[f.ID]) != 3 {
		t.Fatalf("per job %v, %v", all, err)
	}
	byJob, err := env.Store.CountReachedByJob(ctx, org.ID)
	if err != nil || byJob[f.ID][winnow.StatusInvited] != 3 || byJob[f.ID][winnow.StatusSubmitted] != 1 || len(byJob) != 1 {
		t.Fatalf("reached per job %v, %v", byJob, err)
	}
}
