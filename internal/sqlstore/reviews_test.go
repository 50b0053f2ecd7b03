package sqlstore_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/sqlstore"
)

// TestStoreReviewsTokens runs the conformance tests of reviews, API tokens and the
// review mode of jobs on SQLite always and on PostgreSQL when WINNOW_TEST_POSTGRES_URL
// is set, with subtests named for the engine like TestStore's.
func TestStoreReviewsTokens(t *testing.T) {
	runSuite(t, []suiteCase{
		{"FunnelOpenReview", testFunnelOpenReview},
		{"Reviews", testReviews},
		{"ReviewRules", testReviewRules},
		{"APITokens", testAPITokens},
		{"ReviewTokenIsolation", testReviewTokenIsolation},
	})
}

// mustSubmitted returns a new applicant of f moved to submitted through the domain's
// transitions.
func mustSubmitted(t *testing.T, env *testEnv, f *winnow.Funnel) *winnow.Applicant {
	t.Helper()
	a := mustApplicant(t, env, f, "")
	for _, step := range []func(*winnow.Applicant) (winnow.Event, error){
		func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) },
		func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(env.Clock.Now()) },
	} {
		var err error
		if a, err = env.Store.TransitionApplicant(t.Context(), a.OrgID, a.ID, step); err != nil {
			t.Fatalf("move applicant on: %v", err)
		}
	}
	return a
}

func testFunnelOpenReview(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	blind := mustFunnel(t, env, org, nil)
	open := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.OpenReview = true })
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"blind by default", blind.ID, false},
		{"open when asked", open.ID, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.FindFunnelByID(ctx, org.ID, tt.id)
			if err != nil || got.OpenReview != tt.want {
				t.Fatalf("OpenReview = %v, %v; want %v", got.OpenReview, err, tt.want)
			}
		})
	}
	open.OpenReview, blind.OpenReview = false, true
	for _, f := range []*winnow.Funnel{open, blind} {
		if err := env.Store.UpdateFunnel(ctx, f); err != nil {
			t.Fatalf("update: %v", err)
		}
		got, err := env.Store.FindFunnelByID(ctx, org.ID, f.ID)
		if err != nil || !reflect.DeepEqual(got, f) {
			t.Fatalf("after update found %+v, %v; want %+v", got, err, f)
		}
	}
	list, err := env.Store.ListFunnels(ctx, org.ID, winnow.FunnelFilter{})
	if err != nil || len(list) != 2 || list[0].OpenReview || !list[1].OpenReview {
		t.Fatalf("listed %+v, %v; want open review only on the first job created", list, err)
	}
}

func testReviews(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	ada, bob := mustUser(t, env, org, winnow.RoleMember), mustUser(t, env, org, winnow.RoleLimited)
	f := mustFunnel(t, env, org, nil)
	a := mustSubmitted(t, env, f)

	if got, err := env.Store.ListReviews(ctx, org.ID, a.ID); err != nil || len(got) != 0 {
		t.Fatalf("no reviews yet: %+v, %v", got, err)
	}
	first := &winnow.Review{OrgID: org.ID, ApplicantID: a.ID, ReviewerID: ada.ID, Score: 3, Comment: "  Solid homework.  "}
	if err := env.Store.SaveReview(ctx, first); err != nil {
		t.Fatalf("save: %v", err)
	}
	now := env.Clock.Now().Truncate(time.Microsecond)
	if first.ID == "" || first.Comment != "Solid homework." || !first.CreatedAt.Equal(now) || !first.UpdatedAt.Equal(now) {
		t.Fatalf("saved review = %+v", first)
	}
	env.Clock.Advance(time.Minute)
	second := &winnow.Review{OrgID: org.ID, ApplicantID: a.ID, ReviewerID: bob.ID, Score: 1, Comment: "Missed the brief."}
	if err := env.Store.SaveReview(ctx, second); err != nil {
		t.Fatalf("save second: %v", err)
	}

	// Saving again replaces the reviewer's review and keeps its ID and creation time.
	later := env.Clock.Advance(time.Hour).Truncate(time.Microsecond)
	again := &winnow.Review{OrgID: org.ID, ApplicantID: a.ID, ReviewerID: ada.ID, Score: 4, Comment: "On reflection, excellent."}
	if err := env.Store.SaveReview(ctx, again); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || !again.UpdatedAt.Equal(later) {
		t.Fatalf("replaced review = %+v, want ID %s created %v updated %v", again, first.ID, first.CreatedAt, later)
	}
	got, err := env.Store.ListReviews(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !reflect.DeepEqual(got, []*winnow.Review{again, second}) {
		t.Fatalf("list = %+v\nwant %+v and %+v", got, again, second)
	}
	if n := count(t, env, "reviews", "org_id = $1 AND applicant_id = $2", org.ID, a.ID); n != 2 {
		t.Fatalf("%d review rows, want 2", n)
	}

	// Every save is on the timeline, after the submission, by its reviewer.
	events, err := env.Store.ListEvents(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	var reviewed []*winnow.Event
	for _, ev := range events {
		if ev.Kind == sqlstore.EventReviewed {
			reviewed = append(reviewed, ev)
		}
	}
	if len(reviewed) != 3 || reviewed[0].ActorID != ada.ID || reviewed[1].ActorID != bob.ID ||
		!strings.Contains(reviewed[0].Message, "Leaning yes") || !strings.HasPrefix(reviewed[2].Message, "Changed review") ||
		!strings.Contains(reviewed[2].Message, "Strong yes") || reviewed[0].From != "" || reviewed[0].To != "" {
		t.Fatalf("review events = %+v", reviewed)
	}
	// A review changes no status.
	if after, err := env.Store.FindApplicantByID(ctx, org.ID, a.ID); err != nil || after.Status != winnow.StatusSubmitted {
		t.Fatalf("after reviews the applicant is %+v, %v", after, err)
	}
}

func testReviewRules(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	other := mustOrg(t, env)
	reviewer := mustUser(t, env, org, winnow.RoleMember)
	stranger := mustUser(t, env, other, winnow.RoleAdmin)
	f := mustFunnel(t, env, org, nil)
	submitted := mustSubmitted(t, env, f)
	invited := mustApplicant(t, env, f, "")
	decided := mustSubmitted(t, env, f)
	_, err := env.Store.TransitionApplicant(ctx, org.ID, decided.ID, func(a *winnow.Applicant) (winnow.Event, error) {
		return a.Qualify(env.Clock.Now(), reviewer.ID)
	})
	if err != nil {
		t.Fatalf("qualify: %v", err)
	}
	review := func(edit func(*winnow.Review)) *winnow.Review {
		r := &winnow.Review{OrgID: org.ID, ApplicantID: submitted.ID, ReviewerID: reviewer.ID, Score: 2}
		edit(r)
		return r
	}
	tests := []struct {
		name string
		r    *winnow.Review
		code string
	}{
		{"score zero", review(func(r *winnow.Review) { r.Score = 0 }), winnow.EINVALID},
		{"score five", review(func(r *winnow.Review) { r.Score = 5 }), winnow.EINVALID},
		{"long comment", review(func(r *winnow.Review) { r.Comment = strings.Repeat("x", 10001) }), winnow.EINVALID},
		{"no reviewer", review(func(r *winnow.Review) { r.ReviewerID = "" }), winnow.EINVALID},
		{"unknown reviewer", review(func(r *winnow.Review) { r.ReviewerID = "nope" }), winnow.EINVALID},
		{"reviewer of another org", review(func(r *winnow.Review) { r.ReviewerID = stranger.ID }), winnow.EINVALID},
		{"unknown applicant", review(func(r *winnow.Review) { r.ApplicantID = "nope" }), winnow.ENOTFOUND},
		{"applicant not submitted", review(func(r *winnow.Review) { r.ApplicantID = invited.ID }), winnow.ECONFLICT},
		{"applicant already decided", review(func(r *winnow.Review) { r.ApplicantID = decided.ID }), winnow.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, env.Store.SaveReview(ctx, tt.r), tt.code)
		})
	}
	if n := count(t, env, "reviews", ""); n != 0 {
		t.Fatalf("%d reviews stored by failed saves", n)
	}
	if n := count(t, env, "applicant_events", "kind = $1", string(sqlstore.EventReviewed)); n != 0 {
		t.Fatalf("%d review events recorded by failed saves", n)
	}
	_, err = env.Store.ListReviews(ctx, org.ID, "nope")
	wantCode(t, err, winnow.ENOTFOUND)
}

func testAPITokens(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	admin := mustUser(t, env, org, winnow.RoleAdmin)

	cli := &winnow.APIToken{OrgID: org.ID, Name: " CI pipeline ", TokenHash: randomHex(16)}
	if err := env.Store.CreateAPIToken(ctx, cli); err != nil {
		t.Fatalf("create: %v", err)
	}
	if cli.ID == "" || cli.Name != "CI pipeline" || !cli.CreatedAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("created token = %+v", cli)
	}
	env.Clock.Advance(time.Minute)
	web := &winnow.APIToken{OrgID: org.ID, Name: "ATS sync", TokenHash: randomHex(16), CreatedBy: admin.ID}
	if err := env.Store.CreateAPIToken(ctx, web); err != nil {
		t.Fatalf("create second: %v", err)
	}

	got, err := env.Store.FindAPITokenByHash(ctx, cli.TokenHash)
	if err != nil || !reflect.DeepEqual(got, cli) {
		t.Fatalf("find = %+v, %v; want %+v", got, err, cli)
	}
	used := env.Clock.Advance(time.Minute)
	if err := env.Store.TouchAPIToken(ctx, org.ID, cli.ID, used); err != nil {
		t.Fatalf("touch: %v", err)
	}
	if got, err = env.Store.FindAPITokenByHash(ctx, cli.TokenHash); err != nil || got.LastUsedAt == nil ||
		!got.LastUsedAt.Equal(used.Truncate(time.Microsecond)) {
		t.Fatalf("after touch = %+v, %v", got, err)
	}

	revoked := env.Clock.Advance(time.Minute)
	if err := env.Store.RevokeAPIToken(ctx, org.ID, cli.ID, revoked); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := env.Store.RevokeAPIToken(ctx, org.ID, cli.ID, revoked.Add(time.Hour)); err != nil {
		t.Fatalf("revoke twice: %v", err)
	}
	_, err = env.Store.FindAPITokenByHash(ctx, cli.TokenHash)
	wantCode(t, err, winnow.ENOTFOUND)

	list, err := env.Store.ListAPITokens(ctx, org.ID)
	if err != nil || len(list) != 2 || list[0].ID != web.ID || list[1].ID != cli.ID {
		t.Fatalf("list = %+v, %v; want newest first", list, err)
	}
	if list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(revoked.Truncate(time.Microsecond)) || list[0].RevokedAt != nil ||
		list[0].CreatedBy != admin.ID {
		t.Fatalf("listed tokens = %+v %+v; want the first revocation time kept", list[0], list[1])
	}

	tests := []struct {
		name string
		tok  *winnow.APIToken
		code string
	}{
		{"no name", &winnow.APIToken{OrgID: org.ID, Name: "  ", TokenHash: randomHex(16)}, winnow.EINVALID},
		{"long name", &winnow.APIToken{OrgID: org.ID, Name: strings.Repeat("n", 101), TokenHash: randomHex(16)}, winnow.EINVALID},
		{"no hash", &winnow.APIToken{OrgID: org.ID, Name: "x"}, winnow.EINVALID},
		{"no org", &winnow.APIToken{Name: "x", TokenHash: randomHex(16)}, winnow.EINVALID},
		{"unknown org", &winnow.APIToken{OrgID: "nope", Name: "x", TokenHash: randomHex(16)}, winnow.ENOTFOUND},
		{"hash in use", &winnow.APIToken{OrgID: org.ID, Name: "x", TokenHash: web.TokenHash}, winnow.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, env.Store.CreateAPIToken(ctx, tt.tok), tt.code) })
	}
	if n := count(t, env, "api_tokens", ""); n != 2 {
		t.Fatalf("%d tokens after failed creates, want 2", n)
	}
	wantCode(t, env.Store.RevokeAPIToken(ctx, org.ID, "nope", revoked), winnow.ENOTFOUND)
	wantCode(t, env.Store.TouchAPIToken(ctx, org.ID, "nope", revoked), winnow.ENOTFOUND)
}

func testReviewTokenIsolation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	a, b := mustTenant(t, env), mustTenant(t, env)
	bSubmitted := mustSubmitted(t, env, b.funnel)
	bReview := &winnow.Review{OrgID: b.org.ID, ApplicantID: bSubmitted.ID, ReviewerID: b.limited.ID, Score: 4}
	if err := env.Store.SaveReview(ctx, bReview); err != nil {
		t.Fatalf("save: %v", err)
	}
	bToken := &winnow.APIToken{OrgID: b.org.ID, Name: "B's", TokenHash: randomHex(16), CreatedBy: b.admin.ID}
	if err := env.Store.CreateAPIToken(ctx, bToken); err != nil {
		t.Fatalf("create token: %v", err)
	}
	later := env.Clock.Advance(time.Hour)

	notFound := []struct {
		name string
		run  func() error
	}{
		{"SaveReview of their applicant", func() error {
			return env.Store.SaveReview(ctx, &winnow.Review{OrgID: a.org.ID, ApplicantID: bSubmitted.ID, ReviewerID: a.admin.ID, Score: 1})
		}},
		{"ListReviews of their applicant", func() error { _, err := env.Store.ListReviews(ctx, a.org.ID, bSubmitted.ID); return err }},
		{"RevokeAPIToken of theirs", func() error { return env.Store.RevokeAPIToken(ctx, a.org.ID, bToken.ID, later) }},
		{"TouchAPIToken of theirs", func() error { return env.Store.TouchAPIToken(ctx, a.org.ID, bToken.ID, later) }},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}
	t.Run("SaveReview by their reviewer", func(t *testing.T) {
		aSubmitted := mustSubmitted(t, env, a.funnel)
		err := env.Store.SaveReview(ctx, &winnow.Review{OrgID: a.org.ID, ApplicantID: aSubmitted.ID, ReviewerID: b.admin.ID, Score: 1})
		wantCode(t, err, winnow.EINVALID)
	})
	t.Run("ListAPITokens", func(t *testing.T) {
		if list, err := env.Store.ListAPITokens(ctx, a.org.ID); err != nil || len(list) != 0 {
			t.Fatalf("org A sees tokens %+v, %v", list, err)
		}
	})

	// Org B's review and token are untouched: still there, still usable, never used.
	reviews, err := env.Store.ListReviews(ctx, b.org.ID, bSubmitted.ID)
	if err != nil || !reflect.DeepEqual(reviews, []*winnow.Review{bReview}) {
		t.Fatalf("org B's reviews = %+v, %v", reviews, err)
	}
	tok, err := env.Store.FindAPITokenByHash(ctx, bToken.TokenHash)
	if err != nil || !reflect.DeepEqual(tok, bToken) {
		t.Fatalf("org B's token = %+v, %v; want %+v", tok, err, bToken)
	}
}
