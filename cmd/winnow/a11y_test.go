package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axePath is axe-core's browser build, installed by npm ci --prefix tools/a11y.
var axePath = filepath.Join("..", "..", "tools", "a11y", "node_modules", "axe-core", "axe.min.js")

// loadAxe returns axe-core's script, or "" with the reason logged when it is not
// installed outside CI; in CI (CI set) a missing axe-core fails the test.
func loadAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err == nil {
		return string(b)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("axe-core is missing (%v): CI runs npm ci --prefix tools/a11y first", err)
	}
	t.Logf("accessibility check SKIPPED: %v; run npm ci --prefix tools/a11y to check every page with axe-core", err)
	return ""
}

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axe runs axe-core over the page in the tab and reports every serious or critical
// violation as a test error naming the page, the rule and the elements, so that one
// run lists them all.
func (p *tab) axe(script, page string) {
	p.t.Helper()
	if script == "" {
		return
	}
	vs := p.axeViolations(script, page)
	for _, v := range vs {
		p.t.Errorf("accessibility, %s: %s (%s) %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	if len(vs) == 0 {
		p.t.Logf("accessibility, %s: no serious or critical violations", page)
	}
}

// axeViolations injects axe-core into the page and returns its serious and critical
// violations.
func (p *tab) axeViolations(script, page string) []axeViolation {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](script+";\ntrue")); err != nil {
		p.fail("inject axe-core", err)
	}
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\s+/g, " "))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("run axe-core on "+page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		p.fail("axe-core's answer on "+page, err)
	}
	return vs
}

// String lists a violation for logs.
func (v axeViolation) String() string { return fmt.Sprintf("%s (%s)", v.ID, v.Impact) }

// TestAxeCheckFails proves the accessibility check can fail: on a page with an
// image without alt text, an unlabeled field and grey-on-white text, axe must report
// serious or critical violations through the same code the walkthrough uses.
func TestAxeCheckFails(t *testing.T) {
	exe := os.Getenv("WINNOW_TEST_CHROMIUM")
	if exe == "" {
		t.Skip("set WINNOW_TEST_CHROMIUM=/usr/bin/chromium to run the browser test")
	}
	script := loadAxe(t)
	if script == "" {
		t.Skip("axe-core is not installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><h1>Bad page</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text">
<p style="color:#ddd;background:#fff">Too faint to read</p></main></body></html>`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := newTab(t, startChromium(ctx, t, exe))
	p.do(chromedp.Navigate(srv.URL))
	got := p.axeViolations(script, "bad page")
	want := map[string]bool{"image-alt": false, "label": false, "color-contrast": false}
	for _, v := range got {
		if _, ok := want[v.ID]; ok {
			want[v.ID] = true
		}
	}
	for id, found := range want {
		if !found {
			t.Errorf("axe did not report %s; it reported %v", id, got)
		}
	}
}
