package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestFunnelEditor builds a job with all three step kinds through the editor's plain
// forms, edits every question type and knockout, reorders and removes, checks that
// mistakes come back inline with the domain's words, previews the job, and shows that
// an applicant keeps the steps they were invited to whatever the editor does later.
func TestFunnelEditor(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		limited := MustUser(t, m, "Acme", "limited@acme.test", winnow.RoleLimited)
		b := signedIn(t, m, "admin@acme.test")

		s, _, h := b.post("/jobs", url.Values{"title": {"Platform Engineer"}, "description": {"Keep the lights on."}, "status": {"draft"}})
		if s != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "/edit#add-step") {
			t.Fatalf("create job: %d %s", s, h.Get("Location"))
		}
		id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/jobs/"), "/edit#add-step")
		job := func() *winnow.Funnel {
			t.Helper()
			f, err := m.Store.FindFunnelByID(ctx, admin.OrgID, id)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if f := job(); f.OpenReview || !f.OnTeam(admin.ID) {
			t.Fatalf("new job: open review %v, team %v", f.OpenReview, f.Team)
		}
		if s, body := b.get("/jobs/" + id + "/edit"); s != 200 || !strings.Contains(body, "Add a step") || !has(t, body, `input[value="blind"][checked]`) {
			t.Fatalf("editor: %d\n%s", s, body)
		}

		// A job without steps stays a draft: opened, every candidate would qualify at once.
		if s, body, _ := b.post("/jobs/"+id+"/details", url.Values{"title": {"Platform Engineer"}, "status": {"open"}}); s != 422 ||
			!strings.Contains(body, "An open job needs at least one step: add one, or keep the job a draft.") {
			t.Fatalf("open without steps: %d\n%s", s, body)
		}

		// Adding steps: each kind's form, and each kind's mistake shown inline.
		adds := []struct {
			name   string
			form   url.Values
			status int
			want   string
		}{
			{"questions without a question", url.Values{"kind": {"questions"}, "new_text": {" "}, "new_type": {"yes_no"}}, 422, "Question text is required."},
			{"homework without instructions", url.Values{"kind": {"homework"}, "instructions": {""}}, 422, "Homework needs instructions."},
			{"video without a prompt", url.Values{"kind": {"video"}, "prompt": {""}}, 422, "A video interview needs at least one prompt."},
			{"unknown kind", url.Values{"kind": {"quiz"}}, 422, "Unknown step kind"},
			{"questions", url.Values{"kind": {"questions"}, "new_text": {"Can you work in the EU?"}, "new_type": {"yes_no"}}, 303, ""},
			{"homework", url.Values{"kind": {"homework"}, "instructions": {"Design a rate limiter."}}, 303, ""},
			{"video", url.Values{"kind": {"video"}, "prompt": {"Introduce yourself."}}, 303, ""},
		}
		for _, c := range adds {
			s, body, h := b.post("/jobs/"+id+"/steps", c.form)
			if s != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("add %s: %d, want %d with %q\n%s", c.name, s, c.status, c.want, body)
			}
			if s == 303 && !strings.Contains(h.Get("Location"), "#step-") {
				t.Fatalf("add %s: redirected to %s", c.name, h.Get("Location"))
			}
		}
		f := job()
		if len(f.Steps) != 3 || f.Steps[0].Kind != winnow.StepQuestions || f.Steps[1].Kind != winnow.StepHomework || f.Steps[2].Kind != winnow.StepVideo {
			t.Fatalf("steps after adding: %+v", f.Steps)
		}
		qs, hw, vid := f.Steps[0].ID, f.Steps[1].ID, f.Steps[2].ID
		stepURL := func(sid string) string { return "/jobs/" + id + "/steps/" + sid }

		// Every question type, added through the step form's "add a question" row.
		for _, q := range []url.Values{
			{"new_text": {"Where would you work?"}, "new_type": {"single_choice"}, "new_choices": {"Berlin\nRemote\nMars"}},
			{"new_text": {"Which languages?"}, "new_type": {"multiple_choice"}, "new_choices": {"Go\nSQL\nCOBOL"}},
			{"new_text": {"Years of Go?"}, "new_type": {"number"}},
			{"new_text": {"Your GitHub handle"}, "new_type": {"short_text"}},
			{"new_text": {"Tell us a story"}, "new_type": {"long_text"}},
		} {
			f := job()
			form := stepFields(f.Steps[0])
			for k, v := range q {
				form[k] = v
			}
			form.Set("op", "add_question")
			if s, body, h := b.post(stepURL(qs), form); s != 303 || !strings.Contains(h.Get("Location"), "#q-") {
				t.Fatalf("add question %s: %d %s\n%s", q.Get("new_text"), s, h.Get("Location"), body)
			}
		}
		f = job()
		questions := f.Steps[0].Questions
		var types []winnow.QuestionType
		for _, q := range questions {
			types = append(types, q.Type)
		}
		wantTypes := []winnow.QuestionType{"yes_no", "single_choice", "multiple_choice", "number", "short_text", "long_text"}
		if !reflect.DeepEqual(types, wantTypes) || !reflect.DeepEqual(questions[1].Choices, []string{"Berlin", "Remote", "Mars"}) {
			t.Fatalf("questions: %v %+v", types, questions)
		}

		// Knockouts on the four types that allow them, saved in one form.
		form := stepFields(f.Steps[0])
		p := func(i int, field string) string { return "q." + questions[i].ID + "." + field }
		form.Set("title", "Screening")
		form.Set(p(0, "ko"), "on")
		form.Set(p(0, "ko_answer"), "yes")
		form.Set(p(0, "ko_reason"), "Needs an EU work permit")
		form.Set(p(0, "required"), "on")
		form.Set(p(1, "ko"), "on")
		form[p(1, "ko_allowed")] = []string{"Berlin", "Remote"}
		form.Set(p(1, "ko_reason"), "Not on Mars yet")
		form.Set(p(2, "ko"), "on")
		form[p(2, "ko_allowed")] = []string{"Go"}
		form.Set(p(2, "ko_reason"), "Go is a must")
		form.Set(p(3, "ko"), "on")
		form.Set(p(3, "ko_min"), "2.5")
		form.Set(p(3, "ko_reason"), "Needs experience")
		form.Set(p(4, "ko"), "on") // a text question cannot be a knockout: the box is ignored
		form.Set("op", "save")
		if s, body, h := b.post(stepURL(qs), form); s != 303 || !strings.Contains(h.Get("Location"), "saved="+qs) {
			t.Fatalf("save knockouts: %d %s\n%s", s, h.Get("Location"), body)
		}
		f = job()
		questions = f.Steps[0].Questions
		min := 2.5
		wantKO := []*winnow.Knockout{
			{Answer: "yes", Reason: "Needs an EU work permit"},
			{Allowed: []string{"Berlin", "Remote"}, Reason: "Not on Mars yet"},
			{Allowed: []string{"Go"}, Reason: "Go is a must"},
			{Min: &min, Reason: "Needs experience"},
			nil, nil,
		}
		for i, q := range questions {
			if !reflect.DeepEqual(q.Knockout, wantKO[i]) {
				t.Fatalf("question %d knockout = %+v, want %+v", i, q.Knockout, wantKO[i])
			}
		}
		if f.Steps[0].Title != "Screening" || !questions[0].Required {
			t.Fatalf("step 1 = %+v", f.Steps[0])
		}

		// Mistakes come back with the domain's message, the typed values, and no change.
		before := job()
		mistakes := []struct {
			name string
			edit func(url.Values)
			want string
		}{
			{"knockout without reason", func(v url.Values) { v.Set(p(0, "ko_reason"), "") }, "needs a reason; it is recorded on the applicant"},
			{"number knockout without bounds", func(v url.Values) { v.Set(p(3, "ko_min"), "") }, "needs a minimum, a maximum, or both"},
			{"bound that is no number", func(v url.Values) { v.Set(p(3, "ko_max"), "lots") }, "must be a number"},
			{"allowed choice not offered", func(v url.Values) { v.Set(p(1, "choices"), "Berlin\nParis") }, "which is not one of its choices"},
			{"empty question", func(v url.Values) { v.Set(p(5, "text"), "") }, "Step 1, question 6: Question text is required."},
			{"choice twice", func(v url.Values) { v.Set(p(1, "choices"), "Berlin\nRemote\nBerlin ") },
				"Step 1, question 2: Question &#34;Where would you work?&#34; lists the choice &#34;Berlin&#34; twice."},
			{"too many choices", func(v url.Values) { v.Set(p(2, "choices"), "Go\n"+strings.Repeat("x\n", winnow.MaxChoicesPerQuestion)) },
				"Step 1, question 3: Question &#34;Which languages?&#34; may have at most 50 choices."},
			{"unknown editor action", func(v url.Values) { v.Set("op", "explode") }, "Unknown editor action"},
		}
		for _, c := range mistakes {
			v := stepFields(before.Steps[0])
			c.edit(v)
			s, body, _ := b.post(stepURL(qs), v)
			if s != 422 || !strings.Contains(body, c.want) || !strings.Contains(body, `role="alert"`) {
				t.Fatalf("%s: %d, want 422 with %q\n%s", c.name, s, c.want, body)
			}
			if after := job(); !reflect.DeepEqual(after.Steps, before.Steps) {
				t.Fatalf("%s changed the job", c.name)
			}
		}

		// Homework and video settings.
		v := stepFields(f.Steps[1])
		v.Del("accept_text")
		v.Set("accept_file", "on")
		v.Set("file_types", "PDF, .zip docx")
		v.Set("max_mb", "5")
		if s, body, _ := b.post(stepURL(hw), v); s != 303 {
			t.Fatalf("save homework: %d\n%s", s, body)
		}
		v.Set("max_mb", "4096")
		if s, body, _ := b.post(stepURL(hw), v); s != 422 || !strings.Contains(body, "Step 2: Homework file size limit must be at most 2048 MB.") {
			t.Fatalf("homework file limit of 4 GB: %d\n%s", s, body)
		}
		v.Set("max_mb", "5")
		v.Del("accept_file")
		if s, body, _ := b.post(stepURL(hw), v); s != 422 || !strings.Contains(body, "Step 2: Homework must accept a text answer, a file, or both") {
			t.Fatalf("homework accepting nothing: %d", s)
		}
		v = stepFields(f.Steps[2])
		v.Set("prompts", "Introduce yourself.\n\nWhat would you build first?\n")
		v.Set("max_seconds", "90")
		if s, body, _ := b.post(stepURL(vid), v); s != 303 {
			t.Fatalf("save video: %d\n%s", s, body)
		}
		f = job()
		if h := f.Steps[1].Homework; h.AcceptText || !h.AcceptFile || h.MaxFileBytes != 5<<20 || !reflect.DeepEqual(h.FileTypes, []string{".pdf", ".zip", ".docx"}) {
			t.Fatalf("homework = %+v", h)
		}
		if vv := f.Steps[2].Video; vv.MaxSeconds != 90 || !reflect.DeepEqual(vv.Prompts, []string{"Introduce yourself.", "What would you build first?"}) {
			t.Fatalf("video = %+v", vv)
		}

		// Reorder steps and questions with the arrow buttons; edits typed alongside are kept.
		v = stepFields(f.Steps[2])
		v.Set("op", "move_up")
		v.Set("title", "On camera")
		if s, _, h := b.post(stepURL(vid), v); s != 303 || !strings.HasSuffix(h.Get("Location"), "#step-"+vid) {
			t.Fatalf("move video up: %d %s", s, h.Get("Location"))
		}
		v = stepFields(job().Steps[0])
		v.Set("op", "q_down:"+questions[0].ID)
		if s, _, h := b.post(stepURL(qs), v); s != 303 || !strings.HasSuffix(h.Get("Location"), "#q-"+questions[0].ID) {
			t.Fatalf("move question down: %d %s", s, h.Get("Location"))
		}
		v = stepFields(job().Steps[0])
		v.Set("op", "q_remove:"+questions[5].ID)
		if s, _, _ := b.post(stepURL(qs), v); s != 303 {
			t.Fatalf("remove question: %d", s)
		}
		f = job()
		order := []winnow.StepKind{f.Steps[0].Kind, f.Steps[1].Kind, f.Steps[2].Kind}
		if !reflect.DeepEqual(order, []winnow.StepKind{"questions", "video", "homework"}) || f.Steps[1].Title != "On camera" {
			t.Fatalf("step order %v, video title %q", order, f.Steps[1].Title)
		}
		if q := f.Steps[0].Questions; len(q) != 5 || q[0].ID != questions[1].ID || q[1].ID != questions[0].ID {
			t.Fatalf("questions after moves: %+v", q)
		}

		// Preview: the steps as a candidate meets them, with nothing to submit.
		s, body := b.get("/jobs/" + id + "/preview")
		for _, want := range []string{"Preview.", "Can you work in the EU?", "Introduce yourself.", "Design a rate limiter.",
			"PDF, ZIP, DOCX · up to 5 MB", "up to 1 min 30 s", "Step 3 of 3"} {
			if !strings.Contains(body, want) {
				t.Fatalf("preview (%d) lacks %q\n%s", s, want, body)
			}
		}
		doc := mustDoc(t, body)
		for _, sel := range []string{fmt.Sprintf("input[name=%q][value=Mars]", "pv-"+questions[1].ID), `input[type=number]`,
			`input[type=file][accept="video/*"]`, `input[type=file][accept=".pdf,.zip,.docx"]`} {
			if doc.Find(sel).Length() == 0 {
				t.Fatalf("preview (%d) has no %s\n%s", s, sel, body)
			}
		}
		if doc.Find(`main form[method=post], form[action^="/c/"]`).Length() > 0 {
			t.Fatal("the preview posts somewhere")
		}

		// Details: title, open status and open review; a bad title is refused inline.
		if s, body, _ := b.post("/jobs/"+id+"/details", url.Values{"title": {""}, "status": {"open"}}); s != 422 || !strings.Contains(body, "Job title is required.") {
			t.Fatalf("empty title: %d", s)
		}
		if s, _, _ := b.post("/jobs/"+id+"/details", url.Values{"title": {"Platform Engineer"}, "description": {"x"}, "status": {"open"}, "review": {"open"}}); s != 303 {
			t.Fatalf("save details: %d", s)
		}
		if f := job(); f.Status != winnow.FunnelOpen || !f.OpenReview || f.Description != "x" {
			t.Fatalf("details = %+v", f)
		}
		if s, _, _ := b.post("/jobs/"+id+"/team", url.Values{"team": {admin.ID, limited.ID}}); s != 303 {
			t.Fatalf("team: %d", s)
		}

		// An applicant keeps the steps they were invited to, whatever happens later.
		if s, body, _ := b.post("/jobs/"+id+"/applicants", url.Values{"name": {"Ada"}, "email": {"ada@example.com"}}); s != 200 || !strings.Contains(body, "/c/") {
			t.Fatalf("invite: %d\n%s", s, body)
		}
		apps, _ := m.Store.ListApplicants(ctx, admin.OrgID, winnow.ApplicantFilter{FunnelID: id})
		invitedWith := job().Steps
		v = stepFields(invitedWith[0])
		v.Set(p(1, "text"), "Where, really?")
		if s, _, _ := b.post(stepURL(qs), v); s != 303 {
			t.Fatalf("edit after invitation: %d", s)
		}
		if s, _, _ := b.post(stepURL(hw), url.Values{"op": {"remove"}}); s != 303 {
			t.Fatalf("remove homework: %d", s)
		}
		if got := job(); len(got.Steps) != 2 || got.Steps[0].Questions[0].Text != "Where, really?" {
			t.Fatalf("job after edits: %+v", got.Steps)
		}
		a, err := m.Store.FindApplicantByID(ctx, admin.OrgID, apps[0].ID)
		if err != nil || !reflect.DeepEqual(a.Steps, invitedWith) {
			t.Fatalf("the applicant's steps changed with the job:\n got %+v\nwant %+v", a.Steps, invitedWith)
		}

		// A limited member on the team may preview but not edit.
		lb := signedIn(t, m, "limited@acme.test")
		if s, _ := lb.get("/jobs/" + id + "/preview"); s != 200 {
			t.Fatalf("limited preview: %d", s)
		}
		if s, _, _ := lb.post(stepURL(qs), url.Values{"op": {"remove"}}); s != 403 {
			t.Fatalf("limited edits a step: %d", s)
		}
		if len(job().Steps) != 2 {
			t.Fatal("a limited member changed the job")
		}

		// The last step of an open job stays.
		if s, _, _ := b.post(stepURL(vid), url.Values{"op": {"remove"}}); s != 303 {
			t.Fatalf("remove video: %d", s)
		}
		if s, body, _ := b.post(stepURL(qs), url.Values{"op": {"remove"}}); s != 422 || !strings.Contains(body, "An open job needs at least one step") {
			t.Fatalf("remove the last step of an open job: %d\n%s", s, body)
		}
		if len(job().Steps) != 1 {
			t.Fatal("the last step of an open job was removed")
		}
	})
}

// stepFields returns the form the editor shows for s, as a browser would post it.
func stepFields(s winnow.Step) url.Values {
	v := url.Values{"title": {s.Title}, "op": {"save"}}
	for _, q := range s.Questions {
		p := "q." + q.ID + "."
		v.Set(p+"text", q.Text)
		v.Set(p+"type", string(q.Type))
		v.Set(p+"choices", strings.Join(q.Choices, "\n"))
		if q.Required {
			v.Set(p+"required", "on")
		}
		if k := q.Knockout; k != nil {
			v.Set(p+"ko", "on")
			v.Set(p+"ko_answer", k.Answer)
			v[p+"ko_allowed"] = k.Allowed
			if k.Min != nil {
				v.Set(p+"ko_min", fmtFloat(*k.Min))
			}
			if k.Max != nil {
				v.Set(p+"ko_max", fmtFloat(*k.Max))
			}
			v.Set(p+"ko_reason", k.Reason)
		}
	}
	if h := s.Homework; h != nil {
		v.Set("instructions", h.Instructions)
		if h.AcceptText {
			v.Set("accept_text", "on")
		}
		if h.AcceptFile {
			v.Set("accept_file", "on")
		}
		v.Set("file_types", strings.Join(h.FileTypes, ", "))
		if h.MaxFileBytes > 0 {
			v.Set("max_mb", fmtFloat(float64(h.MaxFileBytes)/(1<<20)))
		}
	}
	if vid := s.Video; vid != nil {
		v.Set("prompts", strings.Join(vid.Prompts, "\n"))
		v.Set("max_seconds", fmtFloat(float64(vid.MaxSeconds)))
	}
	return v
}

// fmtFloat writes f as the editor shows numbers: no trailing zeros.
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
