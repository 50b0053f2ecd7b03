package recruiter

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// EditorPage is the data of the job editor: one form for the job's details, one for
// its team, one per step, and the forms that add a step.
type EditorPage struct {
	render.Base
	Funnel        *winnow.Funnel
	DetailsError  string
	Members       []MemberOption
	Steps         []StepForm
	Add           AddStepForm
	HasApplicants bool
	Saved         string // "details", "team" or a step ID, just saved
	QuestionTypes []Option
	Lengths       []Option // choices of maximum video length
}

// MemberOption is one checkbox of the team form.
type MemberOption struct {
	ID      string
	Name    string
	Role    winnow.Role
	Checked bool
}

// StepForm is the data of one step's form.
type StepForm struct {
	ID        string
	Kind      string
	KindLabel string
	Number    int
	First     bool
	Last      bool
	Title     string
	Error     string
	Saved     bool
	Questions []QuestionForm
	New       QuestionForm // the "add a question" row
	// Homework.
	Instructions string
	AcceptText   bool
	AcceptFile   bool
	FileTypes    string
	MaxMB        string
	// Video interview.
	Prompts    string
	MaxSeconds string
}

// QuestionForm is the data of one question's fields.
type QuestionForm struct {
	ID          string
	Number      int
	First       bool
	Last        bool
	Text        string
	Type        string
	Choices     []string
	ChoicesText string
	Required    bool
	Knockout    bool
	KOAnswer    string
	KOAllowed   []string
	KOMin       string
	KOMax       string
	KOReason    string
}

// AddStepForm is the state of the "add a step" forms after a failed submission.
type AddStepForm struct {
	Kind         string
	Error        string
	New          QuestionForm
	Instructions string
	Prompt       string
}

// editorState is what a failed submission puts back on the editor page.
type editorState struct {
	detailsError string
	stepID       string
	stepError    string
	newQuestion  *QuestionForm
	add          AddStepForm
}

// EditFunnel shows the job editor.
func (h *Handler) EditFunnel(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.renderEditor(w, r, http.StatusOK, f, editorState{})
}

// SaveFunnelDetails stores the job's title, description, status and review mode.
func (h *Handler) SaveFunnelDetails(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	f.Title = r.PostFormValue("title")
	f.Description = strings.TrimSpace(r.PostFormValue("description"))
	f.Status = winnow.FunnelStatus(r.PostFormValue("status"))
	f.OpenReview = r.PostFormValue("review") == "open"
	if err := h.Funnels.UpdateFunnel(r.Context(), f); err != nil {
		h.editorFailed(w, r, f, err, editorState{detailsError: winnow.ErrorMessage(err)})
		return
	}
	h.logFunnel(r, "job details saved", f)
	http.Redirect(w, r, editorURL(f, "details", "details"), http.StatusSeeOther)
}

// UpdateTeam replaces the job team with the checked members of the org.
func (h *Handler) UpdateTeam(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u := me(r)
	team := []string{}
	for _, id := range r.PostForm["team"] {
		m, err := h.Users.FindUserByID(r.Context(), u.OrgID, id)
		if err != nil {
			h.fail(w, r, winnow.Errorf(winnow.EINVALID, "One of the chosen team members does not exist."))
			return
		}
		team = append(team, m.ID)
	}
	f.Team = team
	if err := h.Funnels.UpdateFunnel(r.Context(), f); err != nil {
		h.fail(w, r, err)
		return
	}
	h.logFunnel(r, "job team saved", f)
	http.Redirect(w, r, editorURL(f, "team", "team"), http.StatusSeeOther)
}

// AddStep appends a new step of the posted kind, with the first question, the
// instructions or the first prompt typed into its form.
func (h *Handler) AddStep(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	kind := r.PostFormValue("kind")
	s, err := newStep(kind, r.PostForm)
	if err == nil {
		next := *f
		next.Steps = append(winnow.CopySteps(f.Steps), s)
		if err = h.Funnels.UpdateFunnel(r.Context(), &next); err == nil {
			f = &next
		}
	}
	if err != nil {
		add := AddStepForm{Kind: kind, Error: winnow.ErrorMessage(err), Instructions: r.PostFormValue("instructions"),
			Prompt: r.PostFormValue("prompt"), New: questionFormFromPost(r.PostForm, "new_")}
		h.editorFailed(w, r, f, err, editorState{add: add})
		return
	}
	added := f.Steps[len(f.Steps)-1]
	h.logFunnel(r, "job step added", f, "step_id", added.ID, "kind", string(added.Kind))
	http.Redirect(w, r, editorURL(f, added.ID, "step-"+added.ID), http.StatusSeeOther)
}

// EditStep saves a step's form and applies the operation of the button pressed: save,
// add a question, move or remove the step, move or remove a question.
func (h *Handler) EditStep(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	sid := r.PathValue("step")
	i := slices.IndexFunc(f.Steps, func(s winnow.Step) bool { return s.ID == sid })
	if i < 0 {
		h.fail(w, r, winnow.Errorf(winnow.ENOTFOUND, "This step is no longer part of the job. Reload the editor to see the job as it is now."))
		return
	}
	op := r.PostFormValue("op")
	if (op == "" || op == opSave) && strings.TrimSpace(r.PostFormValue("new_text")) != "" {
		// A question typed into the "add a question" row is added by "Save step" too.
		op = opAddQuestion
	}
	shown := *f
	shown.Steps = winnow.CopySteps(f.Steps)
	next := shown
	next.Steps = winnow.CopySteps(f.Steps)
	var fc focus
	parsed, err := parseStep(f.Steps[i], r.PostForm)
	if op == opRemove {
		parsed, err = f.Steps[i], nil
	}
	if err == nil {
		next.Steps[i] = parsed
		shown.Steps[i] = winnow.CopySteps([]winnow.Step{parsed})[0]
		if fc, err = applyStepOp(&next, i, op, r.PostForm); err == nil {
			err = h.Funnels.UpdateFunnel(r.Context(), &next)
		}
	} else {
		shown.Steps[i] = parsed
	}
	if err != nil {
		st := editorState{stepID: sid, stepError: winnow.ErrorMessage(err)}
		if strings.HasPrefix(op, opAddQuestion) {
			nq := questionFormFromPost(r.PostForm, "new_")
			st.newQuestion = &nq
		}
		h.editorFailed(w, r, &shown, err, st)
		return
	}
	h.logFunnel(r, "job step saved", &next, "step_id", sid, "op", op)
	saved := sid
	if op == opRemove {
		saved = ""
	}
	http.Redirect(w, r, editorURL(&next, saved, fc.anchor(&next)), http.StatusSeeOther)
}

// editorFailed shows the editor again with what was submitted and the error next to
// the form it concerns, or an error page for errors that are not the input's fault.
func (h *Handler) editorFailed(w http.ResponseWriter, r *http.Request, f *winnow.Funnel, err error, st editorState) {
	code := winnow.ErrorCode(err)
	if code != winnow.EINVALID && code != winnow.ECONFLICT { // a conflict: opening a job whose Lever posting another open job has
		h.fail(w, r, err)
		return
	}
	h.renderEditor(w, r, render.Status(err), f, st)
}

// renderEditor renders the editor for f, as stored or as submitted.
func (h *Handler) renderEditor(w http.ResponseWriter, r *http.Request, status int, f *winnow.Funnel, st editorState) {
	u := me(r)
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apps, err := h.Applicants.ListApplicants(r.Context(), u.OrgID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := EditorPage{Base: h.base(r, "Edit "+f.Title, "jobs"), Funnel: f, DetailsError: st.detailsError, Add: st.add,
		HasApplicants: len(apps) > 0, QuestionTypes: questionTypes, Saved: r.URL.Query().Get("saved")}
	if status != http.StatusOK {
		page.Saved = ""
	}
	for _, m := range users {
		page.Members = append(page.Members, MemberOption{ID: m.ID, Name: userName(m), Role: m.Role, Checked: f.OnTeam(m.ID)})
	}
	for i, s := range f.Steps {
		sf := stepForm(s)
		sf.Number, sf.First, sf.Last, sf.Saved = i+1, i == 0, i == len(f.Steps)-1, page.Saved == s.ID
		if s.ID == st.stepID {
			sf.Error = st.stepError
			if st.newQuestion != nil {
				sf.New = *st.newQuestion
			}
		}
		page.Steps = append(page.Steps, sf)
	}
	if page.Add.New.Type == "" {
		page.Add.New.Type = string(winnow.QuestionYesNo)
	}
	page.Lengths = videoLengths(page.Steps)
	h.Render.Page(w, r, status, render.PageJobEdit, page)
}

// stepForm fills a step's form from the step.
func stepForm(s winnow.Step) StepForm {
	sf := StepForm{ID: s.ID, Kind: string(s.Kind), KindLabel: s.Kind.Label(), Title: s.Title,
		New: QuestionForm{Type: string(winnow.QuestionYesNo)}}
	for i, q := range s.Questions {
		qf := questionForm(q)
		qf.Number, qf.First, qf.Last = i+1, i == 0, i == len(s.Questions)-1
		sf.Questions = append(sf.Questions, qf)
	}
	if hw := s.Homework; hw != nil {
		sf.Instructions, sf.AcceptText, sf.AcceptFile = hw.Instructions, hw.AcceptText, hw.AcceptFile
		sf.FileTypes = strings.Join(hw.FileTypes, ", ")
		if hw.MaxFileBytes > 0 {
			sf.MaxMB = trimZero(float64(hw.MaxFileBytes) / (1 << 20))
		}
	}
	if v := s.Video; v != nil {
		sf.Prompts = strings.Join(v.Prompts, "\n")
		sf.MaxSeconds = strconv.Itoa(v.MaxSeconds)
	}
	return sf
}

// questionForm fills a question's fields from the question.
func questionForm(q winnow.Question) QuestionForm {
	qf := QuestionForm{ID: q.ID, Text: q.Text, Type: string(q.Type), Choices: q.Choices,
		ChoicesText: strings.Join(q.Choices, "\n"), Required: q.Required}
	if k := q.Knockout; k != nil {
		qf.Knockout, qf.KOAnswer, qf.KOAllowed, qf.KOReason = true, k.Answer, k.Allowed, k.Reason
		if k.Min != nil {
			qf.KOMin = strconv.FormatFloat(*k.Min, 'f', -1, 64)
		}
		if k.Max != nil {
			qf.KOMax = strconv.FormatFloat(*k.Max, 'f', -1, 64)
		}
	}
	return qf
}

// questionFormFromPost is the "add a question" row as it was typed, to show it again.
func questionFormFromPost(form url.Values, prefix string) QuestionForm {
	qf := QuestionForm{Text: form.Get(prefix + "text"), Type: form.Get(prefix + "type"), ChoicesText: form.Get(prefix + "choices")}
	if qf.Type == "" {
		qf.Type = string(winnow.QuestionYesNo)
	}
	return qf
}

// videoLengths is the list of maximum video lengths the editor offers, with any
// other length a step already uses.
func videoLengths(steps []StepForm) []Option {
	secs := []int{0, 30, 60, 90, 120, 180, 300, 600}
	for _, s := range steps {
		if n, err := strconv.Atoi(s.MaxSeconds); err == nil && s.Kind == string(winnow.StepVideo) && !slices.Contains(secs, n) {
			secs = append(secs, n)
		}
	}
	slices.Sort(secs)
	out := make([]Option, len(secs))
	for i, n := range secs {
		out[i] = Option{Value: strconv.Itoa(n), Label: duration(n)}
		if n == 0 {
			out[i].Label = "No limit"
		}
	}
	return out
}

// editorURL is the editor of f marking saved as just saved, scrolled to anchor.
func editorURL(f *winnow.Funnel, saved, anchor string) string {
	u := "/jobs/" + f.ID + "/edit"
	if saved != "" {
		u += "?saved=" + url.QueryEscape(saved)
	}
	return u + "#" + anchor
}

// logFunnel logs a change to f by the signed-in user.
func (h *Handler) logFunnel(r *http.Request, msg string, f *winnow.Funnel, args ...any) {
	args = append([]any{"org_id", f.OrgID, "funnel_id", f.ID, "user_id", me(r).ID}, args...)
	h.Logger.InfoContext(r.Context(), msg, args...)
}
