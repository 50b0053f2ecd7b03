package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/sqlstore"
)

// TestLeverApplicationBatch runs the cases of the group commit of Lever applications
// on both engines.
func TestLeverApplicationBatch(t *testing.T) {
	runSuite(t, []suiteCase{
		{"OneTransaction", testApplicationBatch},
		{"Concurrent", testApplicationBatchConcurrent},
	})
}

// batchEffects hands each change's job to the batch (Tx.CollectJobs), as the jobs
// package's effects do, and records which changes' jobs were inserted; the change of
// an applicant named fail then fails, after its job was handed over.
type batchEffects struct {
	leverEffects
	fail     string
	jobsMu   sync.Mutex
	inserted map[string]int // applicant ID → jobs inserted
	inserts  int            // calls of the insert
}

func (fx *batchEffects) ApplicantChanged(ctx context.Context, tx *sqlstore.Tx, a *winnow.Applicant, ev *winnow.Event) error {
	// Read as LeverPlanner does: once per batch, the same for every change.
	if c, err := tx.FindLeverConnection(ctx, a.OrgID); err != nil || c.State != winnow.LeverConnected {
		return fmt.Errorf("lever connection in the batch: %+v, %w", c, err)
	}
	params := []river.InsertManyParams{{Args: effectArgs{ApplicantID: a.ID, Event: string(ev.Kind)}}}
	if !tx.CollectJobs(fx.insert, params) {
		if err := fx.insert(ctx, tx.SQL(), params); err != nil {
			return err
		}
	}
	if a.Name == fx.fail {
		return errors.New("effects refused " + a.Name)
	}
	return nil
}

func (fx *batchEffects) insert(_ context.Context, _ *sql.Tx, params []river.InsertManyParams) error {
	fx.jobsMu.Lock()
	defer fx.jobsMu.Unlock()
	fx.inserts++
	for _, p := range params {
		fx.inserted[p.Args.(effectArgs).ApplicantID]++
	}
	return nil
}

// batchSetup is an org connected to Lever with a job linked to the posting "post".
func batchSetup(t *testing.T, e engine) (*testEnv, *batchEffects, *winnow.Org, *winnow.Funnel) {
	t.Helper()
	env := open(t, e)
	fx := &batchEffects{fail: "Fail Me", inserted: map[string]int{}}
	env.Store = sqlstore.NewStore(env.DB, env.Clock, fx)
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	f := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.LeverPostingID = "post" })
	return env, fx, org, f
}

// insightInvited is the org's count of invitations in insight_days.
func insightInvited(t *testing.T, env *testEnv, orgID string) int {
	t.Helper()
	var n sql.NullInt64
	if err := env.DB.SQL().QueryRowContext(t.Context(), `SELECT SUM(n) FROM insight_days WHERE org_id = $1 AND metric = 'invited'`,
		orgID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return int(n.Int64)
}

// testApplicationBatch processes one batch in which one delivery fails, two name the
// same opportunity and one the address of another: the failing one rolls back alone
// with its own error, exactly one applicant is invited per candidate, and the summed
// counts, day counts and jobs are those of the applicants committed. The batch again
// changes nothing.
func testApplicationBatch(t *testing.T, e engine) {
	env, fx, org, f := batchSetup(t, e)
	ctx := t.Context()
	var reqs []sqlstore.ApplicationRequest
	add := func(token string, c winnow.LeverCandidate) {
		d := newDelivery(org, winnow.LeverApplicationCreated, token, c.OpportunityID)
		d.ApplicationID = "app-" + token
		if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, sqlstore.ApplicationRequest{OrgID: org.ID, DeliveryID: d.ID, Token: randomHex(16), C: c})
	}
	for i := range 10 {
		add(fmt.Sprint("t", i), winnow.LeverCandidate{OpportunityID: fmt.Sprint("o", i), PostingID: "post",
			Name: fmt.Sprint("Cand ", i), Email: fmt.Sprintf("c%d@example.com", i)})
	}
	add("fail", winnow.LeverCandidate{OpportunityID: "of", PostingID: "post", Name: "Fail Me", Email: "fail@example.com"})
	add("dup", winnow.LeverCandidate{OpportunityID: "o3", PostingID: "post", Name: "Cand 3", Email: "c3@example.com"})
	add("addr", winnow.LeverCandidate{OpportunityID: "o99", PostingID: "post", Name: "Cand 4", Email: "c4@example.com"})
	add("unlinked", winnow.LeverCandidate{OpportunityID: "o98", PostingID: "other", Name: "Cand X", Email: "x@example.com"})
	reqs = append(reqs, sqlstore.ApplicationRequest{OrgID: org.ID, DeliveryID: "no-such-delivery", Token: randomHex(16),
		C: winnow.LeverCandidate{OpportunityID: "o97", PostingID: "post", Name: "Ghost", Email: "g@example.com"}})

	ds, errs := env.Store.ProcessLeverApplicationBatch(ctx, reqs)
	for i := range 10 {
		if errs[i] != nil || ds[i].Outcome != winnow.LeverOutcomeInvited || ds[i].ApplicantID == "" {
			t.Fatalf("delivery %d: %+v, %v", i, ds[i], errs[i])
		}
	}
	if errs[10] == nil || ds[10] != nil {
		t.Fatalf("failing delivery: %+v, %v", ds[10], errs[10])
	}
	for i, want := range map[int]string{11: ds[3].ApplicantID, 12: ds[4].ApplicantID} {
		if errs[i] != nil || ds[i].Outcome != winnow.LeverOutcomeAlreadyInvited || ds[i].ApplicantID != want {
			t.Fatalf("delivery %d: %+v, %v; want already invited as %s", i, ds[i], errs[i], want)
		}
	}
	if errs[13] != nil || ds[13].Outcome != winnow.LeverOutcomeNotLinked {
		t.Fatalf("unlinked: %+v, %v", ds[13], errs[13])
	}
	if winnow.ErrorCode(errs[14]) != winnow.ENOTFOUND {
		t.Fatalf("unknown delivery: %v", errs[14])
	}

	// The failing delivery left nothing and waits for its retry.
	if got, err := env.Store.FindLeverDelivery(ctx, org.ID, reqs[10].DeliveryID); err != nil || got.Status != winnow.LeverDeliveryReceived {
		t.Fatalf("failed delivery after the batch: %+v, %v", got, err)
	}
	if n := count(t, env, "applicants", "org_id = $1 AND name = $2", org.ID, "Fail Me"); n != 0 {
		t.Fatalf("%d applicants of the failed delivery", n)
	}
	check := func(when string) {
		t.Helper()
		if n := count(t, env, "applicants", "org_id = $1", org.ID); n != 10 {
			t.Fatalf("%s: %d applicants, want 10", when, n)
		}
		if n := count(t, env, "applicant_events", "org_id = $1", org.ID); n != 20 {
			t.Fatalf("%s: %d timeline entries, want 20 (invited and webhook each)", when, n)
		}
		st, err := env.Store.CountStatuses(ctx, org.ID, winnow.ApplicantFilter{FunnelID: f.ID})
		if err != nil || st[winnow.StatusInvited] != 10 || len(st) != 1 {
			t.Fatalf("%s: counts %v, %v", when, st, err)
		}
		re, err := env.Store.CountReached(ctx, org.ID, winnow.ApplicantFilter{FunnelID: f.ID})
		if err != nil || re[winnow.StatusInvited] != 10 {
			t.Fatalf("%s: reached %v, %v", when, re, err)
		}
		if n := insightInvited(t, env, org.ID); n != 10 {
			t.Fatalf("%s: insights count %d invitations, want 10", when, n)
		}
		if n := count(t, env, "applicant_insights", "org_id = $1", org.ID); n != 10 {
			t.Fatalf("%s: %d insight rows, want 10", when, n)
		}
		fx.jobsMu.Lock()
		defer fx.jobsMu.Unlock()
		if len(fx.inserted) != 10 || fx.inserts != 1 {
			t.Fatalf("%s: jobs of %d applicants in %d inserts, want 10 in 1: %v", when, len(fx.inserted), fx.inserts, fx.inserted)
		}
		for i := range 10 {
			if fx.inserted[ds[i].ApplicantID] != 1 {
				t.Fatalf("%s: applicant %d has %d jobs", when, i, fx.inserted[ds[i].ApplicantID])
			}
		}
	}
	check("after the batch")
	// Recounting from the rows gives what the batch counted.
	if err := env.Store.RebuildInsightDays(ctx, org.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if n := insightInvited(t, env, org.ID); n != 10 {
		t.Fatalf("rebuilt insights count %d invitations, want 10", n)
	}

	// The same jobs again (River retrying them): the processed deliveries change
	// nothing; the failed one, its cause gone, is invited.
	fx.fail = ""
	again, errs := env.Store.ProcessLeverApplicationBatch(ctx, reqs[:14])
	for i := range 14 {
		if i == 10 {
			if errs[i] != nil || again[i].Outcome != winnow.LeverOutcomeInvited {
				t.Fatalf("retried delivery: %+v, %v", again[i], errs[i])
			}
			continue
		}
		if errs[i] != nil || again[i].Status != ds[i].Status || again[i].ApplicantID != ds[i].ApplicantID {
			t.Fatalf("delivery %d again: %+v, %v; was %+v", i, again[i], errs[i], ds[i])
		}
	}
	if n := count(t, env, "applicants", "org_id = $1", org.ID); n != 11 {
		t.Fatalf("%d applicants after the retry, want 11", n)
	}
}

// testApplicationBatchConcurrent has many callers process deliveries at once, five
// deliveries of each candidate (five applications of one opportunity):
// every candidate is invited exactly once and every call is answered with its own
// delivery.
func testApplicationBatchConcurrent(t *testing.T, e engine) {
	env, fx, org, f := batchSetup(t, e)
	ctx := t.Context()
	const candidates, copies = 20, 5
	type call struct {
		deliveryID string
		c          winnow.LeverCandidate
	}
	var calls []call
	for i := range candidates {
		c := winnow.LeverCandidate{OpportunityID: fmt.Sprint("o", i), PostingID: "post", Name: fmt.Sprint("Cand ", i),
			Email: fmt.Sprintf("c%d@example.com", i)}
		for k := range copies {
			// Other applications of the same opportunity: the intake would take the
			// same application's webhook once only.
			d := newDelivery(org, winnow.LeverApplicationCreated, fmt.Sprint("t", i, "-", k), c.OpportunityID)
			d.ApplicationID = fmt.Sprint("app-", i, "-", k)
			if _, err := env.Store.RecordLeverDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
			calls = append(calls, call{d.ID, c})
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]*winnow.LeverDelivery, len(calls))
	errs := make([]error, len(calls))
	for i, c := range calls {
		wg.Go(func() {
			<-start
			got[i], errs[i] = env.Store.ProcessLeverApplication(ctx, org.ID, c.deliveryID, c.c, randomHex(16))
		})
	}
	close(start)
	wg.Wait()
	byOpp := map[string]string{}
	invited := 0
	for i, d := range got {
		if errs[i] != nil || d == nil || d.ID != calls[i].deliveryID || d.Status != winnow.LeverDeliveryProcessed {
			t.Fatalf("call %d: %+v, %v", i, d, errs[i])
		}
		if d.Outcome == winnow.LeverOutcomeInvited {
			invited++
		}
		opp := calls[i].c.OpportunityID
		if was, ok := byOpp[opp]; ok && was != d.ApplicantID {
			t.Fatalf("opportunity %s: applicants %s and %s", opp, was, d.ApplicantID)
		}
		byOpp[opp] = d.ApplicantID
	}
	if invited != candidates {
		t.Fatalf("%d invitations, want %d", invited, candidates)
	}
	if n := count(t, env, "applicants", "org_id = $1", org.ID); n != candidates {
		t.Fatalf("%d applicants, want %d", n, candidates)
	}
	st, err := env.Store.CountStatuses(ctx, org.ID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err != nil || st[winnow.StatusInvited] != candidates {
		t.Fatalf("counts %v, %v", st, err)
	}
	if n := insightInvited(t, env, org.ID); n != candidates {
		t.Fatalf("insights count %d invitations, want %d", n, candidates)
	}
	fx.jobsMu.Lock()
	defer fx.jobsMu.Unlock()
	if len(fx.inserted) != candidates {
		t.Fatalf("jobs of %d applicants, want %d", len(fx.inserted), candidates)
	}
}
