package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"winnow"
)

// mustUpload records an upload of the applicant at a unique path.
func mustUpload(t *testing.T, env *testEnv, a *winnow.Applicant, item string) *winnow.Upload {
	t.Helper()
	u := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s2", Item: item, Name: "answer.webm",
		ContentType: "video/webm", Size: 1234, Path: a.OrgID + "/" + a.ID + "/" + randomHex(8)}
	if err := env.Store.CreateUpload(t.Context(), u, 0); err != nil {
		t.Fatalf("create upload: %v", err)
	}
	return u
}

func testUploads(t *testing.T, env *testEnv) {
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, org, nil))

	u := &winnow.Upload{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Item: "homework", Name: "Lösung «final».pdf",
		ContentType: "application/pdf", Size: 25 << 20, Path: org.ID + "/" + a.ID + "/0123abcd"}
	if err := env.Store.CreateUpload(ctx, u, 0); err != nil {
		t.Fatalf("create: %v", err)
	}
	if u.ID == "" || !u.CreatedAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("created upload = %+v", u)
	}
	got, err := env.Store.FindUpload(ctx, org.ID, u.ID)
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Fatalf("FindUpload = %+v, %v; want %+v", got, err, u)
	}
	rec := &winnow.Upload{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Item: winnow.PromptItem(1), Name: "answer-2.webm",
		ContentType: "video/webm", Size: 99, Path: org.ID + "/" + a.ID + "/rec0001", DurationMs: 83250}
	if err := env.Store.CreateUpload(ctx, rec, 0); err != nil {
		t.Fatalf("create recording: %v", err)
	}
	if got, err := env.Store.FindUpload(ctx, org.ID, rec.ID); err != nil || got.DurationMs != 83250 {
		t.Fatalf("FindUpload of a recording = %+v, %v; want its measured duration 83250 ms", got, err)
	}
	v := mustUpload(t, env, a, winnow.PromptItem(0))
	if v.ID == u.ID {
		t.Fatal("two uploads got the same ID")
	}

	again := *u
	again.ID = ""
	wantCode(t, env.Store.CreateUpload(ctx, &again, 0), winnow.ECONFLICT) // the same file twice
	if again.ID != "" {
		t.Fatal("a rejected upload got an ID")
	}
	_, err = env.Store.FindUpload(ctx, org.ID, "nope")
	wantCode(t, err, winnow.ENOTFOUND)
	if n := count(t, env, "uploads", "org_id = $1", org.ID); n != 3 {
		t.Fatalf("uploads = %d, want 3", n)
	}
}

func testUploadValidation(t *testing.T, env *testEnv) {
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, org, nil))
	valid := func() *winnow.Upload {
		return &winnow.Upload{OrgID: org.ID, ApplicantID: a.ID, StepID: "s2", Item: "homework", Name: "a.pdf",
			ContentType: "application/pdf", Size: 10, Path: "o/a/" + randomHex(4)}
	}
	tests := []struct {
		name string
		edit func(*winnow.Upload)
		code string
	}{
		{"no step", func(u *winnow.Upload) { u.StepID = "" }, winnow.EINVALID},
		{"no item", func(u *winnow.Upload) { u.Item = "" }, winnow.EINVALID},
		{"no content type", func(u *winnow.Upload) { u.ContentType = "" }, winnow.EINVALID},
		{"negative size", func(u *winnow.Upload) { u.Size = -1 }, winnow.EINVALID},
		{"no path", func(u *winnow.Upload) { u.Path = "" }, winnow.EINVALID},
		{"absolute path", func(u *winnow.Upload) { u.Path = "/etc/passwd" }, winnow.EINVALID},
		{"climbing path", func(u *winnow.Upload) { u.Path = "../winnow.db" }, winnow.EINVALID},
		{"climbing inside", func(u *winnow.Upload) { u.Path = "o/../../x" }, winnow.EINVALID},
		{"unclean path", func(u *winnow.Upload) { u.Path = "o//a/./x" }, winnow.EINVALID},
		{"backslash path", func(u *winnow.Upload) { u.Path = `o\..\x` }, winnow.EINVALID},
		{"unknown applicant", func(u *winnow.Upload) { u.ApplicantID = "nope" }, winnow.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := valid()
			tt.edit(u)
			wantCode(t, env.Store.CreateUpload(ctx, u, 0), tt.code)
		})
	}
	if n := count(t, env, "uploads", "org_id = $1", org.ID); n != 0 {
		t.Fatalf("uploads = %d, want none", n)
	}
}

// testAnswerIsolation checks that one org can neither read nor write another org's
// answers and uploads, and that trying changes nothing on either side.
func testAnswerIsolation(t *testing.T, env *testEnv) {
	ctx := t.Context()
	orgA, orgB := mustOrg(t, env), mustOrg(t, env)
	a := mustStarted(t, env, mustFunnel(t, env, orgA, nil))
	b := mustStarted(t, env, mustFunnel(t, env, orgB, nil))
	for _, x := range []*winnow.Applicant{a, b} {
		if _, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: x.OrgID, ApplicantID: x.ID, StepID: "s1",
			Questions: map[string][]string{"q1": {"yes"}}}); err != nil {
			t.Fatal(err)
		}
	}
	uploadA, uploadB := mustUpload(t, env, a, "homework"), mustUpload(t, env, b, "homework")
	beforeA, beforeB := mustAnswers(t, env, orgA.ID, a.ID), mustAnswers(t, env, orgB.ID, b.ID)

	notFound := []struct {
		name string
		run  func() error
	}{
		{"SaveStepAnswer for their applicant", func() error {
			_, err := env.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: orgA.ID, ApplicantID: b.ID, StepID: "s1",
				Questions: map[string][]string{"q1": {"no"}}})
			return err
		}},
		{"CreateUpload for their applicant", func() error {
			return env.Store.CreateUpload(ctx, &winnow.Upload{OrgID: orgA.ID, ApplicantID: b.ID, StepID: "s2", Item: "homework",
				ContentType: "text/plain", Size: 1, Path: "x/" + randomHex(4)}, 0)
		}},
		{"FindUpload of theirs", func() error { _, err := env.Store.FindUpload(ctx, orgA.ID, uploadB.ID); return err }},
		{"FindUpload of ours under their org", func() error { _, err := env.Store.FindUpload(ctx, orgB.ID, uploadA.ID); return err }},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}
	if list, err := env.Store.ListStepAnswers(ctx, orgA.ID, b.ID); err != nil || list != nil {
		t.Fatalf("ListStepAnswers across orgs = %+v, %v; want none", list, err)
	}
	if got := mustAnswers(t, env, orgA.ID, a.ID); !reflect.DeepEqual(got, beforeA) {
		t.Fatalf("org A's answers changed: %+v", got)
	}
	if got := mustAnswers(t, env, orgB.ID, b.ID); !reflect.DeepEqual(got, beforeB) {
		t.Fatalf("org B's answers changed: %+v", got)
	}
	if n := count(t, env, "uploads", "org_id = $1 OR org_id = $2", orgA.ID, orgB.ID); n != 2 {
		t.Fatalf("uploads = %d, want 2", n)
	}
}
