package leversandbox

import (
	"path/filepath"
	"testing"
)

// TestRepointWebhooks moves the webhooks under a path to a new origin, keeping their
// ids and signature tokens, leaves others alone, and saves the change.
func TestRepointWebhooks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := s.AddWebhook(WebhookInput{URL: "http://127.0.0.1:1111/hooks/lever/org-key?x=1", Event: "applicationCreated"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.AddWebhook(WebhookInput{URL: "http://127.0.0.1:1111/elsewhere", Event: "applicationCreated"})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RepointWebhooks("/hooks/lever", "http://127.0.0.1:2222/"); n != 1 {
		t.Fatalf("repointed %d webhooks, want 1", n)
	}
	if n := s.RepointWebhooks("/hooks/lever", "http://127.0.0.1:2222"); n != 0 {
		t.Fatalf("repointed %d webhooks again, want 0", n)
	}
	s.Close()

	again, err := New(Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got := map[string]WebhookInfo{}
	for _, h := range again.Webhooks() {
		got[h.ID] = h
	}
	if h := got[ours.ID]; h.URL != "http://127.0.0.1:2222/hooks/lever/org-key?x=1" || h.SignatureToken != ours.SignatureToken {
		t.Fatalf("our webhook after repointing and reloading: %+v", h)
	}
	if h := got[theirs.ID]; h.URL != theirs.URL {
		t.Fatalf("another webhook moved: %+v", h)
	}
	if id, ok := again.PostingID("Backend Engineer"); !ok || id == "" {
		t.Fatal("the seeded posting Backend Engineer is not found by title")
	}
	if _, ok := again.PostingID("No Such Posting"); ok {
		t.Fatal("found a posting that does not exist")
	}
}
