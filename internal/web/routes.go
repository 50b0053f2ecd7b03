package web

import (
	"io/fs"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"winnow/ui"
)

// access says who may reach a route.
type access int

const (
	public   access = iota // anyone
	signedIn               // any signed-in user
	member                 // admins and members, not limited members
	admin                  // admins only
)

// route is one line of the routing table.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// routes builds the mux from the one table of every route Winnow serves.
func (s *Server) routes(m *metrics) *http.ServeMux {
	rec := s.Recruiter
	mail := s.Mail
	static, _ := fs.Sub(ui.Static, "static")
	table := []route{
		{"GET /healthz", public, s.healthz},
		{"GET /metrics", public, promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}).ServeHTTP},
		{"GET /static/", public, http.StripPrefix("/static/", http.FileServerFS(static)).ServeHTTP},

		{"GET /login", public, rec.LoginForm},
		{"POST /login", public, rec.Login},
		{"POST /logout", signedIn, rec.Logout},
		{"GET /invite/{token}", public, rec.InviteForm},
		{"POST /invite/{token}", public, rec.AcceptInvite},

		{"GET /{$}", signedIn, redirect("/jobs")},
		{"GET /jobs", signedIn, rec.JobList},
		{"GET /jobs/new", member, rec.NewJob},
		{"POST /jobs", member, rec.CreateJob},
		{"GET /jobs/{id}", signedIn, rec.Job},
		{"POST /jobs/{id}/team", member, rec.UpdateTeam},
		{"GET /applicants", signedIn, rec.ApplicantList},

		{"GET /settings", admin, redirect("/settings/members")},
		{"GET /settings/members", admin, rec.Members},
		{"POST /settings/members/invites", admin, rec.Invite},
		{"GET /settings/integrations", admin, rec.Integrations},

		// Email: delivery status and the org's templates, a job's own templates, the
		// mail viewer (outbox mode only; the handlers answer 404 otherwise), and resend
		// and extend on the applicant card.
		{"GET /settings/emails", admin, mail.EmailSettings},
		{"GET /settings/emails/{kind}", admin, mail.OrgTemplate},
		{"POST /settings/emails/{kind}", admin, mail.SaveOrgTemplate},
		{"GET /settings/mail", admin, mail.MailList},
		{"GET /settings/mail/{id}", admin, mail.MailMessage},
		{"GET /settings/mail/{id}/html", admin, mail.MailHTML},
		{"GET /jobs/{id}/emails", member, mail.JobTemplates},
		{"GET /jobs/{id}/emails/{kind}", member, mail.JobTemplate},
		{"POST /jobs/{id}/emails/{kind}", member, mail.SaveJobTemplate},
		{"POST /applicants/{id}/resend", admin, mail.Resend},
		{"POST /applicants/{id}/extend", admin, mail.Extend},

		// Candidates have no account: the unguessable link token is their credential.
		{"GET /c/{token}", public, s.Candidate.Landing},
		{"POST /c/{token}/start", public, s.Candidate.Start},
		{"GET /c/{token}/steps/{step}", public, s.Candidate.Step},
		{"POST /c/{token}/steps/{step}", public, s.Candidate.SaveStep},
		{"GET /c/{token}/review", public, s.Candidate.Review},
		{"POST /c/{token}/submit", public, s.Candidate.Submit},
		{"GET /c/{token}/thanks", public, s.Candidate.Thanks},
		{"GET /c/{token}/opt-out", public, s.Candidate.OptOutForm},
		{"POST /c/{token}/opt-out", public, s.Candidate.OptOut},
	}
	mux := http.NewServeMux()
	for _, rt := range table {
		mux.Handle(rt.pattern, s.guard(rt.access, rt.handler))
	}
	mux.HandleFunc("/", s.notFound)
	return mux
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusSeeOther) }
}
