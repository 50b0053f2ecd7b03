package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"winnow"
)

// funnel is a job (a funnel) as the API reads and writes it. ID, Applicants,
// LeverPostingID, QualifiedStageID, CreatedAt and UpdatedAt are read-only: accepted on
// input, so that a job read can be written back, and ignored there.
type funnel struct {
	ID          string        `json:"id,omitempty"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Status      string        `json:"status"`
	OpenReview  bool          `json:"openReview"`
	Team        []string      `json:"team"`
	Steps       []step        `json:"steps"`
	Applicants  *statusCounts `json:"applicants,omitempty"`
	// LeverPostingID and QualifiedStageID are read-only here: PUT
	// /api/v1/jobs/{id}/lever-posting links a posting, and writing a job back keeps both.
	LeverPostingID   string     `json:"leverPostingId,omitempty"`
	QualifiedStageID string     `json:"qualifiedStageId,omitempty"`
	CreatedAt        *time.Time `json:"createdAt,omitempty"`
	UpdatedAt        *time.Time `json:"updatedAt,omitempty"`
}

// statusCounts is how many of a job's applicants are in each status, with the
// API's camelCase keys (the status values themselves stay as they are).
type statusCounts struct {
	Invited     int `json:"invited"`
	InProgress  int `json:"inProgress"`
	Submitted   int `json:"submitted"`
	Qualified   int `json:"qualified"`
	Unqualified int `json:"unqualified"`
	OptedOut    int `json:"optedOut"`
}

// step is one step of a job. Exactly the field of its kind is set: questions,
// homework or video.
type step struct {
	ID        string     `json:"id,omitempty"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title,omitempty"`
	Questions []question `json:"questions,omitempty"`
	Homework  *homework  `json:"homework,omitempty"`
	Video     *video     `json:"video,omitempty"`
}

type question struct {
	ID       string    `json:"id,omitempty"`
	Text     string    `json:"text"`
	Type     string    `json:"type"`
	Choices  []string  `json:"choices,omitempty"`
	Required bool      `json:"required,omitempty"`
	Knockout *knockout `json:"knockout,omitempty"`
}

type knockout struct {
	Answer  string   `json:"answer,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Reason  string   `json:"reason"`
}

type homework struct {
	Instructions string   `json:"instructions"`
	AcceptText   bool     `json:"acceptText"`
	AcceptFile   bool     `json:"acceptFile"`
	MaxFileBytes int64    `json:"maxFileBytes,omitempty"`
	FileTypes    []string `json:"fileTypes,omitempty"`
}

type video struct {
	Prompts    []string `json:"prompts"`
	MaxSeconds int      `json:"maxSeconds,omitempty"`
}

// funnelList is the answer to GET /api/v1/jobs.
type funnelList struct {
	Funnels []funnel `json:"jobs"`
}

// ListFunnels lists the org's jobs, newest first, optionally of one status.
func (h *Handler) ListFunnels(w http.ResponseWriter, r *http.Request) {
	t := token(r)
	filter := winnow.FunnelFilter{Status: winnow.FunnelStatus(r.URL.Query().Get("status"))}
	if filter.Status != "" && !filter.Status.Valid() {
		h.fail(w, r, winnow.Errorf(winnow.EINVALID, "Unknown job status %q: use draft, open or closed.", filter.Status))
		return
	}
	funnels, err := h.Funnels.ListFunnels(r.Context(), t.OrgID, filter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	emails, err := h.teamEmails(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountApplicants(r.Context(), t.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := funnelList{Funnels: []funnel{}}
	for _, f := range funnels {
		out.Funnels = append(out.Funnels, funnelOut(f, emails, counts[f.ID]))
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// CreateFunnel creates a job from the body and answers 201 with it.
func (h *Handler) CreateFunnel(w http.ResponseWriter, r *http.Request) {
	var in funnel
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	f := &winnow.Funnel{OrgID: t.OrgID}
	if err := h.applyFunnel(r, f, in); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Funnels.CreateFunnel(r.Context(), f); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "job created", "org_id", t.OrgID, "funnel_id", f.ID, "token_id", t.ID)
	w.Header().Set("Location", "/api/v1/jobs/"+f.ID)
	h.respondFunnel(w, r, http.StatusCreated, f)
}

// GetFunnel answers the org's job with its steps and team.
func (h *Handler) GetFunnel(w http.ResponseWriter, r *http.Request) {
	f, err := h.Funnels.FindFunnelByID(r.Context(), token(r).OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.respondFunnel(w, r, http.StatusOK, f)
}

// UpdateFunnel replaces the job's title, description, status, review mode, team and
// steps with the body's. Steps and questions that keep their IDs keep the answers
// given to them; applicants already invited keep the steps they were invited to.
func (h *Handler) UpdateFunnel(w http.ResponseWriter, r *http.Request) {
	var in funnel
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	f, err := h.Funnels.FindFunnelByID(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != "" && in.ID != f.ID {
		h.fail(w, r, winnow.Errorf(winnow.EINVALID, "The body's id %q is not the id in the URL.", in.ID))
		return
	}
	if err := h.applyFunnel(r, f, in); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Funnels.UpdateFunnel(r.Context(), f); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "job updated", "org_id", t.OrgID, "funnel_id", f.ID, "token_id", t.ID)
	h.respondFunnel(w, r, http.StatusOK, f)
}

// respondFunnel answers f with its team's emails and its applicant counts.
func (h *Handler) respondFunnel(w http.ResponseWriter, r *http.Request, status int, f *winnow.Funnel) {
	emails, err := h.teamEmails(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountApplicants(r.Context(), f.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, status, funnelOut(f, emails, counts[f.ID]))
}

// teamEmails maps the org's user IDs to their email addresses.
func (h *Handler) teamEmails(r *http.Request) (map[string]string, error) {
	users, err := h.Users.ListUsers(r.Context(), token(r).OrgID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(users))
	for _, u := range users {
		m[u.ID] = u.Email
	}
	return m, nil
}

// applyFunnel sets f's writable fields from in. Team members are named by email and must
// be users of the token's org.
func (h *Handler) applyFunnel(r *http.Request, f *winnow.Funnel, in funnel) error {
	steps, err := stepsIn(in.Steps)
	if err != nil {
		return err
	}
	users, err := h.Users.ListUsers(r.Context(), token(r).OrgID)
	if err != nil {
		return err
	}
	byEmail := make(map[string]string, len(users))
	for _, u := range users {
		byEmail[u.Email] = u.ID
	}
	team := []string{}
	for _, e := range in.Team {
		id, ok := byEmail[strings.ToLower(strings.TrimSpace(e))]
		if !ok {
			return winnow.Errorf(winnow.EINVALID, "Team member %q is not a user of this organization.", e)
		}
		team = append(team, id)
	}
	f.Title, f.Description, f.Status = in.Title, strings.TrimSpace(in.Description), winnow.FunnelStatus(in.Status)
	f.OpenReview, f.Team, f.Steps = in.OpenReview, team, steps
	return nil
}

// stepsIn converts the body's steps, refusing fields that do not belong to a step's kind.
func stepsIn(in []step) ([]winnow.Step, error) {
	var out []winnow.Step
	for i, s := range in {
		n := strconv.Itoa(i + 1)
		kind := winnow.StepKind(s.Kind)
		ws := winnow.Step{ID: s.ID, Kind: kind, Title: s.Title}
		if (len(s.Questions) > 0 && kind != winnow.StepQuestions) || (s.Homework != nil && kind != winnow.StepHomework) ||
			(s.Video != nil && kind != winnow.StepVideo) {
			return nil, winnow.Errorf(winnow.EINVALID, "Step %s: a %s step takes only the field %q.", n, s.Kind, s.Kind)
		}
		for _, q := range s.Questions {
			wq := winnow.Question{ID: q.ID, Text: q.Text, Type: winnow.QuestionType(q.Type), Choices: q.Choices, Required: q.Required}
			if k := q.Knockout; k != nil {
				wq.Knockout = &winnow.Knockout{Answer: k.Answer, Allowed: k.Allowed, Min: k.Min, Max: k.Max, Reason: k.Reason}
			}
			ws.Questions = append(ws.Questions, wq)
		}
		if hw := s.Homework; hw != nil {
			ws.Homework = &winnow.Homework{Instructions: hw.Instructions, AcceptText: hw.AcceptText, AcceptFile: hw.AcceptFile,
				MaxFileBytes: hw.MaxFileBytes, FileTypes: hw.FileTypes}
		}
		if v := s.Video; v != nil {
			ws.Video = &winnow.Video{Prompts: v.Prompts, MaxSeconds: v.MaxSeconds}
		}
		out = append(out, ws)
	}
	return out, nil
}

// funnelOut is f as the API answers it.
func funnelOut(f *winnow.Funnel, emails map[string]string, counts map[winnow.ApplicantStatus]int) funnel {
	created, updated := f.CreatedAt, f.UpdatedAt
	j := funnel{ID: f.ID, Title: f.Title, Description: f.Description, Status: string(f.Status), OpenReview: f.OpenReview,
		Team: []string{}, Steps: stepsOut(f.Steps), LeverPostingID: f.LeverPostingID,
		QualifiedStageID: f.QualifiedStageID, CreatedAt: &created, UpdatedAt: &updated}
	for _, id := range f.Team {
		if e, ok := emails[id]; ok {
			j.Team = append(j.Team, e)
		}
	}
	j.Applicants = &statusCounts{Invited: counts[winnow.StatusInvited], InProgress: counts[winnow.StatusInProgress],
		Submitted: counts[winnow.StatusSubmitted], Qualified: counts[winnow.StatusQualified],
		Unqualified: counts[winnow.StatusUnqualified], OptedOut: counts[winnow.StatusOptedOut]}
	return j
}

// stepsOut converts steps for an answer.
func stepsOut(steps []winnow.Step) []step {
	out := []step{}
	for _, s := range steps {
		st := step{ID: s.ID, Kind: string(s.Kind), Title: s.Title}
		for _, q := range s.Questions {
			aq := question{ID: q.ID, Text: q.Text, Type: string(q.Type), Choices: q.Choices, Required: q.Required}
			if k := q.Knockout; k != nil {
				aq.Knockout = &knockout{Answer: k.Answer, Allowed: k.Allowed, Min: k.Min, Max: k.Max, Reason: k.Reason}
			}
			st.Questions = append(st.Questions, aq)
		}
		if hw := s.Homework; hw != nil {
			st.Homework = &homework{Instructions: hw.Instructions, AcceptText: hw.AcceptText, AcceptFile: hw.AcceptFile,
				MaxFileBytes: hw.MaxFileBytes, FileTypes: hw.FileTypes}
		}
		if v := s.Video; v != nil {
			st.Video = &video{Prompts: v.Prompts, MaxSeconds: v.MaxSeconds}
		}
		out = append(out, st)
	}
	return out
}
