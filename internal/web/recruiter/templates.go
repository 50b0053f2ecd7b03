package recruiter

import (
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// Mail serves the email pages: Settings → Emails (how email leaves Winnow, what went
// wrong, the org's templates), a job's own templates, the mail viewer, and resend and
// extend on the applicant card. It shares the recruiter Handler's helpers.
type Mail struct {
	*Handler
	Templates   winnow.TemplateService
	Emails      winnow.EmailService
	Invitations winnow.InvitationService
	Mode        winnow.MailMode
}

// EmailSettingsPage is the data of Settings → Emails.
type EmailSettingsPage struct {
	render.Base
	Mode      winnow.MailMode
	Counts    []StatusCount
	Problems  []*winnow.Email // failed or of unknown outcome, newest first
	Templates []*winnow.Template
}

// StatusCount is how many of the org's emails are in one status.
type StatusCount struct {
	Status winnow.EmailStatus
	Label  string
	N      int
}

// EmailSettings shows how email leaves Winnow (an SMTP server, or the outbox when none
// is configured), counts by status, the emails that failed, and the org's templates.
func (m *Mail) EmailSettings(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	ctx := r.Context()
	counts, err := m.Emails.CountEmails(ctx, u.OrgID)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	problems, err := m.Emails.ListEmails(ctx, u.OrgID, winnow.EmailFilter{Statuses: []winnow.EmailStatus{winnow.EmailFailed, winnow.EmailUnknown}, Limit: 20})
	if err != nil {
		m.fail(w, r, err)
		return
	}
	templates, err := m.Templates.ListTemplates(ctx, u.OrgID, "")
	if err != nil {
		m.fail(w, r, err)
		return
	}
	page := EmailSettingsPage{Base: m.base(r, "Emails", "settings"), Mode: m.Mode, Problems: problems, Templates: templates}
	for _, st := range winnow.EmailStatuses {
		if n := counts[st]; n > 0 {
			page.Counts = append(page.Counts, StatusCount{Status: st, Label: st.Label(), N: n})
		}
	}
	m.Render.Page(w, r, http.StatusOK, "settings_templates", page)
}

// TemplatePage is the data of the template editor, for the org (Job nil) or one job.
type TemplatePage struct {
	render.Base
	Job       *winnow.Funnel
	Template  *winnow.Template // as in force, or as submitted
	Source    winnow.TemplateSource
	Variables []winnow.TemplateVariable
	Preview   *winnow.RenderedEmail
	Error     string
	Saved     bool
	Action    string // where the form posts
	Back      string
}

// JobTemplatesPage is the data of a job's list of templates.
type JobTemplatesPage struct {
	render.Base
	Job       *winnow.Funnel
	Templates []*winnow.Template
}

// OrgTemplate shows the editor for one of the org's templates.
func (m *Mail) OrgTemplate(w http.ResponseWriter, r *http.Request) {
	m.templateForm(w, r, nil)
}

// SaveOrgTemplate previews, saves or resets one of the org's templates.
func (m *Mail) SaveOrgTemplate(w http.ResponseWriter, r *http.Request) {
	m.saveTemplate(w, r, nil)
}

// JobTemplates lists a job's templates and where each comes from.
func (m *Mail) JobTemplates(w http.ResponseWriter, r *http.Request) {
	f, ok := m.visibleFunnel(w, r)
	if !ok {
		return
	}
	list, err := m.Templates.ListTemplates(r.Context(), f.OrgID, f.ID)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	m.Render.Page(w, r, http.StatusOK, "settings_templates_job", JobTemplatesPage{Base: m.base(r, f.Title+" · Emails", "jobs"), Job: f, Templates: list})
}

// JobTemplate shows the editor for one of a job's templates.
func (m *Mail) JobTemplate(w http.ResponseWriter, r *http.Request) {
	f, ok := m.visibleFunnel(w, r)
	if !ok {
		return
	}
	m.templateForm(w, r, f)
}

// SaveJobTemplate previews, saves or resets one of a job's templates.
func (m *Mail) SaveJobTemplate(w http.ResponseWriter, r *http.Request) {
	f, ok := m.visibleFunnel(w, r)
	if !ok {
		return
	}
	m.saveTemplate(w, r, f)
}

// templateForm renders the editor with the template in force.
func (m *Mail) templateForm(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) {
	kind, ok := m.kind(w, r, f)
	if !ok {
		return
	}
	u := me(r)
	t, err := m.Templates.FindTemplate(r.Context(), u.OrgID, funnelID(f), kind)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	page := m.templatePage(r, f, t)
	page.Saved = r.URL.Query().Get("saved") != ""
	if page.Saved {
		page.Notice = "Template saved."
	}
	if p, err := m.preview(r, f, t); err == nil {
		page.Preview = p
	}
	m.Render.Page(w, r, http.StatusOK, "settings_templates_edit", page)
}

// saveTemplate handles the editor's three buttons: preview renders the submitted
// template without storing it; save validates and stores it, or shows the error with its
// line; reset removes this level's own template.
func (m *Mail) saveTemplate(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) {
	kind, ok := m.kind(w, r, f)
	if !ok || !m.parseForm(w, r) {
		return
	}
	u := me(r)
	ctx := r.Context()
	back := m.editorPath(f, kind)
	if r.PostFormValue("action") == "reset" {
		if err := m.Templates.DeleteTemplate(ctx, u.OrgID, funnelID(f), kind); err != nil {
			m.fail(w, r, err)
			return
		}
		m.Logger.InfoContext(ctx, "email template reset", "org_id", u.OrgID, "funnel_id", funnelID(f), "kind", string(kind), "user_id", u.ID)
		http.Redirect(w, r, back+"?saved=reset", http.StatusSeeOther)
		return
	}
	t := &winnow.Template{OrgID: u.OrgID, FunnelID: funnelID(f), Kind: kind, Subject: r.PostFormValue("subject"),
		Body: r.PostFormValue("body"), Enabled: r.PostFormValue("enabled") != "", UpdatedBy: u.ID}
	current, err := m.Templates.FindTemplate(ctx, u.OrgID, funnelID(f), kind)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	page := m.templatePage(r, f, t)
	page.Source = current.Source
	if r.PostFormValue("action") == "preview" {
		// Validate only to report the line at fault; nothing is stored.
		if err := t.Validate(); err != nil {
			page.Error = winnow.ErrorMessage(err)
			m.Render.Page(w, r, http.StatusUnprocessableEntity, "settings_templates_edit", page)
			return
		}
		if page.Preview, err = m.preview(r, f, t); err != nil {
			page.Error = winnow.ErrorMessage(err)
		}
		m.Render.Page(w, r, http.StatusOK, "settings_templates_edit", page)
		return
	}
	if err := m.Templates.SaveTemplate(ctx, t); err != nil {
		if code := winnow.ErrorCode(err); code == winnow.EINVALID {
			page.Error = winnow.ErrorMessage(err)
			m.Render.Page(w, r, http.StatusUnprocessableEntity, "settings_templates_edit", page)
			return
		}
		m.fail(w, r, err)
		return
	}
	m.Logger.InfoContext(ctx, "email template saved", "org_id", u.OrgID, "funnel_id", funnelID(f), "kind", string(kind), "user_id", u.ID)
	http.Redirect(w, r, back+"?saved=1", http.StatusSeeOther)
}

// kind reads the email kind from the path; jobs have no member-invitation template.
func (m *Mail) kind(w http.ResponseWriter, r *http.Request, f *winnow.Funnel) (winnow.EmailKind, bool) {
	kind, err := winnow.ParseEmailKind(r.PathValue("kind"))
	if err == nil && f != nil && !kind.ForCandidates() {
		err = winnow.Errorf(winnow.ENOTFOUND, "Jobs have no template of this kind.")
	}
	if err != nil {
		m.Render.ErrorStatus(w, r, m.base(r, "", ""), http.StatusNotFound, "There is no email template of that kind.")
		return "", false
	}
	return kind, true
}

func (m *Mail) templatePage(r *http.Request, f *winnow.Funnel, t *winnow.Template) TemplatePage {
	title, nav, back := t.Kind.Label()+" email", "settings", "/settings/emails"
	if f != nil {
		title, nav, back = t.Kind.Label()+" email · "+f.Title, "jobs", "/jobs/"+f.ID+"/emails"
	}
	return TemplatePage{Base: m.base(r, title, nav), Job: f, Template: t, Source: t.Source,
		Variables: winnow.TemplateVariables(t.Kind), Action: m.editorPath(f, t.Kind), Back: back}
}

func (m *Mail) editorPath(f *winnow.Funnel, kind winnow.EmailKind) string {
	if f != nil {
		return "/jobs/" + f.ID + "/emails/" + string(kind)
	}
	return "/settings/emails/" + string(kind)
}

// preview renders t with example values: the org's name, the job's title (or an example
// title at org level), a link that opens nothing.
func (m *Mail) preview(r *http.Request, f *winnow.Funnel, t *winnow.Template) (*winnow.RenderedEmail, error) {
	u := me(r)
	company := "Your company"
	if b := m.base(r, "", ""); b.Org != nil {
		company = b.Org.Name
	}
	job := "Backend Engineer"
	if f != nil {
		job = f.Title
	}
	link := m.BaseURL + winnow.CandidatePath("example-link")
	inviter := strings.TrimSpace(u.Name)
	if inviter == "" {
		inviter = u.Email
	}
	data := winnow.TemplateData{FirstName: "Ada", CandidateName: "Ada Lovelace", JobTitle: job, Company: company, Link: link,
		OptOutLink: m.BaseURL + winnow.OptOutPath("example-link"), Deadline: winnow.FormatDeadline(m.Clock.Now().Add(winnow.DefaultCadence().OptOutAfter)),
		ReminderNumber: "2", InviterName: inviter, Role: winnow.RoleMember.Label()}
	if t.Kind == winnow.EmailMemberInvite {
		data.Link = m.BaseURL + "/invite/example-link"
	}
	out, err := t.Render(data)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func funnelID(f *winnow.Funnel) string {
	if f == nil {
		return ""
	}
	return f.ID
}
