package web

import (
	"io/fs"
	"net/http"

	"winnow"
	"winnow/ui"
)

// access says who may reach a route.
type access int

const (
	public   access = iota // anyone
	signedIn               // any signed-in user
	member                 // admins and members, not limited members
	admin                  // admins only
	apiToken               // programs with an org API token (JSON API; no session)
)

// route is one line of the routing table.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// routes builds the mux from the one table of every route Winnow serves.
func (s *Server) routes(m *metrics) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.table() {
		h := s.checkPathValues(rt, s.notFoundFor(rt))
		if rt.access == apiToken {
			mux.Handle(rt.pattern, s.API.Authenticate(h))
			continue
		}
		mux.Handle(rt.pattern, s.guard(rt.access, h))
	}
	mux.HandleFunc("/", s.notFound)
	return mux
}

// table is every route Winnow serves, with who may reach it. Routes that move files
// are wrapped in s.upload or s.download, which give them time by the byte (timeouts.go).
func (s *Server) table() []route {
	rec, api := s.Recruiter, s.API
	static, _ := fs.Sub(ui.Static, "static")
	return []route{
		{"GET /healthz", public, s.healthz},
		{"GET /metrics", public, s.metricsHandler()},
		{"GET /static/", public, http.StripPrefix("/static/", http.FileServerFS(static)).ServeHTTP},

		{"GET /login", public, rec.LoginForm},
		{"POST /login", public, rec.Login},
		{"POST /logout", signedIn, rec.Logout},
		{"GET /invite/{token}", public, rec.InviteForm},
		{"POST /invite/{token}", public, rec.AcceptInvite},

		{"GET /{$}", signedIn, redirect("/jobs")},
		{"GET /jobs", signedIn, rec.FunnelList},
		{"GET /jobs/new", member, rec.NewFunnel},
		{"POST /jobs", member, rec.CreateFunnel},
		{"GET /jobs/{id}", signedIn, rec.Funnel},
		{"GET /jobs/{id}/edit", member, rec.EditFunnel},
		{"POST /jobs/{id}/details", member, rec.SaveFunnelDetails},
		{"POST /jobs/{id}/team", member, rec.UpdateTeam},
		{"POST /jobs/{id}/steps", member, rec.AddStep},
		{"POST /jobs/{id}/steps/{step}", member, rec.EditStep},
		{"POST /jobs/{id}/duplicate", member, rec.DuplicateFunnel},
		{"GET /jobs/{id}/preview", signedIn, rec.PreviewFunnel},
		{"POST /jobs/{id}/applicants", member, rec.InviteCandidates},
		{"GET /jobs/{id}/review", signedIn, rec.ReviewQueue},
		{"GET /jobs/{id}/insights", signedIn, rec.JobInsights},
		{"GET /insights", signedIn, rec.OrgInsights},
		{"GET /applicants", signedIn, rec.ApplicantList},
		// Reviewing and deciding also need the job team or admin; the handlers check.
		{"GET /applicants/{id}", signedIn, rec.Applicant},
		{"POST /applicants/{id}/reviews", signedIn, rec.SaveReview},
		{"POST /applicants/{id}/decision", signedIn, rec.Decide},
		{"POST /applicants/{id}/reopen", admin, rec.Reopen},
		{"POST /applicants/{id}/override-knockout", admin, rec.OverrideKnockout},
		{"GET /uploads/{id}", signedIn, s.download(rec.Upload)},

		{"GET /settings", admin, redirect("/settings/members")},
		{"GET /settings/members", admin, rec.Members},
		{"POST /settings/members/invites", admin, rec.Invite},
		{"POST /settings/members/invites/{id}/revoke", admin, rec.RevokeInvite},
		{"POST /settings/members/invites/{id}/resend", admin, rec.ResendInvite},
		{"POST /settings/members/{id}/role", admin, rec.ChangeMemberRole},
		{"POST /settings/members/{id}/remove", admin, rec.RemoveMember},
		{"GET /account", signedIn, rec.Account},
		{"POST /account/name", signedIn, rec.SaveAccountName},
		{"POST /account/password", signedIn, rec.SaveAccountPassword},
		{"GET /settings/integrations", admin, rec.Integrations},
		// Lever: connect (OAuth or an API key), settings, webhooks, failed writes and
		// disconnect; a job's posting and qualified stage (members who edit jobs).
		// Connect is a link, not a form: the page's CSP (form-action 'self') would stop
		// a form whose answer redirects to Lever. It only starts an authorization bound
		// to the admin's session, which a third party cannot finish.
		{"GET /settings/integrations/lever/connect", admin, rec.ConnectLever},
		{"GET " + winnow.LeverOAuthCallbackPath, admin, rec.LeverCallback},
		{"POST /settings/integrations/lever/api-key", admin, rec.ConnectLeverAPIKey},
		{"POST /settings/integrations/lever/signature-token", admin, rec.SaveLeverSignatureToken},
		{"POST /settings/integrations/lever/settings", admin, rec.SaveLeverSettings},
		{"POST /settings/integrations/lever/webhooks", admin, rec.RegisterLeverWebhooks},
		{"POST /settings/integrations/lever/disconnect", admin, rec.DisconnectLever},
		{"POST /settings/integrations/lever/writes/{id}/retry", admin, rec.RetryLeverWrite},
		{"GET /jobs/{id}/integrations", member, rec.JobIntegrations},
		{"POST /jobs/{id}/integrations/lever/posting", member, rec.LinkJobPosting},
		{"POST /jobs/{id}/integrations/lever/stage", member, rec.SaveJobStage},
		{"GET /settings/tokens", admin, rec.APITokens},
		{"POST /settings/tokens", admin, rec.CreateAPIToken},
		{"POST /settings/tokens/{id}/revoke", admin, rec.RevokeAPIToken},
		// River's UI of the background jobs, and its JSON API under /admin/jobs/api/.
		// It has no access control of its own: the admin guard and the cross-origin
		// protection in front of every route are its.
		{JobsPrefix + "/", admin, s.jobs},

		// Email: delivery status and the org's templates, a job's own templates, the
		// mail viewer (outbox mode only; the handlers answer 404 otherwise), and resend
		// and extend on the applicant card.
		{"GET /settings/emails", admin, rec.EmailSettings},
		{"GET /settings/emails/{kind}", admin, rec.OrgTemplate},
		{"POST /settings/emails/{kind}", admin, rec.SaveOrgTemplate},
		{"GET /settings/emails/{kind}/preview", admin, rec.OrgTemplatePreview},
		{"POST /settings/emails/reply-to", admin, rec.SaveReplyTo},
		{"GET /settings/mail", admin, rec.MailList},
		{"GET /settings/mail/{id}", admin, rec.MailMessage},
		{"GET /settings/mail/{id}/html", admin, rec.MailHTML},
		{"GET /jobs/{id}/emails", member, rec.FunnelTemplates},
		{"GET /jobs/{id}/emails/{kind}", member, rec.FunnelTemplate},
		{"POST /jobs/{id}/emails/{kind}", member, rec.SaveFunnelTemplate},
		{"GET /jobs/{id}/emails/{kind}/preview", member, rec.FunnelTemplatePreview},
		{"POST /applicants/{id}/resend", admin, rec.Resend},
		{"POST /applicants/{id}/extend", admin, rec.Extend},

		// Candidates have no account: the unguessable link token is their credential.
		{"GET /c/{token}", public, s.Candidate.Landing},
		{"POST /c/{token}/start", public, s.Candidate.Start},
		{"GET /c/{token}/steps/{step}", public, s.Candidate.Step},
		{"POST /c/{token}/steps/{step}", public, s.upload(s.Candidate.SaveStep)},
		{"GET /c/{token}/review", public, s.Candidate.Review},
		{"POST /c/{token}/submit", public, s.Candidate.Submit},
		{"GET /c/{token}/thanks", public, s.Candidate.Thanks},
		{"GET /c/new-link", public, s.Candidate.NewLinkForm},
		{"POST /c/new-link", public, s.Candidate.RequestNewLink},
		{"GET /c/{token}/opt-out", public, s.Candidate.OptOutForm},
		{"POST /c/{token}/opt-out", public, s.Candidate.OptOut},

		// Lever's webhooks: public, each request proves itself by its signature. The
		// URL names the org; the bare URL (the seed's) matches the org by signature.
		{"POST " + winnow.LeverWebhookPath + "/{orgKey}", public, s.Hooks.Lever},
		{"POST " + winnow.LeverWebhookPath, public, s.Hooks.Lever},

		// The JSON API: an org API token, never the session cookie.
		{"GET /api/v1/openapi.json", public, api.OpenAPI},
		{"GET /api/v1/jobs", apiToken, api.ListFunnels},
		{"POST /api/v1/jobs", apiToken, api.CreateFunnel},
		{"GET /api/v1/jobs/{id}", apiToken, api.GetFunnel},
		{"PUT /api/v1/jobs/{id}", apiToken, api.UpdateFunnel},
		{"GET /api/v1/jobs/{id}/applicants", apiToken, api.ListApplicants},
		{"GET /api/v1/jobs/{id}/insights", apiToken, api.JobInsights},
		{"POST /api/v1/jobs/{id}/applicants", apiToken, api.InviteApplicant},
		{"GET /api/v1/applicants/{id}", apiToken, api.GetApplicant},
		{"POST /api/v1/applicants/{id}/decision", apiToken, api.Decide},
		{"POST /api/v1/applicants/{id}/reviews", apiToken, api.SaveReview},
		{"GET /api/v1/uploads/{id}", apiToken, s.download(api.Upload)},
		{"POST /api/v1/applicants/{id}/resend", apiToken, api.ResendInvitation},
		{"POST /api/v1/applicants/{id}/extend", apiToken, api.ExtendInvitation},
		{"POST /api/v1/applicants/{id}/reopen", apiToken, api.Reopen},
		{"POST /api/v1/applicants/{id}/override-knockout", apiToken, api.OverrideKnockout},
		{"GET /api/v1/integrations/lever", apiToken, api.GetLever},
		{"PUT /api/v1/integrations/lever", apiToken, api.UpdateLever},
		{"PUT /api/v1/jobs/{id}/lever-posting", apiToken, api.LinkLeverPosting},
		{"/api/v1/", public, api.NotFound},
	}
}

// jobs serves River's UI, or "not found" in a server built without it.
func (s *Server) jobs(w http.ResponseWriter, r *http.Request) {
	if s.Jobs == nil {
		s.notFound(w, r)
		return
	}
	s.Jobs.ServeHTTP(w, r)
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusSeeOther) }
}
