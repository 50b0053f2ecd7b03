package candidate_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestOptOut checks "I'm no longer interested": a confirmation page, then opted out
// with the reason on the timeline, and the link says so afterwards.
func TestOptOut(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		for _, started := range []bool{false, true} {
			name := map[bool]string{false: "invited", true: "in progress"}[started]
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, eng, nil)
				a := e.mustApplicant(stepQuestions, stepVideo)
				c := "/c/" + a.Token
				want := []winnow.EventKind{winnow.EventInvited}
				if started {
					wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s1")
					want = append(want, winnow.EventStarted)
				}
				wantPage(t, e.get(c+"/opt-out"), http.StatusOK, "", "No longer interested?", `action="`+c+`/opt-out"`,
					"Yes, withdraw my application", `href="`+c+`"`)
				wantTimeline(t, e, a, want...)
				wantPage(t, e.post(c+"/opt-out", nil), http.StatusSeeOther, c)
				got := e.applicant(a)
				if got.Status != winnow.StatusOptedOut || got.Reason != "declined via the candidate link" {
					t.Fatalf("after opting out: %+v", got)
				}
				wantTimeline(t, e, a, append(want, winnow.EventOptedOut)...)
				r := e.get(c)
				wantPage(t, r, http.StatusOK, "", "You have withdrawn your application")
				if strings.Contains(r.body, "mailto:") {
					t.Fatal("the withdrawn page offers an address the company never set")
				}
				if err := e.store.SetOrgReplyTo(t.Context(), e.org.ID, "jobs@acme.example"); err != nil {
					t.Fatal(err)
				}
				wantPage(t, e.get(c), http.StatusOK, "", "You have withdrawn your application", `write to `+e.org.Name+` at <a href="mailto:jobs@acme.example">jobs@acme.example</a>.`)
				wantPage(t, e.get(c+"/opt-out"), http.StatusOK, "", "You have withdrawn your application")
				for _, path := range []string{"/start", "/opt-out", "/submit", "/steps/s1"} {
					wantPage(t, e.post(c+path, goodAnswers()), http.StatusConflict, "", "You have withdrawn your application")
				}
				wantTimeline(t, e, a, append(want, winnow.EventOptedOut)...)
				if len(e.answers(a)) != 0 {
					t.Fatal("answers stored after opting out")
				}
			})
		}
	})
}

// TestExpired checks a link whose deadline has passed (before the background job
// opts the applicant out): every page says it has expired and has the place for a new
// link, and every post is refused (410) without storing anything.
func TestExpired(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		invited := e.mustApplicant(stepQuestions, stepHomework)
		started := e.mustApplicant(stepQuestions, stepHomework)
		wantPage(t, e.post("/c/"+started.Token+"/start", nil), http.StatusSeeOther, "")
		e.clock.Advance(421 * time.Hour)
		for _, a := range []*winnow.Applicant{invited, started} {
			c := "/c/" + a.Token
			before, events := e.applicant(a), e.timeline(a)
			for _, path := range []string{"", "/steps/s1", "/review", "/opt-out", "/thanks"} {
				r := e.get(c + path)
				if path == "/thanks" {
					wantPage(t, r, http.StatusSeeOther, c)
					continue
				}
				wantPage(t, r, http.StatusOK, "", "This link has expired",
					`ended on <time datetime="2026-12-15T21:30:00Z" data-local-time>Tuesday 15 December 2026, 21:30 UTC</time>`, `id="new-link"`)
				if strings.Contains(r.body, "no longer interested") {
					t.Fatalf("an expired link offers opting out:\n%s", r.body)
				}
			}
			for _, path := range []string{"/start", "/steps/s1", "/submit", "/opt-out"} {
				wantPage(t, e.post(c+path, goodAnswers()), http.StatusGone, "", "This link has expired")
			}
			wantPage(t, e.postMultipart(c+"/steps/s2", url.Values{"text": {"late"}},
				file{"homework", "late.txt", strings.NewReader("late")}), http.StatusGone, "", "This link has expired")
			if got := e.applicant(a); !reflect.DeepEqual(got, before) {
				t.Fatalf("an expired link changed the applicant: %+v", got)
			}
			if got := e.timeline(a); !reflect.DeepEqual(got, events) {
				t.Fatalf("an expired link changed the timeline: %v", got)
			}
			if len(e.answers(a)) != 0 || e.uploadRows(a) != 0 {
				t.Fatal("an expired link stored answers")
			}
		}
		if files := e.diskFiles(); len(files) != 0 {
			t.Fatalf("an expired link stored files: %v", files)
		}
	})
}

// TestInvalidLink checks that unknown, tampered and truncated tokens get a 404 page
// that says the link is not valid, for every candidate route, and change nothing.
func TestInvalidLink(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepQuestions)
		last := a.Token[len(a.Token)-1:]
		flipped := map[string]string{"0": "1"}[last]
		if flipped == "" {
			flipped = "0"
		}
		tokens := []struct{ name, token string }{
			{"unknown", randomHex(20)},
			{"one character changed", a.Token[:len(a.Token)-1] + flipped},
			{"truncated", a.Token[:10]},
			{"upper-cased", strings.ToUpper(a.Token)},
			{"with a suffix", a.Token + "x"},
		}
		routes := []struct{ method, path string }{
			{"GET", ""}, {"POST", "/start"}, {"GET", "/steps/s1"}, {"POST", "/steps/s1"}, {"GET", "/review"},
			{"POST", "/submit"}, {"GET", "/thanks"}, {"GET", "/opt-out"}, {"POST", "/opt-out"},
		}
		for _, tk := range tokens {
			for _, rt := range routes {
				t.Run(tk.name+" "+rt.method+rt.path, func(t *testing.T) {
					r := e.do(rt.method, "/c/"+tk.token+rt.path, "application/x-www-form-urlencoded", strings.NewReader(goodAnswers().Encode()))
					wantPage(t, r, http.StatusNotFound, "", "This link is not valid", "whole link")
					if strings.Contains(r.body, e.org.Name) {
						t.Fatal("the invalid-link page names the company")
					}
				})
			}
		}
		wantTimeline(t, e, a, winnow.EventInvited)
	})
}
