package sqlstore_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/sqlstore"
)

// inviteEmailArgs is the job the member invitation cases enqueue with the email.
type inviteEmailArgs struct {
	EmailID string `json:"email_id"`
}

func (inviteEmailArgs) Kind() string { return "sqlstore_test_invite_email" }

// inviteFixture is an org, its admin, a store whose effects enqueue a job per
// invitation with a River client that only inserts, and a keyring to seal email
// content with as the caller of CreateInviteWithEmail does.
type inviteFixture struct {
	env   *testEnv
	org   *winnow.Org
	admin *winnow.User
	fx    *testEffects
	store *sqlstore.Store
	kr    *keyring.Keyring
}

func newInviteFixture(t *testing.T, env *testEnv) *inviteFixture {
	t.Helper()
	client, err := river.NewClient(env.DB.RiverDriver(), &river.Config{Logger: slog.New(slog.DiscardHandler), TestOnly: true})
	if err != nil {
		t.Fatalf("new river client: %v", err)
	}
	kr, err := keyring.New(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	org := mustOrg(t, env)
	fx := &testEffects{client: client}
	return &inviteFixture{env: env, org: org, admin: mustUser(t, env, org, winnow.RoleAdmin), fx: fx,
		store: sqlstore.NewStore(env.DB, env.Clock, fx), kr: kr}
}

// jobs counts the enqueued invitation email jobs.
func (f *inviteFixture) jobs(t *testing.T) int {
	t.Helper()
	return count(t, f.env, "river_job", "kind = $1", inviteEmailArgs{}.Kind())
}

// invite returns an invitation of org to email with a fresh token, and its sealed
// email, whose text holds the link with that token.
func (f *inviteFixture) invite(t *testing.T, org *winnow.Org, email string) (*winnow.Invite, *winnow.Email, string) {
	t.Helper()
	token := keyring.Token()
	link := "https://winnow.test/invite/" + token
	e := &winnow.Email{Kind: winnow.EmailMemberInvite, Sealed: true}
	for _, p := range []struct {
		dst   *string
		plain string
	}{{&e.Subject, "Join " + org.Name}, {&e.Text, "Choose your password:\n\n" + link}, {&e.HTML, `<a href="` + link + `">` + link + `</a>`}} {
		var err error
		if *p.dst, err = f.kr.Seal(p.plain); err != nil {
			t.Fatal(err)
		}
	}
	inv := &winnow.Invite{OrgID: org.ID, Email: email, Role: winnow.RoleMember, TokenHash: f.kr.Hash(token)}
	if org.ID == f.org.ID {
		inv.InvitedBy = f.admin.ID
	}
	return inv, e, token
}

// mustInviteWithEmail creates an invitation of org and its email, with its job.
func (f *inviteFixture) mustInviteWithEmail(t *testing.T, org *winnow.Org, email string) (*winnow.Invite, *winnow.Email, string) {
	t.Helper()
	inv, e, token := f.invite(t, org, email)
	if err := f.store.CreateInviteWithEmail(t.Context(), inv, e); err != nil {
		t.Fatalf("create invite with email: %v", err)
	}
	return inv, e, token
}

func testInviteWithEmail(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	f := newInviteFixture(t, env)
	inv, email, token := f.mustInviteWithEmail(t, f.org, "Grace@Example.com")

	if inv.ID == "" || inv.Email != "grace@example.com" || inv.EmailID != email.ID || inv.EmailStatus != winnow.EmailQueued {
		t.Fatalf("invite = %+v", inv)
	}
	if email.ID == "" || email.OrgID != f.org.ID || email.InviteID != inv.ID || email.ApplicantID != "" || email.To != inv.Email ||
		email.Seq != 1 || email.Status != winnow.EmailQueued || !email.Sealed || !email.DueAt.Equal(inv.CreatedAt) {
		t.Fatalf("email = %+v", email)
	}
	if n, m, j := count(t, env, "invites", ""), count(t, env, "emails", "invite_id = $1", inv.ID), f.jobs(t); n != 1 || m != 1 || j != 1 {
		t.Fatalf("invites %d, emails %d, jobs %d; want 1 each", n, m, j)
	}

	stored, err := env.Store.FindEmailByID(ctx, f.org.ID, email.ID)
	if err != nil || !reflect.DeepEqual(stored, email) {
		t.Fatalf("FindEmailByID = %+v, %v; want %+v", stored, err, email)
	}
	open, err := stored.Unseal(f.kr.Open)
	if err != nil || open.Sealed || !strings.Contains(open.Text, "/invite/"+token) || open.Subject != "Join "+f.org.Name || !stored.Sealed {
		t.Fatalf("unsealed = %+v, %v", open, err)
	}

	// Neither the token nor the link is anywhere in the database in plain text: the
	// email's columns hold ciphertext and the invitation only the token's hash.
	leaks := []struct {
		name, table, where string
	}{
		{"email content", "emails", "subject LIKE $1 OR body_text LIKE $1 OR body_html LIKE $1 OR to_address LIKE $1 OR last_error LIKE $1"},
		{"invitation", "invites", "token_hash LIKE $1 OR email LIKE $1"},
	}
	for _, l := range leaks {
		t.Run(l.name, func(t *testing.T) {
			for _, needle := range []string{token, "/invite/", "Choose your password", "Join "} {
				if n := count(t, env, l.table, l.where, "%"+needle+"%"); n != 0 {
					t.Fatalf("%q appears in plain text in %d %s rows", needle, n, l.table)
				}
			}
		})
	}

	list, err := env.Store.ListInvites(ctx, f.org.ID, env.Clock.Now())
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], inv) {
		t.Fatalf("ListInvites = %+v, %v; want [%+v]", list, err, inv)
	}

	// The worker's claim keeps the sealed content, and the outcome shows on the list.
	claimed, send, err := env.Store.ClaimEmail(ctx, f.org.ID, email.ID, nil)
	if err != nil || !send || claimed.Subject != email.Subject || claimed.Text != email.Text || !claimed.Sealed {
		t.Fatalf("claim = %+v, %v, %v", claimed, send, err)
	}
	if err := env.Store.FinishEmail(ctx, f.org.ID, email.ID, winnow.EmailOutcome{Status: winnow.EmailSent}); err != nil {
		t.Fatal(err)
	}
	list, err = env.Store.ListInvites(ctx, f.org.ID, env.Clock.Now())
	if err != nil || len(list) != 1 || list[0].EmailStatus != winnow.EmailSent || list[0].EmailID != email.ID {
		t.Fatalf("ListInvites after sending = %+v, %v", list, err)
	}
	if _, send, err := env.Store.ClaimEmail(ctx, f.org.ID, email.ID, nil); err != nil || send {
		t.Fatalf("second claim: send %v, %v", send, err)
	}

	// The database itself refuses a second email for the same invitation.
	now := env.Clock.Now()
	_, err = env.DB.SQL().ExecContext(ctx, `INSERT INTO emails (id, org_id, applicant_id, invite_id, funnel_id, kind, seq,
		to_address, status, due_at, created_at, updated_at) VALUES ($1, $2, NULL, $3, '', $4, 2, $5, $6, $7, $7, $7)`,
		"second-"+randomHex(4), f.org.ID, inv.ID, string(winnow.EmailMemberInvite), inv.Email, string(winnow.EmailQueued), now)
	if err == nil {
		t.Fatal("a second email for the same invitation was stored")
	}
	// An invitation created without email is listed without a status.
	plain := &winnow.Invite{OrgID: f.org.ID, Email: "link@example.com", Role: winnow.RoleLimited, TokenHash: randomHex(8)}
	if err := env.Store.CreateInvite(ctx, plain); err != nil {
		t.Fatal(err)
	}
	list, err = env.Store.ListInvites(ctx, f.org.ID, env.Clock.Now())
	if err != nil || len(list) != 2 || list[1].ID != plain.ID || list[1].EmailID != "" || list[1].EmailStatus != "" {
		t.Fatalf("ListInvites with a link-only invitation = %+v, %v", list, err)
	}
}

func testInviteWithEmailRollback(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	f := newInviteFixture(t, env)
	taken, _, _ := f.mustInviteWithEmail(t, f.org, "taken@example.com")
	other := mustOrg(t, env)
	boom := errors.New("queue full")

	tests := []struct {
		name string
		edit func(inv *winnow.Invite, e *winnow.Email)
		fail error  // what the effects return after inserting the job
		is   error  // the error returned, when it is a sentinel
		code string // else its code
	}{
		{"effects fail after inserting the job", nil, boom, boom, ""},
		{"token already used", func(inv *winnow.Invite, _ *winnow.Email) { inv.TokenHash = taken.TokenHash }, nil, nil, winnow.ECONFLICT},
		{"unknown org", func(inv *winnow.Invite, _ *winnow.Email) { inv.OrgID = "no-such-org" }, nil, nil, winnow.ENOTFOUND},
		{"invalid invitation", func(inv *winnow.Invite, _ *winnow.Email) { inv.Email = "not an address" }, nil, nil, winnow.EINVALID},
		{"email of another org", func(_ *winnow.Invite, e *winnow.Email) { e.OrgID = other.ID }, nil, nil, winnow.EINTERNAL},
		{"candidate email kind", func(_ *winnow.Invite, e *winnow.Email) { e.Kind = winnow.EmailInvitation }, nil, nil, winnow.EINTERNAL},
		{"content not rendered", func(_ *winnow.Invite, e *winnow.Email) { e.Subject, e.Text = "", "" }, nil, nil, winnow.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, email, _ := f.invite(t, f.org, "new-"+randomHex(3)+"@example.com")
			if tt.edit != nil {
				tt.edit(inv, email)
			}
			f.fx.calls, f.fx.err = 0, tt.fail
			err := f.store.CreateInviteWithEmail(ctx, inv, email)
			called := f.fx.calls > 0
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("error = %v, want %v", err, tt.is)
				}
			} else {
				wantCode(t, err, tt.code)
				if called {
					t.Fatal("the job was enqueued for an invitation that was not stored")
				}
			}
			if inv.ID != "" || email.ID != "" {
				t.Fatalf("a failed call filled in IDs: invite %q, email %q", inv.ID, email.ID)
			}
			if n, m, j := count(t, env, "invites", ""), count(t, env, "emails", ""), f.jobs(t); n != 1 || m != 1 || j != 1 {
				t.Fatalf("invites %d, emails %d, jobs %d; want only the first invitation's 1 each", n, m, j)
			}
		})
	}
}

func testInviteEmailIsolation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	f := newInviteFixture(t, env)
	other := mustOrg(t, env)
	invA, emailA, _ := f.mustInviteWithEmail(t, f.org, "a@example.com")
	invB, emailB, _ := f.mustInviteWithEmail(t, other, "b@example.com")

	finds := []struct {
		name string
		run  func() error
	}{
		{"FindEmailByID", func() error { _, err := env.Store.FindEmailByID(ctx, other.ID, emailA.ID); return err }},
		{"ClaimEmail", func() error { _, _, err := env.Store.ClaimEmail(ctx, other.ID, emailA.ID, nil); return err }},
		{"FinishEmail", func() error {
			return env.Store.FinishEmail(ctx, other.ID, emailA.ID, winnow.EmailOutcome{Status: winnow.EmailSent})
		}},
	}
	for _, tt := range finds {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}

	lists := []struct {
		name   string
		org    string
		invite *winnow.Invite
		email  *winnow.Email
	}{
		{"first org", f.org.ID, invA, emailA},
		{"second org", other.ID, invB, emailB},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			invs, err := env.Store.ListInvites(ctx, tt.org, env.Clock.Now())
			if err != nil || len(invs) != 1 || invs[0].ID != tt.invite.ID || invs[0].EmailID != tt.email.ID {
				t.Fatalf("ListInvites = %+v, %v", invs, err)
			}
			emails, err := env.Store.ListEmails(ctx, tt.org, winnow.EmailFilter{})
			if err != nil || len(emails) != 1 || emails[0].ID != tt.email.ID || emails[0].InviteID != tt.invite.ID {
				t.Fatalf("ListEmails = %+v, %v", emails, err)
			}
			counts, err := env.Store.CountEmails(ctx, tt.org)
			if err != nil || !reflect.DeepEqual(counts, map[winnow.EmailStatus]int{winnow.EmailQueued: 1}) {
				t.Fatalf("CountEmails = %v, %v", counts, err)
			}
		})
	}
	got, err := env.Store.FindEmailByID(ctx, f.org.ID, emailA.ID)
	if err != nil || got.Status != winnow.EmailQueued || got.Attempts != 0 {
		t.Fatalf("the other org's calls changed the email: %+v, %v", got, err)
	}
}
