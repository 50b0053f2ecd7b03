package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"winnow"
	"winnow/internal/dbtest"
)

// TestBrowserRecruiterPages walks the recruiter's pages changed for issue 13 in a real
// Chromium: a decision is confirmed in its details box before it is taken, an admin
// reopens it and lets a knocked-out candidate continue, and each changed page is saved
// as a screenshot at a desktop and a phone size (WINNOW_TEST_SCREENSHOTS, or the
// test's temp dir; the path is logged) for a person to look at.
func TestBrowserRecruiterPages(t *testing.T) {
	exe := chromiumOrSkip(t)
	dir := screenshotDir(t)
	axeScript = loadAxe(t)

	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	ctx := context.Background()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, admin.ID))
	ada := MustSubmitted(t, m, f, "Ada Lovelace", "ada@example.com")
	alan := MustKnockedOut(t, m, f, "Alan Turing", "alan@example.com")
	base := "http://" + m.Addr()

	// A bound for a browser that hangs, not a speed target: the walk takes 34
	// screenshots with an accessibility check each, and under -race beside the other
	// packages' tests on 2 cores it once ran past a minute at its last screenshot.
	bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	browser := startChromium(bctx, t, exe)
	rec := newTab(t, browser)
	rec.do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), "admin@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), "password-admin@acme.test"))
	rec.follow(`form[action="/login"] button[type=submit]`, "/jobs")

	// Item 2: the decision waits for a confirmation that names the outcome.
	card := "/applicants/" + ada.ID
	rec.do(chromedp.Navigate(base + card))
	shoot(rec, dir, "card-submitted")
	rec.do(chromedp.Click(chromedp.CSS(`details.decision-confirm.ok > summary`)))
	rec.text(`details.decision-confirm.ok[open] button`, "Confirm: qualified")
	shoot(rec, dir, "card-confirm-qualified")
	rec.follow(`details.decision-confirm.ok button`, card+"?done=qualified")
	rec.text(`h1 .pill`, "Qualified")

	// An admin reopens the decision: back in review, on the timeline.
	rec.do(chromedp.Click(chromedp.CSS(`details.decision-confirm > summary`)))
	shoot(rec, dir, "card-confirm-reopen")
	rec.follow(`details.decision-confirm button`, card+"?done=reopened")
	rec.text(`h1 .pill`, "Submitted")
	rec.text(`.timeline li.ev-reopened span`, "Decision reopened (qualified before): in review again")

	// An admin lets the knocked-out candidate continue.
	alanCard := "/applicants/" + alan.ID
	rec.do(chromedp.Navigate(base + alanCard))
	rec.do(chromedp.Click(chromedp.CSS(`details.decision-confirm > summary`)))
	shoot(rec, dir, "card-confirm-override")
	rec.follow(`details.decision-confirm button`, alanCard+"?done=overridden")
	rec.text(`h1 .pill`, "In progress")
	shoot(rec, dir, "card-invitation")
	a, err := m.Store.FindApplicantByID(ctx, alan.OrgID, alan.ID)
	if err != nil || a.Status != winnow.StatusInProgress {
		t.Fatalf("after the override: %+v, %v", a, err)
	}

	// Item 4: the inviter sees the names and a copy button per link; the list stays blind.
	rec.do(chromedp.Navigate(base+"/jobs/"+f.ID),
		chromedp.SendKeys(chromedp.ID("invite-bulk"), "Bob Baker <bob@example.com>\nCarla Cruz <carla@example.com>"))
	rec.follow(`form[action="/jobs/`+f.ID+`/applicants#invite"] textarea ~ button`, "/jobs/"+f.ID+"/applicants")
	rec.text(`.results tbody tr:nth-child(1) td:nth-child(2)`, "Bob Baker <bob@example.com>")
	rec.text(`.results tbody tr:nth-child(2) .copy-button`, "Copy")
	rec.do(chromedp.Click(chromedp.CSS(`.results tbody tr:nth-child(2) .copy-button`)))
	if got, err := chromedp.Run(rec.ctx, chromedp.PollFunction[string](`() =>
		document.querySelector(".results tbody tr:nth-child(2) .copy-status").textContent`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil || got != "Copied" {
		rec.fail("the copy button's status says Copied", fmt.Errorf("%q, %v", got, err))
	}
	if names, err := chromedp.Run(rec.ctx, chromedp.Text(chromedp.CSS("#applicants table"))); err != nil ||
		strings.Contains(names, "Bob") || strings.Contains(names, "Carla") {
		rec.fail("the applicant list stays blind", fmt.Errorf("%q, %v", names, err))
	}
	shoot(rec, dir, "job-invite-results")

	// Item 7: members. The invitation's result page is reached by a redirect, and a
	// reload shows the link no more.
	rec.do(chromedp.Navigate(base+"/settings/members"), chromedp.SendKeys(chromedp.ID("invite-email"), "dana@acme.test"))
	rec.follow(`form[action="/settings/members/invites"] button`, "/settings/members?invited=1")
	rec.text(`.card.success h2`, "Invitation created")
	shoot(rec, dir, "members-invited")
	link, err := chromedp.Run(rec.ctx, chromedp.Value(chromedp.CSS(`.card.success input.copy`)))
	if err != nil || !strings.Contains(link, "/invite/") {
		rec.fail("the invitation link", fmt.Errorf("%q, %v", link, err))
	}
	rec.do(chromedp.Reload())
	if n, err := chromedp.Run(rec.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".card.success").length`)); err != nil || n != 0 {
		rec.fail("a reload shows the invitation again", fmt.Errorf("%d, %v", n, err))
	}
	rec.do(chromedp.Navigate(base + "/account"))
	shoot(rec, dir, "account")
	guest := newTab(t, browser)
	guest.do(chromedp.Navigate(link))
	guest.text("h1", "Join Acme on Winnow")
	shoot(guest, dir, "invite-accept")

	// Item 9: the pages polished. The mail viewer lists the invitations once written.
	waitEmails(t, m, MustInvited(t, m, f, "Grace Brewster Murray Hopper", "grace.brewster.murray.hopper@navy.example.com"), winnow.EmailOutbox, 1)
	for _, p := range []struct{ path, name string }{
		{"/settings/mail", "mail-viewer"},
		{"/settings/emails", "emails"},
		{"/settings/emails/invitation", "template-preview"},
		{"/jobs/new", "job-new"},
		{"/jobs", "jobs-list"},
		{"/applicants", "applicants-list"},
		{"/applicants?q=backend&sort=oldest", "applicants-search"},
		{"/jobs/" + f.ID, "job-tiles"},
	} {
		rec.do(chromedp.Navigate(base + p.path))
		shoot(rec, dir, p.name)
	}
	rec.noExceptions()
}

// axeScript is axe-core for shoot to check each page with, "" when not installed.
var axeScript string

// shoot checks the page with axe-core (when installed) and saves screenshots of the tab's whole page at 1280x900 and 390x844 into dir, as
// name-1280.png and name-390.png. The viewport is stretched to the page's height rather
// than using a beyond-the-viewport capture, which leaves sandboxed frames (the email
// previews) blank.
func shoot(p *tab, dir, name string) {
	p.t.Helper()
	p.axe(axeScript, name)
	for _, size := range [][2]int64{{390, 844}, {1280, 900}} {
		err := chromedp.Do(p.ctx, chromedp.EmulateViewport(size[0], size[1]))
		var height int64
		if err == nil {
			height, err = chromedp.Run(p.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
		}
		if err == nil && height > size[1] {
			err = chromedp.Do(p.ctx, chromedp.EmulateViewport(size[0], height), chromedp.Sleep(150*time.Millisecond))
		}
		var img []byte
		if err == nil {
			img, err = chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		}
		if err != nil {
			p.fail("screenshot "+name, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, size[0]))
		if err := os.WriteFile(path, img, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		p.fail("reset the viewport", err)
	}
}
