package recruiter

import (
	"net/http"
	"path"
	"strings"

	"winnow"
)

// UploadServer sends the bytes of an applicant's uploaded file; the file store is one.
// inline lets a video play in the page instead of downloading.
type UploadServer interface {
	ServeUpload(w http.ResponseWriter, r *http.Request, u *winnow.Upload, inline bool) error
}

// Upload serves an applicant's uploaded file to a signed-in member who may see the
// applicant: another org's file is "not found", one of a job off a limited member's
// teams "forbidden". Under blind review the file goes out under a neutral name, since
// candidates often put their name in it. ?inline=1 plays a video in the page.
func (h *Handler) Upload(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	ctx := r.Context()
	up, err := h.Answers.FindUpload(ctx, u.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.Applicants.FindApplicantByID(ctx, u.OrgID, up.ApplicantID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.Funnels.FindFunnelByID(ctx, u.OrgID, a.FunnelID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !f.VisibleTo(u) {
		h.fail(w, r, errNotOnTeam)
		return
	}
	served := *up
	served.Name = uploadName(up, a, f)
	if err := h.Files.ServeUpload(w, r, &served, r.URL.Query().Get("inline") == "1"); err != nil {
		h.fail(w, r, err)
	}
}

// uploadName is the name a file of a is shown and downloaded under: its own, or under
// blind review one made of the item and the applicant's short ID, keeping the extension.
func uploadName(up *winnow.Upload, a *winnow.Applicant, f *winnow.Funnel) string {
	if !isBlind(a, f) {
		return up.Name
	}
	ext := strings.ToLower(path.Ext(up.Name))
	if len(ext) > 10 || strings.ContainsAny(ext, " /\\\"") {
		ext = ""
	}
	return up.Item + "-" + shortID(a.ID) + ext
}
