package leversandbox

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

//go:embed templates
var templateFS embed.FS

// pageNames are the templates under templates/, each rendered inside
// layout.html. A missing one fails New.
var pageNames = []string{"home", "posting", "opportunities", "opportunity", "webhooks", "deliveries", "settings", "consent", "error"}

type pages struct {
	t   map[string]*template.Template
	css []byte
}

func parsePages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.t[name] = t
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("read style: %w", err)
	}
	p.css = css
	return p, nil
}

// Page data, one type per page.
type (
	errorPage   struct{ Title, Message string }
	consentPage struct{ Req authRequest }
	homePage    struct{ Postings []*posting }
	postingPage struct {
		Posting  posting
		CanApply bool
		Error    string
	}
	opportunitiesPage struct{ Opportunities []OpportunityState }
	opportunityPage   struct {
		Opp         OpportunityState
		PostingText string
		Stages      []stage
		Reasons     []stage
		ReasonText  string
	}
	webhooksPage struct {
		Flash    string
		Webhooks []WebhookInfo
		Events   []string
	}
	deliveryRow struct {
		Delivery
		When string
	}
	deliveriesPage struct{ Deliveries []deliveryRow }
	settingsPage   struct {
		Flash, Base, ClientID, ClientSecret, APIKey string
		Tokens                                      int
		Faults                                      Faults
		Stats                                       Stats
		Users                                       []user
	}
)

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	s.renderStatus(w, http.StatusOK, name, data)
}

// renderStatus renders into a buffer first so a template error never
// leaves half a page behind.
func (s *Server) renderStatus(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("sandbox render", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *Server) notFoundPage(w http.ResponseWriter) {
	s.renderStatus(w, http.StatusNotFound, "error", errorPage{Title: "Not found", Message: "There is nothing at this address."})
}

// uiForm parses a UI form with the body limit; it renders the error itself.
func (s *Server) uiForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Bad request", Message: "The form could not be read."})
		return false
	}
	return true
}

func (s *Server) uiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /ui/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(s.pages.css)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ps := make([]*posting, 0, len(s.st.Postings))
		for _, p := range s.st.Postings {
			c := *p
			ps = append(ps, &c)
		}
		s.mu.Unlock()
		s.render(w, "home", homePage{Postings: ps})
	})
	mux.HandleFunc("POST /ui/postings", func(w http.ResponseWriter, r *http.Request) {
		if !s.uiForm(w, r) {
			return
		}
		id, err := s.CreatePosting(PostingInput{Text: r.PostFormValue("text"), State: r.PostFormValue("state"), Team: r.PostFormValue("team"), Location: r.PostFormValue("location")})
		if err != nil {
			s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Posting not created", Message: err.Error()})
			return
		}
		http.Redirect(w, r, "/ui/postings/"+url.PathEscape(id), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/postings/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.postingPage(w, r.PathValue("id"), "", http.StatusOK)
	})
	mux.HandleFunc("POST /ui/apply", func(w http.ResponseWriter, r *http.Request) {
		if !s.uiForm(w, r) {
			return
		}
		a, err := s.Apply(ApplyInput{PostingID: r.PostFormValue("postingId"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone")})
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, errNotFound) {
				status = http.StatusNotFound
			}
			s.postingPage(w, r.PostFormValue("postingId"), err.Error(), status)
			return
		}
		http.Redirect(w, r, "/ui/opportunities/"+url.PathEscape(a.OpportunityID), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/opportunities", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var list []OpportunityState
		for i := len(s.st.Opportunities) - 1; i >= 0; i-- {
			list = append(list, s.opportunityStateLocked(s.st.Opportunities[i]))
		}
		s.mu.Unlock()
		s.render(w, "opportunities", opportunitiesPage{Opportunities: list})
	})
	mux.HandleFunc("GET /ui/opportunities/{id}", func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.Opportunity(r.PathValue("id"))
		if !ok {
			s.notFoundPage(w)
			return
		}
		page := opportunityPage{Opp: o, Reasons: archiveReasons}
		s.mu.Lock()
		if p := s.st.posting(o.PostingID); p != nil {
			page.PostingText = p.Text
		}
		for _, st := range s.st.Stages {
			page.Stages = append(page.Stages, *st)
		}
		s.mu.Unlock()
		for _, r := range archiveReasons {
			if r.ID == o.ArchiveReason {
				page.ReasonText = r.Text
			}
		}
		s.render(w, "opportunity", page)
	})
	// What a recruiter does to a candidate in Lever: each fires its webhook.
	opportunityAction := func(path string, act func(r *http.Request, id string) error) {
		mux.HandleFunc("POST /ui/opportunities/{id}/"+path, func(w http.ResponseWriter, r *http.Request) {
			if !s.uiForm(w, r) {
				return
			}
			id := r.PathValue("id")
			if err := act(r, id); err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, errNotFound) {
					status = http.StatusNotFound
				}
				s.renderStatus(w, status, "error", errorPage{Title: "Not changed", Message: err.Error()})
				return
			}
			http.Redirect(w, r, "/ui/opportunities/"+url.PathEscape(id), http.StatusSeeOther)
		})
	}
	opportunityAction("stage", func(r *http.Request, id string) error { return s.MoveStage(id, r.PostFormValue("stage")) })
	opportunityAction("archive", func(r *http.Request, id string) error { return s.Archive(id, r.PostFormValue("reason")) })
	opportunityAction("unarchive", func(r *http.Request, id string) error { return s.Unarchive(id) })
	opportunityAction("delete", func(r *http.Request, id string) error { return s.DeleteOpportunity(id) })
	mux.HandleFunc("GET /ui/webhooks", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, "webhooks", webhooksPage{Webhooks: s.Webhooks(), Events: knownEvents, Flash: r.URL.Query().Get("flash")})
	})
	mux.HandleFunc("POST /ui/webhooks", func(w http.ResponseWriter, r *http.Request) {
		if !s.uiForm(w, r) {
			return
		}
		if _, err := s.AddWebhook(WebhookInput{URL: r.PostFormValue("url"), Event: r.PostFormValue("event")}); err != nil {
			s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Webhook not added", Message: err.Error()})
			return
		}
		http.Redirect(w, r, "/ui/webhooks", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /ui/webhooks/{id}/verify", func(w http.ResponseWriter, r *http.Request) {
		d, err := s.VerifyWebhook(r.PathValue("id"))
		if err != nil {
			s.notFoundPage(w)
			return
		}
		msg := "Verify connection failed: "
		switch {
		case d.OK:
			msg = "Verify connection passed: " + strconv.Itoa(d.Status)
		case d.Error != "":
			msg += d.Error
		default:
			msg += "status " + strconv.Itoa(d.Status)
		}
		http.Redirect(w, r, "/ui/webhooks?flash="+url.QueryEscape(msg), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /ui/webhooks/{id}/delete", func(w http.ResponseWriter, r *http.Request) {
		s.deleteWebhook(r.PathValue("id"))
		http.Redirect(w, r, "/ui/webhooks", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/deliveries", func(w http.ResponseWriter, r *http.Request) {
		ds := s.Deliveries()
		slices.Reverse(ds)
		rows := make([]deliveryRow, len(ds))
		for i, d := range ds {
			rows[i] = deliveryRow{Delivery: d, When: time.UnixMilli(d.At).Format("2006-01-02 15:04:05.000")}
		}
		s.render(w, "deliveries", deliveriesPage{Deliveries: rows})
	})
	mux.HandleFunc("POST /ui/deliveries/{id}/rerun", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Rerun(r.PathValue("id")); err != nil {
			s.renderStatus(w, http.StatusNotFound, "error", errorPage{Title: "Not sent again", Message: err.Error()})
			return
		}
		http.Redirect(w, r, "/ui/deliveries", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /ui/users/{id}/deactivate", func(w http.ResponseWriter, r *http.Request) {
		if err := s.DeactivateUser(r.PathValue("id")); err != nil {
			s.notFoundPage(w)
			return
		}
		http.Redirect(w, r, "/ui/settings?flash="+url.QueryEscape("User deactivated."), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/settings", func(w http.ResponseWriter, r *http.Request) {
		s.settingsPage(w, r, r.URL.Query().Get("flash"))
	})
	mux.HandleFunc("POST /ui/api-keys", func(w http.ResponseWriter, r *http.Request) {
		key := s.MintAPIKey()
		s.settingsPage(w, r, "New API key: "+key)
	})
	mux.HandleFunc("POST /ui/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.Revoke()
		http.Redirect(w, r, "/ui/settings?flash="+url.QueryEscape("Access revoked. Every token and refresh now fails."), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /ui/faults", func(w http.ResponseWriter, r *http.Request) {
		if !s.uiForm(w, r) {
			return
		}
		var f Faults
		var errs []error
		parse := func(name string) float64 {
			v := r.PostFormValue(name)
			if v == "" {
				return 0
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s is not a number", name))
			}
			return x
		}
		f.ErrorRate = parse("errorRate")
		f.LatencyMs = int(parse("latencyMs"))
		f.TimeoutAfterWriteRate = parse("timeoutAfterWriteRate")
		if err := errors.Join(errs...); err != nil {
			s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Faults not saved", Message: err.Error()})
			return
		}
		if err := s.SetFaults(f); err != nil {
			s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Faults not saved", Message: err.Error()})
			return
		}
		http.Redirect(w, r, "/ui/settings?flash="+url.QueryEscape("Faults saved."), http.StatusSeeOther)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFoundPage(w) })
}

func (s *Server) postingPage(w http.ResponseWriter, id, errMsg string, status int) {
	s.mu.Lock()
	p := s.st.posting(id)
	var c posting
	if p != nil {
		c = *p
	}
	s.mu.Unlock()
	if p == nil {
		s.notFoundPage(w)
		return
	}
	s.renderStatus(w, status, "posting", postingPage{Posting: c, CanApply: c.State == "published" || c.State == "internal", Error: errMsg})
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, flash string) {
	s.mu.Lock()
	page := settingsPage{
		Flash: flash, Base: baseURL(r), ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret,
		APIKey: s.st.APIKeys[0], Tokens: len(s.st.AccessTokens), Faults: s.faults,
	}
	for _, u := range s.st.Users {
		page.Users = append(page.Users, *u)
	}
	s.mu.Unlock()
	page.Stats = s.Stats()
	s.render(w, "settings", page)
}
