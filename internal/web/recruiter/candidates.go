package recruiter

import (
	"fmt"
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
		form.Error = fmt.Sprintf("Paste at most %d candidates at a time.", maxInviteLines)
	}
	if form.Error != "" {
		h.renderFunnel(w, r, status, f, form)
		return
	}
	form.Results, form.Invited = h.inviteAll(r, f, cands)
	status = http.StatusOK
	if form.Invited == 0 {
		status = http.StatusUnprocessableEntity
	} else {
		form.Name, form.Email, form.Bulk = "", "", ""
	}
	h.renderFunnel(w, r, status, f, form)
}

// inviteAll creates an applicant for each valid line, in batches that each take one
// transaction (the store's CreateApplicants), and says what became of every line. The
// store's unique index, not a list of the job's applicants, finds addresses already in
// the job, an earlier line's among them, however many applicants the job has.
func (h *Handler) inviteAll(r *http.Request, f *winnow.Funnel, cands []candidateLine) ([]InvitationResult, int) {
	u := me(r)
	results := make([]InvitationResult, len(cands))
	var apps []*winnow.Applicant
	var lines []int // the result of each of apps
	for i, c := range cands {
		results[i] = InvitationResult{Line: c.line, Input: c.input, Name: c.name, Email: c.email}
		if c.err != nil {
			results[i].Outcome, results[i].Message = outcomeInvalid, winnow.ErrorMessage(c.err)
			continue
		}
		a, err := winnow.NewApplicant(f, c.name, c.email, keyring.Token(), h.Clock.Now())
		if err != nil {
			results[i].Outcome, results[i].Message = outcomeInvalid, winnow.ErrorMessage(err)
			continue
		}
		apps, lines = append(apps, a), append(lines, i)
	}
	invited := 0
	for j, err := range h.Applicants.CreateApplicants(r.Context(), apps, u.ID) {
		res, a := &results[lines[j]], apps[j]
		switch code := winnow.ErrorCode(err); code {
		case "":
			invited++
			h.Logger.InfoContext(r.Context(), "candidate invited", "org_id", f.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "user_id", u.ID)
			res.Outcome, res.Name, res.Email, res.Link = outcomeInvited, a.Name, a.Email, h.BaseURL+winnow.CandidatePath(a.Token)
		case winnow.ECONFLICT:
			res.Outcome, res.Message = outcomeDuplicate, winnow.ErrorMessage(err)
		default:
			if code == winnow.EINTERNAL || code == winnow.EUNAVAILABLE {
				h.Logger.ErrorContext(r.Context(), "invite candidate", "org_id", f.OrgID, "funnel_id", f.ID, "user_id", u.ID, "error", err)
			}
			res.Outcome, res.Message = outcomeInvalid, winnow.ErrorMessage(err)
		}
	}
	return results, invited
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
