package recruiter

import (
	"net/http"
	"slices"
	"unicode/utf8"

	"winnow"
)

// DuplicateFunnel serves POST /jobs/{id}/duplicate: a new draft job titled "Copy of
// …" with the job's description, review mode, team, reminder cadence, steps and its
// own email templates, and none of its applicants or its Lever posting and stage (one
// posting feeds one job). It lands on the copy's editor.
func (h *Handler) DuplicateFunnel(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	u := me(r)
	ctx := r.Context()
	team := slices.Clone(f.Team)
	if !slices.Contains(team, u.ID) {
		team = append(team, u.ID) // whoever copies a job can see the copy
	}
	cp := &winnow.Funnel{OrgID: f.OrgID, Title: copyTitle(f.Title), Description: f.Description, Status: winnow.FunnelDraft,
		Steps: winnow.CopySteps(f.Steps), Team: team, OpenReview: f.OpenReview,
		Cadence: winnow.Cadence{Reminders: slices.Clone(f.Cadence.Reminders), OptOutAfter: f.Cadence.OptOutAfter}}
	templates, err := h.Templates.ListTemplates(ctx, u.OrgID, f.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Funnels.CreateFunnel(ctx, cp); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, t := range templates {
		if t.Source != winnow.SourceFunnel {
			continue // the org's and the built-in ones apply to the copy by themselves
		}
		own := *t
		own.FunnelID, own.UpdatedBy = cp.ID, u.ID
		if err := h.Templates.SaveTemplate(ctx, &own); err != nil {
			// The copy stands with the steps; the message says which part is missing.
			h.Logger.ErrorContext(ctx, "copy job email template", "org_id", u.OrgID, "funnel_id", cp.ID, "kind", string(t.Kind), "error", err)
			h.fail(w, r, winnow.Errorf(winnow.EINTERNAL, "The job was copied, but its own %s email could not be: open the copy's Emails to check.", t.Kind.Label()))
			return
		}
	}
	h.logFunnel(r, "job duplicated", cp, "from_funnel_id", f.ID)
	http.Redirect(w, r, "/jobs/"+cp.ID+"/edit?saved=copy", http.StatusSeeOther)
}

// copyTitle is the title of a copy of a job titled title, cut to the longest title
// allowed.
func copyTitle(title string) string {
	t := "Copy of " + title
	for utf8.RuneCountInString(t) > winnow.MaxFunnelTitleLength {
		_, size := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-size]
	}
	return t
}
