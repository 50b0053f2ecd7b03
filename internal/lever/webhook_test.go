package lever_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// receiver is a webhook endpoint that verifies every delivery with the
// client's verifier and answers a fixed status.
type receiver struct {
	status int

	mu     sync.Mutex
	key    string
	events []*lever.WebhookEvent
	bad    int
}

func (rc *receiver) setKey(k string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.key = k
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := lever.ParseWebhookEvent(body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil || ev.Verify(rc.key) != nil || r.Header.Get("User-Agent") != "Lever-Webhooks" {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.events = append(rc.events, ev)
	w.WriteHeader(rc.status)
}

func (rc *receiver) received() ([]*lever.WebhookEvent, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*lever.WebhookEvent(nil), rc.events...), rc.bad
}

func startReceiver(t *testing.T, status int) (*receiver, string) {
	t.Helper()
	rc := &receiver{status: status}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/api/integrations/lever/webhooks/application"
}

// TestApplyDeliversSignedWebhook: a webhook created through the client
// receives applicationCreated for a new application, signed so that the
// client's verifier accepts it.
func TestApplyDeliversSignedWebhook(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	c, _, _ := mustOAuthClient(t, sb, sb.config())
	rc, hookURL := startReceiver(t, http.StatusOK)
	hook, err := c.CreateWebhook(context.Background(), lever.NewWebhook{URL: hookURL, Event: lever.EventApplicationCreated})
	if err != nil {
		t.Fatal(err)
	}
	rc.setKey(hook.Configuration.SignatureToken)

	oppID := sb.mustApply(t, c, "Hedy Lamarr", "hedy@example.com")
	waitFor(t, "the webhook", func() bool { ev, _ := rc.received(); return len(ev) == 1 })
	evs, bad := rc.received()
	if bad != 0 {
		t.Fatalf("%d deliveries failed verification", bad)
	}
	d, err := evs[0].ApplicationCreated()
	if err != nil {
		t.Fatal(err)
	}
	if d.OpportunityID != oppID || d.ApplicationID == "" || evs[0].IsTest() || len(evs[0].Token) != 48 {
		t.Fatalf("event = %+v, data = %+v", evs[0], d)
	}
	if age := time.Since(evs[0].Time()); age < 0 || age > time.Minute {
		t.Fatalf("triggeredAt %v is not recent", evs[0].Time())
	}
	opp, err := c.GetOpportunity(context.Background(), d.OpportunityID)
	if err != nil || opp.Applications[0].ID != d.ApplicationID {
		t.Fatalf("fetch opportunity of webhook: %v", err)
	}
}

// TestFailingReceiverGetsFiveRetries: a receiver answering 500 sees the
// first attempt plus exactly 5 retries (6 in all), each the same signed
// request.
func TestFailingReceiverGetsFiveRetries(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{WebhookRetryGap: 2 * time.Millisecond})
	rc, hookURL := startReceiver(t, http.StatusInternalServerError)
	var hook struct {
		SignatureToken string `json:"signatureToken"`
	}
	sb.control(t, http.MethodPost, "/_sandbox/webhooks", map[string]string{"url": hookURL, "event": "applicationCreated"}, &hook)
	rc.setKey(hook.SignatureToken)
	c, err := lever.New(sb.config(), lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	sb.mustApply(t, c, "Retry Me", "retry@example.com")

	waitFor(t, "6 attempts", func() bool { return len(sb.Deliveries()) >= 6 })
	// The last gap is 32ms; wait well past where a 7th attempt would be.
	time.Sleep(300 * time.Millisecond)
	evs, bad := rc.received()
	if len(evs) != 6 || bad != 0 {
		t.Fatalf("receiver got %d verified attempts (%d bad), want 6", len(evs), bad)
	}
	for _, ev := range evs[1:] {
		if ev.Token != evs[0].Token || ev.TriggeredAt != evs[0].TriggeredAt {
			t.Fatal("retries do not repeat the original request")
		}
	}
	ds := sb.Deliveries()
	if len(ds) != 6 || ds[5].Attempt != 6 || ds[5].Status != 500 || ds[5].OK {
		t.Fatalf("recorded deliveries = %+v", ds)
	}
}

// TestVerifyConnection: Lever's test request is a signed candidateHired
// with empty data, which the client recognises as a test.
func TestVerifyConnection(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	rc, hookURL := startReceiver(t, http.StatusOK)
	var hook struct {
		ID             string `json:"id"`
		SignatureToken string `json:"signatureToken"`
	}
	sb.control(t, http.MethodPost, "/_sandbox/webhooks", map[string]string{"url": hookURL, "event": "applicationCreated"}, &hook)
	rc.setKey(hook.SignatureToken)
	var d leversandbox.Delivery
	sb.control(t, http.MethodPost, "/_sandbox/verify-webhook/"+hook.ID, nil, &d)
	if !d.OK || !d.Test || d.Status != 200 {
		t.Fatalf("delivery = %+v", d)
	}
	evs, bad := rc.received()
	if len(evs) != 1 || bad != 0 || evs[0].Event != lever.EventCandidateHired || !evs[0].IsTest() {
		t.Fatalf("received %+v (bad %d)", evs, bad)
	}
}
