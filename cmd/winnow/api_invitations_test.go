package main

import (
	"context"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestAPIResendAndExtend resends and extends an invitation through the API: the resend
// queues a second invitation email with the same link, the extension moves the deadline
// from now, and both refuse applicants of another org or who no longer owe a submission.
func TestAPIResendAndExtend(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	ctx := context.Background()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	other := MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
	tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
	otherTok, _ := MustAPIToken(t, m, other.OrgID, other.ID)
	c, globex := newAPIClient(t, m, tok), newAPIClient(t, m, otherTok)
	f := mustOpenFunnel(t, m, admin, "Backend Engineer")
	a := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	waitEmails(t, m, a, winnow.EmailOutbox, 1)

	if s, raw, got := c.call("POST", "/api/v1/applicants/"+a.ID+"/resend", "", nil); s != 200 || get(got, "id") != a.ID {
		t.Fatalf("resend: %d %s", s, raw)
	}
	resent := waitEmails(t, m, a, winnow.EmailOutbox, 2)
	for _, e := range resent {
		if e.Kind != winnow.EmailInvitation {
			t.Fatalf("resend queued a %s email", e.Kind)
		}
	}

	before := time.Now()
	if s, raw, _ := c.call("POST", "/api/v1/applicants/"+a.ID+"/extend", "{}", nil); s != 200 {
		t.Fatalf("extend: %d %s", s, raw)
	}
	got, err := m.Store.FindApplicantByID(ctx, a.OrgID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Deadline.Before(before.Add(420*time.Hour)) || !got.Deadline.After(a.Deadline) {
		t.Fatalf("deadline %v, want 420 h from now (was %v)", got.Deadline, a.Deadline)
	}

	refusals := []struct {
		name   string
		client *apiClient
		path   string
		body   string
		status int
	}{
		{"another org resends", globex, "/api/v1/applicants/" + a.ID + "/resend", "", 404},
		{"another org extends", globex, "/api/v1/applicants/" + a.ID + "/extend", "", 404},
		{"body with fields", c, "/api/v1/applicants/" + a.ID + "/extend", `{"days": 3}`, 400},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			if s, raw, _ := r.client.call("POST", r.path, r.body, nil); s != r.status {
				t.Fatalf("status %d, want %d: %s", s, r.status, raw)
			}
		})
	}
	if _, err := m.Store.TransitionApplicant(ctx, a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(time.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"resend", "extend"} {
		if s, raw, _ := c.call("POST", "/api/v1/applicants/"+a.ID+"/"+op, "", nil); s != 409 {
			t.Fatalf("%s after opt-out: %d %s", op, s, raw)
		}
	}
}
