package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/keyring"
	"winnow/internal/web/auth"
)

// threeStepFunnel returns an open job of org with a questions step (a yes/no knockout
// and a text question), homework taking text and a file, and a two-prompt video step.
func threeStepFunnel(orgID string, openReview bool, team ...string) *winnow.Funnel {
	return &winnow.Funnel{OrgID: orgID, Title: "Backend Engineer", Status: winnow.FunnelOpen, OpenReview: openReview, Team: team,
		Steps: []winnow.Step{
			{ID: "s_q", Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{
				{ID: "q_permit", Text: "Are you allowed to work in the EU?", Type: winnow.QuestionYesNo,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs an EU work permit"}},
				{ID: "q_why", Text: "Why this job?", Type: winnow.QuestionLongText}}},
			{ID: "s_hw", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Design a queue.", AcceptText: true,
				AcceptFile: true, FileTypes: []string{".pdf"}}},
			{ID: "s_video", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Say hello", "Why us?"}, MaxSeconds: 60}},
		}}
}

// oneQuestion is the smallest step list an open job may have: one yes/no question.
func oneQuestion() []winnow.Step {
	return []winnow.Step{{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Can you start in March?", Type: winnow.QuestionYesNo}}}}
}

// MustFunnel stores f.
func MustFunnel(t *testing.T, m *Main, f *winnow.Funnel) *winnow.Funnel {
	t.Helper()
	if err := m.Store.CreateFunnel(context.Background(), f); err != nil {
		t.Fatalf("create funnel: %v", err)
	}
	return f
}

// seeded is a submitted applicant with answers to every step of threeStepFunnel.
type seeded struct {
	*winnow.Applicant
	homework *winnow.Upload
	video    *winnow.Upload
}

// MustSubmitted invites name to f (a threeStepFunnel), answers every step through the
// store as the candidate pages would, with real files on disk, and submits.
func MustSubmitted(t *testing.T, m *Main, f *winnow.Funnel, name, email string) *seeded {
	t.Helper()
	ctx := context.Background()
	a := MustInvited(t, m, f, name, email)
	now := m.Clock.Now()
	move := func(fn func(*winnow.Applicant) (winnow.Event, error)) {
		t.Helper()
		var err error
		if a, err = m.Store.TransitionApplicant(ctx, a.OrgID, a.ID, fn); err != nil {
			t.Fatalf("transition: %v", err)
		}
	}
	move(func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(now) })
	s := &seeded{homework: mustUpload(t, m, a, "s_hw", "homework", name+" CV.pdf", "application/pdf", "%PDF-1.4 homework of "+name),
		video: mustUpload(t, m, a, "s_video", winnow.PromptItem(0), "hello.webm", "video/webm", "\x1aE\xdf\xa3 video bytes")}
	answers := []*winnow.StepAnswer{
		{StepID: "s_q", Questions: map[string][]string{"q_permit": {"yes"}, "q_why": {"I like queues."}}},
		{StepID: "s_hw", Text: "My queue uses two stacks.", Files: map[string]string{"homework": s.homework.ID}},
		{StepID: "s_video", Files: map[string]string{winnow.PromptItem(0): s.video.ID}},
	}
	for _, sa := range answers {
		sa.OrgID, sa.ApplicantID, sa.CompletedAt = a.OrgID, a.ID, &now
		if _, err := m.Store.SaveStepAnswer(ctx, sa); err != nil {
			t.Fatalf("save answer: %v", err)
		}
	}
	move(func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(now) })
	s.Applicant = a
	return s
}

// MustInvited invites name to f through the store.
func MustInvited(t *testing.T, m *Main, f *winnow.Funnel, name, email string) *winnow.Applicant {
	t.Helper()
	a, err := winnow.NewApplicant(f, name, email, keyring.Token(), m.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store.CreateApplicant(context.Background(), a, ""); err != nil {
		t.Fatalf("create applicant: %v", err)
	}
	return a
}

// MustKnockedOut invites name to threeStepFunnel's job f and knocks them out, as the
// candidate page does: they start, answer the knockout question "no" (saved, not
// completed) and are disqualified with its reason.
func MustKnockedOut(t *testing.T, m *Main, f *winnow.Funnel, name, email string) *winnow.Applicant {
	t.Helper()
	ctx, now := context.Background(), m.Clock.Now()
	a := MustInvited(t, m, f, name, email)
	move := func(fn func(*winnow.Applicant) (winnow.Event, error)) {
		t.Helper()
		if _, err := m.Store.TransitionApplicant(ctx, a.OrgID, a.ID, fn); err != nil {
			t.Fatal(err)
		}
	}
	move(func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(now) })
	if _, err := m.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_q",
		Questions: map[string][]string{"q_permit": {"no"}}}); err != nil {
		t.Fatal(err)
	}
	move(func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Disqualify(now, "Needs an EU work permit", "")
	})
	return a
}

// mustUpload puts content in m's file store and records it as a's upload.
func mustUpload(t *testing.T, m *Main, a *winnow.Applicant, stepID, item, name, ct, content string) *winnow.Upload {
	t.Helper()
	rel := filestore.NewPath(a.OrgID, a.ID)
	p, err := m.Files.Receive(context.Background(), rel, ct, strings.NewReader(content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Keep(); err != nil {
		t.Fatal(err)
	}
	u := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: stepID, Item: item, Name: name, ContentType: ct,
		Size: int64(len(content)), Path: rel}
	if err := m.Store.CreateUpload(context.Background(), u, 0); err != nil {
		t.Fatalf("create upload: %v", err)
	}
	return u
}

// MustAPIToken makes an API token of org, created by user createdBy ("" as the winnow
// command does), and returns it with its record.
func MustAPIToken(t *testing.T, m *Main, orgID, createdBy string) (string, *winnow.APIToken) {
	t.Helper()
	tok := keyring.Token()
	rec := &winnow.APIToken{OrgID: orgID, Name: "test", TokenHash: m.Keyring.Hash(tok), CreatedBy: createdBy}
	if err := m.Store.CreateAPIToken(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return tok, rec
}

// apiClient calls m's JSON API with a token, as a program would.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func newAPIClient(t *testing.T, m *Main, token string) *apiClient {
	return &apiClient{t: t, base: "http://" + m.Addr(), token: token}
}

// call sends body (JSON unless contentType says otherwise) and returns the status, the
// raw body and the body decoded into a generic value.
func (c *apiClient) call(method, path, body string, header map[string]string) (int, string, any) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("%s %s answered %s, not JSON:\n%s", method, path, ct, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		c.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, raw)
	}
	return resp.StatusCode, string(raw), v
}

// get reads a path of a decoded JSON value: get(v, "steps", 0, "id").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// signedIn returns a browser with a session of the user with email, made in the store
// rather than through the sign-in form: the form's password check costs an argon2id
// hash, which the tests that are not about signing in need not pay.
func signedIn(t *testing.T, m *Main, email string) *browser {
	t.Helper()
	ctx := context.Background()
	u, err := m.Store.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatalf("find %s: %v", email, err)
	}
	token, now := keyring.Token(), m.Clock.Now()
	if err := m.Store.CreateSession(ctx, &winnow.Session{TokenHash: m.Keyring.Hash(token), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("create session: %v", err)
	}
	b := newBrowser(t, m)
	base, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(base, []*http.Cookie{{Name: auth.CookieName, Value: token, Path: "/"}})
	return b
}
