package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
)

// TestAPIReopenAndOverride takes a decision back and lets a knocked-out candidate
// through over the API, as an admin named by the token or by adminEmail, and checks
// who may not.
func TestAPIReopenAndOverride(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		member := MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		other := MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		memberTok, _ := MustAPIToken(t, m, admin.OrgID, member.ID)
		cliTok, _ := MustAPIToken(t, m, admin.OrgID, "")
		otherTok, _ := MustAPIToken(t, m, other.OrgID, other.ID)
		c, byMember, cli, globex := newAPIClient(t, m, tok), newAPIClient(t, m, memberTok), newAPIClient(t, m, cliTok), newAPIClient(t, m, otherTok)
		f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, member.ID))

		ada := MustSubmitted(t, m, f, "Ada Lovelace", "ada@example.com")
		reopen := "/api/v1/applicants/" + ada.ID + "/reopen"
		if s, raw, _ := c.call("POST", reopen, "", nil); s != 409 {
			t.Fatalf("reopen before any decision: %d %s", s, raw)
		}
		if s, raw, _ := c.call("POST", "/api/v1/applicants/"+ada.ID+"/decision", `{"outcome": "qualified"}`, nil); s != 200 {
			t.Fatalf("decide: %d %s", s, raw)
		}
		refused := []struct {
			name   string
			client *apiClient
			body   string
			status int
			want   string
		}{
			{"another org", globex, "", 404, "not_found"},
			{"a member's token", byMember, "", 403, "Only admins"},
			{"a member named", c, `{"adminEmail": "member@acme.test"}`, 403, "Only admins"},
			{"a token of no one", cli, "", 422, "Name the admin with adminEmail"},
			{"an address of another org", cli, `{"adminEmail": "admin@globex.test"}`, 422, "not a user of this organization"},
			{"an unknown field", c, `{"admin": "admin@acme.test"}`, 400, "admin"},
		}
		for _, r := range refused {
			if s, raw, _ := r.client.call("POST", reopen, r.body, nil); s != r.status || !strings.Contains(raw, r.want) {
				t.Fatalf("reopen by %s: %d %s", r.name, s, raw)
			}
		}
		if a, _ := m.Store.FindApplicantByID(ctx, ada.OrgID, ada.ID); a.Status != winnow.StatusQualified {
			t.Fatalf("a refused reopen changed the applicant: %s", a.Status)
		}
		s, raw, got := cli.call("POST", reopen, `{"adminEmail": "Admin@Acme.test"}`, nil)
		if s != 200 || get(got, "status") != string(winnow.StatusSubmitted) || get(got, "decidedAt") != nil {
			t.Fatalf("reopen as the named admin: %d %s", s, raw)
		}
		if s, raw, _ := c.call("POST", reopen, "{}", nil); s != 409 {
			t.Fatalf("reopen twice: %d %s", s, raw)
		}

		// Alan fails the knockout question; the admin lets him through.
		alan := MustKnockedOut(t, m, f, "Alan Turing", "alan@example.com")
		override := "/api/v1/applicants/" + alan.ID + "/override-knockout"
		if s, raw, _ := byMember.call("POST", override, "", nil); s != 403 {
			t.Fatalf("override by a member: %d %s", s, raw)
		}
		if s, raw, _ := c.call("POST", "/api/v1/applicants/"+alan.ID+"/reopen", "", nil); s != 409 || !strings.Contains(raw, "override the knockout instead") {
			t.Fatalf("reopen a knockout: %d %s", s, raw)
		}
		// His deadline passed meanwhile: letting him through gives him a new one.
		if _, err := m.DB.SQL().ExecContext(ctx, `UPDATE applicants SET deadline = $1 WHERE id = $2`, time.Now().Add(-time.Hour), alan.ID); err != nil {
			t.Fatal(err)
		}
		s, raw, got = c.call("POST", override, "", nil)
		if s != 200 || get(got, "status") != string(winnow.StatusInProgress) || get(got, "reason") != nil {
			t.Fatalf("override: %d %s", s, raw)
		}
		if a, err := m.Store.FindApplicantByID(ctx, alan.OrgID, alan.ID); err != nil || a.Expired(m.Clock.Now()) ||
			a.Deadline.Before(m.Clock.Now().Add(winnow.DefaultCadence().OptOutAfter-time.Minute)) {
			t.Fatalf("after the override of an expired applicant: deadline %s, %v; want a new one a cadence away", a.Deadline, err)
		}
		answers, err := m.Store.ListStepAnswers(ctx, alan.OrgID, alan.ID)
		if err != nil || len(answers) != 1 || answers[0].CompletedAt == nil {
			t.Fatalf("the knockout step after the override: %+v, %v; want it completed so the link leads on", answers, err)
		}
		if s, raw, _ := c.call("POST", override, "", nil); s != 409 {
			t.Fatalf("override twice: %d %s", s, raw)
		}
	})
}
