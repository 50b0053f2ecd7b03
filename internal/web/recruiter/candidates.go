package recruiter

import (
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/keyring"
)

// maxInviteLines bounds one bulk invitation, so that one paste cannot hold a request
// for minutes.
const maxInviteLines = 500

// InvitationForm is the state of a job's form that invites candidates: what was typed
// and, after a submission, what became of each candidate.
type InvitationForm struct {
	Name    string
	Email   string
	Bulk    string
	Error   string
	Results []InvitationResult
	Invited int
}

// The outcomes of one invitation line.
const (
	outcomeInvited   = "invited"
	outcomeInvalid   = "invalid"
	outcomeDuplicate = "duplicate"
)

// InvitationResult says what became of one candidate of an invitation.
type InvitationResult struct {
	Line    int
	Input   string
	Name    string
	Email   string
	Outcome string // "invited", "invalid" or "duplicate"
	Message string
	Link    string // the candidate's link, for invited ones
}

// candidateLine is one candidate as typed: a line of the bulk list or the single form.
type candidateLine struct {
	line        int
	input       string
	name, email string
	err         error
}

// InviteCandidates invites the candidates typed into a job's form, one by name and
// email or many pasted as lines, each to an applicant of its own. Every line stands
// alone: a bad line is reported and writes nothing, and never stops the good ones.
func (h *Handler) InviteCandidates(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u := me(r)
	form := InvitationForm{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Bulk: r.PostFormValue("bulk")}
	var cands []candidateLine
	if strings.TrimSpace(form.Bulk) != "" {
		cands = parseCandidateLines(form.Bulk)
	} else {
		email, err := winnow.NormalizeEmail(form.Email)
		cands = []candidateLine{{line: 1, input: form.Name + " <" + form.Email + ">", name: form.Name, email: email, err: err}}
	}
	status := http.StatusUnprocessableEntity
	switch {
	case f.Status != winnow.FunnelOpen:
		form.Error, status = "This job is "+string(f.Status)+". Open it in the editor before inviting candidates.", http.StatusConflict
	case len(cands) == 0:
		form.Error = "Paste at least one candidate: a name and an email address on each line."
	case len(cands) > maxInviteLines:
		form.Error = "Paste at most 500 candidates at a time."
	}
	if form.Error != "" {
		h.renderFunnel(w, r, status, f, form)
		return
	}
	existing, err := h.Applicants.ListApplicants(r.Context(), u.OrgID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	seen := map[string]bool{}
	for _, a := range existing {
		seen[a.Email] = true
	}
	for _, c := range cands {
		res := h.inviteOne(r, f, c, seen)
		if res.Outcome == outcomeInvited {
			form.Invited++
		}
		form.Results = append(form.Results, res)
	}
	status = http.StatusOK
	if form.Invited == 0 {
		status = http.StatusUnprocessableEntity
	} else {
		form.Name, form.Email, form.Bulk = "", "", ""
	}
	h.renderFunnel(w, r, status, f, form)
}

// inviteOne creates the applicant for one candidate line unless the line is invalid
// or the email is already in the job (seen, which it then updates).
func (h *Handler) inviteOne(r *http.Request, f *winnow.Funnel, c candidateLine, seen map[string]bool) InvitationResult {
	res := InvitationResult{Line: c.line, Input: c.input, Name: c.name, Email: c.email}
	if c.err != nil {
		res.Outcome, res.Message = outcomeInvalid, winnow.ErrorMessage(c.err)
		return res
	}
	if seen[c.email] {
		res.Outcome, res.Message = outcomeDuplicate, "Already invited to this job."
		return res
	}
	u := me(r)
	a, err := winnow.NewApplicant(f, c.name, c.email, keyring.Token(), h.Clock.Now())
	if err != nil {
		res.Outcome, res.Message = outcomeInvalid, winnow.ErrorMessage(err)
		return res
	}
	// seen only spares a pointless insert: the store's unique index is what refuses an
	// address invited a moment ago by another request.
	if err := h.Applicants.CreateApplicant(r.Context(), a, u.ID); err != nil {
		switch code := winnow.ErrorCode(err); code {
		case winnow.ECONFLICT:
			seen[c.email] = true
			res.Outcome, res.Message = outcomeDuplicate, winnow.ErrorMessage(err)
			return res
		case winnow.EINTERNAL, winnow.EUNAVAILABLE:
			h.Logger.ErrorContext(r.Context(), "invite candidate", "org_id", f.OrgID, "funnel_id", f.ID, "user_id", u.ID, "error", err)
		}
		res.Outcome, res.Message = outcomeInvalid, winnow.ErrorMessage(err)
		return res
	}
	seen[a.Email] = true
	h.Logger.InfoContext(r.Context(), "candidate invited", "org_id", f.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "user_id", u.ID)
	res.Outcome, res.Name, res.Email, res.Link = outcomeInvited, a.Name, a.Email, h.BaseURL+winnow.CandidatePath(a.Token)
	return res
}

// parseCandidateLines reads a pasted list: each non-empty line is `Name <email>`,
// `Name, email` (or a tab instead of the comma, as pasted from a spreadsheet) or just
// an email, in which case the address is also the name.
func parseCandidateLines(text string) []candidateLine {
	var out []candidateLine
	for i, raw := range strings.Split(text, "\n") {
		input := strings.TrimSpace(raw)
		if input == "" {
			continue
		}
		c := candidateLine{line: i + 1, input: input}
		c.name, c.email = splitCandidate(input)
		c.email, c.err = winnow.NormalizeEmail(c.email)
		if c.name == "" {
			c.name = c.email
		}
		out = append(out, c)
	}
	return out
}

// splitCandidate splits one line into the name and the address as typed.
func splitCandidate(line string) (name, email string) {
	if open := strings.LastIndexByte(line, '<'); open >= 0 && strings.HasSuffix(line, ">") {
		return trimName(line[:open]), strings.TrimSpace(line[open+1 : len(line)-1])
	}
	if sep := strings.LastIndexAny(line, ",\t;"); sep >= 0 {
		return trimName(line[:sep]), strings.TrimSpace(line[sep+1:])
	}
	return "", line
}

// trimName drops the spaces and quotes around a name.
func trimName(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }
