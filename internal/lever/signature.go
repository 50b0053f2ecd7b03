package lever

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sign computes Lever's webhook signature: the lowercase hex HMAC-SHA256 of
// token followed by triggeredAt (decimal milliseconds), keyed with the
// webhook's signature token.
func Sign(signatureToken, token string, triggeredAt int64) string {
	mac := hmac.New(sha256.New, []byte(signatureToken))
	mac.Write([]byte(token))
	mac.Write([]byte(strconv.FormatInt(triggeredAt, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether signature is Lever's signature of token
// and triggeredAt under signatureToken. It compares in constant time and
// accepts only the lowercase hex Lever sends.
func VerifySignature(signatureToken, token string, triggeredAt int64, signature string) bool {
	if signatureToken == "" || token == "" || signature == "" {
		return false
	}
	want := Sign(signatureToken, token, triggeredAt)
	return hmac.Equal([]byte(want), []byte(signature))
}

// WebhookEvent is the envelope of one webhook delivery. Unknown fields are
// ignored, since Lever may add fields.
type WebhookEvent struct {
	// ID is the event UID; Lever lists it but its examples omit it, so do
	// not rely on it.
	ID string `json:"id,omitempty"`
	// Event is the event name, e.g. EventApplicationCreated.
	Event string `json:"event"`
	// TriggeredAt is when the event fired, in milliseconds since the epoch.
	TriggeredAt int64 `json:"triggeredAt"`
	// Token is a random per-request string that is part of the signature.
	Token string `json:"token"`
	// Signature is the hex HMAC; absent when the webhook has no signing token.
	Signature string `json:"signature"`
	// Data is the event-specific object; empty for Lever's connection test.
	Data json.RawMessage `json:"data"`
}

// ParseWebhookEvent decodes a webhook body. triggeredAt may be a JSON
// number or a numeric string.
func ParseWebhookEvent(body []byte) (*WebhookEvent, error) {
	var raw struct {
		ID          string          `json:"id"`
		Event       string          `json:"event"`
		TriggeredAt json.RawMessage `json:"triggeredAt"`
		Token       string          `json:"token"`
		Signature   string          `json:"signature"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("parse webhook: %w", err)
	}
	if raw.Event == "" {
		return nil, errors.New("parse webhook: no event")
	}
	ts, err := parseMillis(raw.TriggeredAt)
	if err != nil {
		return nil, fmt.Errorf("parse webhook: triggeredAt: %w", err)
	}
	return &WebhookEvent{
		ID: raw.ID, Event: raw.Event, TriggeredAt: ts, Token: raw.Token,
		Signature: raw.Signature, Data: raw.Data,
	}, nil
}

func parseMillis(b json.RawMessage) (int64, error) {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if len(b) == 0 {
		return 0, errors.New("missing")
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("not an integer: %s", b)
	}
	return int64(f), nil
}

// Verify checks the event's signature against the webhook's signature
// token and returns ErrBadSignature if it does not match or is missing.
func (e *WebhookEvent) Verify(signatureToken string) error {
	if !VerifySignature(signatureToken, e.Token, e.TriggeredAt, e.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Time returns TriggeredAt as a time.
func (e *WebhookEvent) Time() time.Time { return time.UnixMilli(e.TriggeredAt).UTC() }

// IsTest reports whether the event is Lever's "Verify connection" test,
// recognised by its empty data: answer 2xx and do nothing else.
func (e *WebhookEvent) IsTest() bool {
	d := bytes.TrimSpace(e.Data)
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return true
	}
	if d[0] == '{' && d[len(d)-1] == '}' {
		// An object is empty when only spaces lie between its braces; one that has
		// anything else either has members or is not JSON, and is no test either way.
		// Every webhook comes by here, so the data is not decoded into a map for it.
		return len(bytes.TrimSpace(d[1:len(d)-1])) == 0
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(d, &m) == nil && len(m) == 0
}

// ApplicationCreated is the data of an applicationCreated event. Treat it
// as a notification: fetch the opportunity for names, emails and posting.
type ApplicationCreated struct {
	// ApplicationID is the new application.
	ApplicationID string `json:"applicationId"`
	// OpportunityID is the opportunity the application belongs to.
	OpportunityID string `json:"opportunityId"`
	// ContactID is the applying person, when Lever sends it.
	ContactID string `json:"contactId"`
	// CandidateID is the deprecated alias of OpportunityID.
	CandidateID string `json:"candidateId"`
}

// ApplicationCreated decodes the data of an applicationCreated event.
func (e *WebhookEvent) ApplicationCreated() (ApplicationCreated, error) {
	var d ApplicationCreated
	if e.Event != EventApplicationCreated {
		return d, fmt.Errorf("event is %q, not %s", e.Event, EventApplicationCreated)
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return d, fmt.Errorf("decode applicationCreated: %w", err)
	}
	if d.OpportunityID == "" {
		d.OpportunityID = d.CandidateID
	}
	if d.OpportunityID == "" {
		return d, errors.New("decode applicationCreated: no opportunityId")
	}
	return d, nil
}
