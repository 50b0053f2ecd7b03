package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"winnow"
	"winnow/internal/dbtest"
)

// TestLeverBrowser connects Lever in a real headless Chromium, through the sandbox's
// consent page, links a job to a posting with the picker, and sees the panel turn to
// "needs reconnecting" with the banner once the sandbox revokes access. It takes
// screenshots of the panel and of the job's Integrations page at a desktop and a phone
// size, into WINNOW_TEST_SCREENSHOTS when set (for a person to look at), else a temp dir.
func TestLeverBrowser(t *testing.T) {
	exe := chromiumOrSkip(t)
	shots := screenshotDir(t)
	w := startLeverWorld(t, dbtest.SQLite, nil)
	f := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "Backend hiring", Status: winnow.FunnelOpen, Steps: oneQuestion()})
	base := "http://" + w.m.Addr()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := newTab(t, startChromium(ctx, t, exe))
	shoot := func(name string) {
		t.Helper()
		for _, size := range []struct {
			suffix        string
			width, height int64
			opts          []chromedp.EmulateViewportOption
		}{{"1280", 1280, 900, nil}, {"390", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulatePortrait, chromedp.EmulateMobile}}} {
			p.do(chromedp.EmulateViewport(size.width, size.height, size.opts...))
			img, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				p.fail("screenshot", err)
			}
			path := filepath.Join(shots, "lever-"+name+"-"+size.suffix+".png")
			if err := os.WriteFile(path, img, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)
		}
		p.do(chromedp.EmulateViewport(1280, 900))
	}

	p.do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), w.admin.Email),
		chromedp.SendKeys(chromedp.ID("password"), "password-"+w.admin.Email))
	p.follow(`form[action="/login"] button[type=submit]`, "/jobs")
	p.do(chromedp.Navigate(base + "/settings/integrations"))
	p.text("#lever-state", "Not connected")
	shoot("panel-not-connected")

	// Connect Lever → the sandbox's consent page → Accept → back on the panel.
	p.do(chromedp.Click(chromedp.ID("lever-oauth")), chromedp.WaitVisible(chromedp.CSS(`button[value="accept"]`)))
	shoot("consent")
	p.do(chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.ID("lever-status")))
	p.text("#lever-state", "Connected")
	p.text("p.notice", "Lever is connected.")
	shoot("panel-connected")

	// The job's Integrations: search, pick the posting, link.
	p.do(chromedp.Navigate(base+"/jobs/"+f.ID+"/integrations"),
		chromedp.SendKeys(chromedp.ID("posting-q"), "backend"),
		chromedp.Submit(chromedp.ID("posting-q")),
		chromedp.WaitVisible(chromedp.CSS(`table.postings`)))
	p.do(chromedp.Click(chromedp.CSS(`table.postings input[type=radio]`)))
	p.follow(`#lever-posting form[method=post] button[type=submit]`, "/jobs/"+f.ID+"/integrations?saved=linked")
	got, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.ID("lever-linked")))
	if err != nil || !strings.Contains(got, "Backend Engineer") {
		p.fail("linked posting", err)
	}
	shoot("job-integrations")

	// Lever revokes access: the panel says so, with the banner.
	w.sb.Revoke()
	p.do(chromedp.Navigate(base + "/settings/integrations"))
	p.text("#lever-state", "Needs reconnecting")
	p.do(chromedp.WaitVisible(chromedp.CSS("p.banner")))
	shoot("panel-needs-reconnecting")
	p.noExceptions()
}
