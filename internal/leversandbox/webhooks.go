package leversandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Event names the sandbox fires or accepts for subscriptions.
const (
	eventApplicationCreated = "applicationCreated"
	eventStageChange        = "candidateStageChange"
	eventCandidateHired     = "candidateHired"
)

var knownEvents = []string{
	eventApplicationCreated, eventCandidateHired, eventStageChange, "candidateArchiveChange",
	"candidateDeleted", "interviewCreated", "interviewUpdated", "interviewDeleted",
	"contactCreated", "contactUpdated",
}

var allOrigins = []string{"applied", "sourced", "referred", "university", "agency", "internal"}

// Delivery is one attempt to deliver one webhook request, as recorded in
// the sandbox's delivery history.
type Delivery struct {
	// ID is shared by all attempts of one request.
	ID string `json:"id"`
	// Attempt counts from 1 (the first try) to 6 (the fifth retry).
	Attempt int `json:"attempt"`
	// WebhookID, Event and URL say what was sent where.
	WebhookID string `json:"webhookId"`
	Event     string `json:"event"`
	URL       string `json:"url"`
	// Test marks "Verify connection" requests.
	Test bool `json:"test"`
	// Request is the JSON body sent.
	Request string `json:"request"`
	// Status is the receiver's HTTP status (0 if none).
	Status int `json:"status"`
	// Response is the start of the receiver's body.
	Response string `json:"response"`
	// Error is the transport error, if the request failed.
	Error string `json:"error,omitempty"`
	// OK reports a 2xx answer.
	OK bool `json:"ok"`
	// At is when the attempt started (ms since the epoch).
	At int64 `json:"at"`
	// DurationMs is how long the attempt took.
	DurationMs int64 `json:"durationMs"`
}

// signature is Lever's webhook signature, computed here on its own: hex
// HMAC-SHA256 over token followed by triggeredAt, keyed with the
// webhook's signature token.
func signature(key, token string, triggeredAt int64) string {
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, token+strconv.FormatInt(triggeredAt, 10))
	return hex.EncodeToString(m.Sum(nil))
}

// webhookBody builds one signed request body.
func webhookBody(h *webhook, event string, data any) []byte {
	token := randomToken(24) // 48 characters, as Lever's
	at := millis(time.Now())
	body := map[string]any{
		"event":       event,
		"triggeredAt": at,
		"token":       token,
		"data":        data,
	}
	if h.SignatureToken != "" {
		body["signature"] = signature(h.SignatureToken, token, at)
	}
	b, _ := json.Marshal(body)
	return b
}

// fireLocked delivers event to every webhook subscribed to it whose origin
// conditions match; retries run in the background. Callers hold s.mu.
func (s *Server) fireLocked(event, origin string, data any) int {
	n := 0
	if s.closed {
		return 0
	}
	for _, h := range s.st.Webhooks {
		if h.Event != event || (len(h.Origins) > 0 && !slices.Contains(h.Origins, origin)) {
			continue
		}
		hook := *h
		body := webhookBody(&hook, event, data)
		id := newID()
		n++
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliverWithRetries(id, &hook, event, body)
		}()
	}
	return n
}

// deliverWithRetries sends body, and on any non-2xx answer retries 5 times
// with doubling gaps. Every attempt carries the same body (token,
// triggeredAt, signature), so a receiver can deduplicate on token.
func (s *Server) deliverWithRetries(id string, h *webhook, event string, body []byte) {
	gap := s.opts.WebhookRetryGap
	for attempt := 1; ; attempt++ {
		if s.attempt(id, attempt, h, event, body, false).OK || attempt > webhookRetries {
			return
		}
		t := time.NewTimer(gap)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		gap *= 2
	}
}

// attempt sends one request and records it.
func (s *Server) attempt(id string, n int, h *webhook, event string, body []byte, test bool) *Delivery {
	d := &Delivery{ID: id, Attempt: n, WebhookID: h.ID, Event: event, URL: h.URL, Test: test, Request: string(body), At: millis(time.Now())}
	start := time.Now()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Lever-Webhooks")
		var resp *http.Response
		resp, err = s.hooks.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			d.Status, d.Response = resp.StatusCode, string(raw)
			d.OK = resp.StatusCode >= 200 && resp.StatusCode <= 299
		}
	}
	if err != nil {
		d.Error = err.Error()
	}
	d.DurationMs = time.Since(start).Milliseconds()
	s.log.Debug("sandbox webhook", "event", event, "url", h.URL, "attempt", n, "status", d.Status, "error", d.Error)
	s.mu.Lock()
	s.st.Deliveries = append(s.st.Deliveries, d)
	if over := len(s.st.Deliveries) - maxDeliveries; over > 0 {
		s.st.Deliveries = slices.Delete(s.st.Deliveries, 0, over)
	}
	s.saveLocked()
	s.mu.Unlock()
	return d
}

// VerifyWebhook sends Lever's "Verify connection" test to a webhook: a
// signed candidateHired with empty data, one attempt, no retries.
func (s *Server) VerifyWebhook(id string) (*Delivery, error) {
	s.mu.Lock()
	h := s.st.webhook(id)
	var hook webhook
	if h != nil {
		hook = *h
	}
	closed := s.closed
	if h != nil && !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("%w: webhook %s", errNotFound, id)
	}
	if closed {
		return nil, errClosed
	}
	defer s.wg.Done()
	body := webhookBody(&hook, eventCandidateHired, map[string]any{})
	return s.attempt(newID(), 1, &hook, eventCandidateHired, body, true), nil
}

// newWebhook validates and stores a webhook; it returns an error message
// for the caller to show.
func (s *Server) newWebhook(rawURL, event string, origins []string, viaAPI bool) (*webhook, string) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "url must be an absolute http or https URL"
	}
	if !slices.Contains(knownEvents, event) {
		return nil, "unknown event " + strconv.Quote(event)
	}
	for _, o := range origins {
		if !slices.Contains(allOrigins, o) {
			return nil, "unknown origin " + strconv.Quote(o)
		}
	}
	now := millis(time.Now())
	h := &webhook{
		ID: newID(), URL: rawURL, Event: event, Origins: origins,
		SignatureToken: randomToken(24), ViaAPI: viaAPI, CreatedAt: now, UpdatedAt: now,
	}
	s.mu.Lock()
	s.st.Webhooks = append(s.st.Webhooks, h)
	s.saveLocked()
	s.mu.Unlock()
	return h, ""
}

// webhookJSON renders a webhook; the signature token only on create.
func webhookJSON(h *webhook, withToken bool) map[string]any {
	origins := h.Origins
	if origins == nil {
		origins = allOrigins
	}
	cfg := map[string]any{"conditions": map[string]any{"origins": origins}}
	if withToken {
		cfg["signatureToken"] = h.SignatureToken
	}
	return map[string]any{
		"id": h.ID, "url": h.URL, "event": h.Event, "configuration": cfg,
		"createdAt": h.CreatedAt, "updatedAt": h.UpdatedAt,
	}
}

func (s *Server) apiListWebhooks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.st.Webhooks
	start, end, next, ok := pageOf(w, r, len(hs), func(i int) string { return hs[i].ID })
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, h := range hs[start:end] {
		out = append(out, webhookJSON(h, false))
	}
	writePage(w, out, next)
}

// apiCreateWebhook registers a webhook. configuration.conditions.origins
// is Lever's documented form; the flat configuration.origins of Lever's
// Postman collection is accepted too. verifyConnection sends the test
// after the webhook is stored and does not fail the call, since the
// receiver cannot check the test's signature before it has the token.
func (s *Server) apiCreateWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		URL           string `json:"url"`
		Event         string `json:"event"`
		Configuration struct {
			Conditions struct {
				Origins []string `json:"origins"`
			} `json:"conditions"`
			Origins          []string `json:"origins"`
			VerifyConnection bool     `json:"verifyConnection"`
		} `json:"configuration"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	origins := body.Configuration.Conditions.Origins
	if origins == nil {
		origins = body.Configuration.Origins
	}
	h, msg := s.newWebhook(body.URL, body.Event, origins, true)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "BadRequestError", msg)
		return
	}
	if body.Configuration.VerifyConnection {
		go func() { _, _ = s.VerifyWebhook(h.ID) }()
	}
	s.hangAfterWrite(w, r)
	writeData(w, http.StatusCreated, webhookJSON(h, true))
}

// apiDeleteWebhook deletes an API-created webhook; webhooks made in the UI
// cannot be changed through the API, as in Lever.
func (s *Server) apiDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := r.PathValue("id")
	h := s.st.webhook(id)
	switch {
	case h == nil:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "ResourceNotFound", "webhooks "+id+" was not found")
		return
	case !h.ViaAPI:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "ForbiddenError", "webhooks created in the UI cannot be changed through the API")
		return
	}
	s.st.Webhooks = slices.DeleteFunc(s.st.Webhooks, func(x *webhook) bool { return x.ID == id })
	s.saveLocked()
	s.mu.Unlock()
	s.hangAfterWrite(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// deleteWebhook removes any webhook (UI and control API).
func (s *Server) deleteWebhook(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.Webhooks)
	s.st.Webhooks = slices.DeleteFunc(s.st.Webhooks, func(x *webhook) bool { return x.ID == id })
	s.saveLocked()
	return len(s.st.Webhooks) < n
}

// Rerun sends a recorded delivery again, byte for byte (same token,
// triggeredAt and signature), as Lever's "Rerun" button in the delivery
// history does: one attempt, no retries. The webhook must still exist.
func (s *Server) Rerun(deliveryID string) (*Delivery, error) {
	s.mu.Lock()
	var found *Delivery
	for _, d := range s.st.Deliveries {
		if d.ID == deliveryID {
			found = d
			break
		}
	}
	var hook webhook
	var h *webhook
	if found != nil {
		h = s.st.webhook(found.WebhookID)
	}
	if h != nil {
		hook = *h
	}
	closed := s.closed
	if h != nil && !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	switch {
	case found == nil:
		return nil, fmt.Errorf("%w: deliveries %s", errNotFound, deliveryID)
	case h == nil:
		return nil, fmt.Errorf("%w: webhooks %s (deleted since)", errNotFound, found.WebhookID)
	case closed:
		return nil, errClosed
	}
	defer s.wg.Done()
	return s.attempt(newID(), 1, &hook, found.Event, []byte(found.Request), found.Test), nil
}
