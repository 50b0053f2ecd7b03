package candidate_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestWalkthrough walks a candidate through every kind of step with plain form posts,
// checking the status, the timeline and what is stored at each step, then replays the
// submission.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions, stepHomework, stepVideo)
		c := "/c/" + a.Token

		// Landing: company, job, steps and an honest estimate; nothing changes yet.
		wantPage(t, e.get(c), http.StatusOK, "", e.org.Name, "Backend Engineer", "Build the queue.", "About you",
			"6 questions", "Homework", "Video interview", "2 questions to answer on camera, up to 90 seconds each",
			"Time needed:</strong> about 14 minutes, plus the time the homework takes you", `action="`+c+`/start"`,
			"I'm no longer interested")
		if got := e.applicant(a); got.Status != winnow.StatusInvited {
			t.Fatalf("after landing: %s", got.Status)
		}

		// Start: in progress, to the first step.
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
		if got := e.applicant(a); got.Status != winnow.StatusInProgress || got.StartedAt == nil {
			t.Fatalf("after start: %+v", got)
		}
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted)
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1") // a double click resumes
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted)

		// Questions: the form is labelled; mistakes come back with what was entered.
		r := e.get(c + "/steps/s1")
		wantPage(t, r, http.StatusOK, "", "Step 1 of 3")
		wantElements(t, r, `fieldset legend:contains("Are you allowed to work in the EU?")`, `label[for=a-q5]:contains("Your GitHub handle")`,
			`input#a-q5`, `input[name=a-q4][value=French][type=checkbox]`)
		bad := goodAnswers()
		bad.Del("a-q2")
		bad.Set("a-q3", "four")
		wantPage(t, e.post(c+"/steps/s1", bad), http.StatusUnprocessableEntity, "", `role="alert"`,
			"Please answer &#34;Where would you work?&#34;", "Please enter a number for &#34;Years of Go?&#34;",
			`value="ada"`, `aria-invalid="true"`)
		if len(e.answers(a)) != 0 {
			t.Fatal("a form with mistakes was stored")
		}
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/steps/s2")
		got := e.answers(a)["s1"]
		want := map[string][]string{"q1": {"yes"}, "q2": {"Remote"}, "q3": {"4"}, "q4": {"English", "German"},
			"q5": {"ada"}, "q6": {"Line one\nline two"}}
		if got == nil || got.CompletedAt == nil || !reflect.DeepEqual(got.Questions, want) {
			t.Fatalf("stored questions = %+v", got)
		}

		// The same link resumes at the first step not done.
		wantPage(t, e.get(c), http.StatusSeeOther, c+"/steps/s2")

		// Homework: text and a file, streamed to disk and recorded.
		wantPage(t, e.get(c+"/steps/s2"), http.StatusOK, "", "Step 2 of 3", "Write a small queue in Go.",
			`enctype="multipart/form-data"`, `accept=".pdf,.txt"`, "PDF or TXT, up to 64 KB")
		wantPage(t, e.postMultipart(c+"/steps/s2", nil), http.StatusUnprocessableEntity, "",
			"Please write your answer or choose a file to hand in.")
		pdf := pdfHead + strings.Repeat("x", 2000)
		wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"See the attached PDF."}},
			file{"homework", "Lösung.pdf", strings.NewReader(pdf)}), http.StatusSeeOther, c+"/steps/s3")
		hw := e.answers(a)["s2"]
		if hw == nil || hw.CompletedAt == nil || hw.Text != "See the attached PDF." || hw.Files["homework"] == "" {
			t.Fatalf("stored homework = %+v", hw)
		}
		wantUpload(t, e, a, hw.Files["homework"], "Lösung.pdf", "application/pdf", pdf)

		// Video: one answer saved by the recorder's script, the other from the plain form.
		wantPage(t, e.get(c+"/steps/s3"), http.StatusOK, "", "Step 3 of 3", "Tell us about yourself.",
			`accept="video/*" capture="user"`, "/static/candidate-video.js", "up to 90 seconds long")
		webm := webmHead + strings.Repeat("\x00", 5000)
		wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}},
			file{winnow.PromptItem(0), "answer-1.webm", strings.NewReader(webm)}), http.StatusNoContent, "")
		if v := e.answers(a)["s3"]; v == nil || v.CompletedAt != nil || len(v.Files) != 1 {
			t.Fatalf("after the first recording: %+v", v)
		}
		wantPage(t, e.postMultipart(c+"/steps/s3", nil), http.StatusUnprocessableEntity, "",
			"Please record or upload an answer to question 2.", "Answer saved: answer-1.webm")
		mp4 := mp4Head + strings.Repeat("\x01", 3000)
		wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"continue"}},
			file{winnow.PromptItem(1), "clip.mp4", strings.NewReader(mp4)}), http.StatusSeeOther, c+"/review")
		v := e.answers(a)["s3"]
		if v == nil || v.CompletedAt == nil || len(v.Files) != 2 {
			t.Fatalf("stored video = %+v", v)
		}
		wantUpload(t, e, a, v.Files[winnow.PromptItem(0)], "answer-1.webm", "video/webm", webm)
		wantUpload(t, e, a, v.Files[winnow.PromptItem(1)], "clip.mp4", "video/mp4", mp4)

		// Review, then submit: a funnel with homework waits for the job team.
		wantPage(t, e.get(c), http.StatusSeeOther, c+"/review")
		wantPage(t, e.get(c+"/review"), http.StatusOK, "", "Review and submit", "Years of Go?", "English and German",
			"See the attached PDF.", "Lösung.pdf", "Received: clip.mp4", `action="`+c+`/submit"`)
		e.clock.Advance(time.Minute)
		wantPage(t, e.post(c+"/submit", nil), http.StatusSeeOther, c+"/thanks")
		after := e.applicant(a)
		if after.Status != winnow.StatusSubmitted || after.SubmittedAt == nil {
			t.Fatalf("after submit: %+v", after)
		}
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventSubmitted)
		wantPage(t, e.get(c+"/thanks"), http.StatusOK, "", "Thank you, Ada!", "has been submitted")
		wantPage(t, e.get(c), http.StatusOK, "", "You have already submitted this application")

		// A replayed submit is refused and changes nothing.
		stored := e.answers(a)
		wantPage(t, e.post(c+"/submit", nil), http.StatusConflict, "", "You have already submitted this application")
		if got := e.applicant(a); !reflect.DeepEqual(got, after) {
			t.Fatalf("a replayed submit changed the applicant:\n%+v\n%+v", got, after)
		}
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventSubmitted)
		// So is a late answer to any step, and an opt-out.
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusConflict, "")
		wantPage(t, e.postMultipart(c+"/steps/s3", nil, file{winnow.PromptItem(0), "x.webm", strings.NewReader(webm)}), http.StatusConflict, "")
		wantPage(t, e.post(c+"/opt-out", nil), http.StatusConflict, "")
		if !reflect.DeepEqual(e.answers(a), stored) || e.uploadRows(a) != 3 {
			t.Fatal("answers changed after submission")
		}
	})
}

// wantTimeline fails unless the applicant's timeline has exactly these kinds, in order.
func wantTimeline(t *testing.T, e *env, a *winnow.Applicant, kinds ...winnow.EventKind) {
	t.Helper()
	if got := e.timeline(a); !reflect.DeepEqual(got, kinds) {
		t.Fatalf("timeline = %v, want %v", got, kinds)
	}
}

// wantUpload fails unless the upload is recorded with the name and type and its file
// holds data.
func wantUpload(t *testing.T, e *env, a *winnow.Applicant, id, name, contentType, data string) {
	t.Helper()
	u, err := e.store.FindUpload(t.Context(), a.OrgID, id)
	if err != nil {
		t.Fatalf("find upload %s: %v", id, err)
	}
	if u.Name != name || u.ContentType != contentType || u.Size != int64(len(data)) || u.ApplicantID != a.ID {
		t.Fatalf("upload = %+v, want %s %s of %d bytes", u, name, contentType, len(data))
	}
	b, err := os.ReadFile(filepath.Join(e.dir, u.Path))
	if err != nil || string(b) != data {
		t.Fatalf("file of %s: %d bytes, %v", name, len(b), err)
	}
}

// TestStepOrder checks that steps are taken in order: the same link resumes, a
// completed step opens to be edited, later steps redirect on GET and are refused on
// POST, unknown steps are not found, and nothing is stored by a refused post.
func TestStepOrder(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions, stepHomework, stepVideo)
		c := "/c/" + a.Token
		wantPage(t, e.get(c+"/steps/s1"), http.StatusSeeOther, c) // not started yet
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusConflict, "", "You haven")
		wantPage(t, e.post(c+"/submit", nil), http.StatusConflict, "")
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/steps/s2")
		before := e.answers(a)

		tests := []struct {
			name     string
			method   string
			path     string
			status   int
			location string
			contains string
		}{
			{"link resumes", "GET", c, http.StatusSeeOther, c + "/steps/s2", ""},
			{"done step opens to edit", "GET", c + "/steps/s1", http.StatusOK, "", `value="Remote" checked`},
			{"later step redirects", "GET", c + "/steps/s3", http.StatusSeeOther, c + "/steps/s2", ""},
			{"review redirects", "GET", c + "/review", http.StatusSeeOther, c + "/steps/s2", ""},
			{"later step refused", "POST", c + "/steps/s3", http.StatusConflict, "", "complete the steps before this one"},
			{"unknown step", "POST", c + "/steps/nope", http.StatusNotFound, "", "not part of your application"},
			{"unknown step page", "GET", c + "/steps/nope", http.StatusNotFound, "", "not part of your application"},
			{"early submit", "POST", c + "/submit", http.StatusConflict, "", "isn&#39;t complete yet"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, "application/x-www-form-urlencoded", strings.NewReader(goodAnswers().Encode()))
				wantPage(t, r, tt.status, tt.location, tt.contains)
			})
		}
		if got := e.answers(a); !reflect.DeepEqual(got, before) {
			t.Fatalf("refused posts changed the answers: %+v", got)
		}
		if got := e.applicant(a); got.Status != winnow.StatusInProgress {
			t.Fatalf("status = %s", got.Status)
		}
	})
}

// TestQuestionsOnlyQualifies checks that a funnel of only questions decides at
// submission: submitted, then qualified by nobody, in that order.
func TestQuestionsOnlyQualifies(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions)
		c := "/c/" + a.Token
		wantPage(t, e.get(c), http.StatusOK, "", "Time needed:</strong> about 8 minutes<")
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/review")
		wantPage(t, e.post(c+"/submit", nil), http.StatusSeeOther, c+"/thanks")
		got := e.applicant(a)
		if got.Status != winnow.StatusQualified || got.SubmittedAt == nil || got.DecidedAt == nil {
			t.Fatalf("after submit: %+v", got)
		}
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventSubmitted, winnow.EventQualified)
		events, _ := e.store.ListEvents(t.Context(), a.OrgID, a.ID)
		if last := events[3]; last.ActorID != "" || last.From != winnow.StatusSubmitted {
			t.Fatalf("qualified event = %+v", last)
		}
		wantPage(t, e.get(c+"/thanks"), http.StatusOK, "", "Thank you, Ada!")
		wantPage(t, e.get(c), http.StatusOK, "", "Your application is complete")
		wantPage(t, e.post(c+"/submit", nil), http.StatusConflict, "", "Your application is complete")
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventSubmitted, winnow.EventQualified)
	})
}

// TestKnockout checks that a failed knockout ends the funnel when its step is posted:
// the answers are kept, the applicant is unqualified with the question's reason, and
// the candidate sees a kind page that does not give the reason.
func TestKnockout(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		tests := []struct {
			name   string
			edit   func(url.Values)
			reason string
		}{
			{"yes/no", func(v url.Values) { v.Set("a-q1", "no") }, "Requires work authorization in the EU"},
			{"number below minimum", func(v url.Values) { v.Set("a-q3", "1.5") }, "Needs two years of Go"},
			{"knockout wins over mistakes elsewhere", func(v url.Values) { v.Set("a-q1", "no"); v.Del("a-q2") },
				"Requires work authorization in the EU"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, eng, nil)
				a := e.mustApplicant(stepQuestions, stepHomework)
				c := "/c/" + a.Token
				wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
				answers := goodAnswers()
				tt.edit(answers)
				wantPage(t, e.post(c+"/steps/s1", answers), http.StatusSeeOther, c)
				got := e.applicant(a)
				if got.Status != winnow.StatusUnqualified || got.Reason != tt.reason || got.SubmittedAt != nil {
					t.Fatalf("after the knockout: %+v", got)
				}
				wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventUnqualified)
				if s1 := e.answers(a)["s1"]; s1 == nil || s1.Questions["q1"] == nil {
					t.Fatalf("the knocked-out answers were not kept: %+v", s1)
				}
				r := e.get(c)
				wantPage(t, r, http.StatusOK, "", "Thank you for your interest", "requires something")
				if strings.Contains(r.body, tt.reason) || strings.Contains(r.body, "no longer interested") {
					t.Fatalf("the ended page leaks the reason or offers opt-out:\n%s", r.body)
				}
				wantPage(t, e.post(c+"/steps/s2", url.Values{"text": {"late"}}), http.StatusConflict, "", "Thank you for your interest")
				wantPage(t, e.post(c+"/submit", nil), http.StatusConflict, "")
				wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventUnqualified)
			})
		}
	})
}
