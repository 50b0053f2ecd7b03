package winnow_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"winnow"
)

func leverFixture() (*winnow.LeverConnection, *winnow.Funnel, *winnow.Applicant) {
	c := &winnow.LeverConnection{OrgID: "o1", State: winnow.LeverConnected, QualifiedStageID: "stage-org"}
	f := &winnow.Funnel{ID: "f1", OrgID: "o1", Title: "Backend Engineer"}
	a := &winnow.Applicant{ID: "a1", OrgID: "o1", FunnelID: "f1", Email: "ada@example.com", LeverOpportunityID: "opp1"}
	return c, f, a
}

// TestPlanLeverWrites: each transition calls for exactly the spec's tags, note and stage
// move, in that order.
func TestPlanLeverWrites(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)
	others := func(keep string) []string {
		all := []string{"CP-Sent", "CP-InProg", "CP-Unqual", "CP-Qual"}
		return slices.DeleteFunc(all, func(t string) bool { return t == keep })
	}
	tests := []struct {
		name     string
		kind     winnow.EventKind
		status   winnow.ApplicantStatus
		reason   string
		override string // the job's qualified stage
		want     []string
		note     string
	}{
		{"invited", winnow.EventInvited, winnow.StatusInvited, "", "", []string{"add_tags CP-Sent", "note"}, "Invitation sent to ada@example.com for Backend Engineer."},
		{"started", winnow.EventStarted, winnow.StatusInProgress, "", "",
			[]string{"remove_tags " + strings.Join(others("CP-InProg"), ","), "add_tags CP-InProg", "note"}, "Started the qualification"},
		{"submitted", winnow.EventSubmitted, winnow.StatusSubmitted, "", "", []string{"note"}, "in review by the job team"},
		{"unqualified", winnow.EventUnqualified, winnow.StatusUnqualified, "Requires work authorization", "",
			[]string{"remove_tags " + strings.Join(others("CP-Unqual"), ","), "add_tags CP-Unqual", "note"}, "Requires work authorization"},
		{"qualified, org stage", winnow.EventQualified, winnow.StatusQualified, "", "",
			[]string{"remove_tags " + strings.Join(others("CP-Qual"), ","), "add_tags CP-Qual", "note", "stage stage-org"}, "Qualified for Backend Engineer."},
		{"qualified, job stage", winnow.EventQualified, winnow.StatusQualified, "", "stage-job",
			[]string{"remove_tags " + strings.Join(others("CP-Qual"), ","), "add_tags CP-Qual", "note", "stage stage-job"}, "Qualified"},
		{"opted out", winnow.EventOptedOut, winnow.StatusOptedOut, "deadline passed", "", []string{"note"}, "Opted out of Backend Engineer: deadline passed"},
		{"resent: nothing", winnow.EventInvitationResent, winnow.StatusInvited, "", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f, a := leverFixture()
			f.QualifiedStageID = tt.override
			a.Status, a.Reason = tt.status, tt.reason
			ev := &winnow.Event{ID: "e1", Kind: tt.kind, At: at}
			ws := winnow.PlanLeverWrites(c, f, a, ev, "https://winnow.example/applicants/a1")
			var got []string
			for _, w := range ws {
				s := string(w.Kind)
				switch w.Kind {
				case winnow.LeverAddTags, winnow.LeverRemoveTags:
					s += " " + strings.Join(w.Tags, ",")
				case winnow.LeverStage:
					s += " " + w.StageID
				case winnow.LeverNote:
					if !strings.Contains(w.Note, tt.note) || !strings.Contains(w.Note, "https://winnow.example/applicants/a1") ||
						!strings.Contains(w.Note, "2026-12-03 14:05 UTC") || !w.NoteAt.Equal(at) {
						t.Errorf("note %q lacks %q, the card link or the time", w.Note, tt.note)
					}
				}
				if w.OpportunityID != "opp1" || w.EventID != "e1" || w.ForStatus != tt.status || w.Status != winnow.LeverWriteQueued {
					t.Errorf("write %+v", w)
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("writes %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("no writes without Lever", func(t *testing.T) {
		t.Parallel()
		c, f, a := leverFixture()
		ev := &winnow.Event{Kind: winnow.EventInvited}
		noOpp := *a
		noOpp.LeverOpportunityID = ""
		for name, ws := range map[string][]*winnow.LeverWrite{
			"no connection":  winnow.PlanLeverWrites(nil, f, a, ev, ""),
			"disconnected":   winnow.PlanLeverWrites(&winnow.LeverConnection{State: winnow.LeverDisconnected}, f, a, ev, ""),
			"no opportunity": winnow.PlanLeverWrites(c, f, &noOpp, ev, ""),
		} {
			if len(ws) != 0 {
				t.Errorf("%s: %d writes", name, len(ws))
			}
		}
	})
	t.Run("custom prefix", func(t *testing.T) {
		t.Parallel()
		c, f, a := leverFixture()
		c.TagPrefix = "WN-"
		a.Status = winnow.StatusInvited
		ws := winnow.PlanLeverWrites(c, f, a, &winnow.Event{Kind: winnow.EventInvited}, "")
		if ws[0].Tags[0] != "WN-Sent" {
			t.Fatalf("tag %q", ws[0].Tags[0])
		}
	})
}

// TestLeverWriteClaim: a queued write goes out only while it still applies.
func TestLeverWriteClaim(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name    string
		kind    winnow.LeverWriteKind
		status  winnow.LeverWriteStatus
		state   winnow.LeverState // "" means no connection
		planned winnow.ApplicantStatus
		is      winnow.ApplicantStatus
		erased  bool
		want    winnow.LeverAction
	}{
		{"queued tag, same status", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, winnow.LeverPerform},
		{"tag, in progress then submitted (same tag)", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInProgress, winnow.StatusSubmitted, false, winnow.LeverPerform},
		{"tag, moved on", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInProgress, false, winnow.LeverSkip},
		{"remove tags, moved on", winnow.LeverRemoveTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInProgress, winnow.StatusQualified, false, winnow.LeverSkip},
		{"tag, then opted out keeps it", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusOptedOut, false, winnow.LeverPerform},
		{"note, moved on", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusQualified, false, winnow.LeverPerform},
		{"stage, still qualified", winnow.LeverStage, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusQualified, winnow.StatusQualified, false, winnow.LeverPerform},
		{"done already", winnow.LeverNote, winnow.LeverWriteDone, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, winnow.LeverNothing},
		{"needs reconnecting", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverNeedsReconnecting, winnow.StatusInvited, winnow.StatusInvited, false, winnow.LeverPause},
		{"disconnected", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverDisconnected, winnow.StatusInvited, winnow.StatusInvited, false, winnow.LeverSkip},
		{"no connection", winnow.LeverNote, winnow.LeverWriteQueued, "", winnow.StatusInvited, winnow.StatusInvited, false, winnow.LeverSkip},
		{"erased", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, true, winnow.LeverSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c *winnow.LeverConnection
			if tt.state != "" {
				c = &winnow.LeverConnection{State: tt.state}
			}
			a := &winnow.Applicant{Status: tt.is}
			if tt.erased {
				a.ErasedAt = &now
			}
			w := &winnow.LeverWrite{Kind: tt.kind, Status: tt.status, ForStatus: tt.planned}
			got := w.Claim(a, c)
			if got.Action != tt.want {
				t.Fatalf("action %d, want %d (%s)", got.Action, tt.want, got.Reason)
			}
			if got.Action == winnow.LeverSkip && got.Reason == "" {
				t.Fatal("a skip needs a reason")
			}
		})
	}
}

// TestLeverArchiveErase: archived and erased applicants owe no submission; erase keeps
// an anonymous record.
func TestLeverArchiveErase(t *testing.T) {
	t.Parallel()
	now := time.Now()
	a := &winnow.Applicant{Name: "Ada", Email: "ada@example.com", Status: winnow.StatusInvited, Deadline: now.Add(time.Hour)}
	if _, err := a.Archive(now, "withdrew"); err != nil || a.AwaitsSubmission() || a.Expired(now.Add(2*time.Hour)) {
		t.Fatalf("archive: %v awaits=%v", err, a.AwaitsSubmission())
	}
	if _, err := a.Archive(now, ""); winnow.ErrorCode(err) != winnow.ECONFLICT {
		t.Fatalf("archive twice: %v", err)
	}
	if _, err := a.Unarchive(now); err != nil || !a.AwaitsSubmission() {
		t.Fatalf("unarchive: %v", err)
	}
	ev, err := a.Erase(now)
	if err != nil || a.Email != "" || a.Name != winnow.ErasedName || a.AwaitsSubmission() || strings.Contains(ev.Message, "Ada") {
		t.Fatalf("erase: %v %+v %q", err, a, ev.Message)
	}
	if _, err := a.Archive(now, ""); winnow.ErrorCode(err) != winnow.ECONFLICT {
		t.Fatalf("archive after erase: %v", err)
	}
}

// TestLeverConnectionSettings: settings are normalised and bad ones refused.
func TestLeverConnectionSettings(t *testing.T) {
	t.Parallel()
	c := &winnow.LeverConnection{TagPrefix: "  "}
	if err := c.ValidateSettings(); err != nil || c.TagPrefix != "CP-" {
		t.Fatalf("default prefix: %v %q", err, c.TagPrefix)
	}
	for _, bad := range []string{strings.Repeat("x", 21), "a\x00", "a\nb", "\xff"} {
		c := &winnow.LeverConnection{TagPrefix: bad}
		if err := c.ValidateSettings(); winnow.ErrorCode(err) != winnow.EINVALID {
			t.Errorf("prefix %q: %v", bad, err)
		}
	}
	if _, err := winnow.ValidateSignatureToken("two words"); err == nil {
		t.Error("signature token with a space accepted")
	}
	if k, err := winnow.ValidateLeverAPIKey("  key123 "); err != nil || k != "key123" {
		t.Errorf("api key: %q %v", k, err)
	}
	k := &winnow.LeverConnection{Mode: winnow.LeverOAuth, Scopes: []string{"notes:write:admin"}}
	if !k.HasScope("notes:read:admin") || k.HasScope("webhooks:write:admin") {
		t.Error("scope rules")
	}
	c2 := &winnow.LeverConnection{State: winnow.LeverConnected}
	if !c2.NeedsReconnecting("revoked", time.Now()) || c2.NeedsReconnecting("again", time.Now()) {
		t.Error("needs reconnecting should change the state once")
	}
}
