package lever_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// TestRecorder: a caller learns the method, path, status and duration of every request
// its calls sent, retries included, and never a query string (perform_as) or a
// credential.
func TestRecorder(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	key := sb.APIKey()
	c, err := lever.New(sb.config(), lever.APIKeyAuth(key))
	if err != nil {
		t.Fatal(err)
	}
	oppID := sb.mustApply(t, c, "Ann", "ann@example.com")
	users, err := c.ListUsers(context.Background(), "")
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v", err)
	}
	sb.control(t, http.MethodPost, "/_sandbox/faults", map[string]int{"failNext": 1}, nil)
	ctx, rec := lever.WithRecorder(context.Background())
	if _, err := c.ChangeStage(ctx, oppID, lever.StageOffer, lever.PerformAs(users[0].ID)); err != nil {
		t.Fatal(err)
	}
	calls := rec.Calls()
	want := "/v1/opportunities/" + oppID + "/stage"
	if len(calls) != 2 || calls[0].Status != http.StatusServiceUnavailable || calls[1].Status != http.StatusOK {
		t.Fatalf("calls %+v", calls)
	}
	for _, call := range calls {
		if call.Method != http.MethodPut || call.Path != want || call.Duration <= 0 {
			t.Errorf("call %+v, want PUT %s", call, want)
		}
		if strings.Contains(call.Path, "perform_as") || strings.Contains(call.Path, key) {
			t.Errorf("call %+v carries a query or a key", call)
		}
	}
	if len(rec.Calls()) != 0 {
		t.Error("Calls did not forget what it returned")
	}
	// Without a recorder nothing is recorded and nothing breaks.
	if _, err := c.ListStages(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestNoteCreatedAt: a dated note keeps its date, so a retry can find it by text and
// time; an undated one gets Lever's.
func TestNoteCreatedAt(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	c, err := lever.New(sb.config(), lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	oppID := sb.mustApply(t, c, "Ann", "ann@example.com")
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	if _, err := c.AddNote(context.Background(), oppID, lever.NewNote{Value: "dated", CreatedAt: lever.Timestamp{Time: at}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNote(context.Background(), oppID, lever.NewNote{Value: "undated"}); err != nil {
		t.Fatal(err)
	}
	notes, err := c.ListNotes(context.Background(), oppID)
	if err != nil || len(notes) != 2 {
		t.Fatalf("notes %+v %v", notes, err)
	}
	if notes[0].Value() != "dated" || !notes[0].CreatedAt.Equal(at) {
		t.Errorf("dated note %+v, want created %v", notes[0], at)
	}
	if notes[1].CreatedAt.Before(at.Add(30 * time.Minute)) {
		t.Errorf("undated note created %v", notes[1].CreatedAt)
	}
}

// TestOpportunityData reads what Winnow needs from the four opportunity events and
// refuses data that names no opportunity.
func TestOpportunityData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		event    string
		data     string
		opp, app string
		archived string // "", "true" or "false"
		reason   string
		wantErr  bool
	}{
		{"application", lever.EventApplicationCreated, `{"applicationId":"ap1","opportunityId":"o1"}`, "o1", "ap1", "", "", false},
		{"old candidate id", lever.EventCandidateStageChange, `{"candidateId":"o2","toStageId":"s2","fromStageId":"s1"}`, "o2", "", "", "", false},
		{"archived", lever.EventCandidateArchiveChange, `{"opportunityId":"o3","toArchived":{"reason":"withdrew","archivedAt":1},"fromArchived":null}`, "o3", "", "true", "withdrew", false},
		{"restored", lever.EventCandidateArchiveChange, `{"opportunityId":"o3","toArchived":null,"fromArchived":{"reason":"withdrew"}}`, "o3", "", "false", "", false},
		{"deleted", lever.EventCandidateDeleted, `{"opportunityId":"o4","deletedBy":"u1"}`, "o4", "", "", "", false},
		{"no opportunity", lever.EventCandidateDeleted, `{"deletedBy":"u1"}`, "", "", "", "", true},
		{"not an object", lever.EventApplicationCreated, `[1,2]`, "", "", "", "", true},
		{"bad archive", lever.EventCandidateArchiveChange, `{"opportunityId":"o3","toArchived":"yes"}`, "", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &lever.WebhookEvent{Event: tt.event, Data: []byte(tt.data)}
			d, err := ev.OpportunityData()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			archived := ""
			if d.Archived != nil {
				archived = map[bool]string{true: "true", false: "false"}[*d.Archived]
			}
			if d.OpportunityID != tt.opp || d.ApplicationID != tt.app || archived != tt.archived || d.ArchiveReason != tt.reason {
				t.Fatalf("data %+v", d)
			}
		})
	}
}
