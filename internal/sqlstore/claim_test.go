package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"winnow"
)

// TestClaimsInOneTransaction runs, on both engines, the cases of the store methods that
// claim an effect together with recording another's outcome, and of the email worker's
// one read.
func TestClaimsInOneTransaction(t *testing.T) {
	runSuite(t, []suiteCase{
		{"FinishLeverWriteClaimNext", testFinishLeverWriteClaimNext},
		{"KeepEmail", testKeepEmail},
		{"FindEmailToSend", testFindEmailToSend},
	})
}

func testFinishLeverWriteClaimNext(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "opp1")
	ws := addWrites(t, env, a, winnow.LeverAddTags, winnow.LeverNote, winnow.LeverStage)
	w, claim, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	if err != nil || w.ID != ws[0].ID || !claim.Send {
		t.Fatalf("first claim: %v %+v %+v", err, claim, w)
	}
	call := winnow.Call{Method: "POST", Path: "/v1/opportunities/opp1/addTags", Status: 200}
	next, claim, err := env.Store.FinishLeverWriteClaimNext(ctx, org.ID, w.ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone,
		Calls: []winnow.Call{call}})
	if err != nil || next == nil || next.ID != ws[1].ID || !claim.Send || next.Status != winnow.LeverWriteSending || next.Attempts != 1 {
		t.Fatalf("finish and claim the note: %v %+v %+v", err, claim, next)
	}
	if done, _ := env.Store.FindLeverWrite(ctx, org.ID, ws[0].ID); done.Status != winnow.LeverWriteDone || done.DoneAt == nil {
		t.Fatalf("tag write %+v", done)
	}
	// The applicant is qualified no longer (never was): the stage move is skipped in the
	// claim that records the note, and nothing is left.
	next, claim, err = env.Store.FinishLeverWriteClaimNext(ctx, org.ID, ws[1].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone, NoteID: "n1"})
	if err != nil || next == nil || next.ID != ws[2].ID || claim.Send || next.Status != winnow.LeverWriteSkipped {
		t.Fatalf("finish the note, skip the stage: %v %+v %+v", err, claim, next)
	}
	if next, _, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); err != nil || next != nil {
		t.Fatalf("nothing left: %v %+v", err, next)
	}
	note, _ := env.Store.FindLeverWrite(ctx, org.ID, ws[1].ID)
	if note.Status != winnow.LeverWriteDone || note.NoteID != "n1" {
		t.Fatalf("note %+v", note)
	}
	kinds := eventKinds(t, env, a)
	if n := len(kinds); n < 3 || !slices.Equal(kinds[n-3:], []winnow.EventKind{winnow.EventLeverCall, winnow.EventLeverCall, winnow.EventLeverSkipped}) {
		t.Fatalf("timeline %v", kinds)
	}
	// A late finish of a write no longer sending changes nothing and still claims the
	// next: here there is none.
	if next, _, err := env.Store.FinishLeverWriteClaimNext(ctx, org.ID, ws[0].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteFailed}); err != nil || next != nil {
		t.Fatalf("late finish: %v %+v", err, next)
	}
	if done, _ := env.Store.FindLeverWrite(ctx, org.ID, ws[0].ID); done.Status != winnow.LeverWriteDone {
		t.Fatalf("late finish changed %+v", done)
	}
	_, _, err = env.Store.FinishLeverWriteClaimNext(ctx, org.ID, "nope", winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone})
	wantCode(t, err, winnow.ENOTFOUND)
}

func testKeepEmail(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "")
	em := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))[0]
	content := &winnow.RenderedEmail{Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"}
	env.Clock.Advance(time.Minute)
	o := winnow.EmailOutcome{Status: winnow.EmailOutbox, Event: winnow.EventEmailHeld, Message: "kept", At: env.Clock.Now()}
	got, held, err := env.Store.KeepEmail(ctx, org.ID, em.ID, content, o)
	if err != nil || !held || got.Attempts != 1 || got.Subject != "Hi" {
		t.Fatalf("keep: %+v %v %v", got, held, err)
	}
	got, _ = env.Store.FindEmailByID(ctx, org.ID, em.ID)
	if got.Status != winnow.EmailOutbox || got.SentAt == nil || !got.SentAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) || got.Text != "Hello" {
		t.Fatalf("after keep: %+v", got)
	}
	before := eventKinds(t, env, a)
	if before[len(before)-1] != winnow.EventEmailHeld {
		t.Fatalf("timeline %v", before)
	}
	// A repeated job finds it kept: nothing changes, nothing is recorded.
	if got, held, err := env.Store.KeepEmail(ctx, org.ID, em.ID, content, o); err != nil || held || got.Status != winnow.EmailOutbox {
		t.Fatalf("keep again: %+v %v %v", got, held, err)
	}
	if after := eventKinds(t, env, a); !slices.Equal(after, before) {
		t.Fatalf("timeline changed: %v → %v", before, after)
	}
	// An email that does not apply (a closing message to an applicant not in that
	// status) is skipped, not kept.
	closing := mustAddEmails(t, env, queued(a, winnow.EmailQualified))[0]
	if got, held, err := env.Store.KeepEmail(ctx, org.ID, closing.ID, nil, o); err != nil || held || got.Status != winnow.EmailSkipped {
		t.Fatalf("keep a message that does not apply: %+v %v %v", got, held, err)
	}
	if got, _ := env.Store.FindEmailByID(ctx, org.ID, closing.ID); got.Status != winnow.EmailSkipped || got.SentAt != nil {
		t.Fatalf("after the skip: %+v", got)
	}
}

func testFindEmailToSend(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	if err := env.Store.SetOrgReplyTo(ctx, org.ID, "jobs@acme.example"); err != nil {
		t.Fatal(err)
	}
	f := mustFunnel(t, env, org, nil)
	a := mustApplicant(t, env, f, "")
	em := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))[0]
	got, ga, title, o, err := env.Store.FindEmailToSend(ctx, org.ID, em.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := env.Store.FindEmailByID(ctx, org.ID, em.ID)
	wantA, _ := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	wantO, _ := env.Store.FindOrgByID(ctx, org.ID)
	if got.ID != want.ID || got.Kind != want.Kind || got.To != want.To || got.Status != want.Status || !got.DueAt.Equal(want.DueAt) ||
		ga.ID != wantA.ID || ga.Token != wantA.Token || ga.Name != wantA.Name || ga.FunnelID != f.ID || ga.Status != wantA.Status ||
		title != f.Title || o.ID != org.ID || o.Name != wantO.Name || o.ReplyTo != "jobs@acme.example" {
		t.Fatalf("got %+v %+v %q %+v", got, ga, title, o)
	}
	_, _, _, _, err = env.Store.FindEmailToSend(ctx, org.ID, "nope")
	wantCode(t, err, winnow.ENOTFOUND)
	other := mustOrg(t, env)
	_, _, _, _, err = env.Store.FindEmailToSend(ctx, other.ID, em.ID)
	wantCode(t, err, winnow.ENOTFOUND)
}
