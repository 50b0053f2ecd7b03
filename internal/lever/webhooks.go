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
