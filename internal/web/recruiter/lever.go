package recruiter

import (
	"net/http"
	"net/url"

	"winnow"
	"winnow/internal/web/auth"
	"winnow/internal/web/render"
)

// IntegrationsPage is the data of Settings → Integrations: the Lever status panel,
// connect, settings, webhooks, failed writes and disconnect.
type IntegrationsPage struct {
	render.Base
	// Lever is the panel; nil when this server offers no Lever integration.
	Lever          *winnow.LeverPanel
	ConnectedBy    string // the admin who connected, by name
	Missing        []winnow.LeverScopeNeed
	ShowFailed     bool // the server can list and retry failed writes
	Failed         []*winnow.LeverWrite
	FailedError    string
	Error          string   // what went wrong with the last action
	Warnings       []string // what the last action could not do
	SignatureToken bool     // a pasted signature token is stored
	TagPrefix      string   // as submitted, when it was refused
}

// leverNotices are the sentences a redirect back to the panel may ask for.
var leverNotices = map[string]string{
	"connected":    "Lever is connected.",
	"key":          "Lever is connected with the API key.",
	"token":        "Signature token saved: deliveries signed with it are accepted.",
	"stage":        "Qualified stage saved.",
	"prefix":       "Tag prefix saved.",
	"performas":    "Saved: notes and stage moves are attributed to the chosen Lever user.",
	"webhooks":     "Webhooks are registered in Lever.",
	"disconnected": "Lever is disconnected. Winnow's webhooks in Lever were deleted and its credentials forgotten; settings and history are kept.",
	"retried":      "The write is queued again.",
}

// panelURL is the panel, with a notice.
func panelURL(notice string) string {
	return "/settings/integrations?lever=" + url.QueryEscape(notice) + "#lever"
}

// leverAdmin is the signed-in admin as the Lever connection sees them.
func leverAdmin(r *http.Request) winnow.LeverAdmin {
	u, a := me(r), winnow.LeverAdmin{}
	a.OrgID, a.UserID, a.Email = u.OrgID, u.ID, u.Email
	if id := auth.FromContext(r.Context()); id != nil {
		a.Session = id.SessionKey
	}
	return a
}

// Integrations shows the Lever panel.
func (h *Handler) Integrations(w http.ResponseWriter, r *http.Request) {
	h.renderIntegrations(w, r, http.StatusOK, IntegrationsPage{Base: render.Base{Notice: leverNotices[r.URL.Query().Get("lever")]}})
}

// renderIntegrations renders the panel with page's message fields, reading the rest.
// Lever being down does not break it: the panel says so and shows what is stored.
func (h *Handler) renderIntegrations(w http.ResponseWriter, r *http.Request, status int, page IntegrationsPage) {
	u := me(r)
	notice := page.Notice
	page.Base = h.base(r, "Integrations", "settings")
	page.Notice = notice
	if h.Lever != nil {
		panel, err := h.Lever.LeverPanel(r.Context(), u.OrgID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		page.Lever, page.SignatureToken = panel, panel.Connection.SignatureToken != ""
		c := panel.Connection
		// Reading Lever may have just found the credentials refused.
		page.LeverBanner = c.State == winnow.LeverNeedsReconnecting
		if c.Active() {
			page.Missing = c.MissingScopes()
		}
		if page.TagPrefix == "" {
			page.TagPrefix = c.TagPrefix
		}
		if c.ConnectedBy != "" {
			if by, err := h.Users.FindUserByID(r.Context(), u.OrgID, c.ConnectedBy); err == nil {
				page.ConnectedBy = userName(by)
			}
		}
	}
	if h.LeverWrites != nil {
		page.ShowFailed = true
		failed, err := h.LeverWrites.ListLeverWrites(r.Context(), u.OrgID, winnow.LeverWriteFilter{Status: winnow.LeverWriteFailed})
		if err != nil {
			h.Logger.ErrorContext(r.Context(), "list failed lever writes", "org_id", u.OrgID, "error", err)
			page.FailedError = "The failed writes could not be read just now."
		}
		page.Failed = failed
	}
	h.Render.Page(w, r, status, render.PageSettingsIntegrations, page)
}

// leverDone answers a panel action: back to the panel with its notice, or the panel
// with the warnings when there are any, or with the error.
func (h *Handler) leverDone(w http.ResponseWriter, r *http.Request, notice string, warnings []string, err error) {
	switch {
	case winnow.ErrorCode(err) == winnow.EINTERNAL:
		h.fail(w, r, err)
	case err != nil:
		h.renderIntegrations(w, r, render.Status(err), IntegrationsPage{Error: winnow.ErrorMessage(err)})
	case len(warnings) > 0:
		h.renderIntegrations(w, r, http.StatusOK, IntegrationsPage{Base: render.Base{Notice: leverNotices[notice]}, Warnings: warnings})
	default:
		http.Redirect(w, r, panelURL(notice), http.StatusSeeOther)
	}
}

// leverAvailable answers 404 when this server has no Lever integration.
func (h *Handler) leverAvailable(w http.ResponseWriter, r *http.Request) bool {
	if h.Lever == nil {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusNotFound, "This server offers no Lever integration.")
		return false
	}
	return true
}

// ConnectLever starts OAuth: the admin's browser goes to Lever's consent page. It is a
// GET (a link), since the pages' CSP lets forms post only to Winnow, redirects included.
func (h *Handler) ConnectLever(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	to, err := h.Lever.StartLeverOAuth(r.Context(), leverAdmin(r))
	if err != nil {
		h.leverDone(w, r, "", nil, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// LeverCallback is where Lever sends the admin back: connected, or a clear message and
// nothing stored.
func (h *Handler) LeverCallback(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	q := r.URL.Query()
	res, err := h.Lever.FinishLeverOAuth(r.Context(), leverAdmin(r), winnow.LeverCallback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description")})
	var warnings []string
	if res != nil {
		warnings = res.Warnings
	}
	h.leverDone(w, r, "connected", warnings, err)
}

// ConnectLeverAPIKey connects with a pasted API key, which Lever must accept first.
func (h *Handler) ConnectLeverAPIKey(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	res, err := h.Lever.ConnectLeverAPIKey(r.Context(), leverAdmin(r), r.PostFormValue("api_key"))
	var warnings []string
	if res != nil {
		warnings = res.Warnings
	}
	h.leverDone(w, r, "key", warnings, err)
}

// SaveLeverSignatureToken stores a signature token pasted from Lever.
func (h *Handler) SaveLeverSignatureToken(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	err := h.Lever.SetLeverSignatureToken(r.Context(), me(r).OrgID, r.PostFormValue("signature_token"))
	h.leverDone(w, r, "token", nil, err)
}

// SaveLeverSettings stores the one setting the form sends: the qualified stage, the
// tag prefix or the perform-as user.
func (h *Handler) SaveLeverSettings(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	var s winnow.LeverSettings
	notice := ""
	for _, f := range []struct {
		name, notice string
		dst          **string
	}{{"qualified_stage", "stage", &s.QualifiedStageID}, {"tag_prefix", "prefix", &s.TagPrefix}, {"perform_as", "performas", &s.PerformAs}} {
		if v, ok := r.PostForm[f.name]; ok && len(v) > 0 {
			val := v[0]
			*f.dst, notice = &val, f.notice
		}
	}
	if notice == "" {
		h.leverDone(w, r, "", nil, winnow.Errorf(winnow.EINVALID, "Nothing to save: the form named no setting."))
		return
	}
	_, err := h.Lever.UpdateLeverSettings(r.Context(), me(r).OrgID, s)
	if err != nil && s.TagPrefix != nil && winnow.ErrorCode(err) == winnow.EINVALID {
		h.renderIntegrations(w, r, render.Status(err), IntegrationsPage{Error: winnow.ErrorMessage(err), TagPrefix: *s.TagPrefix})
		return
	}
	h.leverDone(w, r, notice, nil, err)
}

// RegisterLeverWebhooks creates Winnow's missing webhooks in Lever.
func (h *Handler) RegisterLeverWebhooks(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	warnings, err := h.Lever.RegisterLeverWebhooks(r.Context(), me(r).OrgID)
	h.leverDone(w, r, "webhooks", warnings, err)
}

// DisconnectLever deletes Winnow's webhooks in Lever and forgets the credentials.
func (h *Handler) DisconnectLever(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	warnings, err := h.Lever.DisconnectLever(r.Context(), me(r).OrgID)
	if err == nil {
		h.Logger.InfoContext(r.Context(), "lever disconnected by admin", "org_id", me(r).OrgID, "user_id", me(r).ID)
	}
	h.leverDone(w, r, "disconnected", warnings, err)
}

// RetryLeverWrite puts a write that failed for good back in the queue.
func (h *Handler) RetryLeverWrite(w http.ResponseWriter, r *http.Request) {
	if h.LeverWrites == nil {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusNotFound, "This server cannot retry writes to Lever.")
		return
	}
	err := h.LeverWrites.RetryLeverWrite(r.Context(), me(r).OrgID, r.PathValue("id"))
	if err == nil {
		h.Logger.InfoContext(r.Context(), "lever write retried", "org_id", me(r).OrgID, "write_id", r.PathValue("id"), "user_id", me(r).ID)
	}
	h.leverDone(w, r, "retried", nil, err)
}

// JobIntegrationsPage is the data of a job's Integrations page: its Lever posting and
// qualified stage.
type JobIntegrationsPage struct {
	render.Base
	Funnel      *winnow.Funnel
	Available   bool                  // the server offers Lever
	State       winnow.LeverState     // the org's connection
	Linked      *winnow.LeverPosting  // the linked posting, when Lever lists it
	Postings    []winnow.LeverPosting // those matching Query
	Total       int                   // all postings Lever listed
	Query       string                // the search
	Taken       map[string]string     // posting ID → title of the other open job linked to it
	Stages      []winnow.LeverPipelineStage
	OrgStage    string // the org's qualified stage, by name
	Unreachable string // why Lever could not be asked
	Error       string
}

// jobNotices are the sentences a redirect back to a job's Integrations may ask for.
var jobNotices = map[string]string{
	"linked":   "The job is linked to the posting: applications to it are invited into this job.",
	"unlinked": "The job is no longer linked to a Lever posting.",
	"stage":    "Qualified stage saved for this job.",
}

// JobIntegrations shows a job's Lever link: the posting picker (searchable without
// JavaScript) and the job's qualified stage.
func (h *Handler) JobIntegrations(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.renderJobIntegrations(w, r, http.StatusOK, f, JobIntegrationsPage{Base: render.Base{Notice: jobNotices[r.URL.Query().Get("saved")]}})
}

func (h *Handler) renderJobIntegrations(w http.ResponseWriter, r *http.Request, status int, f *winnow.Funnel, page JobIntegrationsPage) {
	u := me(r)
	notice := page.Notice
	page.Base, page.Funnel, page.Available = h.base(r, "Integrations · "+f.Title, "jobs"), f, h.Lever != nil
	page.Notice, page.Query = notice, r.URL.Query().Get("q")
	if h.Lever == nil {
		h.Render.Page(w, r, status, render.PageJobIntegrations, page)
		return
	}
	panel, err := h.Lever.LeverPanel(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page.State, page.Stages, page.OrgStage = panel.Connection.State, panel.Stages, panel.Connection.QualifiedStageName
	page.LeverBanner = page.IsAdmin() && page.State == winnow.LeverNeedsReconnecting
	page.Unreachable = panel.Unreachable
	if panel.Connection.Usable() && page.Unreachable == "" {
		postings, err := h.Lever.LeverPostings(r.Context(), u.OrgID)
		if err != nil {
			page.Unreachable = winnow.ErrorMessage(err)
		}
		page.Total = len(postings)
		for i, p := range postings {
			if p.ID == f.LeverPostingID {
				page.Linked = &postings[i]
			}
			if p.Matches(page.Query) {
				page.Postings = append(page.Postings, p)
			}
		}
		open, err := h.Funnels.ListFunnels(r.Context(), u.OrgID, winnow.FunnelFilter{Status: winnow.FunnelOpen})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		page.Taken = map[string]string{}
		for _, o := range open {
			if o.ID != f.ID && o.LeverPostingID != "" {
				page.Taken[o.LeverPostingID] = o.Title
			}
		}
	}
	h.Render.Page(w, r, status, render.PageJobIntegrations, page)
}

// LinkJobPosting links the job to the chosen posting, or unlinks it (an empty one).
func (h *Handler) LinkJobPosting(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.leverAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	posting := r.PostFormValue("posting")
	if r.PostFormValue("unlink") != "" {
		posting = ""
	} else if posting == "" {
		h.renderJobIntegrations(w, r, http.StatusUnprocessableEntity, f, JobIntegrationsPage{Error: "Choose a posting to link, or unlink the job."})
		return
	}
	updated, err := h.Lever.LinkLeverPosting(r.Context(), me(r).OrgID, f.ID, posting)
	if err != nil {
		h.jobIntegrationsFailed(w, r, f, err)
		return
	}
	h.logFunnel(r, "job lever posting saved", updated, "posting_id", posting)
	saved := "linked"
	if posting == "" {
		saved = "unlinked"
	}
	http.Redirect(w, r, "/jobs/"+f.ID+"/integrations?saved="+saved, http.StatusSeeOther)
}

// SaveJobStage sets the job's own qualified stage, or clears it for the org's.
func (h *Handler) SaveJobStage(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.leverAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	if _, err := h.Lever.SetFunnelLeverStage(r.Context(), me(r).OrgID, f.ID, r.PostFormValue("qualified_stage")); err != nil {
		h.jobIntegrationsFailed(w, r, f, err)
		return
	}
	http.Redirect(w, r, "/jobs/"+f.ID+"/integrations?saved=stage", http.StatusSeeOther)
}

// jobIntegrationsFailed shows the job's Integrations again with the error, or an error
// page for errors that are not the input's or Lever's.
func (h *Handler) jobIntegrationsFailed(w http.ResponseWriter, r *http.Request, f *winnow.Funnel, err error) {
	if winnow.ErrorCode(err) == winnow.EINTERNAL {
		h.fail(w, r, err)
		return
	}
	h.renderJobIntegrations(w, r, render.Status(err), f, JobIntegrationsPage{Error: winnow.ErrorMessage(err)})
}
