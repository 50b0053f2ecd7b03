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

// TestBrowserInsights opens a job's Insights page and the org overview in a real
// headless Chromium, at a desktop size (1280×900) and a phone size (390×844), checks
// that the charts are drawn with their tables beside them and that nothing is wider
// than the phone's screen, and saves full-page screenshots to look at: into
// WINNOW_TEST_SCREENSHOTS when set, else the test's temp dir (the path is logged).
// With axe-core installed (npm ci --prefix tools/a11y) it checks both pages for
// serious and critical accessibility violations at both sizes.
func TestBrowserInsights(t *testing.T) {
	exe := chromiumOrSkip(t)
	dir := screenshotDir(t)
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	member := MustUser(t, m, "Acme", "rev@acme.test", winnow.RoleMember)
	now := m.Clock.Now()
	seedStart := time.Now()
	f := insightsJob(t, m, admin.OrgID, "Field Engineer", admin.ID, member.ID)
	seedInsights(t, m, f, 40, now, admin.ID, member.ID)
	other := insightsJob(t, m, admin.OrgID, "Site Surveyor", admin.ID)
	seedInsights(t, m, other, 12, now, admin.ID)
	t.Logf("seeded in %s", time.Since(seedStart).Round(time.Millisecond))
	base := "http://" + m.Addr()
	axe := loadAxe(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser := startChromium(ctx, t, exe)
	rec := newTab(t, browser)
	rec.do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), "admin@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), "password-admin@acme.test"))
	rec.follow(`form[action="/login"] button[type=submit]`, "/jobs")

	for _, size := range []struct {
		name string
		w, h int64
	}{{"1280x900", 1280, 900}, {"390x844", 390, 844}} {
		rec.do(chromedp.EmulateViewport(size.w, size.h))
		for _, pg := range []struct {
			name, path, h1 string
			charts         int
		}{
			{"job-insights", "/jobs/" + f.ID + "/insights", "Insights · Field Engineer", 6},
			{"org-insights", "/insights", "Insights", 3},
		} {
			resp, err := chromedp.RunResponse(rec.ctx, chromedp.Navigate(base+pg.path))
			if err != nil || resp.Status != 200 {
				rec.fail("open "+pg.path, fmt.Errorf("%v, %+v", err, resp))
			}
			rec.text("h1", pg.h1)
			// Every chart is an SVG with a table of the same numbers and a CSV link.
			n, err := chromedp.Run(rec.ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart svg[role=img]").length`))
			if err != nil || n < pg.charts {
				rec.fail("charts on "+pg.path, fmt.Errorf("%d charts, %v; want %d", n, err, pg.charts))
			}
			tables, err := chromedp.Run(rec.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("figure.chart")].filter(f =>
				f.querySelector("svg[role=img]") && f.querySelector("table") && f.querySelector("a[download]")).length`))
			if err != nil || tables < pg.charts {
				rec.fail("charts with a table and a CSV link on "+pg.path, fmt.Errorf("%d, %v", tables, err))
			}
			// Nothing makes the page scroll sideways; wide tables scroll in their box.
			wide, err := chromedp.Run(rec.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil || wide {
				rec.fail(pg.path+" fits "+size.name, fmt.Errorf("wider than the window: %v, %v", wide, err))
			}
			rec.axe(axe, pg.path+" at "+size.name)
			// Blind review: no candidate is named.
			body, err := chromedp.Run(rec.ctx, chromedp.Text(chromedp.CSS("body")))
			if err != nil || strings.Contains(body, "Candidate ") {
				rec.fail("no candidate named on "+pg.path, fmt.Errorf("%v", err))
			}
			img, err := chromedp.Run(rec.ctx, chromedp.FullScreenshot(100)) // 100 means PNG
			if err != nil {
				rec.fail("screenshot", err)
			}
			path := filepath.Join(dir, pg.name+"-"+size.name+".png")
			if err := os.WriteFile(path, img, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)
		}
	}
	rec.noExceptions()
}
