package recruiter

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// EmailSettingsPage is the data of Settings → Emails.
type EmailSettingsPage struct {
	render.Base
	Mode      winnow.MailMode
	Counts    []StatusCount
	Problems  []*winnow.Email // failed or of unknown outcome, newest first
	Templates []*winnow.Template
	// Subjects are the templates' subjects filled in with the preview's example values,
	// by kind, as a candidate would read them.
	Subjects map[winnow.EmailKind]string
	// ReplyTo is the org's address for candidates as stored, or as submitted with
	// ReplyToError; ReplyToSaved marks it just saved.
	ReplyTo      string
	ReplyToError string
	ReplyToSaved bool
}

// StatusCount is how many of the org's emails are in one status.
type StatusCount struct {
	Status winnow.EmailStatus
	Label  string
	N      int
}

// EmailSettings shows how email leaves Winnow (an SMTP server, or the outbox when none
// is configured), counts by status, the emails that failed, and the org's templates.
func (h *Handler) EmailSettings(w http.ResponseWriter, r *http.Request) {
	page := EmailSettingsPage{ReplyToSaved: r.URL.Query().Get("saved") == "reply-to"}
	if o := h.base(r, "", "").Org; o != nil {
		page.ReplyTo = o.ReplyTo
	}
	h.renderEmailSettings(w, r, http.StatusOK, page)
}

// renderEmailSettings renders Settings → Emails around the reply-to form's state in page.
func (h *Handler) renderEmailSettings(w http.ResponseWriter, r *http.Request, status int, page EmailSettingsPage) {
	u := me(r)
	ctx := r.Context()
	counts, err := h.Emails.CountEmails(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	problems, err := h.Emails.ListEmails(ctx, u.OrgID, winnow.EmailFilter{Statuses: []winnow.EmailStatus{winnow.EmailFailed, winnow.EmailUnknown}, Limit: 20})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	templates, err := h.Templates.ListTemplates(ctx, u.OrgID, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page.Base, page.Mode, page.Problems, page.Templates = h.base(r, "Emails", "settings"), h.MailMode, problems, templates
	page.Subjects = h.sampleSubjects(r, nil, templates)
	for _, st := range winnow.EmailStatuses {
		if n := counts[st]; n > 0 {
			page.Counts = append(page.Counts, StatusCount{Status: st, Label: st.Label(), N: n})
		}
	}
	h.Render.Page(w, r, status, render.PageSettingsTemplates, page)
}

// TemplatePage is the data of the template editor, for the org (Funnel nil) or one job.
type TemplatePage struct {
	render.Base
	Funnel    *winnow.Funnel
	Template  *winnow.Template // as in force, or as submitted
	Source    winnow.TemplateSource
	Variables []winnow.TemplateVariable
	Error     string
	Saved     bool
	Action    string // where the form posts
	Back      string
}

// FunnelTemplatesPage is the data of a job's list of templates.
type FunnelTemplatesPage struct {
	render.Base
	Funnel    *winnow.Funnel
	Templates []*winnow.Template
	Subjects  map[winnow.EmailKind]string // as in EmailSettingsPage
}

// OrgTemplate shows the editor for one of the org's templates.
func (h *Handler) OrgTemplate(w http.ResponseWriter, r *http.Request) {
	h.templateForm(w, r, nil)
}

// SaveOrgTemplate previews, saves or resets one of the org's templates.
func (h *Handler) SaveOrgTemplate(w http.ResponseWriter, r *http.Request) {
	h.saveTemplate(w, r, nil)
}

// FunnelTemplates lists a job's templates and where each comes from.
func (h *Handler) FunnelTemplates(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	list, err := h.Templates.ListTemplates(r.Context(), f.OrgID, f.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageSettingsTemplatesJob, FunnelTemplatesPage{Base: h.base(r, f.Title+" · Emails", "jobs"),
		Funnel: f, Templates: list, Subjects: h.sampleSubjects(r, f, list)})
}

// FunnelTemplate shows the editor for one of a job's templates.
func (h *Handler) FunnelTemplate(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.templateForm(w, r, f)
}

// SaveFunnelTemplate previews, saves or resets one of a job's templates.
func (h *Handler) SaveFunnelTemplate(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.saveTemplate(w, r, f)
}

// templateForm renders the editor with the template in force.
func (h *Handler) templateForm(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) {
	kind, ok := h.kind(w, r, f)
	if !ok {
		return
	}
	u := me(r)
	t, err := h.Templates.FindTemplate(r.Context(), u.OrgID, funnelID(f), kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := h.templatePage(r, f, t)
	page.Saved = r.URL.Query().Get("saved") != ""
	if page.Saved {
		page.Notice = "Template saved."
	}
	h.Render.Page(w, r, http.StatusOK, render.PageSettingsTemplatesEdit, page)
}

// saveTemplate handles the editor's three buttons: preview renders the submitted
// template without storing it; save validates and stores it, or shows the error with its
// line; reset removes this level's own template.
func (h *Handler) saveTemplate(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) {
	kind, ok := h.kind(w, r, f)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u := me(r)
	ctx := r.Context()
	back := h.editorPath(f, kind)
	if r.PostFormValue("action") == "reset" {
		if err := h.Templates.DeleteTemplate(ctx, u.OrgID, funnelID(f), kind); err != nil {
			h.fail(w, r, err)
			return
		}
		h.Logger.InfoContext(ctx, "email template reset", "org_id", u.OrgID, "funnel_id", funnelID(f), "kind", string(kind), "user_id", u.ID)
		http.Redirect(w, r, back+"?saved=reset", http.StatusSeeOther)
		return
	}
	t := &winnow.Template{OrgID: u.OrgID, FunnelID: funnelID(f), Kind: kind, Subject: r.PostFormValue("subject"),
		Body: r.PostFormValue("body"), Enabled: r.PostFormValue("enabled") != "", UpdatedBy: u.ID}
	current, err := h.Templates.FindTemplate(ctx, u.OrgID, funnelID(f), kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := h.templatePage(r, f, t)
	page.Source = current.Source
	if r.PostFormValue("action") == "preview" {
		// The editor's Preview button posts here into the preview frame; nothing is stored.
		h.previewDocument(w, r, f, t)
		return
	}
	if err := h.Templates.SaveTemplate(ctx, t); err != nil {
		if code := winnow.ErrorCode(err); code == winnow.EINVALID {
			page.Error = winnow.ErrorMessage(err)
			h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageSettingsTemplatesEdit, page)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(ctx, "email template saved", "org_id", u.OrgID, "funnel_id", funnelID(f), "kind", string(kind), "user_id", u.ID)
	http.Redirect(w, r, back+"?saved=1", http.StatusSeeOther)
}

// OrgTemplatePreview serves the preview frame of one of the org's templates as in force.
func (h *Handler) OrgTemplatePreview(w http.ResponseWriter, r *http.Request) {
	h.templatePreview(w, r, nil)
}

// FunnelTemplatePreview serves the preview frame of one of a job's templates as in force.
func (h *Handler) FunnelTemplatePreview(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.templatePreview(w, r, f)
}

func (h *Handler) templatePreview(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) {
	kind, ok := h.kind(w, r, f)
	if !ok {
		return
	}
	t, err := h.Templates.FindTemplate(r.Context(), me(r).OrgID, funnelID(f), kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.previewDocument(w, r, f, t)
}

// previewDocument writes t, filled in with example values, as the document of the
// editor's preview frame: the subject, the HTML part as the mail viewer shows it
// (styled, under the same policy) and the text part. A template that does not render
// shows its error there instead.
func (h *Handler) previewDocument(w http.ResponseWriter, r *http.Request, f *winnow.Funnel, t *winnow.Template) {
	emailFrameHeaders(w)
	err := t.Validate()
	var p *winnow.RenderedEmail
	if err == nil {
		p, err = h.preview(r, f, t)
	}
	if err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><p style="font:15px/1.5 system-ui,sans-serif;color:#b42318;margin:16px">%s</p>`,
			html.EscapeString(winnow.ErrorMessage(err)))
		return
	}
	head := `<div style="font:14px/1.5 system-ui,sans-serif;color:#1f2328;padding:10px 16px;background:#fff;border-bottom:1px solid #dfe3ea">` +
		`<strong>Subject:</strong> ` + html.EscapeString(p.Subject) + `</div>`
	text := `<div style="font:14px/1.5 system-ui,sans-serif;color:#5d6778;padding:16px 24px 4px">Text version</div>` +
		`<pre style="white-space:pre-wrap;font:13px/1.5 ui-monospace,monospace;margin:0 24px 24px;padding:12px;background:#fff;border:1px solid #dfe3ea">` +
		html.EscapeString(p.Text) + `</pre>`
	doc := p.HTML
	if i := strings.Index(doc, "<body"); i >= 0 {
		if j := strings.Index(doc[i:], ">"); j >= 0 {
			doc = doc[:i+j+1] + head + doc[i+j+1:]
		}
	}
	if i := strings.LastIndex(doc, "</body>"); i >= 0 {
		doc = doc[:i] + text + doc[i:]
	}
	w.Write([]byte(withBaseTarget(doc)))
}

// kind reads the email kind from the path; jobs have no member-invitation template.
func (h *Handler) kind(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) (winnow.EmailKind, bool) {
	kind, err := winnow.ParseEmailKind(r.PathValue("kind"))
	if err == nil && f != nil && !kind.ForCandidates() {
		err = winnow.Errorf(winnow.ENOTFOUND, "Jobs have no template of this kind.")
	}
	if err != nil {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusNotFound, "There is no email template of that kind.")
		return "", false
	}
	return kind, true
}

func (h *Handler) templatePage(r *http.Request, f *winnow.Funnel, t *winnow.Template) TemplatePage {
	title, nav, back := t.Kind.Label()+" email", "settings", "/settings/emails"
	if f != nil {
		title, nav, back = t.Kind.Label()+" email · "+f.Title, "jobs", "/jobs/"+f.ID+"/emails"
	}
	return TemplatePage{Base: h.base(r, title, nav), Funnel: f, Template: t, Source: t.Source,
		Variables: winnow.TemplateVariables(t.Kind), Action: h.editorPath(f, t.Kind), Back: back}
}

func (h *Handler) editorPath(f *winnow.Funnel, kind winnow.EmailKind) string {
	if f != nil {
		return "/jobs/" + f.ID + "/emails/" + string(kind)
	}
	return "/settings/emails/" + string(kind)
}

// preview renders t with example values: the org's name, the job's title (or an example
// title at org level), a link that opens nothing.
func (h *Handler) preview(r *http.Request, f *winnow.Funnel, t *winnow.Template) (*winnow.RenderedEmail, error) {
	u := me(r)
	company := "Your company"
	if b := h.base(r, "", ""); b.Org != nil {
		company = b.Org.Name
	}
	job := "Backend Engineer"
	if f != nil {
		job = f.Title
	}
	link := h.BaseURL + winnow.CandidatePath("example-link")
	inviter := strings.TrimSpace(u.Name)
	if inviter == "" {
		inviter = u.Email
	}
	data := winnow.TemplateData{FirstName: "Ada", CandidateName: "Ada Lovelace", JobTitle: job, Company: company, Link: link,
		OptOutLink: h.BaseURL + winnow.OptOutPath("example-link"), Deadline: winnow.FormatDeadline(h.Clock.Now().Add(winnow.DefaultCadence().OptOutAfter)),
		ReminderNumber: "2", InviterName: inviter, Role: winnow.RoleMember.Label()}
	switch t.Kind {
	case winnow.EmailMemberInvite:
		data.Link = h.BaseURL + "/invite/example-link"
	case winnow.EmailLeverReconnect:
		data.Link, data.Reason = h.BaseURL+winnow.LeverPanelPath, "Lever refused to renew access: access was revoked"
	}
	out, err := t.Render(data)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// sampleSubjects fills in each template's subject with the preview's example values;
// a subject that does not render is shown as written.
func (h *Handler) sampleSubjects(r *http.Request, f *winnow.Funnel, list []*winnow.Template) map[winnow.EmailKind]string {
	out := make(map[winnow.EmailKind]string, len(list))
	for _, t := range list {
		out[t.Kind] = t.Subject
		if p, err := h.preview(r, f, t); err == nil {
			out[t.Kind] = p.Subject
		}
	}
	return out
}

func funnelID(f *winnow.Funnel) string {
	if f == nil {
		return ""
	}
	return f.ID
}
