package leversandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// state is everything the sandbox knows. It is also the format of the
// state file. All access goes through Server.mu.
type state struct {
	AccountID     string                   `json:"accountId"`
	JWTKey        []byte                   `json:"jwtKey"`
	Stages        []*stage                 `json:"stages"`
	Users         []*user                  `json:"users"`
	Postings      []*posting               `json:"postings"`
	Contacts      map[string]*contact      `json:"contacts"`
	Opportunities []*opportunity           `json:"opportunities"`
	Webhooks      []*webhook               `json:"webhooks"`
	APIKeys       []string                 `json:"apiKeys"`
	Codes         map[string]*authCode     `json:"codes"`
	AccessTokens  map[string]*accessToken  `json:"accessTokens"`
	RefreshTokens map[string]*refreshToken `json:"refreshTokens"`
	Deliveries    []*Delivery              `json:"deliveries"`

	// byID indexes Opportunities (see anyOpportunity): every API call looks one up,
	// and a scan of thousands of them under the server's lock was most of the
	// sandbox's work once a few thousand candidates had applied. byEmail indexes
	// Contacts by address (see contactByEmail), for the same reason: every
	// application looks its address up. Both are built on first use (a state read
	// from its file or seeded has neither) and kept by addOpportunity and addContact,
	// through which every opportunity and contact is added.
	byID    map[string]*opportunity
	byEmail map[string]*contact
}

type stage struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type user struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Username      string `json:"username"`
	Email         string `json:"email"`
	AccessRole    string `json:"accessRole"`
	CreatedAt     int64  `json:"createdAt"`
	DeactivatedAt *int64 `json:"deactivatedAt"`
}

type posting struct {
	ID              string   `json:"id"`
	Text            string   `json:"text"`
	State           string   `json:"state"`
	Confidentiality string   `json:"confidentiality"`
	Team            string   `json:"team"`
	Department      string   `json:"department"`
	Location        string   `json:"location"`
	Commitment      string   `json:"commitment"`
	Tags            []string `json:"tags"`
	Owner           string   `json:"owner"`
	HiringManager   string   `json:"hiringManager"`
	CreatedAt       int64    `json:"createdAt"`
	UpdatedAt       int64    `json:"updatedAt"`
}

type contact struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Emails []string `json:"emails"`
}

type opportunity struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Contact        string        `json:"contact"`
	Emails         []string      `json:"emails"`
	Phone          string        `json:"phone"`
	Stage          string        `json:"stage"`
	StageChanges   []stageChange `json:"stageChanges"`
	Tags           []string      `json:"tags"`
	Origin         string        `json:"origin"`
	Application    *application  `json:"application"`
	Notes          []*note       `json:"notes"`
	CreatedAt      int64         `json:"createdAt"`
	UpdatedAt      int64         `json:"updatedAt"`
	LastAdvancedAt int64         `json:"lastAdvancedAt"`
	Archived       *archived     `json:"archived,omitempty"`
	DeletedAt      *int64        `json:"deletedAt,omitempty"` // deleted: gone from the API, kept for the UI and tests
}

type stageChange struct {
	ToStageID    string `json:"toStageId"`
	ToStageIndex int    `json:"toStageIndex"`
	UserID       string `json:"userId"`
	UpdatedAt    int64  `json:"updatedAt"`
}

type application struct {
	ID        string `json:"id"`
	Posting   string `json:"posting"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	CreatedAt int64  `json:"createdAt"`
}

type note struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	User      string `json:"user"`
	Secret    bool   `json:"secret"`
	Score     *int   `json:"score"`
	Stage     string `json:"stage"`
	CreatedAt int64  `json:"createdAt"`
}

type webhook struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Event          string   `json:"event"`
	Origins        []string `json:"origins"`
	SignatureToken string   `json:"signatureToken"`
	ViaAPI         bool     `json:"viaApi"`
	CreatedAt      int64    `json:"createdAt"`
	UpdatedAt      int64    `json:"updatedAt"`
}

type authCode struct {
	ClientID    string `json:"clientId"`
	RedirectURI string `json:"redirectUri"`
	Scope       string `json:"scope"`
	ExpiresAt   int64  `json:"expiresAt"`
}

type accessToken struct {
	Scope     string `json:"scope"`
	Family    string `json:"family"`
	ExpiresAt int64  `json:"expiresAt"`
}

type refreshToken struct {
	Scope  string `json:"scope"`
	Family string `json:"family"`
	Used   bool   `json:"used"`
}

// maxDeliveries is how many delivery attempts are kept, like Lever's
// history of the 1,000 most recent deliveries.
const maxDeliveries = 1000

// Built-in stage ids (slugs, as in Lever) and the seeded custom ones.
const (
	stageLeadNew      = "lead-new"
	stageApplicantNew = "applicant-new"
	stageOffer        = "offer"
)

// StageOnSite is the id of the seeded custom stage "On-site interview", the stage a
// demo moves qualified candidates to.
const StageOnSite = "c2d9f4a7-1e6b-4b38-8f05-7d4e2a9c3b03"

func newID() string { return uuid.NewString() }

// randomToken returns n random bytes as lowercase hex.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// seedState returns a fresh account with Lever's built-in stages, a few
// custom ones, three users and five postings.
func seedState(now time.Time) *state {
	ms := millis(now)
	st := &state{
		AccountID: newID(),
		JWTKey:    []byte(randomToken(32)),
		Stages: []*stage{
			{ID: stageLeadNew, Text: "New lead"},
			{ID: "lead-reached-out", Text: "Reached out"},
			{ID: "lead-responded", Text: "Responded"},
			{ID: stageApplicantNew, Text: "New applicant"},
			{ID: "4f1c2a9e-0d3b-4c55-9a61-6f2d8e7b1a01", Text: "Recruiter screen"},
			{ID: "8b7e3d21-5c4a-4e9f-b0d2-3a6c9f1e2b02", Text: "Phone interview"},
			{ID: StageOnSite, Text: "On-site interview"},
			{ID: stageOffer, Text: "Offer"},
		},
		Contacts:      map[string]*contact{},
		Codes:         map[string]*authCode{},
		AccessTokens:  map[string]*accessToken{},
		RefreshTokens: map[string]*refreshToken{},
	}
	admin := &user{ID: newID(), Name: "Ada Admin", Username: "ada", Email: "ada@example.com", AccessRole: "super admin", CreatedAt: ms}
	recruiter := &user{ID: newID(), Name: "Rui Recruiter", Username: "rui", Email: "rui@example.com", AccessRole: "admin", CreatedAt: ms}
	manager := &user{ID: newID(), Name: "Mina Manager", Username: "mina", Email: "mina@example.com", AccessRole: "team member", CreatedAt: ms}
	st.Users = []*user{admin, recruiter, manager}
	for i, p := range []struct{ text, state, team, loc string }{
		{"Backend Engineer", "published", "Engineering", "Berlin"},
		{"Frontend Engineer", "published", "Engineering", "Remote"},
		{"Product Designer", "published", "Design", "Lisbon"},
		{"Customer Success Manager", "internal", "Customer Success", "New York"},
		{"Data Analyst", "closed", "Data", "Remote"},
	} {
		st.Postings = append(st.Postings, &posting{
			ID: newID(), Text: p.text, State: p.state, Confidentiality: "non-confidential",
			Team: p.team, Department: p.team, Location: p.loc, Commitment: "Full-time",
			Tags: []string{}, Owner: recruiter.ID, HiringManager: manager.ID,
			CreatedAt: ms + int64(i), UpdatedAt: ms + int64(i),
		})
	}
	return st
}

// fillMaps makes a loaded state safe to use when the file omitted maps.
func (st *state) fillMaps() {
	if st.Contacts == nil {
		st.Contacts = map[string]*contact{}
	}
	if st.Codes == nil {
		st.Codes = map[string]*authCode{}
	}
	if st.AccessTokens == nil {
		st.AccessTokens = map[string]*accessToken{}
	}
	if st.RefreshTokens == nil {
		st.RefreshTokens = map[string]*refreshToken{}
	}
}

// loadState reads a state file; it returns (nil, nil) if there is none.
func loadState(path string) (*state, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("decode state %s: %w", path, err)
	}
	st.fillMaps()
	return &st, nil
}

// saveState writes st atomically: to a temporary file, then renamed.
func saveState(path string, st *state) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".leversandbox-*.json")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// lookups over the state; callers hold Server.mu.

func (st *state) stageIndex(id string) int {
	for i, s := range st.Stages {
		if s.ID == id {
			return i
		}
	}
	return -1
}

func (st *state) posting(id string) *posting {
	for _, p := range st.Postings {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// opportunity finds a live (not deleted) opportunity.
func (st *state) opportunity(id string) *opportunity {
	if o := st.anyOpportunity(id); o != nil && o.DeletedAt == nil {
		return o
	}
	return nil
}

// anyOpportunity finds an opportunity, deleted or not.
func (st *state) anyOpportunity(id string) *opportunity {
	if st.byID == nil {
		st.byID = make(map[string]*opportunity, len(st.Opportunities))
		for _, o := range st.Opportunities {
			st.byID[o.ID] = o
		}
	}
	return st.byID[id]
}

// addOpportunity appends o to the opportunities and to their index.
func (st *state) addOpportunity(o *opportunity) {
	st.Opportunities = append(st.Opportunities, o)
	if st.byID != nil {
		st.byID[o.ID] = o
	}
}

func (st *state) user(id string) *user {
	for _, u := range st.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (st *state) webhook(id string) *webhook {
	for _, w := range st.Webhooks {
		if w.ID == id {
			return w
		}
	}
	return nil
}

// contactByEmail finds the contact with an address.
func (st *state) contactByEmail(email string) *contact {
	if st.byEmail == nil {
		st.byEmail = make(map[string]*contact, len(st.Contacts))
		for _, c := range st.Contacts {
			st.indexContact(c)
		}
	}
	return st.byEmail[email]
}

// addContact adds c to the contacts and to their index by address.
func (st *state) addContact(c *contact) {
	st.Contacts[c.ID] = c
	if st.byEmail != nil {
		st.indexContact(c)
	}
}

// indexContact adds c's addresses to byEmail; an address already there keeps its
// contact.
func (st *state) indexContact(c *contact) {
	for _, e := range c.Emails {
		if _, ok := st.byEmail[e]; !ok {
			st.byEmail[e] = c
		}
	}
}
