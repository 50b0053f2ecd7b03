// Package candidate serves the pages a candidate sees at /c/{token}: the landing page,
// one form per step, the review, the submission and the pages that say a link can no
// longer be used. Candidates have no account: the unguessable link token is their only
// credential, so every page starts by looking it up.
package candidate

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/web/render"
)

// Default upload limits, used when the Handler and the step set none.
const (
	DefaultMaxVideoBytes    = 500 << 20 // per video answer
	DefaultMaxHomeworkBytes = 25 << 20  // per homework file
)

// DefaultHomeworkTypes are the file extensions homework accepts when its step lists
// none: documents, spreadsheets, slides, images and archives.
var DefaultHomeworkTypes = []string{".pdf", ".doc", ".docx", ".odt", ".rtf", ".txt", ".md", ".csv",
	".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".odp", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip"}

// Handler serves the candidate pages. Every field must be set except the limits and
// Templates.
type Handler struct {
	Orgs winnow.OrgService
	// Templates tells the thank-you page whether the job's closing emails are on, so
	// that it promises only the email that will be sent; nil promises none.
	Templates  winnow.TemplateService
	Funnels    winnow.FunnelService
	Applicants winnow.ApplicantService
	Answers    winnow.AnswerService
	Links      LinkRequester
	Files      *filestore.Store
	Render     *render.Renderer
	Clock      winnow.Clock
	Logger     *slog.Logger
	// MaxVideoBytes limits each video answer; 0 means DefaultMaxVideoBytes.
	MaxVideoBytes int64
	// MaxHomeworkBytes limits a homework file whose step sets no limit; 0 means
	// DefaultMaxHomeworkBytes.
	MaxHomeworkBytes int64
}

func (h *Handler) maxVideo() int64 {
	if h.MaxVideoBytes > 0 {
		return h.MaxVideoBytes
	}
	return DefaultMaxVideoBytes
}

func (h *Handler) maxHomework(hw *winnow.Homework) int64 { return hw.FileLimit(h.homeworkDefault()) }

// homeworkDefault limits a homework file whose step sets no limit.
func (h *Handler) homeworkDefault() int64 {
	if h.MaxHomeworkBytes > 0 {
		return h.MaxHomeworkBytes
	}
	return DefaultMaxHomeworkBytes
}

// uploadBudget is the most bytes the applicant's uploads may take together.
func (h *Handler) uploadBudget(a *winnow.Applicant) int64 {
	return a.UploadBudget(h.maxVideo(), h.homeworkDefault())
}

// visit is what every candidate request works with: the applicant behind the token,
// their company and job, and the time the request is judged at.
type visit struct {
	a      *winnow.Applicant
	org    *winnow.Org
	funnel *winnow.Funnel
	now    time.Time
}

// load finds the applicant of the request's token with their org and funnel. An
// unknown token gets the "not valid" page and false; so does any failure, with its page.
func (h *Handler) load(w http.ResponseWriter, r *http.Request) (*visit, bool) {
	ctx := r.Context()
	a, err := h.Applicants.FindApplicantByToken(ctx, r.PathValue("token"))
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		h.InvalidLink(w, r)
		return nil, false
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, false
	}
	v := &visit{a: a, now: h.Clock.Now()}
	if v.org, err = h.Orgs.FindOrgByID(ctx, a.OrgID); err != nil {
		h.fail(w, r, v, err)
		return nil, false
	}
	if v.funnel, err = h.Funnels.FindFunnelByID(ctx, a.OrgID, a.FunnelID); err != nil {
		h.fail(w, r, v, err)
		return nil, false
	}
	return v, true
}

// logAttrs names the applicant in log lines.
func (v *visit) logAttrs(more ...any) []any {
	if v == nil || v.a == nil {
		return more
	}
	return append([]any{"org_id", v.a.OrgID, "applicant_id", v.a.ID, "funnel_id", v.a.FunnelID}, more...)
}

// base is the link every candidate URL of the visit starts with.
func (v *visit) base() string { return "/c/" + url.PathEscape(v.a.Token) }

// stepURL is the page of step i, or the review page once i is past the last step.
func (v *visit) stepURL(i int) string {
	if i >= len(v.a.Steps) {
		return v.base() + "/review"
	}
	return v.base() + "/steps/" + url.PathEscape(v.a.Steps[i].ID)
}

// chrome is the page frame's data for the visit.
func (v *visit) chrome(title string) Chrome {
	c := Chrome{Title: title}
	if v == nil {
		return c
	}
	c.Company, c.Job, c.Base = v.org.Name, v.funnel.Title, v.base()
	st := v.state()
	c.CanOptOut = st == stateInvited || st == stateInProgress
	return c
}

// seeOther redirects after a POST, or to where a GET belongs.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// errExpired is returned from inside a transition when the deadline has passed by the
// time the transaction looks, so that nothing changes and the expired page is shown.
var errExpired = winnow.Errorf(winnow.ECONFLICT, "The time to complete this application has passed.")

// transition applies fn to the visit's applicant unless the deadline has passed, and
// stores the result with its timeline event and effects.
func (h *Handler) transition(r *http.Request, v *visit, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.Applicant, error) {
	return h.Applicants.TransitionApplicant(r.Context(), v.a.OrgID, v.a.ID, func(a *winnow.Applicant) (winnow.Event, error) {
		if a.Expired(v.now) {
			return winnow.Event{}, errExpired
		}
		return fn(a)
	})
}

// transitionFailed shows what a failed transition means to the candidate: a race lost
// to another tab or to the deadline shows the applicant's current state; anything else
// is an error page.
func (h *Handler) transitionFailed(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	if !errors.Is(err, errExpired) && winnow.ErrorCode(err) != winnow.ECONFLICT {
		h.fail(w, r, v, err)
		return
	}
	if a, ferr := h.Applicants.FindApplicantByID(r.Context(), v.a.OrgID, v.a.ID); ferr == nil {
		v.a = a
	}
	h.refuse(w, r, v)
}
