package leversandbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/leversandbox"
)

// hookReceiver collects webhook bodies, answering 200.
type hookReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	url    string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL
	return h
}

// wait returns the n-th body (from 1), waiting for it to arrive.
func (h *hookReceiver) wait(t *testing.T, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		if len(h.bodies) >= n {
			b := h.bodies[n-1]
			h.mu.Unlock()
			return b
		}
		h.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("webhook %d never arrived", n)
	return nil
}

type hookBody struct {
	Event       string         `json:"event"`
	TriggeredAt int64          `json:"triggeredAt"`
	Token       string         `json:"token"`
	Signature   string         `json:"signature"`
	Data        map[string]any `json:"data"`
}

// mustSigned decodes a delivery and checks its signature with key.
func mustSigned(t *testing.T, raw []byte, key string) hookBody {
	t.Helper()
	var b hookBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, b.Token+strconv.FormatInt(b.TriggeredAt, 10))
	if want := hex.EncodeToString(m.Sum(nil)); b.Signature != want {
		t.Fatalf("signature %s, want %s", b.Signature, want)
	}
	return b
}

// TestRecruiterActions: moving, archiving, unarchiving and deleting a
// candidate each fire their signed webhook with Lever's data, and a deleted
// opportunity is gone from the API but still visible to tests.
func TestRecruiterActions(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	rcv := newHookReceiver(t)
	keys := map[string]string{}
	for _, ev := range []string{"candidateStageChange", "candidateArchiveChange", "candidateDeleted"} {
		h, err := s.AddWebhook(leversandbox.WebhookInput{URL: rcv.url, Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		keys[ev] = h.SignatureToken
	}
	opp := mustApply(t, s)
	key := s.APIKey()

	if err := s.MoveStage(opp, "offer"); err != nil {
		t.Fatal(err)
	}
	b := mustSigned(t, rcv.wait(t, 1), keys["candidateStageChange"])
	if b.Event != "candidateStageChange" || b.Data["opportunityId"] != opp || b.Data["toStageId"] != "offer" || b.Data["fromStageId"] != "applicant-new" {
		t.Fatalf("stage change: %+v", b)
	}
	if err := s.MoveStage(opp, "offer"); err != nil { // same stage: no event
		t.Fatal(err)
	}

	if err := s.Archive(opp, "withdrew"); err != nil {
		t.Fatal(err)
	}
	b = mustSigned(t, rcv.wait(t, 2), keys["candidateArchiveChange"])
	to, _ := b.Data["toArchived"].(map[string]any)
	if b.Event != "candidateArchiveChange" || to["reason"] != "withdrew" || b.Data["fromArchived"] != nil {
		t.Fatalf("archive: %+v", b)
	}
	var got struct {
		Data struct {
			Archived *struct {
				Reason string `json:"reason"`
			} `json:"archived"`
		} `json:"data"`
	}
	mustJSON(t, do(t, "GET", base+"/v1/opportunities/"+opp, "key:"+key, "", nil), &got)
	if got.Data.Archived == nil || got.Data.Archived.Reason != "withdrew" {
		t.Fatalf("API archived: %+v", got.Data.Archived)
	}
	if err := s.Unarchive(opp); err != nil {
		t.Fatal(err)
	}
	b = mustSigned(t, rcv.wait(t, 3), keys["candidateArchiveChange"])
	if b.Data["toArchived"] != nil || b.Data["fromArchived"] == nil {
		t.Fatalf("unarchive: %+v", b)
	}

	if err := s.DeleteOpportunity(opp); err != nil {
		t.Fatal(err)
	}
	b = mustSigned(t, rcv.wait(t, 4), keys["candidateDeleted"])
	if b.Event != "candidateDeleted" || b.Data["opportunityId"] != opp {
		t.Fatalf("deleted: %+v", b)
	}
	leverError(t, do(t, "GET", base+"/v1/opportunities/"+opp, "key:"+key, "", nil), 404, "ResourceNotFound")
	leverError(t, do(t, "POST", base+"/v1/opportunities/"+opp+"/addTags", "key:"+key, "application/json", strings.NewReader(`{"tags":["x"]}`)), 404, "ResourceNotFound")
	if o, ok := s.Opportunity(opp); !ok || !o.Deleted {
		t.Fatalf("deleted opportunity should stay visible to tests: %+v %v", o, ok)
	}

	for name, err := range map[string]error{
		"unknown reason":   s.Archive(mustApply(t, s), "bored"),
		"unknown stage":    s.MoveStage(mustApply(t, s), "nope"),
		"deleted twice":    s.DeleteOpportunity(opp),
		"unknown opp move": s.MoveStage("nope", "offer"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	rcv.mu.Lock()
	n := len(rcv.bodies)
	rcv.mu.Unlock()
	if n != 4 {
		t.Fatalf("%d webhooks, want 4 (no-ops and failures fire none)", n)
	}
}

// TestRerun: a rerun sends the recorded request unchanged, as Lever's
// "Rerun" does, so receivers must deduplicate.
func TestRerun(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	rcv := newHookReceiver(t)
	if _, err := s.AddWebhook(leversandbox.WebhookInput{URL: rcv.url}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s)
	first := rcv.wait(t, 1)
	var id string
	for range 100 {
		if ds := s.Deliveries(); len(ds) > 0 {
			id = ds[0].ID
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := do(t, "POST", base+"/_sandbox/deliveries/"+id+"/rerun", "", "", nil)
	if r.status != 200 {
		t.Fatalf("rerun: %d %s", r.status, r.body)
	}
	if second := rcv.wait(t, 2); string(second) != string(first) {
		t.Fatalf("rerun body differs:\n%s\n%s", first, second)
	}
	leverError(t, do(t, "POST", base+"/_sandbox/deliveries/nope/rerun", "", "", nil), 404, "ResourceNotFound")
}

// TestDeactivateUser: perform_as with a deactivated user fails, as in Lever.
func TestDeactivateUser(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	opp := mustApply(t, s)
	key := "key:" + s.APIKey()
	var users struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	mustJSON(t, do(t, "GET", base+"/v1/users?email=rui@example.com", key, "", nil), &users)
	if len(users.Data) != 1 {
		t.Fatalf("users: %+v", users)
	}
	note := base + "/v1/opportunities/" + opp + "/notes?perform_as=" + url.QueryEscape(users.Data[0].ID)
	if r := do(t, "POST", note, key, "application/json", strings.NewReader(`{"value":"hi"}`)); r.status != 201 {
		t.Fatalf("note as active user: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/_sandbox/users/rui@example.com/deactivate", "", "", nil); r.status != 204 {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	leverError(t, do(t, "POST", note, key, "application/json", strings.NewReader(`{"value":"hi"}`)), 400, "BadRequestError")
}

// TestRecruiterActionsUI: the opportunity page's forms do what the methods do.
func TestRecruiterActionsUI(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	opp := mustApply(t, s)
	form := func(action string, v url.Values) result {
		return do(t, "POST", base+"/ui/opportunities/"+opp+"/"+action, "", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	}
	for _, step := range []struct {
		action string
		form   url.Values
		check  func(o leversandbox.OpportunityState) bool
	}{
		{"stage", url.Values{"stage": {"offer"}}, func(o leversandbox.OpportunityState) bool { return o.Stage == "offer" }},
		{"archive", url.Values{"reason": {"hired"}}, func(o leversandbox.OpportunityState) bool { return o.ArchiveReason == "hired" }},
		{"unarchive", nil, func(o leversandbox.OpportunityState) bool { return o.ArchiveReason == "" }},
		{"delete", nil, func(o leversandbox.OpportunityState) bool { return o.Deleted }},
	} {
		if r := form(step.action, step.form); r.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", step.action, r.status, r.body)
		}
		if o, _ := s.Opportunity(opp); !step.check(o) {
			t.Fatalf("after %s: %+v", step.action, o)
		}
		if r := do(t, "GET", base+"/ui/opportunities/"+opp, "", "", nil); r.status != 200 {
			t.Fatalf("page after %s: %d", step.action, r.status)
		}
	}
	if r := form("archive", url.Values{"reason": {"hired"}}); r.status != http.StatusNotFound {
		t.Fatalf("archive a deleted candidate: %d", r.status)
	}
}
