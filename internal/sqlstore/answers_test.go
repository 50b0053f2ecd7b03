package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestAnswerStore runs the answer, upload and step-snapshot conformance cases on SQLite
// always and on PostgreSQL when WINNOW_TEST_POSTGRES_URL is set. The cases share one
// migrated database per engine, each in its own orgs, and run one after the other
// because they move the shared clock.
func TestAnswerStore(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, env *testEnv)
	}{
		{"StepAnswers", testStepAnswers},
		{"StepAnswerStatus", testStepAnswerStatus},
		{"Uploads", testUploads},
		{"UploadValidation", testUploadValidation},
		{"ApplicantSteps", testApplicantSteps},
		{"AnswerIsolation", testAnswerIsolation},
	}
	dbtest.Engines(t, func(t *testing.T, e engine) {
		env := open(t, e)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.fn(t, env) })
		}
	})
}

// mustStarted creates an applicant in f and moves it to in progress.
func mustStarted(t *testing.T, env *testEnv, f *winnow.Funnel) *winnow.Applicant {
	t.Helper()
	a := mustApplicant(t, env, f, "")
	got, err := env.Store.TransitionApplicant(t.Context(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Start(env.Clock.Now())
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return got
}

// mustAnswers returns the applicant's stored answers by step ID.
func mustAnswers(t *testing.T, env *testEnv, orgID, applicantID string) map[string]*winnow.StepAnswer {
	t.Helper()
	list, err := env.Store.ListStepAnswers(t.Context(), orgID, applicantID)
	if err != nil {
		t.Fatalf("list step answers: %v", err)
	}
	m := map[string]*winnow.StepAnswer{}
	for _, a := range list {
		m[a.StepID] = a
	}
	return m
}

func testStepAnswers(t *testing.T, env *testEnv) {
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, org, nil))

	done := env.Clock.Now().Add(-time.Second)
	first := &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID, StepID: "s1",
		Questions: map[string][]string{"q1": {"yes"}, "q2": {"Berlin", "Remote"}, "q3": nil}, CompletedAt: &done}
	homework := &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Text: "ünïcødé \"text\"\nline 2",
		Files: map[string]string{"homework": "upload-1"}, Questions: map[string][]string{}}
	for _, ans := range []*winnow.StepAnswer{first, homework} {
		env.Clock.Advance(time.Second)
		if _, err := env.Store.SaveStepAnswer(ctx, ans); err != nil {
			t.Fatalf("save %s: %v", ans.StepID, err)
		}
		if !ans.UpdatedAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("UpdatedAt = %v, want the clock's time", ans.UpdatedAt)
		}
	}
	if homework.Questions != nil || first.Questions["q3"] != nil {
		t.Fatalf("empty maps and lists are not normalised to nil: %+v %+v", first, homework)
	}
	got, err := env.Store.ListStepAnswers(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []*winnow.StepAnswer{first, homework}) {
		t.Fatalf("ListStepAnswers = %+v, want %+v then %+v", got, first, homework)
	}

	// Saving again replaces the step's answer, not adding a second one.
	env.Clock.Advance(time.Second)
	replaced := &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Files: map[string]string{"homework": "upload-2"}}
	if _, err := env.Store.SaveStepAnswer(ctx, replaced); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got := mustAnswers(t, env, org.ID, a.ID); len(got) != 2 || !reflect.DeepEqual(got["s2"], replaced) {
		t.Fatalf("after replace = %+v, want s2 = %+v", got, replaced)
	}
	if n := count(t, env, "step_answers", "applicant_id = $1", a.ID); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}

	invalid := []struct {
		name string
		ans  *winnow.StepAnswer
		code string
	}{
		{"no step", &winnow.StepAnswer{OrgID: org.ID, ApplicantID: a.ID}, winnow.EINVALID},
		{"no applicant", &winnow.StepAnswer{OrgID: org.ID, StepID: "s1"}, winnow.EINVALID},
		{"unknown applicant", &winnow.StepAnswer{OrgID: org.ID, ApplicantID: "nope", StepID: "s1"}, winnow.ENOTFOUND},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) { _, err := env.Store.SaveStepAnswer(ctx, tt.ans); wantCode(t, err, tt.code) })
	}
	if list, err := env.Store.ListStepAnswers(ctx, org.ID, "nope"); err != nil || list != nil {
		t.Fatalf("answers of an unknown applicant = %v, %v; want none", list, err)
	}
}

// testStepAnswerStatus checks that answers and uploads change only while the applicant
// is in progress: before the start and after the submission nothing is written.
func testStepAnswerStatus(t *testing.T, env *testEnv) {
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	invited := mustApplicant(t, env, f, "")
	submitted := mustStarted(t, env, f)
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, submitted.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Submit(env.Clock.Now())
	}); err != nil {
		t.Fatal(err)
	}
	optedOut := mustStarted(t, env, f)
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, optedOut.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(env.Clock.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		a    *winnow.Applicant
	}{{"invited", invited}, {"submitted", submitted}, {"opted out", optedOut}} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: org.ID, ApplicantID: tt.a.ID, StepID: "s1",
				Questions: map[string][]string{"q1": {"yes"}}})
			wantCode(t, err, winnow.ECONFLICT)
			err = env.Store.CreateUpload(ctx, &winnow.Upload{OrgID: org.ID, ApplicantID: tt.a.ID, StepID: "s2", Item: "homework",
				ContentType: "application/pdf", Size: 1, Path: org.ID + "/" + tt.a.ID + "/x"}, 0)
			wantCode(t, err, winnow.ECONFLICT)
		})
	}
	if n, m := count(t, env, "step_answers", "org_id = $1", org.ID), count(t, env, "uploads", "org_id = $1", org.ID); n != 0 || m != 0 {
		t.Fatalf("answers = %d, uploads = %d; want none", n, m)
	}
}

// testApplicantSteps checks that the step snapshot round-trips with every step kind and
// stays as it was when the funnel is edited or the applicant moves on.
func testApplicantSteps(t *testing.T, env *testEnv) {
	ctx := t.Context()
	org := mustOrg(t, env)
	f := fullFunnel(org)
	if err := env.Store.CreateFunnel(ctx, f); err != nil {
		t.Fatal(err)
	}
	a := mustApplicant(t, env, f, "")
	if !reflect.DeepEqual(a.Steps, f.Steps) {
		t.Fatalf("snapshot = %+v, want the funnel's steps %+v", a.Steps, f.Steps)
	}
	want := winnow.CopySteps(f.Steps)

	f.Steps = f.Steps[:1]
	f.Steps[0].Questions[0].Text = "Edited after the invitation"
	if err := env.Store.UpdateFunnel(ctx, f); err != nil {
		t.Fatal(err)
	}
	moved, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		x.Steps = nil // a transition cannot change the snapshot
		return x.Start(env.Clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	byID, err1 := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	byToken, err2 := env.Store.FindApplicantByToken(ctx, a.Token)
	list, err3 := env.Store.ListApplicants(ctx, org.ID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err1 != nil || err2 != nil || err3 != nil || len(list) != 1 {
		t.Fatalf("read back: %v %v %v %d", err1, err2, err3, len(list))
	}
	for name, got := range map[string]*winnow.Applicant{"transition": moved, "by id": byID, "by token": byToken, "list": list[0]} {
		if !reflect.DeepEqual(got.Steps, want) {
			t.Errorf("%s: steps = %+v, want the snapshot %+v", name, got.Steps, want)
		}
	}

	// A funnel without steps gives an applicant without steps, read back as nil. Such a
	// funnel may be open no longer, but applicants invited while it could be remain.
	empty := &winnow.Funnel{OrgID: org.ID, Title: "No steps", Status: winnow.FunnelDraft}
	if err := env.Store.CreateFunnel(ctx, empty); err != nil {
		t.Fatal(err)
	}
	empty.Status = winnow.FunnelOpen
	b := mustApplicant(t, env, empty, "")
	if got, err := env.Store.FindApplicantByID(ctx, org.ID, b.ID); err != nil || got.Steps != nil {
		t.Fatalf("steps of an applicant without steps = %+v, %v", got.Steps, err)
	}
}
