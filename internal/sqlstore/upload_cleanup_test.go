package sqlstore_test

import (
	"sync"
	"testing"
	"time"

	"winnow"
)

// uploadOf records an upload of size bytes for the applicant's item with the budget.
func uploadOf(t *testing.T, env *testEnv, a *winnow.Applicant, item string, size, budget int64) (*winnow.Upload, error) {
	t.Helper()
	u := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s2", Item: item, Name: "answer.webm",
		ContentType: "video/webm", Size: size, Path: a.OrgID + "/" + a.ID + "/" + randomHex(8)}
	return u, env.Store.CreateUpload(t.Context(), u, budget)
}

// testReplacedUploads saves a video answer again and again: each save deletes the
// upload the answer named before and returns it, keeps what it still names, and in the
// end one row is left for one answer.
func testReplacedUploads(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, org, nil))
	other := mustStarted(t, env, mustFunnel(t, env, org, nil))
	theirs := mustUpload(t, env, other, winnow.PromptItem(0))

	save := func(files map[string]string) []*winnow.Upload {
		t.Helper()
		replaced, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Files: files})
		if err != nil {
			t.Fatalf("save: %v", err)
		}
		return replaced
	}
	first := mustUpload(t, env, a, winnow.PromptItem(0))
	if got := save(map[string]string{winnow.PromptItem(0): first.ID}); len(got) != 0 {
		t.Fatalf("a first answer replaced %+v", got)
	}
	last := first
	for i := range 10 {
		next := mustUpload(t, env, a, winnow.PromptItem(0))
		got := save(map[string]string{winnow.PromptItem(0): next.ID})
		if len(got) != 1 || got[0].ID != last.ID || got[0].Path != last.Path || got[0].Size != last.Size {
			t.Fatalf("save %d replaced %+v, want the upload %s", i+1, got, last.ID)
		}
		last = next
	}
	// Answering another prompt keeps the first; naming an ID twice or one of another
	// applicant deletes nothing that is not the answer's.
	second := mustUpload(t, env, a, winnow.PromptItem(1))
	if got := save(map[string]string{winnow.PromptItem(0): last.ID, winnow.PromptItem(1): second.ID}); len(got) != 0 {
		t.Fatalf("adding a prompt's answer replaced %+v", got)
	}
	if got := save(map[string]string{winnow.PromptItem(0): theirs.ID}); len(got) != 2 {
		t.Fatalf("replaced %+v, want both of the applicant's uploads", got)
	}
	if n := count(t, env, "uploads", "applicant_id = $1", a.ID); n != 0 {
		t.Fatalf("the applicant has %d upload rows left, want 0", n)
	}
	if _, err := env.Store.FindUpload(ctx, org.ID, theirs.ID); err != nil {
		t.Fatalf("another applicant's upload went: %v", err)
	}

	// A refused save deletes nothing.
	u := mustUpload(t, env, other, winnow.PromptItem(1))
	if _, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: org.ID, ApplicantID: other.ID, StepID: "s2",
		Files: map[string]string{winnow.PromptItem(1): u.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, other.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(env.Clock.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: org.ID, ApplicantID: other.ID, StepID: "s2"})
	wantCode(t, err, winnow.ECONFLICT)
	if _, err := env.Store.FindUpload(ctx, org.ID, u.ID); err != nil {
		t.Fatalf("a refused save deleted an upload: %v", err)
	}
}

// testUploadBudget records uploads against a budget, one by one and many at once: the
// applicant's uploads together never go past it, and what would is ETOOLARGE and
// recorded not.
func testUploadBudget(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, org, nil))
	if _, err := uploadOf(t, env, a, "homework", 600, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := uploadOf(t, env, a, "homework", 400, 1000); err != nil {
		t.Fatalf("an upload filling the budget exactly: %v", err)
	}
	u, err := uploadOf(t, env, a, "homework", 1, 1000)
	wantCode(t, err, winnow.ETOOLARGE)
	if u.ID != "" {
		t.Fatal("a refused upload got an ID")
	}
	if n, err := env.Store.UploadedBytes(ctx, org.ID, a.ID); err != nil || n != 1000 {
		t.Fatalf("UploadedBytes = %d, %v; want 1000", n, err)
	}
	if _, err := uploadOf(t, env, a, "homework", 1, 0); err != nil {
		t.Fatalf("no budget: %v", err)
	}

	b := mustStarted(t, env, mustFunnel(t, env, org, nil))
	const n, size, budget = 8, 100, 350
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = uploadOf(t, env, b, winnow.PromptItem(i), size, budget) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch winnow.ErrorCode(err) {
		case "":
			ok++
		case winnow.ETOOLARGE:
		default:
			t.Fatalf("upload at once: %v", err)
		}
	}
	if got, _ := env.Store.UploadedBytes(ctx, org.ID, b.ID); ok != budget/size || got != int64(ok*size) {
		t.Fatalf("%d uploads of %d bytes recorded at once (%d bytes) against a budget of %d, want %d", ok, size, got, budget, budget/size)
	}
	if n, err := env.Store.UploadedBytes(ctx, org.ID, "nope"); err != nil || n != 0 {
		t.Fatalf("UploadedBytes of nobody = %d, %v", n, err)
	}
}

// testUnusedUploads finds the upload rows that no answer names once they are older
// than the cutoff, across orgs, deletes each once, and tells known paths from unknown.
func testUnusedUploads(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	orgA, orgB := mustOrg(t, env), mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, orgA, nil))
	b := mustStarted(t, env, mustFunnel(t, env, orgB, nil))
	named := mustUpload(t, env, a, winnow.PromptItem(0))
	otherItem := mustUpload(t, env, a, winnow.PromptItem(1)) // its ID under another item does not count
	if _, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: orgA.ID, ApplicantID: a.ID, StepID: "s2",
		Files: map[string]string{winnow.PromptItem(0): named.ID, "homework": otherItem.ID}}); err != nil {
		t.Fatal(err)
	}
	unusedA := mustUpload(t, env, a, winnow.PromptItem(2))
	unusedB := mustUpload(t, env, b, "homework")
	env.Clock.Advance(time.Hour)
	young := mustUpload(t, env, b, winnow.PromptItem(0))

	cutoff := env.Clock.Now().Add(-time.Minute)
	got, err := env.Store.DeleteUnusedUploads(ctx, cutoff, 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("first batch: %+v, %v; want 2 rows", got, err)
	}
	rest, err := env.Store.DeleteUnusedUploads(ctx, cutoff, 2)
	if err != nil || len(rest) != 1 {
		t.Fatalf("second batch: %+v, %v; want 1 row", rest, err)
	}
	deleted := map[string]bool{}
	for _, u := range append(got, rest...) {
		deleted[u.ID] = u.Path != ""
	}
	if len(deleted) != 3 || !deleted[unusedA.ID] || !deleted[unusedB.ID] || !deleted[otherItem.ID] {
		t.Fatalf("deleted %v, want %s, %s and %s with their paths", deleted, unusedA.ID, unusedB.ID, otherItem.ID)
	}
	if again, err := env.Store.DeleteUnusedUploads(ctx, cutoff, 10); err != nil || len(again) != 0 {
		t.Fatalf("third batch: %+v, %v; want none", again, err)
	}
	known, err := env.Store.KnownUploadPaths(ctx, []string{named.Path, young.Path, unusedA.Path, "x/y/z"})
	if err != nil || len(known) != 2 || !known[named.Path] || !known[young.Path] {
		t.Fatalf("KnownUploadPaths = %v, %v; want the named and the young upload's", known, err)
	}
	if known, err := env.Store.KnownUploadPaths(ctx, nil); err != nil || len(known) != 0 {
		t.Fatalf("KnownUploadPaths() = %v, %v", known, err)
	}
}
