package candidate_test

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	_ "github.com/jackc/pgx/v5/stdlib"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/filestore"
	"winnow/internal/sqlstore"
	"winnow/internal/web/candidate"
	"winnow/internal/web/render"
	"winnow/ui"
)

// TestMain removes the databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	rendererOnce sync.Once
	renderer     *render.Renderer
	rendererErr  error
)

// env is one test's world: its own org, clock, uploads folder and server, on the
// engine's shared database (dbtest's Shared: tests keep to their own orgs).
type env struct {
	t       testing.TB
	db      *sqlstore.DB
	store   *sqlstore.Store
	clock   *dbtest.Clock
	files   *filestore.Store
	dir     string // the uploads folder; empty when the test chose another bucket
	handler *candidate.Handler
	server  *httptest.Server
	org     *winnow.Org
}

// newEnv builds the test's world, with uploads in a folder. edit, when set, changes
// the handler before it serves.
func newEnv(t testing.TB, eng dbtest.Engine, edit func(*candidate.Handler)) *env {
	t.Helper()
	return newEnvFiles(t, eng, "", edit)
}

// newEnvFiles is newEnv with uploads in the bucket at filesURL; "" is a folder.
func newEnvFiles(t testing.TB, eng dbtest.Engine, filesURL string, edit func(*candidate.Handler)) *env {
	t.Helper()
	db := eng.Shared(t)
	rendererOnce.Do(func() { renderer, rendererErr = render.New(ui.Templates, slog.New(slog.DiscardHandler)) })
	if rendererErr != nil {
		t.Fatalf("templates: %v", rendererErr)
	}
	clock := dbtest.NewClock(time.Time{})
	store := sqlstore.NewStore(db, clock, nil)
	var dir string
	if filesURL == "" {
		dir = filepath.Join(t.TempDir(), "uploads")
		var err error
		if filesURL, err = filestore.FolderURL(dir); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filestore.Open(t.Context(), filesURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := &candidate.Handler{Orgs: store, Templates: store, Funnels: store, Applicants: store, Answers: store, Files: files,
		Render: renderer, Clock: clock, Logger: logger}
	if edit != nil {
		edit(h)
	}
	e := &env{t: t, db: db, store: store, clock: clock, files: files, dir: dir, handler: h}
	e.server = httptest.NewServer(routes(h))
	t.Cleanup(e.server.Close)
	e.org = &winnow.Org{Name: "Acme " + randomHex(3)}
	if err := store.CreateOrg(t.Context(), e.org); err != nil {
		t.Fatal(err)
	}
	return e
}

// routes mounts the handler at the patterns of internal/web/routes.go; the end-to-end
// test in cmd/winnow goes through the real table.
func routes(h *candidate.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/{token}", h.Landing)
	mux.HandleFunc("POST /c/{token}/start", h.Start)
	mux.HandleFunc("GET /c/{token}/steps/{step}", h.Step)
	mux.HandleFunc("POST /c/{token}/steps/{step}", h.SaveStep)
	mux.HandleFunc("GET /c/{token}/review", h.Review)
	mux.HandleFunc("POST /c/{token}/submit", h.Submit)
	mux.HandleFunc("GET /c/{token}/thanks", h.Thanks)
	mux.HandleFunc("GET /c/{token}/opt-out", h.OptOutForm)
	mux.HandleFunc("POST /c/{token}/opt-out", h.OptOut)
	return mux
}

// testWriter sends logs to the test's log, shown only when it fails.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func randomHex(n int) string { return dbtest.RandomHex(n) }

// Step fixtures: every question type, knockouts, homework and video.
var (
	minYears      = 2.0
	stepQuestions = winnow.Step{ID: "s1", Kind: winnow.StepQuestions, Title: "About you", Questions: []winnow.Question{
		{ID: "q1", Text: "Are you allowed to work in the EU?", Type: winnow.QuestionYesNo,
			Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires work authorization in the EU"}},
		{ID: "q2", Text: "Where would you work?", Type: winnow.QuestionSingleChoice, Choices: []string{"Berlin", "Remote"}, Required: true},
		{ID: "q3", Text: "Years of Go?", Type: winnow.QuestionNumber,
			Knockout: &winnow.Knockout{Min: &minYears, Reason: "Needs two years of Go"}},
		{ID: "q4", Text: "Languages you speak", Type: winnow.QuestionMultipleChoice, Choices: []string{"English", "German", "French"}},
		{ID: "q5", Text: "Your GitHub handle", Type: winnow.QuestionShortText},
		{ID: "q6", Text: "Anything else?", Type: winnow.QuestionLongText},
	}}
	stepHomework = winnow.Step{ID: "s2", Kind: winnow.StepHomework, Homework: &winnow.Homework{
		Instructions: "Write a small queue in Go.", AcceptText: true, AcceptFile: true, MaxFileBytes: 64 << 10,
		FileTypes: []string{".pdf", ".txt"}}}
	stepVideo = winnow.Step{ID: "s3", Kind: winnow.StepVideo, Video: &winnow.Video{
		Prompts: []string{"Tell us about yourself.", "Why this job?"}, MaxSeconds: 90}}
)

// goodAnswers passes every question and knockout of stepQuestions.
func goodAnswers() url.Values {
	return url.Values{"a-q1": {"yes"}, "a-q2": {"Remote"}, "a-q3": {"4"}, "a-q4": {"German", "English"},
		"a-q5": {"ada"}, "a-q6": {"Line one\r\nline two"}}
}

// mustApplicant creates an open funnel with steps and invites a candidate to it.
func (e *env) mustApplicant(steps ...winnow.Step) *winnow.Applicant {
	e.t.Helper()
	f := &winnow.Funnel{OrgID: e.org.ID, Title: "Backend Engineer", Description: "Build the queue.\nWork with Go.",
		Status: winnow.FunnelOpen, Steps: winnow.CopySteps(steps)}
	if err := e.store.CreateFunnel(e.t.Context(), f); err != nil {
		e.t.Fatal(err)
	}
	a, err := winnow.NewApplicant(f, "Ada Lovelace", "ada-"+randomHex(3)+"@example.com", randomHex(20), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateApplicant(e.t.Context(), a, ""); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// applicant reads the applicant back.
func (e *env) applicant(a *winnow.Applicant) *winnow.Applicant {
	e.t.Helper()
	got, err := e.store.FindApplicantByID(e.t.Context(), a.OrgID, a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// timeline is the applicant's event kinds, oldest first.
func (e *env) timeline(a *winnow.Applicant) []winnow.EventKind {
	e.t.Helper()
	events, err := e.store.ListEvents(e.t.Context(), a.OrgID, a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []winnow.EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// answers returns the applicant's saved answers by step.
func (e *env) answers(a *winnow.Applicant) map[string]*winnow.StepAnswer {
	e.t.Helper()
	list, err := e.store.ListStepAnswers(e.t.Context(), a.OrgID, a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]*winnow.StepAnswer{}
	for _, x := range list {
		m[x.StepID] = x
	}
	return m
}

// uploadRows counts the applicant's upload rows.
func (e *env) uploadRows(a *winnow.Applicant) int {
	e.t.Helper()
	var n int
	if err := e.db.SQL().QueryRowContext(e.t.Context(), `SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND applicant_id = $2`,
		a.OrgID, a.ID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// diskFiles lists every file in the uploads folder, temporary ones included.
func (e *env) diskFiles() []string {
	e.t.Helper()
	var out []string
	filepath.WalkDir(e.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// response is what a request got back.
type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

// do sends a request to the test server without following redirects.
func (e *env) do(method, path, contentType string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.server.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (e *env) get(path string) response { e.t.Helper(); return e.do("GET", path, "", nil) }

func (e *env) post(path string, form url.Values) response {
	e.t.Helper()
	return e.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// file is one file field of a multipart form.
type file struct {
	field, name string
	data        io.Reader
}

// postMultipart sends fields and files as a multipart form, built in memory: for the
// small files of most tests.
func (e *env) postMultipart(path string, fields url.Values, files ...file) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := io.Copy(w, f.data); err != nil {
			e.t.Fatal(err)
		}
	}
	mw.Close()
	return e.do("POST", path, mw.FormDataContentType(), &buf)
}

// wantPage fails the test unless r has the status and, when set, the location and every
// text in contains.
func wantPage(t *testing.T, r response, status int, location string, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (location %q)\n%s", r.status, status, r.location, r.body)
	}
	if location != "" && r.location != location {
		t.Fatalf("location %q, want %q", r.location, location)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Fatalf("page lacks %q:\n%s", c, r.body)
		}
	}
}

// wantElements fails the test unless the page has an element for each CSS selector.
func wantElements(t *testing.T, r response, selectors ...string) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	for _, sel := range selectors {
		if doc.Find(sel).Length() == 0 {
			t.Fatalf("page has no %s:\n%s", sel, r.body)
		}
	}
}

// Leading bytes of real files.
const (
	webmHead = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
	mp4Head  = "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
	pdfHead  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
	htmlHead = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
)

// zeros reads as an endless run of zero bytes, filling each buffer without allocating.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sized is a file of n bytes: head followed by zeros.
func sized(head string, n int64) io.Reader {
	return io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, n-int64(len(head))))
}
