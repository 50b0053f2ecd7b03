package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"winnow"
)

// tenant is one org with a row of every kind.
type tenant struct {
	org       *winnow.Org
	admin     *winnow.User
	limited   *winnow.User
	funnel    *winnow.Funnel
	applicant *winnow.Applicant
	invite    *winnow.Invite
}

func mustTenant(t *testing.T, env *testEnv) *tenant {
	t.Helper()
	tn := &tenant{org: mustOrg(t, env)}
	tn.admin = mustUser(t, env, tn.org, winnow.RoleAdmin)
	tn.limited = mustUser(t, env, tn.org, winnow.RoleLimited)
	tn.funnel = mustFunnel(t, env, tn.org, func(f *winnow.Funnel) { f.Team = []string{tn.limited.ID} })
	tn.applicant = mustApplicant(t, env, tn.funnel, "opp-shared")
	tn.invite = &winnow.Invite{OrgID: tn.org.ID, Email: "inv-" + randomHex(3) + "@example.com", Role: winnow.RoleMember, TokenHash: randomHex(8)}
	if err := env.Store.CreateInvite(t.Context(), tn.invite); err != nil {
		t.Fatalf("create invite: %v", err)
	}
	return tn
}

// snapshot is everything an org's methods return, to prove another org changed nothing.
func snapshot(t *testing.T, env *testEnv, tn *tenant) []any {
	t.Helper()
	ctx := t.Context()
	now := env.Clock.Now()
	users, err1 := env.Store.ListUsers(ctx, tn.org.ID)
	funnels, err2 := env.Store.ListFunnels(ctx, tn.org.ID, winnow.FunnelFilter{})
	applicants, err3 := env.Store.ListApplicants(ctx, tn.org.ID, winnow.ApplicantFilter{})
	counts, err4 := env.Store.CountApplicants(ctx, tn.org.ID)
	events, err5 := env.Store.ListEvents(ctx, tn.org.ID, tn.applicant.ID)
	invites, err6 := env.Store.ListInvites(ctx, tn.org.ID, now)
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
	}
	return []any{users, funnels, applicants, counts, events, invites}
}

func testTenantIsolation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	a, b := mustTenant(t, env), mustTenant(t, env)
	before := snapshot(t, env, b)
	aBefore := snapshot(t, env, a)

	notFound := []struct {
		name string
		run  func() error
	}{
		{"FindUserByID", func() error { _, err := env.Store.FindUserByID(ctx, a.org.ID, b.admin.ID); return err }},
		{"FindFunnelByID", func() error { _, err := env.Store.FindFunnelByID(ctx, a.org.ID, b.funnel.ID); return err }},
		{"UpdateFunnel", func() error {
			f := *b.funnel
			f.OrgID, f.Title, f.Team = a.org.ID, "Hijacked", nil
			return env.Store.UpdateFunnel(ctx, &f)
		}},
		{"FindApplicantByID", func() error { _, err := env.Store.FindApplicantByID(ctx, a.org.ID, b.applicant.ID); return err }},
		{"TransitionApplicant", func() error {
			_, err := env.Store.TransitionApplicant(ctx, a.org.ID, b.applicant.ID, func(x *winnow.Applicant) (winnow.Event, error) {
				t.Error("fn called for another org's applicant")
				return x.OptOut(env.Clock.Now(), "hijacked")
			})
			return err
		}},
		{"ListEvents", func() error { _, err := env.Store.ListEvents(ctx, a.org.ID, b.applicant.ID); return err }},
		{"CreateApplicant in their funnel", func() error {
			x, err := winnow.NewApplicant(b.funnel, "Intruder", "", randomHex(16), env.Clock.Now())
			if err != nil {
				return err
			}
			x.OrgID = a.org.ID
			return env.Store.CreateApplicant(ctx, x, "")
		}},
		{"CreateSession for their user", func() error {
			return env.Store.CreateSession(ctx, &winnow.Session{TokenHash: randomHex(8), OrgID: a.org.ID, UserID: b.admin.ID,
				ExpiresAt: env.Clock.Now().Add(time.Hour)})
		}},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}

	t.Run("CreateFunnel with their user on the team", func(t *testing.T) {
		f := &winnow.Funnel{OrgID: a.org.ID, Title: "Mixed team", Team: []string{a.limited.ID, b.limited.ID}}
		wantCode(t, env.Store.CreateFunnel(ctx, f), winnow.EINVALID)
	})
	t.Run("UpdateFunnel with their user on the team", func(t *testing.T) {
		f := *a.funnel
		f.Team = []string{b.admin.ID}
		wantCode(t, env.Store.UpdateFunnel(ctx, &f), winnow.EINVALID)
	})

	lists := []struct {
		name string
		run  func() (any, error)
		want any
	}{
		{"ListUsers", func() (any, error) { return env.Store.ListUsers(ctx, a.org.ID) }, aBefore[0]},
		{"ListFunnels", func() (any, error) { return env.Store.ListFunnels(ctx, a.org.ID, winnow.FunnelFilter{}) }, aBefore[1]},
		{"ListFunnels visible to their admin", func() (any, error) {
			return env.Store.ListFunnels(ctx, a.org.ID, winnow.FunnelFilter{VisibleTo: b.admin})
		}, []*winnow.Funnel(nil)},
		{"ListFunnels visible to their limited member", func() (any, error) {
			return env.Store.ListFunnels(ctx, a.org.ID, winnow.FunnelFilter{VisibleTo: b.limited})
		}, []*winnow.Funnel(nil)},
		{"ListApplicants", func() (any, error) { return env.Store.ListApplicants(ctx, a.org.ID, winnow.ApplicantFilter{}) }, aBefore[2]},
		{"ListApplicants of their funnel", func() (any, error) {
			return env.Store.ListApplicants(ctx, a.org.ID, winnow.ApplicantFilter{FunnelID: b.funnel.ID})
		}, []*winnow.Applicant(nil)},
		{"CountApplicants", func() (any, error) { return env.Store.CountApplicants(ctx, a.org.ID) }, aBefore[3]},
		{"ListInvites", func() (any, error) { return env.Store.ListInvites(ctx, a.org.ID, env.Clock.Now()) }, aBefore[5]},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s = %+v, want only org A's rows %+v", tt.name, got, tt.want)
			}
		})
	}

	if after := snapshot(t, env, b); !reflect.DeepEqual(after, before) {
		t.Fatalf("org B changed:\nbefore %+v\n after %+v", before, after)
	}
	if after := snapshot(t, env, a); !reflect.DeepEqual(after, aBefore) {
		t.Fatalf("org A changed:\nbefore %+v\n after %+v", aBefore, after)
	}
}
