package candidate

import (
	"fmt"
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// state is where the candidate stands, as the pages see it. It differs from the
// applicant's status where the candidate's view does: a passed deadline is "expired"
// before the background job has opted them out, and "unqualified" is either the end
// of the funnel at a knockout or a decision after submission.
type state string

const (
	stateInvited    state = "invited"
	stateInProgress state = "in_progress"
	stateExpired    state = "expired"
	stateSubmitted  state = "submitted"
	stateComplete   state = "complete" // decided after submission, either way
	stateEnded      state = "ended"    // a knockout ended the funnel
	stateOptedOut   state = "opted_out"
	stateClosed     state = "closed" // archived or deleted in Lever
)

// optOutReason is the reason recorded when the candidate declines through the link.
const optOutReason = "declined via the candidate link"

func (v *visit) state() state {
	a := v.a
	switch {
	case a.Closed():
		return stateClosed
	case a.Expired(v.now):
		return stateExpired
	case a.Status == winnow.StatusInvited:
		return stateInvited
	case a.Status == winnow.StatusInProgress:
		return stateInProgress
	case a.Status == winnow.StatusSubmitted:
		return stateSubmitted
	case a.Status == winnow.StatusUnqualified && a.SubmittedAt == nil:
		return stateEnded
	case a.Status == winnow.StatusQualified, a.Status == winnow.StatusUnqualified:
		return stateComplete
	}
	return stateOptedOut
}

// statusPage renders the page that says where the candidate stands when there is
// nothing to fill in: expired, withdrawn, submitted, decided or ended at a knockout.
func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request, v *visit, status int, kind string) {
	p := StatusPage{Chrome: v.chrome(""), Kind: kind, Deadline: moment(v.a.Deadline)}
	company, job := v.org.Name, v.funnel.Title
	switch kind {
	case "thanks":
		p.Heading = "Thank you!"
		if name := firstName(v.a.Name); name != "" {
			p.Heading = "Thank you, " + name + "!"
		}
		p.Message = fmt.Sprintf("Your application for %s has been submitted. The team at %s will review it%s. You can close this page now.", job, company, h.whatNext(r, v))
	case string(stateSubmitted):
		p.Heading = "You have already submitted this application"
		p.Message = fmt.Sprintf("Thank you. The team at %s is reviewing your application for %s%s. There is nothing more to do here.", company, job, h.whatNext(r, v))
	case string(stateComplete):
		p.Heading = "Your application is complete"
		p.Message = fmt.Sprintf("The team at %s has everything they need for %s. Thank you for your time.", company, job)
	case string(stateEnded):
		p.Heading = "Thank you for your interest"
		p.Message = fmt.Sprintf("This role requires something that your answers show you don't have at the moment, so we can't take your application for %s further. Thank you for the time you gave it, and we wish you the very best in your search.", job)
	case string(stateOptedOut):
		p.OfferNewLink = true
		p.Heading = "This application is closed"
		p.Message = fmt.Sprintf("The time to complete your application for %s at %s has passed, so it was closed.", job, company)
		if v.a.Reason == optOutReason {
			p.Heading = "You have withdrawn your application"
			p.Message = fmt.Sprintf("You told us you are no longer interested in %s, so we won't send you any more reminders. If that was a mistake, please contact %s.", job, company)
			if p.ReplyTo = v.org.ReplyTo; p.ReplyTo != "" {
				// The page's contact line says how to reach them.
				p.Message = fmt.Sprintf("You told us you are no longer interested in %s, so we won't send you any more reminders.", job)
			}
		}
	case string(stateClosed):
		p.Heading = "This application is closed"
		p.Message = fmt.Sprintf("The team at %s has closed your application for %s, so there is nothing more to do here. Thank you for your interest.", company, job)
	case string(stateExpired):
		p.OfferNewLink = true
		p.Heading = "This link has expired"
		p.Message = fmt.Sprintf("The time to complete your application for %s at %s has passed.", job, company)
	}
	p.Title = p.Heading
	h.Render.Page(w, r, status, render.PageCandidateStatus, p)
}

// whatNext ends the sentence that says the team will review the application with what
// the candidate will actually hear: the job's closing emails decide whether both
// outcomes, only good news, or nothing is sent by email. Without the templates (or on
// an error, logged) it promises nothing about email.
func (h *Handler) whatNext(r *http.Request, v *visit) string {
	const contact = " and contact you if they would like to take it further"
	if h.Templates == nil {
		return contact
	}
	on := map[winnow.EmailKind]bool{}
	for _, k := range []winnow.EmailKind{winnow.EmailQualified, winnow.EmailUnqualified} {
		t, err := h.Templates.FindTemplate(r.Context(), v.a.OrgID, v.a.FunnelID, k)
		if err != nil {
			h.Logger.ErrorContext(r.Context(), "find closing template", v.logAttrs("kind", string(k), "error", err)...)
			return contact
		}
		on[k] = t.Enabled
	}
	switch {
	case on[winnow.EmailQualified] && on[winnow.EmailUnqualified]:
		return " and let you know the outcome by email"
	case on[winnow.EmailQualified]:
		return " and email you if they take it further"
	}
	return contact
}

// refuse answers a POST that the candidate's state does not allow: it changes nothing
// and shows where they stand. A passed deadline is 410 Gone, anything else 409.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, v *visit) {
	switch st := v.state(); st {
	case stateExpired:
		h.statusPage(w, r, v, http.StatusGone, string(st))
	case stateInvited:
		h.errorPage(w, r, v, http.StatusConflict, "You haven't started yet",
			"Please start your application from its first page.", v.base(), "Go to the start")
	case stateInProgress:
		h.errorPage(w, r, v, http.StatusConflict, "That can't be done right now",
			"Please continue your application where you left off.", v.base(), "Continue")
	default:
		h.statusPage(w, r, v, http.StatusConflict, string(st))
	}
}

// InvalidLink answers a link whose token belongs to nobody, or could not be a token
// at all: 404 with a page that offers to send the link again.
func (h *Handler) InvalidLink(w http.ResponseWriter, r *http.Request) {
	heading := "This link is not valid"
	p := ErrorPage{Chrome: Chrome{Title: heading}, Status: http.StatusNotFound, Heading: heading, OfferNewLink: true,
		Message: "Please check that you opened the whole link from your email. If it still doesn't work, we can send it to you again."}
	h.Render.Page(w, r, http.StatusNotFound, render.PageCandidateError, p)
}

// errorPage renders a candidate error page with an explicit status and message, and an
// optional link onwards.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, v *visit, status int, heading, msg, link, linkText string) {
	p := ErrorPage{Chrome: v.chrome(heading), Status: status, Heading: heading, Message: msg, Link: link, LinkText: linkText}
	h.Render.Page(w, r, status, render.PageCandidateError, p)
}

// fail answers err through the web layer's one error edge (render.Fail) as a candidate
// error page, with the visit's IDs in the log of an internal error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	render.Fail(h.Logger, w, r, errorForm{h: h, v: v}, err, v.logAttrs()...)
}

// ErrorForm is the candidates' form of an error answer, for errors met before any
// handler of this package (an unknown page under /c/, a panic).
func (h *Handler) ErrorForm() render.Form { return errorForm{h: h} }

// errorForm writes problems as the candidate error page, in the candidate layout, with
// the visit's chrome and a way back to the application when there is one.
type errorForm struct {
	h *Handler
	v *visit // nil before the link is known
}

// headings head the candidate error page, by status; others get "Something went wrong".
var headings = map[int]string{
	http.StatusNotFound:            "Not found",
	http.StatusUnprocessableEntity: "Please check what you sent",
	http.StatusConflict:            "That can't be done right now",
}

func (f errorForm) WriteProblem(w http.ResponseWriter, r *http.Request, p render.Problem) {
	heading := headings[p.Status]
	if heading == "" {
		heading = "Something went wrong"
	}
	link, text := "", ""
	if f.v != nil {
		link, text = f.v.base(), "Back to your application"
	}
	f.h.errorPage(w, r, f.v, p.Status, heading, p.Message, link, text)
}

// firstName is the part of a name used to greet: its first word.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// CrossOriginRefused answers a form sent to a candidate page from another website: the
// candidate sees their own page's chrome and a way back, not the recruiters' sign-in.
func (h *Handler) CrossOriginRefused(w http.ResponseWriter, r *http.Request) {
	heading := "That didn't come from this page"
	p := ErrorPage{Chrome: Chrome{Title: heading}, Status: http.StatusForbidden, Heading: heading,
		Message: "This form was sent from another website, so nothing was saved. Please open the link from your email again and continue there."}
	h.Render.Page(w, r, http.StatusForbidden, render.PageCandidateError, p)
}
