package recruiter

import (
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// MailListPage is the data of the mail viewer's list.
type MailListPage struct {
	render.Base
	Emails []*winnow.Email
	// Blind names, by email ID, the applicant an email went to while their job's review
	// is blind ("Applicant #1a2b3c4d"); such emails show that instead of the address.
	Blind map[string]string
}

// MailMessagePage is the data of one captured email.
type MailMessagePage struct {
	render.Base
	Email *winnow.Email
	From  string
	Blind string // as in MailListPage: the address and the card link are held back
}

// viewerStatuses are the emails the viewer lists: everything rendered.
var viewerStatuses = []winnow.EmailStatus{winnow.EmailOutbox, winnow.EmailSent, winnow.EmailQueued, winnow.EmailSending,
	winnow.EmailFailed, winnow.EmailUnknown}

// outboxOnly answers 404 unless email is kept in the outbox: the viewer is for
// development and demos, never for an installation that delivers real email.
func (h *Handler) outboxOnly(w http.ResponseWriter, r *http.Request) bool {
	if !h.MailMode.Outbox {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusNotFound,
			"The mail viewer exists only while no SMTP server is configured (WINNOW_SMTP_URL is empty).")
		return false
	}
	return true
}

// MailList lists the org's captured emails, newest first.
func (h *Handler) MailList(w http.ResponseWriter, r *http.Request) {
	if !h.outboxOnly(w, r) {
		return
	}
	list, err := h.Emails.ListEmails(r.Context(), me(r).OrgID, winnow.EmailFilter{Statuses: viewerStatuses, Limit: 200})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i, e := range list {
		if open, err := e.Unseal(h.Keyring.Open); err == nil {
			list[i] = open
		} else {
			h.Logger.WarnContext(r.Context(), "sealed email does not open", "org_id", e.OrgID, "email_id", e.ID, "error", err)
			c := *e
			c.Subject = "(encrypted with another secret key)"
			list[i] = &c
		}
	}
	blind, err := h.blindRecipients(r, list)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageMail, MailListPage{Base: h.base(r, "Mail viewer", "settings"), Emails: list, Blind: blind})
}

// MailMessage shows one captured email: its headers, its text part, and its HTML part in
// a sandboxed frame loaded from MailHTML.
func (h *Handler) MailMessage(w http.ResponseWriter, r *http.Request) {
	e, ok := h.capturedEmail(w, r)
	if !ok {
		return
	}
	blind, err := h.blindRecipients(r, []*winnow.Email{e})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageMailMessage, MailMessagePage{Base: h.base(r, e.Subject, "settings"), Email: e,
		From: h.MailMode.From, Blind: blind[e.ID]})
}

// MailHTML serves a captured email's HTML part for the viewer's frame. Its own policy
// allows inline styles and nothing else: no scripts, no fetches, and a sandbox even when
// opened directly; only this app may frame it. Links open in a new tab.
func (h *Handler) MailHTML(w http.ResponseWriter, r *http.Request) {
	e, ok := h.capturedEmail(w, r)
	if !ok {
		return
	}
	emailFrameHeaders(w)
	w.Write([]byte(withBaseTarget(e.HTML)))
}

// emailFrameHeaders sets the headers of an email's HTML shown in a frame (the mail
// viewer, the template preview). Its own policy allows inline styles and nothing else:
// no scripts, no fetches, and a sandbox even when opened directly; only this app may
// frame it.
func emailFrameHeaders(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "+
		"sandbox allow-popups allow-popups-to-escape-sandbox")
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	hdr.Set("Cache-Control", "no-store")
}

// withBaseTarget makes the links of an email's HTML open in a new tab.
func withBaseTarget(body string) string {
	if i := strings.Index(body, "<head>"); i >= 0 {
		body = body[:i+len("<head>")] + `<base target="_blank">` + body[i+len("<head>"):]
	}
	return body
}

func (h *Handler) capturedEmail(w http.ResponseWriter, r *http.Request) (*winnow.Email, bool) {
	if !h.outboxOnly(w, r) {
		return nil, false
	}
	e, err := h.Emails.FindEmailByID(r.Context(), me(r).OrgID, r.PathValue("id"))
	if err == nil && !e.Rendered() {
		err = winnow.Errorf(winnow.ENOTFOUND, "This email has not been written yet: it is scheduled for %s.", e.DueAt.UTC().Format("2 Jan 2006 15:04 UTC"))
	}
	if err == nil {
		// A member invitation is sealed at rest; it is opened for this admin's page only.
		e, err = e.Unseal(h.Keyring.Open)
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return e, true
}

// blindRecipients returns, by email ID, how the viewer names the applicant an email
// went to while their job's review is blind: an address beside a link to the card
// would undo the blindness that the card keeps.
func (h *Handler) blindRecipients(r *http.Request, list []*winnow.Email) (map[string]string, error) {
	orgID := me(r).OrgID
	funnels := map[string]*winnow.Funnel{}
	apps := map[string]*winnow.Applicant{}
	blind := map[string]string{}
	for _, e := range list {
		if e.ApplicantID == "" {
			continue
		}
		a, ok := apps[e.ApplicantID]
		if !ok {
			var err error
			if a, err = h.Applicants.FindApplicantByID(r.Context(), orgID, e.ApplicantID); winnow.ErrorCode(err) == winnow.ENOTFOUND {
				a = nil
			} else if err != nil {
				return nil, err
			}
			apps[e.ApplicantID] = a
		}
		if a == nil {
			continue
		}
		f, ok := funnels[a.FunnelID]
		if !ok {
			var err error
			if f, err = h.Funnels.FindFunnelByID(r.Context(), orgID, a.FunnelID); err != nil {
				return nil, err
			}
			funnels[a.FunnelID] = f
		}
		if v := viewApplicant(a, f); v.Blind {
			blind[e.ID] = v.Display
		}
	}
	return blind, nil
}
