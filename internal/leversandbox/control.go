package leversandbox

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Application is the result of Apply.
type Application struct {
	// OpportunityID, ApplicationID and ContactID are the new records' ids.
	OpportunityID string `json:"opportunityId"`
	ApplicationID string `json:"applicationId"`
	ContactID     string `json:"contactId"`
	// Webhooks is how many webhook deliveries were started.
	Webhooks int `json:"webhooks"`
}

// ApplyInput is a candidate applying to a posting.
type ApplyInput struct {
	// PostingID is the posting applied to (published or internal).
	PostingID string `json:"postingId"`
	// Name and Email are the candidate's; Email may be empty, as Lever
	// allows applications without one.
	Name  string `json:"name"`
	Email string `json:"email"`
	// Phone is optional.
	Phone string `json:"phone"`
}

// errInput marks an input problem (400) as opposed to a missing record.
var errInput = errors.New("invalid input")

// Apply does what a candidate applying on the job site does: it creates
// (or reuses, by email) a contact, a new opportunity in stage
// applicant-new and its application, and fires applicationCreated.
func (s *Server) Apply(in ApplyInput) (Application, error) {
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	if in.Name == "" {
		return Application{}, fmt.Errorf("%w: name is required", errInput)
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			return Application{}, fmt.Errorf("%w: email is not a valid address", errInput)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.posting(in.PostingID)
	if p == nil {
		return Application{}, fmt.Errorf("%w: postings %s", errNotFound, in.PostingID)
	}
	if p.State != "published" && p.State != "internal" {
		return Application{}, fmt.Errorf("%w: posting %s is %s and takes no applications", errInput, p.ID, p.State)
	}
	now := millis(s.now())
	var c *contact
	if in.Email != "" {
		c = s.st.contactByEmail(in.Email)
	}
	if c == nil {
		c = &contact{ID: newID(), Name: in.Name}
		if in.Email != "" {
			c.Emails = []string{in.Email}
		}
		s.st.addContact(c)
	}
	o := &opportunity{
		ID: newID(), Name: in.Name, Contact: c.ID, Emails: slices.Clone(c.Emails), Phone: in.Phone,
		Stage:        stageApplicantNew,
		StageChanges: []stageChange{{ToStageID: stageApplicantNew, ToStageIndex: s.st.stageIndex(stageApplicantNew), UpdatedAt: now}},
		Tags:         []string{}, Origin: "applied",
		Application: &application{ID: newID(), Posting: p.ID, Name: in.Name, Email: in.Email, CreatedAt: now},
		CreatedAt:   now, UpdatedAt: now, LastAdvancedAt: now,
	}
	s.st.addOpportunity(o)
	n := s.fireLocked(eventApplicationCreated, o.Origin, map[string]any{
		"applicationId": o.Application.ID, "opportunityId": o.ID, "candidateId": o.ID, "contactId": c.ID,
	})
	s.saveLocked()
	return Application{OpportunityID: o.ID, ApplicationID: o.Application.ID, ContactID: c.ID, Webhooks: n}, nil
}

// PostingInput is a posting to create.
type PostingInput struct {
	// Text is the title (required).
	Text string `json:"text"`
	// State is published (default), internal, closed or draft.
	State string `json:"state"`
	// Team and Location are shown in lists.
	Team     string `json:"team"`
	Location string `json:"location"`
}

// CreatePosting adds a posting and returns its id.
func (s *Server) CreatePosting(in PostingInput) (string, error) {
	in.Text = strings.TrimSpace(in.Text)
	if in.Text == "" {
		return "", fmt.Errorf("%w: text is required", errInput)
	}
	if in.State == "" {
		in.State = "published"
	}
	if !slices.Contains([]string{"published", "internal", "closed", "draft", "pending", "rejected"}, in.State) {
		return "", fmt.Errorf("%w: unknown state %q", errInput, in.State)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := millis(s.now())
	p := &posting{
		ID: newID(), Text: in.Text, State: in.State, Confidentiality: "non-confidential",
		Team: in.Team, Department: in.Team, Location: in.Location, Commitment: "Full-time", Tags: []string{},
		Owner: s.st.Users[0].ID, HiringManager: s.st.Users[0].ID, CreatedAt: now, UpdatedAt: now,
	}
	s.st.Postings = append(s.st.Postings, p)
	s.saveLocked()
	return p.ID, nil
}

// OpportunityState is the sandbox's view of an opportunity for tests and
// the UI: what Winnow wrote into it.
type OpportunityState struct {
	// ID, Name and Emails identify the candidate.
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Emails []string `json:"emails"`
	// PostingID is the posting of the application.
	PostingID string `json:"postingId"`
	// Stage is the stage id and StageText its name.
	Stage     string `json:"stage"`
	StageText string `json:"stageText"`
	// Tags are the current tags in the order they were added.
	Tags []string `json:"tags"`
	// Notes are newest first.
	Notes []NoteState `json:"notes"`
	// CreatedAt is when the candidate applied.
	CreatedAt time.Time `json:"createdAt"`
	// ArchiveReason is set while the opportunity is archived (one of the
	// archive reasons' ids), with ArchivedAt.
	ArchiveReason string     `json:"archiveReason,omitempty"`
	ArchivedAt    *time.Time `json:"archivedAt,omitempty"`
	// Deleted reports that the opportunity was deleted: the API no longer
	// serves it.
	Deleted bool `json:"deleted"`
}

// NoteState is one note as the sandbox stored it.
type NoteState struct {
	// ID is the note id; Value its text; User the perform_as user, if any.
	ID        string    `json:"id"`
	Value     string    `json:"value"`
	User      string    `json:"user"`
	Secret    bool      `json:"secret"`
	Score     *int      `json:"score"`
	CreatedAt time.Time `json:"createdAt"`
}

// Opportunity returns an opportunity's state, or false if there is none.
func (s *Server) Opportunity(id string) (OpportunityState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.anyOpportunity(id)
	if o == nil {
		return OpportunityState{}, false
	}
	return s.opportunityStateLocked(o), true
}

func (s *Server) opportunityStateLocked(o *opportunity) OpportunityState {
	os := OpportunityState{
		ID: o.ID, Name: o.Name, Emails: nonNil(o.Emails), Stage: o.Stage,
		Tags: nonNil(o.Tags), Notes: []NoteState{}, CreatedAt: time.UnixMilli(o.CreatedAt),
		Deleted: o.DeletedAt != nil,
	}
	if a := o.Archived; a != nil {
		at := time.UnixMilli(a.ArchivedAt)
		os.ArchiveReason, os.ArchivedAt = a.Reason, &at
	}
	if i := s.st.stageIndex(o.Stage); i >= 0 {
		os.StageText = s.st.Stages[i].Text
	}
	if o.Application != nil {
		os.PostingID = o.Application.Posting
	}
	for i := len(o.Notes) - 1; i >= 0; i-- {
		n := o.Notes[i]
		os.Notes = append(os.Notes, NoteState{ID: n.ID, Value: n.Value, User: n.User, Secret: n.Secret, Score: n.Score, CreatedAt: time.UnixMilli(n.CreatedAt)})
	}
	return os
}

// Deliveries returns the recorded webhook attempts, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.st.Deliveries))
	for i, d := range s.st.Deliveries {
		out[i] = *d
	}
	return out
}

// WebhookInput is a webhook configured as in Lever's settings UI.
type WebhookInput struct {
	// URL receives the deliveries.
	URL string `json:"url"`
	// Event is e.g. applicationCreated.
	Event string `json:"event"`
	// Origins restricts deliveries (empty: all).
	Origins []string `json:"origins"`
}

// WebhookInfo is a webhook with its signature token, as the settings UI
// shows it.
type WebhookInfo struct {
	// ID, URL, Event and Origins describe the subscription.
	ID      string   `json:"id"`
	URL     string   `json:"url"`
	Event   string   `json:"event"`
	Origins []string `json:"origins"`
	// SignatureToken is the HMAC key of its deliveries.
	SignatureToken string `json:"signatureToken"`
	// ViaAPI marks webhooks created through POST /v1/webhooks.
	ViaAPI bool `json:"viaApi"`
}

// AddWebhook configures a webhook as a Super Admin would in the UI.
func (s *Server) AddWebhook(in WebhookInput) (WebhookInfo, error) {
	if in.Event == "" {
		in.Event = eventApplicationCreated
	}
	h, msg := s.newWebhook(in.URL, in.Event, in.Origins, false)
	if msg != "" {
		return WebhookInfo{}, fmt.Errorf("%w: %s", errInput, msg)
	}
	return webhookInfo(h), nil
}

func webhookInfo(h *webhook) WebhookInfo {
	return WebhookInfo{ID: h.ID, URL: h.URL, Event: h.Event, Origins: nonNil(h.Origins), SignatureToken: h.SignatureToken, ViaAPI: h.ViaAPI}
}

// Webhooks lists the configured webhooks with their signature tokens.
func (s *Server) Webhooks() []WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []WebhookInfo{}
	for _, h := range s.st.Webhooks {
		out = append(out, webhookInfo(h))
	}
	return out
}

// controlRoutes registers the JSON control API under /_sandbox/. Every
// action of the UI is here, so tests can drive the sandbox.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sandbox/apply", func(w http.ResponseWriter, r *http.Request) {
		var in ApplyInput
		if !s.decodeControl(w, r, &in) {
			return
		}
		a, err := s.Apply(in)
		if err != nil {
			controlError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, a)
	})
	mux.HandleFunc("POST /_sandbox/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.Revoke()
		writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
	})
	mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if !s.decodeControl(w, r, &f) {
			return
		}
		if err := s.SetFaults(f); err != nil {
			controlError(w, fmt.Errorf("%w: %w", errInput, err))
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("GET /_sandbox/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.Deliveries()})
	})
	mux.HandleFunc("POST /_sandbox/verify-webhook/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, err := s.VerifyWebhook(r.PathValue("id"))
		if err != nil {
			controlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.Webhooks()})
	})
	mux.HandleFunc("POST /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var in WebhookInput
		if !s.decodeControl(w, r, &in) {
			return
		}
		h, err := s.AddWebhook(in)
		if err != nil {
			controlError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, h)
	})
	mux.HandleFunc("DELETE /_sandbox/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.deleteWebhook(r.PathValue("id")) {
			controlError(w, fmt.Errorf("%w: webhooks %s", errNotFound, r.PathValue("id")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/opportunities/{id}", func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.Opportunity(r.PathValue("id"))
		if !ok {
			controlError(w, fmt.Errorf("%w: opportunities %s", errNotFound, r.PathValue("id")))
			return
		}
		writeJSON(w, http.StatusOK, o)
	})
	mux.HandleFunc("POST /_sandbox/opportunities/{id}/stage", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Stage string `json:"stage"`
		}
		if s.decodeControl(w, r, &in) {
			s.controlDone(w, s.MoveStage(r.PathValue("id"), in.Stage))
		}
	})
	mux.HandleFunc("POST /_sandbox/opportunities/{id}/archive", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		if s.decodeControl(w, r, &in) {
			s.controlDone(w, s.Archive(r.PathValue("id"), in.Reason))
		}
	})
	mux.HandleFunc("POST /_sandbox/opportunities/{id}/unarchive", func(w http.ResponseWriter, r *http.Request) {
		s.controlDone(w, s.Unarchive(r.PathValue("id")))
	})
	mux.HandleFunc("DELETE /_sandbox/opportunities/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.controlDone(w, s.DeleteOpportunity(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sandbox/deliveries/{id}/rerun", func(w http.ResponseWriter, r *http.Request) {
		d, err := s.Rerun(r.PathValue("id"))
		if err != nil {
			controlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("POST /_sandbox/users/{id}/deactivate", func(w http.ResponseWriter, r *http.Request) {
		s.controlDone(w, s.DeactivateUser(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sandbox/postings", func(w http.ResponseWriter, r *http.Request) {
		var in PostingInput
		if !s.decodeControl(w, r, &in) {
			return
		}
		id, err := s.CreatePosting(in)
		if err != nil {
			controlError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	})
	mux.HandleFunc("POST /_sandbox/api-keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, map[string]string{"apiKey": s.MintAPIKey()})
	})
	mux.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "ResourceNotFound", "no such sandbox endpoint: "+r.Method+" "+r.URL.Path)
	})
}

// controlDone answers an action that returns nothing: 204, or its error.
func (s *Server) controlDone(w http.ResponseWriter, err error) {
	if err != nil {
		controlError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	return decodeBody(w, r, v)
}

// controlError maps Apply/VerifyWebhook/... errors to {code, message}.
func controlError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "ResourceNotFound", err.Error())
	case errors.Is(err, errInput):
		writeError(w, http.StatusBadRequest, "BadRequestError", err.Error())
	case errors.Is(err, errClosed):
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
	}
}

// PostingID returns the id of the first posting titled text, if there is one.
func (s *Server) PostingID(text string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Postings {
		if p.Text == text {
			return p.ID, true
		}
	}
	return "", false
}

// RepointWebhooks moves every webhook whose URL path starts with pathPrefix to the
// origin base (scheme and host, e.g. "http://127.0.0.1:8080"), keeping its id and
// signature token, and returns how many it changed. A receiver that comes back on
// another port (a demo restarted on port 0) keeps getting the webhooks it registered.
func (s *Server) RepointWebhooks(pathPrefix, base string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.st.Webhooks {
		u, err := url.Parse(h.URL)
		if err != nil || !strings.HasPrefix(u.Path, pathPrefix) {
			continue
		}
		to := strings.TrimRight(base, "/") + u.RequestURI()
		if to != h.URL {
			h.URL, h.UpdatedAt = to, millis(time.Now())
			n++
		}
	}
	if n > 0 {
		s.saveLocked()
	}
	return n
}
