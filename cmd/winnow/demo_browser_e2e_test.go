package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"winnow/internal/leversandbox"
)

// TestDemoWalkthrough does, in a real headless Chromium, exactly what winnow demo
// prints, against a demo started the way the command starts it: sign in, connect
// Lever through the sandbox's consent page, link the job to the posting, apply as a
// candidate in the sandbox, open the invitation in the mail viewer, go through the
// funnel (the video answered by uploading a file), review and decide. After each step
// it reads the candidate's opportunity page in the sandbox (tags, notes, stage). It
// saves a screenshot of every page it visits into WINNOW_TEST_SCREENSHOTS when set,
// else into a temporary folder it names in the log.
func TestDemoWalkthrough(t *testing.T) {
	exe := chromiumOrSkip(t)
	shots := screenshotDir(t)

	out := &syncBuffer{}
	opts := demoOptions{Dir: filepath.Join(t.TempDir(), "demo-data"), Addr: "127.0.0.1:0", LogLevel: "warn"}
	e := env{stdout: out, stderr: testWriter{t}, getenv: func(string) string { return "" }}
	d, err := startDemo(context.Background(), opts, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d == nil {
			return
		}
		if err := d.Close(); err != nil {
			t.Errorf("close the demo: %v", err)
		}
	})
	d.walkthrough(out)
	walk := out.String()
	printed := parseWalkthrough(t, walk)
	step := func(n int) string { // the walkthrough's step n, as printed
		t.Helper()
		m := regexp.MustCompile(fmt.Sprintf(`(?ms)^%d\. (.*?)\n(?:\d\. |\nPress)`, n)).FindStringSubmatch(walk)
		if m == nil {
			t.Fatalf("no step %d in the walkthrough:\n%s", n, walk)
		}
		return m[1]
	}
	urlIn := func(n int, prefix string) string { // the first URL in step n that starts with prefix
		t.Helper()
		u := regexp.MustCompile(regexp.QuoteMeta(prefix) + `[^\s,)]*`).FindString(step(n))
		if u == "" {
			t.Fatalf("step %d names no URL under %s:\n%s", n, prefix, step(n))
		}
		return u
	}

	// label is the quoted text in step n that starts with prefix: what the newcomer is
	// told to click, so the test clicks what the walkthrough names.
	label := func(n int, prefix string) string {
		t.Helper()
		for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(step(n), -1) {
			if strings.HasPrefix(q[1], prefix) {
				return q[1]
			}
		}
		t.Fatalf("step %d names nothing starting with %q:\n%s", n, prefix, step(n))
		return ""
	}
	// button is the link or button that reads text.
	button := func(text string) string {
		return `//*[self::a or self::button][normalize-space()="` + text + `"]`
	}

	axeJS := loadAxe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	browser := startChromium(ctx, t, exe)
	rec, lev, cand := newTab(t, browser), newTab(t, browser), newTab(t, browser)
	n := 0
	// shoot saves a screenshot of the page and, for Winnow's own pages (not the
	// sandbox's), checks it with axe-core.
	shoot := func(p *tab, name string) {
		t.Helper()
		n++
		// From the top, as a person opening the page sees it (a redirect to #lever scrolls).
		p.do(chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"))
		img, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			p.fail("screenshot "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", n, name)), img, 0o644); err != nil {
			t.Fatal(err)
		}
		if p != lev && !strings.HasPrefix(name, "lever-") {
			p.axe(axeJS, name)
		}
		if p == cand && axeJS != "" { // candidates come on phones too
			p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
			p.axe(axeJS, name+" at 390 px")
			p.do(chromedp.EmulateViewport(1280, 900))
		}
	}

	// 1. Sign in.
	rec.do(chromedp.Navigate(urlIn(1, printed.winnow)))
	shoot(rec, "sign-in")
	rec.do(chromedp.SendKeys(chromedp.ID("email"), printed.email), chromedp.SendKeys(chromedp.ID("password"), printed.password))
	rec.follow(`form[action="/login"] button[type=submit]`, "/jobs")
	shoot(rec, "jobs")

	// 2. Connect Lever: the panel, the sandbox's consent page, back on the panel.
	rec.do(chromedp.Navigate(urlIn(2, printed.winnow)))
	rec.text("#lever-state", "Not connected")
	rec.do(chromedp.Click(chromedp.Search(button(label(2, "Connect")))), chromedp.WaitVisible(chromedp.CSS(`button[value="accept"]`)))
	shoot(rec, "lever-consent")
	rec.do(chromedp.Click(chromedp.Search(button(label(2, "Accept")))), chromedp.WaitVisible(chromedp.ID("lever-status")))
	rec.text("#lever-state", "Connected")
	shoot(rec, "settings-integrations")
	if hooks := d.Sandbox.Webhooks(); len(hooks) != 4 {
		t.Fatalf("webhooks in the sandbox after connecting: %+v", hooks)
	}

	// 3. Link the job to the posting named in the walkthrough.
	rec.do(chromedp.Navigate(urlIn(3, printed.winnow)))
	posting := label(3, "Backend")
	rec.do(chromedp.Click(chromedp.Search(`//table[contains(@class,"postings")]//tr[.//label[normalize-space()="` + posting + `"]]//input[@type="radio"]`)))
	rec.followSearch(button(label(3, "Link")), "?saved=linked")
	rec.contains("#lever-linked", posting)
	shoot(rec, "job-integrations")
	// The main recruiter pages the walkthrough passes by, for the accessibility check.
	job := strings.TrimSuffix(urlIn(3, printed.winnow), "/integrations")
	for _, pg := range []struct{ path, name string }{{job, "job"}, {job + "/edit", "job-editor"}, {printed.winnow + "/settings/members", "settings-members"}} {
		rec.do(chromedp.Navigate(pg.path))
		shoot(rec, pg.name)
	}

	// 4. Apply in the sandbox; its opportunity page shows the invitation's tag and note.
	lev.do(chromedp.Navigate(urlIn(4, printed.lever)))
	shoot(lev, "sandbox-posting")
	lev.do(chromedp.SendKeys(chromedp.Search(`//input[@id=//label[normalize-space()="`+label(4, "Full")+`"]/@for]`), "Grace Hopper"),
		chromedp.SendKeys(chromedp.Search(`//input[@id=//label[normalize-space()="`+label(4, "Email")+`"]/@for]`), "grace@example.org"))
	lev.followSearch(button(label(4, "Submit")), "")
	opp, err := chromedp.Run(lev.ctx, chromedp.Location())
	if err != nil || !strings.Contains(opp, "/ui/opportunities/") {
		lev.fail("the opportunity page after applying", err)
	}
	lev.opportunity(opp, "CP-Sent", "New applicant", "Winnow: Invitation sent to grace@example.org for Backend Engineer.")
	shoot(lev, "sandbox-opportunity-invited")

	// 5. The invitation in the mail viewer, and the link in it.
	rec.do(chromedp.Navigate(urlIn(5, printed.winnow)))
	subject := label(5, "Your application")
	// The job's review is blind, so the viewer names the candidate "Applicant #…", not
	// by address, until the decision.
	rec.until("the invitation in the mail viewer", `() => [...document.querySelectorAll("tbody tr")].some(r =>
		r.textContent.includes("Applicant #") && [...r.querySelectorAll("a")].some(a => a.textContent === `+jsString(subject)+`))`)
	shoot(rec, "mail-viewer")
	rec.do(chromedp.Click(chromedp.Search(`//tbody/tr[contains(., "Applicant #")]`+button(subject))),
		chromedp.WaitVisible(chromedp.CSS("pre.text-answer")))
	shoot(rec, "mail-invitation")
	body, err := chromedp.Run(rec.ctx, chromedp.Text(chromedp.CSS("pre.text-answer")))
	if err != nil {
		rec.fail("the invitation's text", err)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(printed.winnow) + `/c/[A-Za-z0-9_-]+`).FindString(body)
	if link == "" {
		t.Fatalf("no candidate link in the invitation:\n%s", body)
	}

	// 6. The candidate's funnel: questions (passing the knockout), homework, video
	// uploaded from a file, review, submit.
	video := filepath.Join(t.TempDir(), "answer.webm")
	if err := os.WriteFile(video, []byte(videoWebM), 0o644); err != nil {
		t.Fatal(err)
	}
	cand.do(chromedp.Navigate(link))
	shoot(cand, "candidate-landing")
	next := button(label(6, "Save and"))
	cand.followSearch(button(label(6, "Start")), "")
	cand.do(chromedp.Click(chromedp.CSS(`input[type=radio][value="yes"]`)), chromedp.SendKeys(chromedp.CSS(`input[type=number]`), "6"))
	shoot(cand, "candidate-questions")
	cand.followSearch(next, "")
	cand.do(chromedp.WaitVisible(chromedp.ID("hw-text")), chromedp.SendKeys(chromedp.ID("hw-text"), "Compare yesterday's and today's latency by endpoint, then read the slowest traces."))
	shoot(cand, "candidate-homework")
	cand.followSearch(next, "")
	cand.do(chromedp.WaitVisible(chromedp.CSS(`form[data-video-form]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`form[data-video-form] input[type=file]`), []string{video}))
	shoot(cand, "candidate-video")
	cand.followSearch(next, "/review")
	shoot(cand, "candidate-review")
	cand.followSearch(button(label(6, "Submit")), "/thanks")
	cand.text("h1", "Thank you, Grace!")
	shoot(cand, "candidate-thanks")
	// The candidate's other pages: opting out of a submitted application, a link
	// that is not one, asking for a new link.
	for _, pg := range []struct{ path, name string }{{link + "/opt-out", "candidate-opt-out"},
		{printed.winnow + "/c/not-a-real-link", "candidate-broken-link"}, {printed.winnow + "/c/new-link", "candidate-new-link"}} {
		cand.do(chromedp.Navigate(pg.path))
		shoot(cand, pg.name)
	}
	cand.noExceptions()
	lev.opportunity(opp, "CP-InProg", "New applicant", "Winnow: Submitted for Backend Engineer; in review by the job team.")
	lev.hasNote("Winnow: Started the qualification for Backend Engineer.")
	shoot(lev, "sandbox-opportunity-submitted")

	// 7. Review and decide, from the review queue.
	rec.do(chromedp.Navigate(urlIn(7, printed.winnow)))
	shoot(rec, "review-queue")
	rec.followSearch(button(label(7, "Review")), "")
	rec.contains("h1", "Applicant #") // blind until the decision, as step 7 says
	shoot(rec, "applicant")
	rec.do(chromedp.Click(chromedp.CSS(`.review-form input[name=score][value="4"]`)), chromedp.SendKeys(chromedp.ID("comment"), "Clear thinking about latency."))
	rec.followSearch(button(label(7, "Save")), "")
	rec.contains("ul.reviews", "Clear thinking about latency.")
	rec.do(chromedp.Click(chromedp.Search(`//summary[normalize-space()="` + label(7, "Mark") + `"]`)))
	rec.followSearch(button(label(7, "Confirm")), "")
	rec.contains("h1", "Grace Hopper")
	shoot(rec, "applicant-qualified")
	rec.do(chromedp.Navigate(printed.winnow + "/applicants"))
	shoot(rec, "applicants")
	rec.do(chromedp.Navigate(printed.winnow + "/jobs"))
	rec.contains("table.jobs", demoJobTitle)
	shoot(rec, "jobs-after")

	// 8. Lever shows the outcome: the tag, the note, the stage.
	lev.opportunity(opp, "CP-Qual", "On-site interview", "Winnow: Qualified for Backend Engineer.")
	shoot(lev, "sandbox-opportunity-qualified")
	rec.noExceptions()
	lev.noExceptions()

	// Ctrl-C, and the same command again, on other ports: the connection, the link and
	// the webhooks still work, so a new application is invited and tagged in Lever.
	if err := d.Close(); err != nil {
		t.Fatalf("stop the demo: %v", err)
	}
	d = nil
	if d, err = startDemo(context.Background(), opts, e); err != nil {
		t.Fatalf("run the demo again: %v", err)
	}
	if !d.Reused || d.BaseURL() == printed.winnow {
		t.Fatalf("second run: reused %v at %s, first at %s", d.Reused, d.BaseURL(), printed.winnow)
	}
	a, err := d.Sandbox.Apply(leversandbox.ApplyInput{PostingID: d.Posting, Name: "Alan Turing", Email: "alan@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := d.Sandbox.Opportunity(a.OpportunityID)
		if strings.Join(st.Tags, " ") == "CP-Sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart, the new application is not tagged CP-Sent: %+v\ndeliveries: %+v", st, d.Sandbox.Deliveries())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// followSearch clicks the element the XPath query finds and waits for the page it
// leads to, which must answer 200 at a URL ending in path.
func (p *tab) followSearch(query, path string) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.Search(query)))
	if err == nil && (resp == nil || resp.Status != 200 || !strings.HasSuffix(resp.URL, path)) {
		err = fmt.Errorf("landed on %+v", resp)
	}
	if err != nil {
		p.fail("click "+query+", want "+path, err)
	}
}

// contains fails unless the first element at css shows want somewhere in its text.
func (p *tab) contains(css, want string) {
	p.t.Helper()
	got, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err == nil && !strings.Contains(got, want) {
		err = errors.New("shows " + got)
	}
	if err != nil {
		p.fail(css+" should contain "+want, err)
	}
}

// until reloads the page until the JavaScript predicate fn returns true, for what
// other processes (workers, webhooks) bring about; 30 s at most.
func (p *tab) until(what, fn string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool]("("+fn+")()"))
		if err != nil {
			p.fail(what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			p.fail(what, errors.New("not there after 30s"))
		}
		time.Sleep(200 * time.Millisecond)
		p.do(chromedp.Reload())
	}
}

// opportunity opens the sandbox's opportunity page at url and waits until it shows
// exactly the tags tags (space-separated), the stage and, newest, the note.
func (p *tab) opportunity(url, tags, stage, note string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url))
	p.until(fmt.Sprintf("the opportunity tagged %q in stage %q with the note %q", tags, stage, note), `() => {
		const tags = [...document.querySelectorAll("#tags .tag")].map(e => e.textContent.trim()).sort().join(" ");
		const stage = document.querySelector("#stage").textContent;
		const newest = document.querySelector("#notes .note-value");
		return tags === `+jsString(tags)+` && stage.includes("Stage: "+`+jsString(stage)+`) &&
			newest !== null && newest.textContent.startsWith(`+jsString(note)+`);
	}`)
}

// hasNote fails unless the opportunity page shows a note that starts with note.
func (p *tab) hasNote(note string) {
	p.t.Helper()
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("#notes .note-value")].some(e => e.textContent.startsWith(`+jsString(note)+`))`))
	if err == nil && !ok {
		err = errors.New("no such note")
	}
	if err != nil {
		p.fail("note "+note, err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$").Replace(s) + "`"
}
