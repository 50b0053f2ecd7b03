package lever

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Opportunity is one candidacy of a contact (Lever's "candidate"). Only the
// fields Winnow uses are decoded; Lever may add more.
type Opportunity struct {
	// ID is the opportunity id (also the deprecated candidate id).
	ID string `json:"id"`
	// Name is the candidate's name.
	Name string `json:"name"`
	// Headline is the candidate's headline, often a current role.
	Headline string `json:"headline"`
	// Contact is the id of the person behind the opportunity.
	Contact string `json:"contact"`
	// Emails are the candidate's addresses; the list may be empty.
	Emails []string `json:"emails"`
	// Phones are the candidate's phone numbers.
	Phones []Phone `json:"phones"`
	// Location is free text.
	Location string `json:"location"`
	// Links are URLs the candidate gave.
	Links []string `json:"links"`
	// Confidentiality is "non-confidential" or "confidential".
	Confidentiality string `json:"confidentiality"`
	// Stage is the current stage.
	Stage StageRef `json:"stage"`
	// StageChanges lists past stage moves, oldest first.
	StageChanges []StageChange `json:"stageChanges"`
	// Archived is set when the opportunity is archived.
	Archived *Archived `json:"archived"`
	// Tags are the opportunity's tags (case-sensitive plain strings).
	Tags []string `json:"tags"`
	// Sources are where the candidate came from.
	Sources []string `json:"sources"`
	// Origin is one of applied, sourced, referred, university, agency, internal.
	Origin string `json:"origin"`
	// Owner is the user id of the opportunity owner.
	Owner string `json:"owner"`
	// Followers are user ids.
	Followers []string `json:"followers"`
	// Applications has at most one application (expanded by GetOpportunity).
	Applications []Application `json:"applications"`
	// URLs links to the opportunity in Lever's UI; use URLs.Show, never
	// build it.
	URLs OpportunityURLs `json:"urls"`
	// CreatedAt is when the opportunity was created.
	CreatedAt Timestamp `json:"createdAt"`
	// UpdatedAt is when it last changed (zero on some old records).
	UpdatedAt Timestamp `json:"updatedAt"`
	// LastAdvancedAt is when it last moved stage.
	LastAdvancedAt Timestamp `json:"lastAdvancedAt"`
}

// Email returns the candidate's first email address, or "" if none.
func (o *Opportunity) Email() string {
	if len(o.Emails) == 0 {
		return ""
	}
	return o.Emails[0]
}

// PostingID returns the posting of the opportunity's application, or "" if
// it has none (e.g. a sourced lead).
func (o *Opportunity) PostingID() string {
	for _, a := range o.Applications {
		if a.Posting != "" {
			return a.Posting
		}
	}
	return ""
}

// Phone is a phone number with an optional type.
type Phone struct {
	// Type is e.g. "mobile"; it may be empty.
	Type string `json:"type"`
	// Value is the number as entered.
	Value string `json:"value"`
}

// StageRef is a stage id that Lever sends as a string, or as an object when
// expanded.
type StageRef struct {
	// ID is the stage id, e.g. "applicant-new" or a UUID.
	ID string
	// Text is the stage name when Lever expanded the stage.
	Text string
}

// UnmarshalJSON accepts "id" or {"id","text"}.
func (s *StageRef) UnmarshalJSON(b []byte) error {
	id, obj, err := decodeRef(b)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	s.ID = id
	if obj != nil {
		var v struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(obj, &v)
		s.Text = v.Text
	}
	return nil
}

// StageChange is one move of an opportunity between stages.
type StageChange struct {
	// ToStageID is the stage moved to.
	ToStageID string `json:"toStageId"`
	// ToStageIndex is that stage's position in the pipeline at the time.
	ToStageIndex int `json:"toStageIndex"`
	// UserID is who moved it (perform_as), if known.
	UserID string `json:"userId"`
	// UpdatedAt is when it moved.
	UpdatedAt Timestamp `json:"updatedAt"`
}

// Archived says why and when an opportunity was archived.
type Archived struct {
	// Reason is an archive-reason id.
	Reason string `json:"reason"`
	// ArchivedAt is when it was archived.
	ArchivedAt Timestamp `json:"archivedAt"`
}

// OpportunityURLs are links into Lever's recruiter UI.
type OpportunityURLs struct {
	// List links to the candidate list.
	List string `json:"list"`
	// Show links to this opportunity.
	Show string `json:"show"`
}

// Application is an opportunity's application to a posting. When Lever did
// not expand it only ID is set.
type Application struct {
	// ID is the application id.
	ID string `json:"id"`
	// OpportunityID is the owning opportunity.
	OpportunityID string `json:"opportunityId"`
	// Type is posting, user or referral.
	Type string `json:"type"`
	// Posting is the posting id ("" for applications without a posting).
	Posting string `json:"posting"`
	// Name and Email are only filled for posting and referral applications;
	// prefer the opportunity's Name and Emails.
	Name  string `json:"name"`
	Email string `json:"email"`
	// CreatedAt is when the application was made.
	CreatedAt Timestamp `json:"createdAt"`
}

// UnmarshalJSON accepts an application id or an expanded application.
func (a *Application) UnmarshalJSON(b []byte) error {
	id, obj, err := decodeRef(b)
	if err != nil {
		return fmt.Errorf("application: %w", err)
	}
	if obj == nil {
		*a = Application{ID: id}
		return nil
	}
	type plain Application
	var v struct {
		plain
		Posting json.RawMessage `json:"posting"`
	}
	if err := json.Unmarshal(obj, &v); err != nil {
		return fmt.Errorf("application: %w", err)
	}
	*a = Application(v.plain)
	if len(v.Posting) > 0 {
		if a.Posting, _, err = decodeRef(v.Posting); err != nil {
			return fmt.Errorf("application posting: %w", err)
		}
	}
	return nil
}

// GetOpportunity fetches an opportunity with its application expanded, so
// the posting id is at hand (Opportunity.PostingID).
func (c *Client) GetOpportunity(ctx context.Context, id string) (*Opportunity, error) {
	var out envelope[Opportunity]
	err := c.do(ctx, call{
		method: http.MethodGet,
		path:   "/opportunities/" + escape(id),
		query:  url.Values{"expand": {"applications"}},
		out:    &out,
	})
	if err != nil {
		return nil, fmt.Errorf("get opportunity: %w", err)
	}
	return &out.Data, nil
}

// AddTags adds tags to an opportunity and returns it as updated. Adding a
// tag that is already there changes nothing, so the call is retried like a
// read.
func (c *Client) AddTags(ctx context.Context, opportunityID string, tags []string, opts ...CallOption) (*Opportunity, error) {
	o, err := c.tags(ctx, "addTags", opportunityID, tags, opts)
	if err != nil {
		return nil, fmt.Errorf("add tags: %w", err)
	}
	return o, nil
}

// RemoveTags removes tags from an opportunity and returns it as updated.
// Like AddTags it is safe to repeat.
func (c *Client) RemoveTags(ctx context.Context, opportunityID string, tags []string, opts ...CallOption) (*Opportunity, error) {
	o, err := c.tags(ctx, "removeTags", opportunityID, tags, opts)
	if err != nil {
		return nil, fmt.Errorf("remove tags: %w", err)
	}
	return o, nil
}

func (c *Client) tags(ctx context.Context, op, id string, tags []string, opts []CallOption) (*Opportunity, error) {
	if tags == nil {
		tags = []string{}
	}
	var out envelope[Opportunity]
	err := c.do(ctx, call{
		method: http.MethodPost,
		path:   "/opportunities/" + escape(id) + "/" + op,
		query:  applyOptions(opts),
		body:   map[string][]string{"tags": tags},
		out:    &out,
		mode:   idempotent,
	})
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// ChangeStage moves an opportunity to stageID (e.g. "offer" or a UUID from
// ListStages) and returns it as updated. Setting the same stage twice ends
// in the same state, so the call is retried like a read.
func (c *Client) ChangeStage(ctx context.Context, opportunityID, stageID string, opts ...CallOption) (*Opportunity, error) {
	var out envelope[Opportunity]
	err := c.do(ctx, call{
		method: http.MethodPut,
		path:   "/opportunities/" + escape(opportunityID) + "/stage",
		query:  applyOptions(opts),
		body:   map[string]string{"stage": stageID},
		out:    &out,
		mode:   idempotent,
	})
	if err != nil {
		return nil, fmt.Errorf("change stage: %w", err)
	}
	return &out.Data, nil
}
