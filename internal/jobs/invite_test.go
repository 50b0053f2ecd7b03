package jobs

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/keyring"
)

// testKeyring seals and opens member invitations in the harness's workers.
var testKeyring = mustKeyring(strings.Repeat("s", 32))

func mustKeyring(secret string) *keyring.Keyring {
	kr, err := keyring.New(secret)
	if err != nil {
		panic(err)
	}
	return kr
}

// memberInvite invites address to the harness's org through MemberInvites sealing with
// sealer, and returns the invitation, its email and the invitation link's token.
func (h *harness) memberInvite(sealer Sealer, inviter *winnow.User, address string) (*winnow.Invite, *winnow.Email, string) {
	h.t.Helper()
	mi := &MemberInvites{Store: h.store, Sealer: sealer, Logger: slog.New(slog.DiscardHandler)}
	token := keyring.Token()
	inv := &winnow.Invite{OrgID: h.org.ID, Email: address, Role: winnow.RoleLimited, TokenHash: testKeyring.Hash(token),
		InvitedBy: inviter.ID}
	e, err := mi.InviteMember(h.ctx, inv, testBaseURL+"/invite/"+token)
	if err != nil {
		h.t.Fatalf("invite member: %v", err)
	}
	return inv, e, token
}

// plaintextRows counts the emails rows whose columns hold needle in plain text.
func (h *harness) plaintextRows(needle string) int {
	h.t.Helper()
	var n int
	err := h.db.SQL().QueryRowContext(h.ctx, `SELECT COUNT(*) FROM emails WHERE subject LIKE $1 OR body_text LIKE $1
		OR body_html LIKE $1 OR last_error LIKE $1`, "%"+needle+"%").Scan(&n)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestMemberInviteEmail sends a member invitation through the real worker: with an SMTP
// server the invitee receives one email whose link finds the invitation, and running
// its job again sends nothing more; in outbox mode it is kept, still sealed; sealed
// with another secret key it fails rather than go out. The link is never stored in
// plain text.
func TestMemberInviteEmail(t *testing.T) {
	t.Parallel()
	other := mustKeyring(strings.Repeat("o", 32))
	cases := []struct {
		name     string
		outbox   bool
		sealer   Sealer
		status   winnow.EmailStatus
		messages int
	}{
		{"smtp", false, testKeyring, winnow.EmailSent, 1},
		{"outbox", true, testKeyring, winnow.EmailOutbox, 0},
		{"sealed with another key", false, other, winnow.EmailFailed, 0},
	}
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, e.URL(t), c.outbox)
				inviter := &winnow.User{OrgID: h.org.ID, Email: "grace@acme.example", Name: "Grace Hopper", Role: winnow.RoleAdmin,
					PasswordHash: "hash"}
				if err := h.store.CreateUser(h.ctx, inviter); err != nil {
					t.Fatal(err)
				}
				inv, e, token := h.memberInvite(c.sealer, inviter, "ada@example.com")
				if !e.Sealed || e.InviteID != inv.ID || e.Status != winnow.EmailQueued {
					t.Fatalf("queued email %+v", e)
				}
				h.runDue()

				got, err := h.store.FindEmailByID(h.ctx, h.org.ID, e.ID)
				if err != nil || got.Status != c.status || got.Attempts != 1 {
					t.Fatalf("email after its job: %+v, %v; want %s after 1 attempt", got, err, c.status)
				}
				if c.status == winnow.EmailFailed && !strings.Contains(got.LastError, "WINNOW_SECRET_KEY") {
					t.Fatalf("failure reason %q", got.LastError)
				}
				for _, needle := range []string{token, "/invite/", "Grace Hopper"} {
					if n := h.plaintextRows(needle); n != 0 {
						t.Fatalf("%q is stored in plain text in %d emails", needle, n)
					}
				}
				invs, err := h.store.ListInvites(h.ctx, h.org.ID, h.clock.Now())
				if err != nil || len(invs) != 1 || invs[0].EmailID != e.ID || invs[0].EmailStatus != c.status {
					t.Fatalf("ListInvites = %+v, %v", invs, err)
				}
				if c.sealer == testKeyring {
					open, err := got.Unseal(testKeyring.Open)
					if err != nil || !strings.Contains(open.Text, testBaseURL+"/invite/"+token) {
						t.Fatalf("stored content does not open to the link: %v", err)
					}
				}

				// River runs the finished job again, and the same args are inserted anew:
				// nothing more is sent.
				res, err := h.client.JobList(h.ctx, river.NewJobListParams().Kinds(SendEmailArgs{}.Kind()).
					States(rivertype.JobStateCompleted, rivertype.JobStateCancelled))
				if err != nil || len(res.Jobs) != 1 {
					t.Fatalf("finished send jobs: %d (%v)", len(res.Jobs), err)
				}
				if _, err := h.client.JobRetry(h.ctx, res.Jobs[0].ID); err != nil {
					t.Fatal(err)
				}
				h.waitIdle()
				var args SendEmailArgs
				if err := decodeArgs(res.Jobs[0], &args); err != nil || args.InviteID != inv.ID {
					t.Fatalf("job args %+v, %v", args, err)
				}
				if ins, err := h.client.Insert(h.ctx, args, nil); err != nil || !ins.UniqueSkippedAsDuplicate {
					t.Fatalf("the same args inserted again: %+v %v", ins, err)
				}
				h.runDue()
				if again, _ := h.store.FindEmailByID(h.ctx, h.org.ID, e.ID); again.Attempts != 1 || again.Status != c.status {
					t.Fatalf("after the job ran again: attempts %d, status %s", again.Attempts, again.Status)
				}
				if h.smtp == nil {
					return
				}
				// Every job has finished, and a job's send ends when the server has the
				// message: any second message would be here.
				msgs := h.smtp.Messages()
				if len(msgs) != c.messages {
					t.Fatalf("%d messages, want %d", len(msgs), c.messages)
				}
				if c.messages == 0 {
					return
				}
				msg := msgs[0]
				link := testBaseURL + "/invite/" + token
				if msg.To[0] != "ada@example.com" || subjects(msgs)[0] != "Join Acme on Winnow" ||
					!strings.Contains(msg.Text, "Grace Hopper has invited you to join Acme on Winnow as Limited member") ||
					!strings.Contains(msg.Text, link) || !strings.Contains(msg.HTML, `href="`+link+`"`) {
					t.Fatalf("received %v %q\n%s", msg.To, subjects(msgs), msg.Text)
				}
				if msg.Header.Get("List-Unsubscribe") != "" {
					t.Fatal("a member invitation offers to unsubscribe")
				}
				// The emailed link is the invitation's.
				i := strings.Index(msg.Text, link)
				sent := strings.Fields(msg.Text[i+len(testBaseURL+"/invite/"):])[0]
				found, err := h.store.FindInviteByToken(h.ctx, testKeyring.Hash(sent), h.clock.Now())
				if err != nil || found.ID != inv.ID {
					t.Fatalf("the emailed link finds %+v, %v", found, err)
				}
			})
		}
	})
}
