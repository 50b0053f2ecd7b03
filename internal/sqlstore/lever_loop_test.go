package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow"
	"winnow/internal/sqlstore"
)

// TestLeverLoop runs the cases of webhook deliveries and writes to Lever on both
// engines.
func TestLeverLoop(t *testing.T) {
	runSuite(t, []suiteCase{
		{"Deliveries", testLeverDeliveries},
		{"LastWebhookTime", testLastWebhookTime},
		{"DeliveryRollback", testLeverDeliveryRollback},
		{"ProcessApplication", testProcessLeverApplication},
		{"ArchiveAndErase", testApplyLeverDelivery},
		{"WriteClaims", testLeverWriteClaims},
		{"WriteRetry", testLeverWriteRetry},
		{"ConcurrentWrites", testLeverConcurrentWrites},
		{"Isolation", testLeverLoopIsolation},
	})
}

// leverEffects records what the store asked its effects to enqueue, and fails with err
// when it is set.
type leverEffects struct {
	mu         sync.Mutex
	err        error
	deliveries []string
	writes     []string
	changes    []winnow.EventKind
}

func (fx *leverEffects) ApplicantChanged(_ context.Context, _ *sqlstore.Tx, _ *winnow.Applicant, ev *winnow.Event) error {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.changes = append(fx.changes, ev.Kind)
	return fx.err
}

func (fx *leverEffects) InviteCreated(context.Context, *sqlstore.Tx, *winnow.Invite, *winnow.Email) error {
	return fx.err
}

func (fx *leverEffects) LeverDeliveriesRecorded(_ context.Context, _ *sqlstore.Tx, ds []*winnow.LeverDelivery) error {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for _, d := range ds {
		fx.deliveries = append(fx.deliveries, d.ID)
	}
	return fx.err
}

func (fx *leverEffects) LeverWritesAdded(_ context.Context, _ *sqlstore.Tx, ws []*winnow.LeverWrite) error {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for _, w := range ws {
		fx.writes = append(fx.writes, w.ID)
	}
	return fx.err
}

func (fx *leverEffects) LeverNeedsReconnecting(context.Context, *sqlstore.Tx, *winnow.LeverConnection, int) error {
	return fx.err
}

// openLever is open with a recording effects function.
func openLever(t *testing.T, e engine) (*testEnv, *leverEffects) {
	t.Helper()
	env := open(t, e)
	fx := &leverEffects{}
	env.Store = sqlstore.NewStore(env.DB, env.Clock, fx)
	return env, fx
}

// mustConnected makes org's Lever connection, in state st.
func mustConnected(t *testing.T, env *testEnv, org *winnow.Org, st winnow.LeverState) *winnow.LeverConnection {
	t.Helper()
	c, err := env.Store.EnsureLeverConnection(t.Context(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.Mode, c.State, c.APIKey = winnow.LeverAPIKey, st, "sealed"
	if err := env.Store.SaveLeverConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func newDelivery(org *winnow.Org, event, token, opp string) *winnow.LeverDelivery {
	return &winnow.LeverDelivery{OrgID: org.ID, Event: event, Token: token, TriggeredAt: time.Now(), OpportunityID: opp,
		ApplicationID: "app-" + opp, Status: winnow.LeverDeliveryReceived}
}

// testLastWebhookTime: a delivery writes the org's last-webhook time unless one was
// written less than a second before (so that concurrent deliveries do not queue on
// the connection's row); a refused or duplicate one never moves it back.
func testLastWebhookTime(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	last := func() time.Time {
		t.Helper()
		c, err := env.Store.FindLeverConnection(ctx, org.ID)
		if err != nil || c.LastWebhookAt == nil {
			t.Fatalf("last webhook time: %+v %v", c, err)
		}
		return *c.LastWebhookAt
	}
	record := func(opp string) {
		t.Helper()
		if stored, err := env.Store.RecordLeverDelivery(ctx, newDelivery(org, winnow.LeverApplicationCreated, "tok-"+opp, opp)); err != nil || !stored {
			t.Fatalf("record %s: %v %v", opp, stored, err)
		}
	}
	first := env.Clock.Now().Truncate(time.Microsecond)
	record("opp1")
	if got := last(); !got.Equal(first) {
		t.Fatalf("after the first delivery: %v, want %v", got, first)
	}
	env.Clock.Advance(900 * time.Millisecond)
	record("opp2")
	if got := last(); !got.Equal(first) {
		t.Fatalf("0.9 s later: %v, want it kept at %v", got, first)
	}
	later := env.Clock.Advance(100 * time.Millisecond).Truncate(time.Microsecond)
	record("opp3")
	if got := last(); !got.Equal(later) {
		t.Fatalf("1 s later: %v, want %v", got, later)
	}
}

func testLeverDeliveries(t *testing.T, e engine) {
	env, fx := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	d := newDelivery(org, winnow.LeverApplicationCreated, "tok1", "opp1")
	stored, err := env.Store.RecordLeverDelivery(ctx, d)
	if err != nil || !stored || d.ID == "" || len(fx.deliveries) != 1 || fx.deliveries[0] != d.ID {
		t.Fatalf("record: %v %v %+v %v", stored, err, d, fx.deliveries)
	}
	got, err := env.Store.FindLeverDelivery(ctx, org.ID, d.ID)
	if err != nil || got.Event != d.Event || got.OpportunityID != "opp1" || got.Status != winnow.LeverDeliveryReceived ||
		!got.TriggeredAt.Equal(d.TriggeredAt) || !got.ReceivedAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("find: %v %+v", err, got)
	}
	if c, _ := env.Store.FindLeverConnection(ctx, org.ID); c.LastWebhookAt == nil {
		t.Fatal("last webhook not recorded")
	}
	// The same application again, even with a new token: nothing stored or enqueued.
	again := newDelivery(org, winnow.LeverApplicationCreated, "tok2", "opp1")
	if stored, err := env.Store.RecordLeverDelivery(ctx, again); err != nil || stored || len(fx.deliveries) != 1 {
		t.Fatalf("repeat: %v %v %v", stored, err, fx.deliveries)
	}
	// Other events are one per token.
	archived := true
	arch := newDelivery(org, winnow.LeverCandidateArchive, "tok3", "opp1")
	arch.Archived, arch.ArchiveReason = &archived, "withdrew"
	if stored, err := env.Store.RecordLeverDelivery(ctx, arch); err != nil || !stored {
		t.Fatalf("archive: %v %v", stored, err)
	}
	if got, _ := env.Store.FindLeverDelivery(ctx, org.ID, arch.ID); got.Archived == nil || !*got.Archived || got.ArchiveReason != "withdrew" {
		t.Fatalf("archive round trip %+v", got)
	}
	if stored, _ := env.Store.RecordLeverDelivery(ctx, newDelivery(org, winnow.LeverCandidateArchive, "tok3", "opp1")); stored {
		t.Fatal("the same token stored twice")
	}
	// A delivery Winnow ignores is kept but enqueues nothing.
	ignored := newDelivery(org, "candidateHired", "tok4", "opp1")
	ignored.Status = winnow.LeverDeliveryIgnored
	if stored, err := env.Store.RecordLeverDelivery(ctx, ignored); err != nil || !stored || len(fx.deliveries) != 2 {
		t.Fatalf("ignored: %v %v %v", stored, err, fx.deliveries)
	}
	if n := count(t, env, "lever_deliveries", "org_id = $1", org.ID); n != 3 {
		t.Fatalf("%d deliveries", n)
	}
	if err := env.Store.FinishLeverDelivery(ctx, org.ID, d.ID, winnow.LeverDeliveryIgnored, "why"); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Store.FindLeverDelivery(ctx, org.ID, d.ID); got.Status != winnow.LeverDeliveryIgnored || got.Outcome != "why" || got.ProcessedAt == nil {
		t.Fatalf("finish %+v", got)
	}
	list, err := env.Store.ListLeverDeliveries(ctx, org.ID, 0)
	if err != nil || len(list) != 3 {
		t.Fatalf("list %d %v", len(list), err)
	}
}

// testLeverDeliveryRollback: when the processing job cannot be enqueued, the delivery
// is not stored either, so Lever's retry finds nothing in the way.
func testLeverDeliveryRollback(t *testing.T, e engine) {
	env, fx := openLever(t, e)
	org := mustOrg(t, env)
	fx.err = errors.New("queue down")
	if _, err := env.Store.RecordLeverDelivery(t.Context(), newDelivery(org, winnow.LeverApplicationCreated, "t", "o")); err == nil {
		t.Fatal("no error")
	}
	if n := count(t, env, "lever_deliveries", ""); n != 0 {
		t.Fatalf("%d deliveries stored without their job", n)
	}
	fx.err = nil
	if stored, err := env.Store.RecordLeverDelivery(t.Context(), newDelivery(org, winnow.LeverApplicationCreated, "t", "o")); err != nil || !stored {
		t.Fatalf("the retry: %v %v", stored, err)
	}
}

func testProcessLeverApplication(t *testing.T, e engine) {
	env, fx := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	f := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.LeverPostingID = "post1" })
	record := func(token, opp string) *winnow.LeverDelivery {
		t.Helper()
		d := newDelivery(org, winnow.LeverApplicationCreated, token, opp)
		if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	process := func(d *winnow.LeverDelivery, c winnow.LeverCandidate) *winnow.LeverDelivery {
		t.Helper()
		got, err := env.Store.ProcessLeverApplication(ctx, org.ID, d.ID, c, randomHex(16))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	unlinked := process(record("t1", "o1"), winnow.LeverCandidate{OpportunityID: "o1", PostingID: "other", Name: "Ann", Email: "ann@example.com"})
	if unlinked.Status != winnow.LeverDeliveryIgnored || unlinked.Outcome != winnow.LeverOutcomeNotLinked {
		t.Fatalf("unlinked %+v", unlinked)
	}

	noEmail := process(record("t2", "o2"), winnow.LeverCandidate{OpportunityID: "o2", PostingID: "post1", Name: "Bob"})
	writes, _ := env.Store.ListLeverWrites(ctx, org.ID, winnow.LeverWriteFilter{})
	if noEmail.Status != winnow.LeverDeliveryProcessed || noEmail.Outcome != winnow.LeverOutcomeNoEmail || len(writes) != 1 ||
		writes[0].ApplicantID != "" || writes[0].OpportunityID != "o2" || writes[0].Kind != winnow.LeverNote || len(fx.writes) != 1 {
		t.Fatalf("no email: %+v %+v %v", noEmail, writes, fx.writes)
	}

	d := record("t3", "o3")
	env.Clock.Advance(time.Second) // the job runs after the webhook arrived
	invited := process(d, winnow.LeverCandidate{OpportunityID: "o3", PostingID: "post1", Name: " Cleo Cat ", Email: "Cleo@Example.com"})
	a, err := env.Store.FindApplicantByID(ctx, org.ID, invited.ApplicantID)
	if err != nil || invited.Status != winnow.LeverDeliveryProcessed || invited.Outcome != winnow.LeverOutcomeInvited ||
		a.Name != "Cleo Cat" || a.Email != "cleo@example.com" || a.LeverOpportunityID != "o3" || a.FunnelID != f.ID {
		t.Fatalf("invited: %v %+v %+v", err, invited, a)
	}
	evs, _ := env.Store.ListEvents(ctx, org.ID, a.ID)
	if len(evs) != 2 || evs[0].Kind != winnow.EventLeverWebhook || evs[1].Kind != winnow.EventInvited {
		t.Fatalf("timeline %+v", evs)
	}
	// The job again: the delivery is processed, nothing changes.
	if again := process(d, winnow.LeverCandidate{OpportunityID: "o3", PostingID: "post1", Name: "X", Email: "x@example.com"}); again.ApplicantID != a.ID {
		t.Fatalf("repeat %+v", again)
	}
	// Another delivery for the same opportunity, or the same address: already invited.
	for i, c := range []winnow.LeverCandidate{
		{OpportunityID: "o3", PostingID: "post1", Name: "Cleo", Email: "other@example.com"},
		{OpportunityID: "o4", PostingID: "post1", Name: "Cleo", Email: "cleo@example.com"},
	} {
		got := process(record("t4"+randomHex(2), c.OpportunityID+randomHex(2)), c)
		if got.Outcome != winnow.LeverOutcomeAlreadyInvited || got.ApplicantID != a.ID {
			t.Fatalf("case %d: %+v", i, got)
		}
	}
	if n := count(t, env, "applicants", "org_id = $1", org.ID); n != 1 {
		t.Fatalf("%d applicants", n)
	}
	// Lever's data that Winnow cannot invite with fails the delivery, with a reason.
	bad := process(record("t5", "o5"), winnow.LeverCandidate{OpportunityID: "o5", PostingID: "post1", Name: "", Email: "dee@example.com"})
	if bad.Status != winnow.LeverDeliveryFailed || bad.Outcome == "" {
		t.Fatalf("no name %+v", bad)
	}
}

func testApplyLeverDelivery(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	f := mustFunnel(t, env, org, nil)
	a := mustApplicant(t, env, f, "opp1")
	other := mustApplicant(t, env, f, "opp2")
	now := env.Clock.Now()
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(now) }); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID, StepID: "s1",
		Questions: map[string][]string{"q1": {"yes"}}}); err != nil {
		t.Fatal(err)
	}
	apply := func(event, token string, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.LeverDelivery, []string) {
		t.Helper()
		d := newDelivery(org, event, token, "opp1")
		if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		got, files, err := env.Store.ApplyLeverDelivery(ctx, org.ID, d.ID, fn)
		if err != nil {
			t.Fatal(err)
		}
		return got, files
	}
	archive := func(x *winnow.Applicant) (winnow.Event, error) { return x.Archive(now, "withdrew") }
	d, _ := apply(winnow.LeverCandidateArchive, "t1", archive)
	got, _ := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	if d.Status != winnow.LeverDeliveryProcessed || d.ApplicantID != a.ID || got.ArchivedAt == nil || !got.ArchivedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("archive: %+v %+v", d, got)
	}
	if o, _ := env.Store.FindApplicantByID(ctx, org.ID, other.ID); o.ArchivedAt != nil {
		t.Fatal("another opportunity's applicant was archived")
	}
	if d, _ := apply(winnow.LeverCandidateArchive, "t2", archive); d.Status != winnow.LeverDeliveryProcessed || d.Outcome != "Nothing to change." {
		t.Fatalf("archive again: %+v", d)
	}

	// Erase: answers, uploads (their files for the caller), emails' addresses and
	// content, the notes' text go; the applicant stays, anonymous.
	up := &winnow.Upload{OrgID: org.ID, ApplicantID: a.ID, StepID: "s1", Item: "homework", Name: "cv.pdf", ContentType: "application/pdf",
		Size: 3, Path: "x/" + randomHex(8)}
	if err := env.Store.CreateUpload(ctx, up, 0); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.WithTx(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.AddEmails(ctx, []*winnow.Email{{OrgID: org.ID, ApplicantID: a.ID, FunnelID: f.ID, Kind: winnow.EmailReminder,
			Seq: 9, To: a.Email, Status: winnow.EmailScheduled, DueAt: now.Add(time.Hour)}})
		if err != nil {
			return err
		}
		_, err = tx.AddLeverWrites(ctx, []*winnow.LeverWrite{{OrgID: org.ID, ApplicantID: a.ID, OpportunityID: "opp1",
			Kind: winnow.LeverNote, Note: "Invitation sent to " + a.Email, NoteAt: now}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d, files := apply(winnow.LeverCandidateDeleted, "t3", func(x *winnow.Applicant) (winnow.Event, error) { return x.Erase(now) })
	got, _ = env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	if d.Status != winnow.LeverDeliveryProcessed || got.ErasedAt == nil || got.Name != winnow.ErasedName || got.Email != "" ||
		len(files) != 1 || files[0] != up.Path {
		t.Fatalf("erase: %+v %+v %q", d, got, files)
	}
	if n := count(t, env, "step_answers", "applicant_id = $1", a.ID) + count(t, env, "uploads", "applicant_id = $1", a.ID); n != 0 {
		t.Fatalf("%d answers and uploads left", n)
	}
	if n := count(t, env, "emails", "applicant_id = $1 AND (to_address <> '' OR status = $2)", a.ID, string(winnow.EmailScheduled)); n != 0 {
		t.Fatalf("%d emails keep an address or are still scheduled", n)
	}
	if n := count(t, env, "lever_writes", "applicant_id = $1 AND note <> ''", a.ID); n != 0 {
		t.Fatalf("%d notes keep their text", n)
	}
	if o, _ := env.Store.FindApplicantByID(ctx, org.ID, other.ID); o.Name == winnow.ErasedName || o.Email == "" {
		t.Fatal("another opportunity's applicant was erased")
	}

	// No applicant has the opportunity: ignored.
	d = newDelivery(org, winnow.LeverCandidateStageChange, "t4", "nobody")
	if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	d, _, err := env.Store.ApplyLeverDelivery(ctx, org.ID, d.ID, func(*winnow.Applicant) (winnow.Event, error) {
		return winnow.Event{Kind: winnow.EventLeverStage, Message: "moved"}, nil
	})
	if err != nil || d.Status != winnow.LeverDeliveryIgnored || d.Outcome != winnow.LeverOutcomeNoApplicant {
		t.Fatalf("nobody: %v %+v", err, d)
	}
}

// addWrites stores writes for a's opportunity, seq 1… in order.
func addWrites(t *testing.T, env *testEnv, a *winnow.Applicant, kinds ...winnow.LeverWriteKind) []*winnow.LeverWrite {
	t.Helper()
	var ws []*winnow.LeverWrite
	for _, k := range kinds {
		ws = append(ws, &winnow.LeverWrite{OrgID: a.OrgID, ApplicantID: a.ID, OpportunityID: a.LeverOpportunityID, Kind: k,
			ForStatus: a.Status, Tags: []string{"CP-Sent"}, Note: "n", NoteAt: env.Clock.Now()})
	}
	err := env.Store.WithTx(t.Context(), func(tx *sqlstore.Tx) error {
		var err error
		ws, err = tx.AddLeverWrites(t.Context(), ws)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func testLeverWriteClaims(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	c := mustConnected(t, env, org, winnow.LeverConnected)
	f := mustFunnel(t, env, org, nil)
	a := mustApplicant(t, env, f, "opp1")
	ws := addWrites(t, env, a, winnow.LeverAddTags, winnow.LeverNote)
	more := addWrites(t, env, a, winnow.LeverNote)
	if ws[0].Seq != 1 || ws[1].Seq != 2 || more[0].Seq != 3 {
		t.Fatalf("seqs %d %d %d", ws[0].Seq, ws[1].Seq, more[0].Seq)
	}
	w, claim, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	if err != nil || w.ID != ws[0].ID || !claim.Send || w.Status != winnow.LeverWriteSending || w.Attempts != 1 ||
		w.LeaseUntil == nil || !slicesEqual(w.Tags, []string{"CP-Sent"}) {
		t.Fatalf("first claim: %v %+v %+v", err, claim, w)
	}
	// Another worker on the same opportunity waits for the first.
	if w2, claim, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); err != nil || w2.ID != ws[0].ID || !claim.Later || claim.Send {
		t.Fatalf("second claim: %v %+v %+v", err, claim, w2)
	}
	call := winnow.Call{Method: "POST", Path: "/v1/opportunities/opp1/addTags", Status: 200, Duration: 12 * time.Millisecond}
	if err := env.Store.FinishLeverWrite(ctx, org.ID, w.ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone, Calls: []winnow.Call{call}}); err != nil {
		t.Fatal(err)
	}
	// A late finish of the same attempt changes nothing.
	if err := env.Store.FinishLeverWrite(ctx, org.ID, w.ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteFailed, Error: "late"}); err != nil {
		t.Fatal(err)
	}
	done, _ := env.Store.FindLeverWrite(ctx, org.ID, w.ID)
	evs, _ := env.Store.ListEvents(ctx, org.ID, a.ID)
	last := evs[len(evs)-1]
	if done.Status != winnow.LeverWriteDone || done.DoneAt == nil || done.LeaseUntil != nil ||
		last.Kind != winnow.EventLeverCall || last.Call == nil || *last.Call != call {
		t.Fatalf("finished %+v, last event %+v", done, last)
	}
	// The next is seq 2. A retry later holds it until then.
	w, claim, _ = env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	if w.ID != ws[1].ID || !claim.Send {
		t.Fatalf("next claim %+v", w)
	}
	retryAt := env.Clock.Now().Add(time.Minute)
	if err := env.Store.FinishLeverWrite(ctx, org.ID, w.ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteQueued, Error: "busy",
		RetryAt: retryAt}); err != nil {
		t.Fatal(err)
	}
	if w, claim, _ := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); w.ID != ws[1].ID || !claim.Later || w.Status != winnow.LeverWriteQueued {
		t.Fatalf("during the backoff %+v %+v", claim, w)
	}
	env.Clock.Set(retryAt)
	if w, claim, _ := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); w.ID != ws[1].ID || !claim.Send || !w.MayHaveReachedLever() {
		t.Fatalf("after the backoff %+v %+v", claim, w)
	}
	if err := env.Store.FinishLeverWrite(ctx, org.ID, ws[1].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone, NoteID: "n1"}); err != nil {
		t.Fatal(err)
	}
	// Needs reconnecting: the write waits, queued.
	c.State = winnow.LeverNeedsReconnecting
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if w, claim, _ := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); w.ID != more[0].ID || !claim.Later || w.Status != winnow.LeverWriteQueued {
		t.Fatalf("paused %+v %+v", claim, w)
	}
	// Disconnected: skipped, on the timeline.
	c.State = winnow.LeverDisconnected
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	w, claim, _ = env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	evs, _ = env.Store.ListEvents(ctx, org.ID, a.ID)
	if claim.Send || w.Status != winnow.LeverWriteSkipped || evs[len(evs)-1].Kind != winnow.EventLeverSkipped {
		t.Fatalf("disconnected %+v %+v", claim, w)
	}
	if w, _, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1"); err != nil || w != nil {
		t.Fatalf("nothing left: %+v %v", w, err)
	}
}

func testLeverWriteRetry(t *testing.T, e engine) {
	env, fx := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "opp1")
	ws := addWrites(t, env, a, winnow.LeverNote)
	wantCode(t, env.Store.RetryLeverWrite(ctx, org.ID, ws[0].ID), winnow.ECONFLICT)
	env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	if err := env.Store.FinishLeverWrite(ctx, org.ID, ws[0].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteFailed,
		Error: "Lever refused it", Calls: []winnow.Call{{Method: "POST", Path: "/v1/x", Status: 422}}}); err != nil {
		t.Fatal(err)
	}
	failed, err := env.Store.ListLeverWrites(ctx, org.ID, winnow.LeverWriteFilter{Status: winnow.LeverWriteFailed})
	if err != nil || len(failed) != 1 || failed[0].LastError != "Lever refused it" {
		t.Fatalf("failed: %v %+v", err, failed)
	}
	evs, _ := env.Store.ListEvents(ctx, org.ID, a.ID)
	if evs[len(evs)-1].Kind != winnow.EventLeverFailed {
		t.Fatalf("last event %+v", evs[len(evs)-1])
	}
	other := mustOrg(t, env)
	wantCode(t, env.Store.RetryLeverWrite(ctx, other.ID, ws[0].ID), winnow.ENOTFOUND)
	if err := env.Store.RetryLeverWrite(ctx, org.ID, ws[0].ID); err != nil {
		t.Fatal(err)
	}
	got, _ := env.Store.FindLeverWrite(ctx, org.ID, ws[0].ID)
	if got.Status != winnow.LeverWriteQueued || got.LastError != "" || len(fx.writes) != 1 || fx.writes[0] != ws[0].ID {
		t.Fatalf("retried %+v, jobs %v", got, fx.writes)
	}
	// A retry whose job cannot be enqueued changes nothing.
	env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
	env.Store.FinishLeverWrite(ctx, org.ID, ws[0].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteFailed, Error: "again"})
	fx.err = errors.New("queue down")
	if err := env.Store.RetryLeverWrite(ctx, org.ID, ws[0].ID); err == nil {
		t.Fatal("no error")
	}
	if got, _ := env.Store.FindLeverWrite(ctx, org.ID, ws[0].ID); got.Status != winnow.LeverWriteFailed {
		t.Fatalf("after a failed retry %+v", got)
	}
}

// testLeverConcurrentWrites: workers racing over one applicant's writes perform each
// exactly once, in order, and never deadlock (a finish takes the applicant's lock
// before the write's, as a claim does).
func testLeverConcurrentWrites(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "opp1")
	kinds := make([]winnow.LeverWriteKind, 40)
	for i := range kinds {
		kinds[i] = winnow.LeverNote
	}
	addWrites(t, env, a, kinds...)
	var mu sync.Mutex
	var order []int
	errs := make(chan error, 8)
	var failed atomic.Bool // a worker that failed leaves its write held: the others stop
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				w, claim, err := env.Store.ClaimLeverWrite(ctx, org.ID, "opp1")
				if err != nil {
					failed.Store(true)
					errs <- err
					return
				}
				if w == nil {
					return
				}
				if !claim.Send {
					continue
				}
				mu.Lock()
				order = append(order, w.Seq)
				mu.Unlock()
				if err := env.Store.FinishLeverWrite(ctx, org.ID, w.ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone,
					Calls: []winnow.Call{{Method: "POST", Path: "/v1/n", Status: 201}}}); err != nil {
					failed.Store(true)
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(order) != 40 {
		t.Fatalf("%d writes performed, want 40: %v", len(order), order)
	}
	for i, seq := range order {
		if seq != i+1 {
			t.Fatalf("performed out of order: %v", order)
		}
	}
}

func testLeverLoopIsolation(t *testing.T, e engine) {
	env, _ := openLever(t, e)
	ctx := t.Context()
	orgA, orgB := mustOrg(t, env), mustOrg(t, env)
	mustConnected(t, env, orgA, winnow.LeverConnected)
	mustConnected(t, env, orgB, winnow.LeverConnected)
	a := mustApplicant(t, env, mustFunnel(t, env, orgA, func(f *winnow.Funnel) { f.LeverPostingID = "post" }), "opp1")
	ws := addWrites(t, env, a, winnow.LeverNote)
	d := newDelivery(orgA, winnow.LeverApplicationCreated, "t", "opp9")
	if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	// The same dedup key in another org is another delivery.
	if stored, err := env.Store.RecordLeverDelivery(ctx, newDelivery(orgB, winnow.LeverApplicationCreated, "t", "opp9")); err != nil || !stored {
		t.Fatalf("org B: %v %v", stored, err)
	}
	_, err := env.Store.FindLeverDelivery(ctx, orgB.ID, d.ID)
	wantCode(t, err, winnow.ENOTFOUND)
	_, err = env.Store.ProcessLeverApplication(ctx, orgB.ID, d.ID, winnow.LeverCandidate{PostingID: "post", Name: "X", Email: "x@example.com"}, randomHex(16))
	wantCode(t, err, winnow.ENOTFOUND)
	_, _, err = env.Store.ApplyLeverDelivery(ctx, orgB.ID, d.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Erase(time.Now()) })
	wantCode(t, err, winnow.ENOTFOUND)
	if w, _, err := env.Store.ClaimLeverWrite(ctx, orgB.ID, "opp1"); err != nil || w != nil {
		t.Fatalf("org B claimed org A's write: %+v %v", w, err)
	}
	_, err = env.Store.FindLeverWrite(ctx, orgB.ID, ws[0].ID)
	wantCode(t, err, winnow.ENOTFOUND)
	if list, _ := env.Store.ListLeverWrites(ctx, orgB.ID, winnow.LeverWriteFilter{}); len(list) != 0 {
		t.Fatalf("org B lists %d writes", len(list))
	}
	if err := env.Store.FinishLeverWrite(ctx, orgB.ID, ws[0].ID, winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone}); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("org B finished org A's write: %v", err)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
