package candidate_test

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/web/candidate"
)

// FuzzSaveQuestions posts random values for every question of stepQuestions, plus
// random raw form text, to a questions step, on SQLite and (when
// WINNOW_TEST_POSTGRES_URL is set) PostgreSQL. Whatever arrives, the answer is never a
// 500, and whatever is stored is text every engine keeps (winnow.ValidText). The seed
// corpus is in testdata/fuzz/FuzzSaveQuestions; .ci/run fuzzes for a few seconds.
func FuzzSaveQuestions(f *testing.F) {
	f.Add("yes", "Remote", "4", "German", "ada", "Line one\r\nline two", "")
	quiet := func(h *candidate.Handler) { h.Logger = slog.New(slog.DiscardHandler) }
	// One funnel per engine; each input gets a new candidate, started in the store.
	type world struct {
		*env
		funnel *winnow.Funnel
	}
	var worlds []world
	for _, eng := range dbtest.Available() {
		e := newEnv(f, eng, quiet)
		fn := &winnow.Funnel{OrgID: e.org.ID, Title: "Backend Engineer", Status: winnow.FunnelOpen, Steps: winnow.CopySteps([]winnow.Step{stepQuestions})}
		if err := e.store.CreateFunnel(f.Context(), fn); err != nil {
			f.Fatal(err)
		}
		worlds = append(worlds, world{e, fn})
	}
	f.Fuzz(func(t *testing.T, q1, q2, q3, q4, q5, q6, raw string) {
		form := url.Values{"a-q1": {q1}, "a-q2": {q2}, "a-q3": {q3}, "a-q4": {q4}, "a-q5": {q5}, "a-q6": {q6}}
		body := form.Encode()
		if raw != "" {
			body += "&" + raw
		}
		for _, w := range worlds {
			e := *w.env
			e.t = t
			a, err := winnow.NewApplicant(w.funnel, "Ada Lovelace", "ada-"+randomHex(6)+"@example.com", randomHex(20), e.clock.Now())
			if err == nil {
				err = e.store.CreateApplicant(t.Context(), a, "")
			}
			if err == nil {
				a, err = e.store.TransitionApplicant(t.Context(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(e.clock.Now()) })
			}
			if err != nil {
				t.Fatal(err)
			}
			r := e.do("POST", "/c/"+a.Token+"/steps/s1", "application/x-www-form-urlencoded", strings.NewReader(body))
			if r.status >= 500 {
				t.Fatalf("%s: %d for %q\n%s", e.db.Dialect(), r.status, body, r.body)
			}
			for _, ans := range e.answers(a) {
				for id, values := range ans.Questions {
					for _, v := range values {
						if !winnow.ValidText(v) {
							t.Fatalf("%s: stored %q for question %s from %q", e.db.Dialect(), v, id, body)
						}
					}
				}
			}
			if got := e.applicant(a); !winnow.ValidText(got.Reason) {
				t.Fatalf("%s: stored reason %q from %q", e.db.Dialect(), got.Reason, body)
			}
		}
	})
}
