package leversandbox

import (
	"net/http"
	"net/url"
	"slices"
)

// The wire shapes below follow the shared Lever notes; they are the
// sandbox's own and share nothing with package lever.

type phoneWire struct {
	Type  *string `json:"type"`
	Value string  `json:"value"`
}

type stageChangeWire struct {
	ToStageID    string  `json:"toStageId"`
	ToStageIndex int     `json:"toStageIndex"`
	UserID       *string `json:"userId"`
	UpdatedAt    int64   `json:"updatedAt"`
}

type urlsWire struct {
	List string `json:"list"`
	Show string `json:"show"`
}

type opportunityWire struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Headline          string            `json:"headline"`
	Contact           string            `json:"contact"`
	Emails            []string          `json:"emails"`
	Phones            []phoneWire       `json:"phones"`
	Location          string            `json:"location"`
	Links             []string          `json:"links"`
	Confidentiality   string            `json:"confidentiality"`
	Stage             any               `json:"stage"`
	StageChanges      []stageChangeWire `json:"stageChanges"`
	Archived          any               `json:"archived"`
	Tags              []string          `json:"tags"`
	Sources           []string          `json:"sources"`
	Origin            string            `json:"origin"`
	SourcedBy         *string           `json:"sourcedBy"`
	Owner             *string           `json:"owner"`
	Followers         []string          `json:"followers"`
	Applications      []any             `json:"applications"`
	CreatedAt         int64             `json:"createdAt"`
	UpdatedAt         int64             `json:"updatedAt"`
	LastInteractionAt int64             `json:"lastInteractionAt"`
	LastAdvancedAt    int64             `json:"lastAdvancedAt"`
	SnoozedUntil      *int64            `json:"snoozedUntil"`
	URLs              urlsWire          `json:"urls"`
	DataProtection    any               `json:"dataProtection"`
	IsAnonymized      bool              `json:"isAnonymized"`
}

type applicationWire struct {
	ID                   string   `json:"id"`
	OpportunityID        string   `json:"opportunityId"`
	CandidateID          string   `json:"candidateId"`
	CreatedAt            int64    `json:"createdAt"`
	Type                 string   `json:"type"`
	Posting              string   `json:"posting"`
	PostingOwner         string   `json:"postingOwner"`
	PostingHiringManager string   `json:"postingHiringManager"`
	User                 *string  `json:"user"`
	Name                 string   `json:"name"`
	Email                string   `json:"email"`
	Phone                any      `json:"phone"`
	Company              *string  `json:"company"`
	Links                []string `json:"links"`
	Comments             *string  `json:"comments"`
	CustomQuestions      []any    `json:"customQuestions"`
	Archived             any      `json:"archived"`
	RequisitionForHire   any      `json:"requisitionForHire"`
}

type noteFieldWire struct {
	Type      string  `json:"type"`
	Text      string  `json:"text"`
	Value     string  `json:"value"`
	Score     *int    `json:"score"`
	Stage     string  `json:"stage"`
	User      *string `json:"user"`
	CreatedAt int64   `json:"createdAt"`
}

type noteWire struct {
	ID          string          `json:"id"`
	NoteID      string          `json:"noteId"`
	Text        string          `json:"text"`
	Secret      bool            `json:"secret"`
	User        *string         `json:"user"`
	CreatedAt   int64           `json:"createdAt"`
	CompletedAt int64           `json:"completedAt"`
	DeletedAt   *int64          `json:"deletedAt"`
	Fields      []noteFieldWire `json:"fields"`
}

type postingWire struct {
	ID                   string         `json:"id"`
	Text                 string         `json:"text"`
	State                string         `json:"state"`
	DistributionChannels []string       `json:"distributionChannels"`
	Confidentiality      string         `json:"confidentiality"`
	User                 string         `json:"user"`
	Owner                string         `json:"owner"`
	HiringManager        string         `json:"hiringManager"`
	Categories           map[string]any `json:"categories"`
	Tags                 []string       `json:"tags"`
	Content              map[string]any `json:"content"`
	Country              string         `json:"country"`
	Followers            []string       `json:"followers"`
	WorkplaceType        string         `json:"workplaceType"`
	URLs                 any            `json:"urls"`
	CreatedAt            int64          `json:"createdAt"`
	UpdatedAt            int64          `json:"updatedAt"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

// opportunityJSON renders an opportunity; expand names fields to inline.
func (s *Server) opportunityJSON(r *http.Request, o *opportunity, expand []string) opportunityWire {
	st := s.st
	ow := opportunityWire{
		ID: o.ID, Name: o.Name, Contact: o.Contact, Emails: nonNil(o.Emails),
		Phones: []phoneWire{}, Links: []string{}, Confidentiality: "non-confidential",
		Stage: o.Stage, Tags: nonNil(o.Tags), Sources: []string{"Sandbox job site"}, Origin: o.Origin,
		Followers: []string{}, Applications: []any{}, Archived: archivedJSON(o.Archived),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, LastInteractionAt: o.UpdatedAt, LastAdvancedAt: o.LastAdvancedAt,
		URLs: urlsWire{
			List: baseURL(r) + "/ui/opportunities",
			Show: baseURL(r) + "/ui/opportunities/" + url.PathEscape(o.ID),
		},
	}
	if o.Phone != "" {
		ow.Phones = append(ow.Phones, phoneWire{Value: o.Phone})
	}
	for _, c := range o.StageChanges {
		ow.StageChanges = append(ow.StageChanges, stageChangeWire{c.ToStageID, c.ToStageIndex, strPtr(c.UserID), c.UpdatedAt})
	}
	if slices.Contains(expand, "stage") {
		text := ""
		if i := st.stageIndex(o.Stage); i >= 0 {
			text = st.Stages[i].Text
		}
		ow.Stage = map[string]string{"id": o.Stage, "text": text}
	}
	if a := o.Application; a != nil {
		if slices.Contains(expand, "applications") {
			aw := applicationWire{
				ID: a.ID, OpportunityID: o.ID, CandidateID: o.ID, CreatedAt: a.CreatedAt, Type: "posting",
				Posting: a.Posting, Name: a.Name, Email: a.Email, Links: []string{}, CustomQuestions: []any{},
			}
			if p := st.posting(a.Posting); p != nil {
				aw.PostingOwner, aw.PostingHiringManager = p.Owner, p.HiringManager
			}
			ow.Applications = append(ow.Applications, aw)
		} else {
			ow.Applications = append(ow.Applications, a.ID)
		}
	}
	return ow
}

func noteJSON(n *note) noteWire {
	return noteWire{
		ID: n.ID, NoteID: n.ID, Text: "Note", Secret: n.Secret, User: strPtr(n.User),
		CreatedAt: n.CreatedAt, CompletedAt: n.CreatedAt,
		Fields: []noteFieldWire{{
			Type: "note", Text: "Comment", Value: n.Value, Score: n.Score, Stage: n.Stage,
			User: strPtr(n.User), CreatedAt: n.CreatedAt,
		}},
	}
}

func postingJSON(r *http.Request, p *posting) postingWire {
	pw := postingWire{
		ID: p.ID, Text: p.Text, State: p.State, Confidentiality: p.Confidentiality,
		User: p.Owner, Owner: p.Owner, HiringManager: p.HiringManager,
		Categories: map[string]any{
			"team": p.Team, "department": p.Department, "location": p.Location,
			"allLocations": []string{p.Location}, "commitment": p.Commitment,
		},
		Tags:          nonNil(p.Tags),
		Content:       map[string]any{"description": "", "descriptionHtml": "", "lists": []any{}, "closing": "", "closingHtml": ""},
		Followers:     []string{},
		WorkplaceType: "unspecified",
		CreatedAt:     p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p.State == "published" {
		pw.DistributionChannels = []string{"public", "internal"}
	}
	if p.State != "closed" {
		show := baseURL(r) + "/ui/postings/" + url.PathEscape(p.ID)
		pw.URLs = map[string]string{"list": baseURL(r) + "/", "show": show, "apply": show + "#apply"}
	}
	return pw
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// opportunityOr404 finds the {id} opportunity or writes the 404.
func (s *Server) opportunityOr404(w http.ResponseWriter, r *http.Request) *opportunity {
	o := s.st.opportunity(r.PathValue("id"))
	if o == nil {
		writeError(w, http.StatusNotFound, "ResourceNotFound", "opportunities "+r.PathValue("id")+" was not found")
	}
	return o
}

// performAs validates the optional perform_as user; it writes the 400.
func (s *Server) performAs(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.URL.Query().Get("perform_as")
	if id == "" {
		return "", true
	}
	u := s.st.user(id)
	if u == nil || u.DeactivatedAt != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "perform_as "+id+" is not an active user")
		return "", false
	}
	return id, true
}

// lockForWrite takes the state lock for a write to the path's opportunity and reads the
// perform_as user. On success the caller holds the lock; on failure the error is
// answered and the lock released.
func (s *Server) lockForWrite(w http.ResponseWriter, r *http.Request) (*opportunity, string, bool) {
	s.mu.Lock()
	o := s.opportunityOr404(w, r)
	if o == nil {
		s.mu.Unlock()
		return nil, "", false
	}
	userID, ok := s.performAs(w, r)
	if !ok {
		s.mu.Unlock()
		return nil, "", false
	}
	return o, userID, true
}

func (s *Server) apiGetOpportunity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opportunityOr404(w, r)
	if o == nil {
		return
	}
	writeData(w, http.StatusOK, s.opportunityJSON(r, o, r.URL.Query()["expand"]))
}

// apiTags adds (add=true) or removes tags; the answer is the updated
// opportunity.
func (s *Server) apiTags(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Tags *[]string `json:"tags"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if body.Tags == nil {
			writeError(w, http.StatusBadRequest, "BadRequestError", "tags is required: an array of strings")
			return
		}
		o, _, ok := s.lockForWrite(w, r)
		if !ok {
			return
		}
		for _, t := range *body.Tags {
			if t == "" {
				continue
			}
			has := slices.Contains(o.Tags, t)
			switch {
			case add && !has:
				o.Tags = append(o.Tags, t)
			case !add && has:
				o.Tags = slices.DeleteFunc(o.Tags, func(x string) bool { return x == t })
			}
		}
		o.UpdatedAt = millis(s.now())
		out := s.opportunityJSON(r, o, nil)
		s.saveLocked()
		s.mu.Unlock()
		s.hangAfterWrite(w, r)
		writeData(w, http.StatusOK, out)
	}
}

func (s *Server) apiChangeStage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Stage string `json:"stage"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Stage == "" {
		writeError(w, http.StatusBadRequest, "BadRequestError", "stage is required")
		return
	}
	o, userID, ok := s.lockForWrite(w, r)
	if !ok {
		return
	}
	if s.st.stageIndex(body.Stage) < 0 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "BadRequestError", "stages "+body.Stage+" was not found")
		return
	}
	s.moveStageLocked(o, body.Stage, userID)
	out := s.opportunityJSON(r, o, nil)
	s.saveLocked()
	s.mu.Unlock()
	s.hangAfterWrite(w, r)
	writeData(w, http.StatusOK, out)
}

func (s *Server) apiAddNote(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Value           string `json:"value"`
		Secret          bool   `json:"secret"`
		Score           *int   `json:"score"`
		NotifyFollowers bool   `json:"notifyFollowers"`
		CreatedAt       *int64 `json:"createdAt"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Value == "" {
		writeError(w, http.StatusBadRequest, "BadRequestError", "value is required")
		return
	}
	if body.Score != nil && (*body.Score < 1 || *body.Score > 4) {
		writeError(w, http.StatusBadRequest, "BadRequestError", "score must be from 1 to 4")
		return
	}
	now := millis(s.now())
	if body.CreatedAt != nil && *body.CreatedAt > now {
		writeError(w, http.StatusBadRequest, "BadRequestError", "createdAt must not be in the future")
		return
	}
	o, userID, ok := s.lockForWrite(w, r)
	if !ok {
		return
	}
	n := &note{ID: newID(), Value: body.Value, User: userID, Secret: body.Secret, Score: body.Score, Stage: o.Stage, CreatedAt: now}
	if body.CreatedAt != nil {
		n.CreatedAt = *body.CreatedAt
	}
	o.Notes = append(o.Notes, n)
	o.UpdatedAt = now
	out := noteJSON(n)
	s.saveLocked()
	s.mu.Unlock()
	s.hangAfterWrite(w, r)
	writeData(w, http.StatusCreated, out)
}

// apiListNotes lists notes oldest first.
func (s *Server) apiListNotes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opportunityOr404(w, r)
	if o == nil {
		return
	}
	start, end, next, ok := pageOf(w, r, len(o.Notes), func(i int) string { return o.Notes[i].ID })
	if !ok {
		return
	}
	out := []noteWire{}
	for _, n := range o.Notes[start:end] {
		out = append(out, noteJSON(n))
	}
	writePage(w, out, next)
}

// apiListPostings lists postings, filtered by repeated "state" params.
func (s *Server) apiListPostings(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := r.URL.Query()["state"]
	var ps []*posting
	for _, p := range s.st.Postings {
		if len(states) == 0 || slices.Contains(states, p.State) {
			ps = append(ps, p)
		}
	}
	start, end, next, ok := pageOf(w, r, len(ps), func(i int) string { return ps[i].ID })
	if !ok {
		return
	}
	out := []postingWire{}
	for _, p := range ps[start:end] {
		out = append(out, postingJSON(r, p))
	}
	writePage(w, out, next)
}

func (s *Server) apiListStages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st.Stages
	start, end, next, ok := pageOf(w, r, len(st), func(i int) string { return st[i].ID })
	if !ok {
		return
	}
	out := []map[string]string{}
	for _, x := range st[start:end] {
		out = append(out, map[string]string{"id": x.ID, "text": x.Text})
	}
	writePage(w, out, next)
}

// apiListUsers lists users, optionally filtered by "email".
func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := r.URL.Query().Get("email")
	var us []*user
	for _, u := range s.st.Users {
		if email == "" || u.Email == email {
			us = append(us, u)
		}
	}
	start, end, next, ok := pageOf(w, r, len(us), func(i int) string { return us[i].ID })
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, u := range us[start:end] {
		out = append(out, map[string]any{
			"id": u.ID, "name": u.Name, "username": u.Username, "email": u.Email,
			"accessRole": u.AccessRole, "photo": nil, "createdAt": u.CreatedAt,
			"deactivatedAt": u.DeactivatedAt, "externalDirectoryId": nil, "linkedContactIds": nil,
		})
	}
	writePage(w, out, next)
}
