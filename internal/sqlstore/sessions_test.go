package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"winnow"
)

func testSessions(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	u := mustUser(t, env, org, winnow.RoleMember)
	now := env.Clock.Now()
	s := &winnow.Session{TokenHash: "hash-1", UserID: u.ID, OrgID: org.ID, ExpiresAt: now.Add(time.Hour)}
	if err := env.Store.CreateSession(ctx, s); err != nil {
		t.Fatalf("create: %v", err)
	}
	if !s.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("CreatedAt = %v, want the clock's %v", s.CreatedAt, now)
	}

	lookups := []struct {
		name  string
		at    time.Time
		found bool
	}{
		{"now", now, true},
		{"just before expiry", now.Add(time.Hour - time.Microsecond), true},
		{"at expiry", now.Add(time.Hour), false},
		{"after expiry", now.Add(2 * time.Hour), false},
		{"after expiry in another zone", now.Add(2 * time.Hour).In(time.FixedZone("CET", 3600)), false},
		{"before expiry in another zone", now.Add(time.Minute).In(time.FixedZone("PST", -8*3600)), true},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.FindSession(ctx, "hash-1", tt.at)
			if !tt.found {
				wantCode(t, err, winnow.ENOTFOUND)
				return
			}
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Fatalf("FindSession = %+v, %v; want %+v", got, err, s)
			}
		})
	}

	other := mustOrg(t, env)
	errs := []struct {
		name string
		s    winnow.Session
		code string
	}{
		{"duplicate token hash", winnow.Session{TokenHash: "hash-1", UserID: u.ID, OrgID: org.ID, ExpiresAt: now.Add(time.Hour)}, winnow.ECONFLICT},
		{"user of another org", winnow.Session{TokenHash: "hash-2", UserID: u.ID, OrgID: other.ID, ExpiresAt: now.Add(time.Hour)}, winnow.ENOTFOUND},
		{"unknown user", winnow.Session{TokenHash: "hash-3", UserID: "nope", OrgID: org.ID, ExpiresAt: now.Add(time.Hour)}, winnow.ENOTFOUND},
		{"no token", winnow.Session{UserID: u.ID, OrgID: org.ID, ExpiresAt: now.Add(time.Hour)}, winnow.EINVALID},
		{"already expired", winnow.Session{TokenHash: "hash-4", UserID: u.ID, OrgID: org.ID, ExpiresAt: now.Add(-time.Second)}, winnow.EINVALID},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, env.Store.CreateSession(ctx, &tt.s), tt.code) })
	}
	if n := count(t, env, "sessions", ""); n != 1 {
		t.Fatalf("sessions = %d, want 1", n)
	}

	if err := env.Store.DeleteSession(ctx, "hash-1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := env.Store.FindSession(ctx, "hash-1", now)
	wantCode(t, err, winnow.ENOTFOUND)
	if err := env.Store.DeleteSession(ctx, "hash-1"); err != nil {
		t.Fatalf("deleting a missing session: %v", err)
	}
}
