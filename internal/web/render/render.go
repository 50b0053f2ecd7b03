// Package render turns typed page data into HTML with the embedded templates, and turns
// errors into pages a person understands with the right HTTP status.
package render

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"winnow"
)

// Renderer holds the parsed templates: one set per page, each with its layout.
// Templates are parsed once at start; a declared page (see Page) that is missing or
// fails to parse stops the start.
type Renderer struct {
	pages   map[string]*template.Template
	layouts map[string]string // page → the layout template it executes
	logger  *slog.Logger
}

// candidatePrefix marks the pages candidates see: they use candidateLayout, which has
// none of the recruiter chrome, when fsys has it.
const (
	candidatePrefix = "candidate_"
	candidateLayout = "candidate_layout.html"
)

// New parses templates/layout.html and every templates/pages/*.html in fsys, and fails
// unless every declared Page is among them. Pages named candidate_* are wrapped in
// templates/candidate_layout.html instead, when it exists. Both layouts share
// templates/partials/*.html.
func New(fsys fs.FS, logger *slog.Logger) (*Renderer, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	var candidate *template.Template
	if _, err := fs.Stat(fsys, "templates/"+candidateLayout); err == nil {
		candidate, err = template.New(candidateLayout).Funcs(funcs).ParseFS(fsys, "templates/"+candidateLayout, "templates/partials/*.html")
		if err != nil {
			return nil, fmt.Errorf("parse candidate layout: %w", err)
		}
	}
	files, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no page templates found")
	}
	r := &Renderer{pages: map[string]*template.Template{}, layouts: map[string]string{}, logger: logger}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		base, entry := layout, "layout.html"
		if candidate != nil && strings.HasPrefix(name, candidatePrefix) {
			base, entry = candidate, candidateLayout
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		r.pages[name], r.layouts[name] = t, entry
	}
	var missing []string
	for _, p := range pages {
		if r.pages[p.name] == nil {
			missing = append(missing, "templates/pages/"+p.name+".html")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing page templates: %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// Page writes page with data and status. It renders into a buffer first so a template
// error becomes a clean 500, never half a page.
func (r *Renderer) Page(w http.ResponseWriter, req *http.Request, status int, page Page, data any) {
	var buf bytes.Buffer
	if err := r.pages[page.name].ExecuteTemplate(&buf, r.layouts[page.name], data); err != nil {
		r.logger.ErrorContext(req.Context(), "render page", "page", page.name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"datep": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	// localTime writes a deadline in UTC inside a <time> that ui/static/localtime.js
	// rewrites in the viewer's own time zone; without the script the UTC text stays.
	"localTime": func(t time.Time) template.HTML {
		if t.IsZero() {
			return ""
		}
		return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `" data-local-time>` +
			template.HTMLEscapeString(winnow.FormatDeadline(t)) + `</time>`)
	},
	"statusLabel": func(s winnow.ApplicantStatus) string { return s.Label() },
	"roleLabel":   func(r winnow.Role) string { return r.Label() },
	"statuses":    func() []winnow.ApplicantStatus { return winnow.Statuses },
	"lookup": func(m map[winnow.ApplicantStatus]int, s winnow.ApplicantStatus) int {
		return m[s]
	},
	"contains": func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	},
}
