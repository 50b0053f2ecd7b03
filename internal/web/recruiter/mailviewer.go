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
}

// MailMessagePage is the data of one captured email.
type MailMessagePage struct {
	render.Base
	Email *winnow.Email
	From  string
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
	h.Render.Page(w, r, http.StatusOK, render.PageMail, MailListPage{Base: h.base(r, "Mail viewer", "settings"), Emails: list})
}

// MailMessage shows one captured email: its headers, its text part, and its HTML part in
// a sandboxed frame loaded from MailHTML.
func (h *Handler) MailMessage(w http.ResponseWriter, r *http.Request) {
	e, ok := h.capturedEmail(w, r)
	if !ok {
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageMailMessage, MailMessagePage{Base: h.base(r, e.Subject, "settings"), Email: e, From: h.MailMode.From})
}

// MailHTML serves a captured email's HTML part for the viewer's frame. Its own policy
// allows inline styles and nothing else: no scripts, no fetches, and a sandbox even when
// opened directly; only this app may frame it. Links open in a new tab.
func (h *Handler) MailHTML(w http.ResponseWriter, r *http.Request) {
	e, ok := h.capturedEmail(w, r)
	if !ok {
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "+
		"sandbox allow-popups allow-popups-to-escape-sandbox")
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	hdr.Set("Cache-Control", "no-store")
	body := e.HTML
	if i := strings.Index(body, "<head>"); i >= 0 {
		body = body[:i+len("<head>")] + `<base target="_blank">` + body[i+len("<head>"):]
	}
	w.Write([]byte(body))
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
