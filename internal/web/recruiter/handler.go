// Package recruiter serves the pages that an org's people use: signing in, jobs,
// applicants and settings.
package recruiter

import (
	"log/slog"
	"net/http"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/web/auth"
	"winnow/internal/web/render"
)

// Handler holds what the recruiter pages need. Every field must be set.
type Handler struct {
	Orgs    winnow.OrgService
	Users   winnow.UserService
	Invites winnow.InviteService
	// People changes roles, removes members, renames, sets passwords and revokes
	// invitations (Settings → Members, Account).
	People     winnow.MemberService
	Funnels    winnow.FunnelService
	Applicants winnow.ApplicantService
	Answers    winnow.AnswerService
	Reviews    winnow.ReviewService
	Tokens     winnow.APITokenService
	Files      UploadServer
	Sessions   *auth.Sessions
	Limiter    *auth.LoginLimiter
	Proxies    auth.Proxies // trusted reverse proxies; nil trusts none
	Keyring    *keyring.Keyring
	Render     *render.Renderer
	Clock      winnow.Clock
	Logger     *slog.Logger
	BaseURL    string

	// MemberInvites creates invitations and emails them; MailMode says whether that
	// email is delivered or kept in the outbox.
	MemberInvites winnow.MemberInviteService
	MailMode      winnow.MailMode
	// The email pages: Settings → Emails (how email leaves Winnow, what went wrong,
	// the org's templates), a job's own templates, the mail viewer, and resend and
	// extend on the applicant card, whose timeline also shows where emails went.
	Templates   winnow.TemplateService
	Emails      winnow.EmailService
	Invitations winnow.InvitationService

	// Lever connects the org to Lever (Settings → Integrations, a job's Integrations)
	// and tells admin pages when the connection needs reconnecting; nil means this
	// server offers no Lever integration.
	Lever winnow.LeverConnectionService
	// Insights computes the figures of the Insights pages.
	Insights winnow.InsightService

	// LeverWrites lists the writes to Lever that failed for good, for the panel to
	// retry; nil hides that part of the panel.
	LeverWrites winnow.LeverWriteService
}

// base returns the shared page data for the signed-in user.
func (h *Handler) base(r *http.Request, title, nav string) render.Base {
	b := render.Base{Title: title, Nav: nav}
	if id := auth.FromContext(r.Context()); id != nil {
		b.User, b.Org = id.User, id.Org
		b.LeverBanner = h.leverBanner(r, id.User)
	}
	return b
}

// leverBanner reports whether u is an admin whose org's Lever connection needs
// reconnecting. A failed lookup only loses the banner.
func (h *Handler) leverBanner(r *http.Request, u *winnow.User) bool {
	if h.Lever == nil || u == nil || !u.IsAdmin() {
		return false
	}
	state, err := h.Lever.LeverState(r.Context(), u.OrgID)
	if err != nil {
		h.Logger.WarnContext(r.Context(), "lever state for the banner", "org_id", u.OrgID, "error", err)
		return false
	}
	return state == winnow.LeverNeedsReconnecting
}

// fail renders err as an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.Render.Error(w, r, h.base(r, "", ""), err)
}

// me returns the signed-in user; routes that call it are wrapped so that one exists.
func me(r *http.Request) *winnow.User { return auth.User(r.Context()) }
