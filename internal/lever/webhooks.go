package lever

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Webhook event names Lever can subscribe to.
const (
	// EventApplicationCreated fires when a candidate applies.
	EventApplicationCreated = "applicationCreated"
	// EventCandidateHired fires on hire; Lever's "Verify connection" test
	// also uses this name, with empty data.
	EventCandidateHired = "candidateHired"
	// EventCandidateStageChange fires when an opportunity changes stage.
	EventCandidateStageChange = "candidateStageChange"
	// EventCandidateArchiveChange fires on archive and unarchive.
	EventCandidateArchiveChange = "candidateArchiveChange"
)

// AllOrigins are the six opportunity origins; a webhook conditioned on all
// of them receives every event.
var AllOrigins = []string{"applied", "sourced", "referred", "university", "agency", "internal"}

// Webhook is a webhook subscription registered in Lever.
type Webhook struct {
	// ID is the webhook id.
	ID string `json:"id"`
	// URL receives the deliveries.
	URL string `json:"url"`
	// Event is the subscribed event name.
	Event string `json:"event"`
	// Configuration holds conditions and, on create, the signature token.
	Configuration WebhookConfiguration `json:"configuration"`
	// CreatedAt is when the webhook was created.
	CreatedAt Timestamp `json:"createdAt"`
	// UpdatedAt is when it last changed.
	UpdatedAt Timestamp `json:"updatedAt"`
}

// WebhookConfiguration is a webhook's settings.
type WebhookConfiguration struct {
	// Conditions restrict which events are delivered.
	Conditions *WebhookConditions `json:"conditions,omitempty"`
	// SignatureToken is the HMAC key for VerifySignature; Lever returns it
	// when the webhook is created. Store it with the connection.
	SignatureToken string `json:"signatureToken,omitempty"`
}

// WebhookConditions filter deliveries by opportunity origin.
type WebhookConditions struct {
	// Origins lists accepted origins (see AllOrigins).
	Origins []string `json:"origins"`
}

// NewWebhook is a webhook to create.
type NewWebhook struct {
	// URL receives the deliveries; encode the tenant in it, since payloads
	// carry no account id.
	URL string
	// Event is the event to subscribe to.
	Event string
	// Origins restricts deliveries (nil: all origins).
	Origins []string
	// VerifyConnection asks Lever to send its test request on create.
	VerifyConnection bool
}

// ListWebhooks returns the account's webhooks.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	w, err := listAll[Webhook](ctx, c, "/webhooks", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return w, nil
}

// CreateWebhook registers a webhook and returns it with its signature
// token. Creating is not idempotent (a repeat makes a second webhook), so it
// is retried only when Lever certainly did not act; callers should
// ListWebhooks and match (event, url) before creating.
func (c *Client) CreateWebhook(ctx context.Context, w NewWebhook) (*Webhook, error) {
	origins := w.Origins
	if origins == nil {
		origins = AllOrigins
	}
	type config struct {
		Conditions       WebhookConditions `json:"conditions"`
		VerifyConnection bool              `json:"verifyConnection,omitempty"`
	}
	body := struct {
		URL           string `json:"url"`
		Event         string `json:"event"`
		Configuration config `json:"configuration"`
	}{w.URL, w.Event, config{WebhookConditions{origins}, w.VerifyConnection}}
	var out envelope[json.RawMessage]
	err := c.do(ctx, call{method: http.MethodPost, path: "/webhooks", body: body, out: &out, mode: notIdempotent})
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	hook, err := decodeCreatedWebhook(out.Data)
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return hook, nil
}

// decodeCreatedWebhook reads {"data":{...}}'s inner object. Lever's docs
// show the webhook nested once more ({"data":{"data":{...}}}) while real
// clients read one level, so both are accepted.
func decodeCreatedWebhook(raw json.RawMessage) (*Webhook, error) {
	var nested struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &nested) == nil && len(nested.Data) > 0 && bytes.HasPrefix(bytes.TrimSpace(nested.Data), []byte("{")) {
		raw = nested.Data
	}
	var w Webhook
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decode webhook: %w", err)
	}
	if w.ID == "" {
		return nil, fmt.Errorf("decode webhook: no id in response")
	}
	return &w, nil
}

// DeleteWebhook removes a webhook. Deleting twice ends in the same state,
// so it is retried like a read; a second delete may answer ErrNotFound.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.do(ctx, call{method: http.MethodDelete, path: "/webhooks/" + escape(id), mode: idempotent}); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// Event names of Lever webhooks about an opportunity that Winnow handles beyond those
// above.
const (
	// EventCandidateDeleted fires when an opportunity is deleted.
	EventCandidateDeleted = "candidateDeleted"
)

// EventData is what Winnow reads from the data of a webhook about an opportunity:
// applicationCreated, candidateStageChange, candidateArchiveChange and
// candidateDeleted. It is a notification only: a candidate's name and email come from
// the API, never from here.
type EventData struct {
	// OpportunityID is the opportunity (or, on old payloads, candidateId).
	OpportunityID string
	// ApplicationID is the new application (applicationCreated).
	ApplicationID string
	// ToStageID and FromStageID are the stages of a stage change.
	ToStageID, FromStageID string
	// Archived is set for candidateArchiveChange: true when the opportunity was
	// archived, false when it was restored. ArchiveReason is the reason archived to.
	Archived      *bool
	ArchiveReason string
}

// OpportunityData decodes the event's data. It fails when the data is not an object
// or names no opportunity.
func (e *WebhookEvent) OpportunityData() (EventData, error) {
	var raw struct {
		OpportunityID string          `json:"opportunityId"`
		CandidateID   string          `json:"candidateId"`
		ApplicationID string          `json:"applicationId"`
		ToStageID     string          `json:"toStageId"`
		FromStageID   string          `json:"fromStageId"`
		ToArchived    json.RawMessage `json:"toArchived"`
	}
	if err := json.Unmarshal(e.Data, &raw); err != nil {
		return EventData{}, fmt.Errorf("decode %s data: %w", e.Event, err)
	}
	d := EventData{OpportunityID: raw.OpportunityID, ApplicationID: raw.ApplicationID, ToStageID: raw.ToStageID, FromStageID: raw.FromStageID}
	if d.OpportunityID == "" {
		d.OpportunityID = raw.CandidateID
	}
	if d.OpportunityID == "" {
		return EventData{}, fmt.Errorf("decode %s data: no opportunityId", e.Event)
	}
	if e.Event == EventCandidateArchiveChange {
		archived := len(bytes.TrimSpace(raw.ToArchived)) > 0 && !bytes.Equal(bytes.TrimSpace(raw.ToArchived), []byte("null"))
		d.Archived = &archived
		if archived {
			var to Archived
			if err := json.Unmarshal(raw.ToArchived, &to); err != nil {
				return EventData{}, fmt.Errorf("decode %s data: toArchived: %w", e.Event, err)
			}
			d.ArchiveReason = to.Reason
		}
	}
	return d, nil
}
