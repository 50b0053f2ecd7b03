package sqlstore_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow"
)

// fullFunnel returns a funnel using every field, every step kind and a cadence with
// durations that are not whole seconds.
func fullFunnel(org *winnow.Org, team ...string) *winnow.Funnel {
	minYears, maxYears := 2.5, 40.0
	return &winnow.Funnel{
		OrgID: org.ID, Title: "Backend Engineer", Description: "Go, SQL and \"quotes\" ünïcødé\nsecond line",
		Status: winnow.FunnelOpen, LeverPostingID: "posting-1", QualifiedStageID: "stage-9", Team: team,
		Cadence: winnow.Cadence{Reminders: []time.Duration{90 * time.Minute, 49*time.Hour + 1}, OptOutAfter: 400*time.Hour + time.Millisecond},
		Steps: []winnow.Step{
			{ID: "s1", Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{
				{ID: "q1", Text: "Work permit?", Type: winnow.QuestionYesNo, Required: true,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "No permit"}},
				{ID: "q2", Text: "Years of Go?", Type: winnow.QuestionNumber,
					Knockout: &winnow.Knockout{Min: &minYears, Max: &maxYears, Reason: "Experience"}},
				{ID: "q3", Text: "Where?", Type: winnow.QuestionMultipleChoice, Choices: []string{"Berlin", "Remote", "Paris"},
					Knockout: &winnow.Knockout{Allowed: []string{"Berlin", "Remote"}, Reason: "Location"}},
				{ID: "q4", Text: "Anything else?", Type: winnow.QuestionLongText},
			}},
			{ID: "s2", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Build a queue.", AcceptText: true,
				AcceptFile: true, MaxFileBytes: 10 << 20, FileTypes: []string{".pdf", ".zip"}}},
			{ID: "s3", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Hello?", "Why us?"}, MaxSeconds: 120}},
		},
	}
}

func testFunnelRoundTrip(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	u1, u2 := mustUser(t, env, org, winnow.RoleLimited), mustUser(t, env, org, winnow.RoleMember)
	f := fullFunnel(org, u2.ID, u1.ID, u2.ID) // the repeat is dropped, order kept
	if err := env.Store.CreateFunnel(ctx, f); err != nil {
		t.Fatalf("create: %v", err)
	}
	if !reflect.DeepEqual(f.Team, []string{u2.ID, u1.ID}) {
		t.Fatalf("team = %v, want [u2 u1]", f.Team)
	}
	if f.ID == "" || !f.CreatedAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) || !f.UpdatedAt.Equal(f.CreatedAt) {
		t.Fatalf("created funnel = %+v", f)
	}
	got, err := env.Store.FindFunnelByID(ctx, org.ID, f.ID)
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, f)
	}

	// A minimal funnel gets the default cadence and reads back with nil steps and team.
	min := &winnow.Funnel{OrgID: org.ID, Title: "Draft"}
	if err := env.Store.CreateFunnel(ctx, min); err != nil {
		t.Fatalf("create minimal: %v", err)
	}
	got, err = env.Store.FindFunnelByID(ctx, org.ID, min.ID)
	if err != nil || !reflect.DeepEqual(got, min) || got.Status != winnow.FunnelDraft ||
		!reflect.DeepEqual(got.Cadence, winnow.DefaultCadence()) {
		t.Fatalf("minimal round trip = %+v, %v; want %+v", got, err, min)
	}
	_, err = env.Store.FindFunnelByID(ctx, org.ID, "nope")
	wantCode(t, err, winnow.ENOTFOUND)
}

func testFunnelUpdate(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	u1, u2 := mustUser(t, env, org, winnow.RoleLimited), mustUser(t, env, org, winnow.RoleLimited)
	f := fullFunnel(org, u1.ID)
	if err := env.Store.CreateFunnel(ctx, f); err != nil {
		t.Fatalf("create: %v", err)
	}
	created := f.CreatedAt
	later := env.Clock.Advance(time.Hour)

	f.Title, f.Status, f.Team = "Senior Backend Engineer", winnow.FunnelClosed, []string{u2.ID, u1.ID}
	f.Steps = f.Steps[:1]
	f.Cadence = winnow.Cadence{OptOutAfter: 24 * time.Hour}
	f.CreatedAt = time.Time{}
	if err := env.Store.UpdateFunnel(ctx, f); err != nil {
		t.Fatalf("update: %v", err)
	}
	if !f.CreatedAt.Equal(created) || !f.UpdatedAt.Equal(later.Truncate(time.Microsecond)) {
		t.Fatalf("after update CreatedAt %v UpdatedAt %v; want %v and %v", f.CreatedAt, f.UpdatedAt, created, later)
	}
	got, err := env.Store.FindFunnelByID(ctx, org.ID, f.ID)
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("after update found %+v, %v; want %+v", got, err, f)
	}

	tests := []struct {
		name string
		edit func(*winnow.Funnel)
		code string
	}{
		{"unknown id", func(f *winnow.Funnel) { f.ID = "nope" }, winnow.ENOTFOUND},
		{"empty title", func(f *winnow.Funnel) { f.Title = "" }, winnow.EINVALID},
		{"bad step", func(f *winnow.Funnel) { f.Steps = []winnow.Step{{Kind: "quiz"}} }, winnow.EINVALID},
		{"team member unknown", func(f *winnow.Funnel) { f.Team = []string{u1.ID, "nope"} }, winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := *got
			changed.Title = "Changed"
			tt.edit(&changed)
			wantCode(t, env.Store.UpdateFunnel(ctx, &changed), tt.code)
			after, err := env.Store.FindFunnelByID(ctx, org.ID, f.ID)
			if err != nil || !reflect.DeepEqual(after, got) {
				t.Fatalf("a failed update changed the funnel: %+v, %v", after, err)
			}
		})
	}
}

func testFunnelValidation(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	other := mustOrg(t, env)
	stranger := mustUser(t, env, other, winnow.RoleMember)
	tests := []struct {
		name string
		edit func(*winnow.Funnel)
		code string
	}{
		{"no title", func(f *winnow.Funnel) { f.Title = " " }, winnow.EINVALID},
		{"long title", func(f *winnow.Funnel) { f.Title = strings.Repeat("t", 201) }, winnow.EINVALID},
		{"bad status", func(f *winnow.Funnel) { f.Status = "paused" }, winnow.EINVALID},
		{"reminder after opt-out", func(f *winnow.Funnel) { f.Cadence.Reminders = []time.Duration{500 * time.Hour} }, winnow.EINVALID},
		{"homework without instructions", func(f *winnow.Funnel) { f.Steps[1].Homework.Instructions = "" }, winnow.EINVALID},
		{"knockout outside choices", func(f *winnow.Funnel) { f.Steps[0].Questions[2].Knockout.Allowed = []string{"Mars"} }, winnow.EINVALID},
		{"no org", func(f *winnow.Funnel) { f.OrgID = "" }, winnow.EINVALID},
		{"unknown org", func(f *winnow.Funnel) { f.OrgID = "nope" }, winnow.ENOTFOUND},
		{"team member of another org", func(f *winnow.Funnel) { f.Team = []string{stranger.ID} }, winnow.EINVALID},
		{"team member unknown", func(f *winnow.Funnel) { f.Team = []string{"nope"} }, winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fullFunnel(org)
			tt.edit(f)
			wantCode(t, env.Store.CreateFunnel(t.Context(), f), tt.code)
			if f.ID != "" {
				t.Fatal("a rejected funnel got an ID")
			}
		})
	}
	if n, m := count(t, env, "funnels", ""), count(t, env, "funnel_team", ""); n != 0 || m != 0 {
		t.Fatalf("funnels = %d, team rows = %d; want none", n, m)
	}
}

func testListFunnels(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org, other := mustOrg(t, env), mustOrg(t, env)
	admin := mustUser(t, env, org, winnow.RoleAdmin)
	member := mustUser(t, env, org, winnow.RoleMember)
	onTeam := mustUser(t, env, org, winnow.RoleLimited)
	offTeam := mustUser(t, env, org, winnow.RoleLimited)
	outsider := mustUser(t, env, other, winnow.RoleAdmin)

	open1 := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Team = []string{onTeam.ID} })
	env.Clock.Advance(time.Second)
	draft := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Status = winnow.FunnelDraft })
	env.Clock.Advance(time.Second)
	open2 := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Team = []string{member.ID, onTeam.ID} })
	mustFunnel(t, env, other, func(f *winnow.Funnel) { f.Team = []string{outsider.ID} })

	tests := []struct {
		name   string
		filter winnow.FunnelFilter
		want   []*winnow.Funnel
	}{
		{"all, newest first", winnow.FunnelFilter{}, []*winnow.Funnel{open2, draft, open1}},
		{"open only", winnow.FunnelFilter{Status: winnow.FunnelOpen}, []*winnow.Funnel{open2, open1}},
		{"closed only", winnow.FunnelFilter{Status: winnow.FunnelClosed}, nil},
		{"admin sees all", winnow.FunnelFilter{VisibleTo: admin}, []*winnow.Funnel{open2, draft, open1}},
		{"member sees all", winnow.FunnelFilter{VisibleTo: member}, []*winnow.Funnel{open2, draft, open1}},
		{"limited member on two teams", winnow.FunnelFilter{VisibleTo: onTeam}, []*winnow.Funnel{open2, open1}},
		{"limited member on two teams, drafts", winnow.FunnelFilter{VisibleTo: onTeam, Status: winnow.FunnelDraft}, nil},
		{"limited member on no team", winnow.FunnelFilter{VisibleTo: offTeam}, nil},
		{"user of another org", winnow.FunnelFilter{VisibleTo: outsider}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.ListFunnels(ctx, org.ID, tt.filter)
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ListFunnels = %v, want %v", titles(got), titles(tt.want))
			}
			for _, f := range got {
				if tt.filter.VisibleTo != nil && !f.VisibleTo(tt.filter.VisibleTo) {
					t.Fatalf("listed %q, which the domain says %s may not see", f.Title, tt.filter.VisibleTo.Role)
				}
			}
		})
	}
}

func titles(fs []*winnow.Funnel) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Title+"/"+string(f.Status))
	}
	return out
}
