package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"

	"winnow"
)

// TestBrowser walks Winnow in a real headless Chromium: an admin signs in through the
// login form and sees the Jobs page, then a candidate, in a browser context of their
// own, goes through a questions step and a video step recorded with the page's own
// MediaRecorder script (Chromium's synthetic camera stands in for a webcam), and
// submits. The store must then hold the submission, the video and the timeline.
//
// It is not parallel, so that it has the machine to itself while the parallel tests
// of this package wait; the overall timeout turns a hang into a failure.
func TestBrowser(t *testing.T) {
	exe := chromiumOrSkip(t)
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := &winnow.Funnel{OrgID: admin.OrgID, Title: "Field Engineer", Status: winnow.FunnelOpen, Team: []string{admin.ID}, Steps: []winnow.Step{
		{Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{{Text: "Can you work in the US?", Type: winnow.QuestionYesNo,
			Required: true, Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires work authorization in the US"}}}},
		{Kind: winnow.StepVideo, Title: "Video", Video: &winnow.Video{Prompts: []string{"Introduce yourself"}, MaxSeconds: 60}},
	}}
	if err := m.Store.CreateFunnel(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	a := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	base := "http://" + m.Addr()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser := startChromium(ctx, t, exe)

	// The admin signs in through the real form and lands on the Jobs page.
	rec := newTab(t, browser)
	rec.do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), "admin@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), "password-admin@acme.test"))
	rec.follow(`form[action="/login"] button[type=submit]`, "/jobs")
	rec.text("h1", "Jobs")
	rec.text("table.jobs a.title", f.Title)
	rec.screenshot("admin-jobs.jpg")

	// The candidate opens their link in a browser context without the admin's cookies.
	link := "/c/" + a.Token
	c := newTab(t, browser)
	c.do(chromedp.Navigate(base + link))
	c.text("h1", f.Title)
	c.follow(`form[action="`+link+`/start"] button`, link+"/steps/"+f.Steps[0].ID)
	c.do(chromedp.Click(chromedp.CSS(`input[type=radio][value="yes"]`)))
	c.follow(`form.c-form button[type=submit]`, link+"/steps/"+f.Steps[1].ID)

	// The video step: record with the page's script, stop, use the take and wait until
	// the script says the server has it.
	box := `fieldset[data-prompt="` + winnow.PromptItem(0) + `"] `
	status := winnow.PromptItem(0) + "-status"
	c.do(chromedp.Click(chromedp.CSS(box + `.c-rec-bar button.c-ghost`)))
	c.status(status, "Recording.")
	c.do(chromedp.Sleep(1500*time.Millisecond), chromedp.Click(chromedp.CSS(box+`.c-rec-bar button.c-danger`)))
	c.status(status, "Recorded ")
	c.do(chromedp.Click(chromedp.CSS(box + `.c-rec-bar button.c-primary`)))
	c.status(status, "Answer saved.")
	c.follow(`form[data-video-form] button[type=submit]`, link+"/review")
	c.text("h1", "Review and submit")
	c.follow(`form[action="`+link+`/submit"] button`, link+"/thanks")
	c.text("h1", "Thank you, Ada!")
	c.screenshot("candidate-thanks.jpg")
	c.noExceptions()

	// What the store holds afterwards.
	bg := context.Background()
	got, err := m.Store.FindApplicantByID(bg, a.OrgID, a.ID)
	if err != nil || got.Status != winnow.StatusSubmitted {
		t.Fatalf("applicant after the browser: %+v, %v", got, err)
	}
	answers, err := m.Store.ListStepAnswers(bg, a.OrgID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var uploadID string
	for _, ans := range answers {
		if ans.StepID == f.Steps[1].ID && ans.CompletedAt != nil {
			uploadID = ans.Files[winnow.PromptItem(0)]
		}
	}
	u, err := m.Store.FindUpload(bg, a.OrgID, uploadID)
	// The script names its uploads answer-N.webm or .mp4; the plain form keeps the file's own name.
	if err != nil || !strings.HasPrefix(u.ContentType, "video/") || u.Size <= 0 || !strings.HasPrefix(u.Name, "answer-1.") {
		t.Fatalf("video upload %q: %+v, %v", uploadID, u, err)
	}
	t.Logf("recorded video: %s, %s, %d bytes", u.Name, u.ContentType, u.Size)
	events, err := m.Store.ListEvents(bg, a.OrgID, a.ID)
	var kinds []string
	for _, ev := range events {
		if !strings.HasPrefix(string(ev.Kind), "email") {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if err != nil || strings.Join(kinds, " ") != "invited started submitted" {
		t.Fatalf("timeline: %q, %v; want invited started submitted", kinds, err)
	}

	// River's UI renders for the admin under the app's security headers, and its own
	// API's changes work from its page: retry the invitation's email job.
	jobs, err := m.Inserter.JobList(bg, river.NewJobListParams().Kinds("email_send"))
	if err != nil || len(jobs.Jobs) == 0 {
		t.Fatalf("email jobs: %v, %v", jobs, err)
	}
	rec.do(chromedp.Navigate(base + "/admin/jobs/"))
	if _, err := chromedp.Run(rec.ctx, chromedp.PollFunction[bool](`() => document.body.innerText.includes("Job State")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		rec.fail("the jobs UI shows its job states", err)
	}
	rec.screenshot("admin-jobs-ui.jpg")
	code, err := chromedp.Run(rec.ctx, chromedp.Evaluate[int](`fetch("/admin/jobs/api/jobs/retry", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({ids: ["`+strconv.FormatInt(jobs.Jobs[0].ID, 10)+`"]})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || code != http.StatusOK {
		rec.fail("retry from the jobs UI's page", fmt.Errorf("status %d, %v", code, err))
	}
	rec.noExceptions()
}

// startChromium starts the browser at exe, headless, with a fresh profile and a fake
// camera and microphone that pages may use without a prompt. It returns a context
// for new tabs; the browser is gone before the profile directory is removed.
func startChromium(ctx context.Context, t *testing.T, exe string) context.Context {
	t.Helper()
	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancel) // waits for the browser to exit
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return bctx
}

// tab is one page in a browser context of its own (no shared cookies), with what
// the page wrote to its console, shown when a step fails.
type tab struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for msg, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, msg)
			p.mu.Unlock()
		}
	}()
	return p
}

// fail ends the test with err, the page's address and its console.
func (p *tab) fail(what string, err error) {
	p.t.Helper()
	lctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(lctx, chromedp.Location())
	p.mu.Lock()
	defer p.mu.Unlock()
	var lines []string
	for _, msg := range p.console {
		lines = append(lines, msg.String()+" ("+msg.URL+")")
	}
	p.t.Fatalf("%s: %v\npage: %s\nconsole:\n%s", what, err, loc, strings.Join(lines, "\n"))
}

// noExceptions fails if a script of the page threw an exception nothing caught.
func (p *tab) noExceptions() {
	p.t.Helper()
	p.mu.Lock()
	var thrown []string
	for _, msg := range p.console {
		if msg.IsException() {
			thrown = append(thrown, msg.String())
		}
	}
	p.mu.Unlock()
	if len(thrown) > 0 {
		p.fail("uncaught exceptions", errors.New(strings.Join(thrown, "; ")))
	}
}

func (p *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.fail("browser step", err)
	}
}

// follow clicks the button at css and waits for the page it leads to, which must
// answer 200 at path.
func (p *tab) follow(css, path string) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(css)))
	if err == nil && (resp == nil || resp.Status != 200 || !strings.HasSuffix(resp.URL, path)) {
		err = fmt.Errorf("landed on %+v", resp)
	}
	if err != nil {
		p.fail("click "+css+", want "+path, err)
	}
}

// text fails unless the first element at css shows want.
func (p *tab) text(css, want string) {
	p.t.Helper()
	got, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err == nil && strings.TrimSpace(got) != want {
		err = errors.New("shows " + got)
	}
	if err != nil {
		p.fail(css+" should show "+want, err)
	}
}

// status waits until the recorder's status line with the given id starts with want,
// and fails at once if the script reports an error instead.
func (p *tab) status(id, want string) {
	p.t.Helper()
	got, err := chromedp.Run(p.ctx, chromedp.PollFunction[string](`(id, want) => {
		const s = document.getElementById(id);
		return s.textContent.startsWith(want) || s.classList.contains("c-bad") ? s.textContent : "";
	}`, chromedp.WithPollingArgs(id, want), chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err == nil && !strings.HasPrefix(got, want) {
		err = errors.New("the recorder says " + got)
	}
	if err != nil {
		p.fail("recorder status "+want, err)
	}
}

// screenshot saves a full-page JPEG of the tab in the test's temp dir.
func (p *tab) screenshot(name string) {
	p.t.Helper()
	img, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(90))
	if err != nil {
		p.fail("screenshot", err)
	}
	path := filepath.Join(p.t.TempDir(), name)
	if err := os.WriteFile(path, img, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s (%d bytes)", path, len(img))
}

// chromiumOrSkip returns the Chromium binary that WINNOW_TEST_CHROMIUM names, and skips
// the test when it names none.
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	exe := os.Getenv("WINNOW_TEST_CHROMIUM")
	if exe == "" {
		t.Skip("set WINNOW_TEST_CHROMIUM=/usr/bin/chromium to run the browser test")
	}
	return exe
}

// screenshotDir returns the folder for the test's screenshots, which a person is to
// look at: a folder named for the test inside WINNOW_TEST_SCREENSHOTS, created if need
// be (so that tests saving pages of the same name keep both), or the test's temp dir
// without it. It logs the path.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WINNOW_TEST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if dir = filepath.Join(dir, t.Name()); os.MkdirAll(dir, 0o755) != nil {
		t.Fatalf("cannot create the screenshot folder %s", dir)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}
