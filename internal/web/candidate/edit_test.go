package candidate_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
)

// TestEditFromReview checks the review page's Edit: every step links to its form, the
// form shows the saved answers and returns to the review, a change to one step keeps
// the other steps' answers, and a knockout answer changed on edit ends the application.
func TestEditFromReview(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions, stepHomework)
		c := "/c/" + a.Token
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/steps/s2")
		wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"My queue uses a ring buffer."}}), http.StatusSeeOther, c+"/review")

		review := e.get(c + "/review")
		wantPage(t, review, http.StatusOK, "", `href="`+c+`/steps/s1"`, `href="`+c+`/steps/s2"`, ">Edit<", "ring buffer")

		// The homework's form opens with its answer and returns to the review.
		form := e.get(c + "/steps/s2")
		wantPage(t, form, http.StatusOK, "", "My queue uses a ring buffer.", "Save and return to review", `href="`+c+`/review"`)
		wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"A channel-based queue."}}), http.StatusSeeOther, c+"/review")
		got := e.answers(a)
		if got["s2"].Text != "A channel-based queue." || got["s2"].CompletedAt == nil {
			t.Fatalf("edited homework = %+v", got["s2"])
		}
		if got["s1"].Questions["q5"][0] != "ada" || got["s1"].CompletedAt == nil {
			t.Fatalf("editing the homework changed the questions: %+v", got["s1"])
		}
		wantPage(t, e.get(c+"/review"), http.StatusOK, "", "A channel-based queue.", "Remote")

		// An edit with a mistake shows the form again and keeps what was saved.
		bad := goodAnswers()
		bad.Set("a-q3", "many")
		wantPage(t, e.post(c+"/steps/s1", bad), http.StatusUnprocessableEntity, "", "Please enter a number", "Save and return to review")
		if e.answers(a)["s1"].Questions["q3"][0] != "4" {
			t.Fatal("a refused edit changed the saved answer")
		}

		// A knockout answer changed on edit ends the application at once.
		ko := goodAnswers()
		ko.Set("a-q1", "no")
		wantPage(t, e.post(c+"/steps/s1", ko), http.StatusSeeOther, c)
		if st := e.applicant(a); st.Status != winnow.StatusUnqualified || st.SubmittedAt != nil || st.Reason != "Requires work authorization in the EU" {
			t.Fatalf("after a failing edit: %+v", st)
		}
		wantPage(t, e.get(c+"/review"), http.StatusOK, "", "Thank you for your interest")
		wantPage(t, e.post(c+"/submit", nil), http.StatusConflict, "")
	})
}

// TestSubmitJudgesKnockoutsAgain checks that submission looks at the answers as they
// stand: a knockout answer that fails by then (saved in another tab, or before the
// rule of the domain judged it) ends the application instead of submitting it.
func TestSubmitJudgesKnockoutsAgain(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions, stepHomework)
		c := "/c/" + a.Token
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
		wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/steps/s2")
		wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"Done."}}), http.StatusSeeOther, c+"/review")

		ans := e.answers(a)["s1"]
		ans.Questions["q3"] = []string{"1"} // below the knockout's minimum of 2
		if _, err := e.store.SaveStepAnswer(t.Context(), ans); err != nil {
			t.Fatal(err)
		}
		wantPage(t, e.post(c+"/submit", nil), http.StatusSeeOther, c)
		got := e.applicant(a)
		if got.Status != winnow.StatusUnqualified || got.SubmittedAt != nil || got.Reason != "Needs two years of Go" {
			t.Fatalf("after submitting a failing knockout: %+v", got)
		}
		wantTimeline(t, e, a, winnow.EventInvited, winnow.EventStarted, winnow.EventUnqualified)
		if r := e.get(c); !strings.Contains(r.body, "Thank you for your interest") {
			t.Fatalf("the candidate's page after a failed knockout: %s", r.body)
		}
	})
}

// TestRecordingLength checks the length the recorder measured: it is stored with the
// recording, and a length that is not a number, not positive or longer than the
// step allows is refused with nothing stored.
func TestRecordingLength(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepVideo) // answers of up to 90 s
		c := "/c/" + a.Token
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s3")
		wantPage(t, e.get(c+"/steps/s3"), http.StatusOK, "", "<strong>Who sees it:</strong> the team at "+e.org.Name,
			"data-device-check", "Check your camera and microphone")
		webm := webmHead + strings.Repeat("\x00", 2000)
		for _, bad := range []string{"Infinity", "-5", "0", "91500", "1e9"} {
			wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}, "prompt-0-ms": {bad}},
				file{winnow.PromptItem(0), "a.webm", strings.NewReader(webm)}), http.StatusUnprocessableEntity, "", "length could not be read")
		}
		if n := e.uploadRows(a); n != 0 {
			t.Fatalf("refused lengths stored %d uploads", n)
		}
		wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}, "prompt-0-ms": {"65400"}},
			file{winnow.PromptItem(0), "a.webm", strings.NewReader(webm)}), http.StatusNoContent, "")
		wantPage(t, e.postMultipart(c+"/steps/s3", nil, // an uploaded file: its length is unknown
			file{winnow.PromptItem(1), "b.webm", strings.NewReader(webm)}), http.StatusSeeOther, c+"/review")
		ans := e.answers(a)["s3"]
		for item, want := range map[string]int64{winnow.PromptItem(0): 65400, winnow.PromptItem(1): 0} {
			u, err := e.store.FindUpload(t.Context(), a.OrgID, ans.Files[item])
			if err != nil || u.DurationMs != want {
				t.Fatalf("upload of %s = %+v, %v; want a length of %d ms", item, u, err, want)
			}
		}
	})
}

// TestThanksSaysWhatHappens checks that the thank-you page promises only the email the
// job's closing messages will send: none by default, the outcome when both are on.
func TestThanksSaysWhatHappens(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		submit := func() response {
			a := e.mustApplicant(stepQuestions, stepHomework)
			c := "/c/" + a.Token
			wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
			wantPage(t, e.post(c+"/steps/s1", goodAnswers()), http.StatusSeeOther, c+"/steps/s2")
			wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"Done."}}), http.StatusSeeOther, c+"/review")
			wantPage(t, e.post(c+"/submit", nil), http.StatusSeeOther, c+"/thanks")
			return e.get(c + "/thanks")
		}
		r := submit()
		wantPage(t, r, http.StatusOK, "", "will review it and contact you if they would like to take it further")
		if strings.Contains(r.body, "by email") {
			t.Fatalf("with closing emails off the page promises an email:\n%s", r.body)
		}
		for _, k := range []winnow.EmailKind{winnow.EmailQualified, winnow.EmailUnqualified} {
			tpl := winnow.DefaultTemplate(e.org.ID, k)
			tpl.Enabled, tpl.Source = true, winnow.SourceOrg
			if err := e.store.SaveTemplate(t.Context(), tpl); err != nil {
				t.Fatal(err)
			}
		}
		wantPage(t, submit(), http.StatusOK, "", "will review it and let you know the outcome by email")
	})
}
