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
		{"decision reopened", winnow.EventReopened, winnow.StatusSubmitted, "", "",
			[]string{"remove_tags " + strings.Join(others("CP-InProg"), ","), "add_tags CP-InProg", "note"}, "Decision reopened for Backend Engineer"},
		{"knockout overridden", winnow.EventKnockoutOverridden, winnow.StatusInProgress, "", "",
			[]string{"remove_tags " + strings.Join(others("CP-InProg"), ","), "add_tags CP-InProg", "note"}, "Knockout overridden for Backend Engineer"},
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

// TestLeverWriteClaim: a queued write goes out only while it still applies, waits while
// the connection needs reconnecting or another worker holds it, and is skipped with a
// timeline entry when it no longer applies.
func TestLeverWriteClaim(t *testing.T) {
	t.Parallel()
	now := time.Now()
	const (
		perform = "perform"
		nothing = "nothing"
		later   = "later"
		skip    = "skip"
	)
	tests := []struct {
		name    string
		kind    winnow.LeverWriteKind
		status  winnow.LeverWriteStatus
		state   winnow.LeverState // "" means no connection
		planned winnow.ApplicantStatus
		is      winnow.ApplicantStatus
		erased  bool
		lease   time.Duration // held until now+lease when not zero
		want    string
	}{
		{"queued tag, same status", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, 0, perform},
		{"tag, in progress then submitted (same tag)", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInProgress, winnow.StatusSubmitted, false, 0, perform},
		{"tag, moved on", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInProgress, false, 0, skip},
		{"remove tags, moved on", winnow.LeverRemoveTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInProgress, winnow.StatusQualified, false, 0, skip},
		{"tag, then opted out keeps it", winnow.LeverAddTags, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusOptedOut, false, 0, perform},
		{"note, moved on", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusQualified, false, 0, perform},
		{"stage, still qualified", winnow.LeverStage, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusQualified, winnow.StatusQualified, false, 0, perform},
		{"stage, no longer qualified", winnow.LeverStage, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusQualified, winnow.StatusUnqualified, false, 0, skip},
		{"done already", winnow.LeverNote, winnow.LeverWriteDone, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, 0, nothing},
		{"failed for good", winnow.LeverNote, winnow.LeverWriteFailed, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, 0, nothing},
		{"needs reconnecting", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverNeedsReconnecting, winnow.StatusInvited, winnow.StatusInvited, false, 0, later},
		{"held by another worker", winnow.LeverNote, winnow.LeverWriteSending, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, time.Minute, later},
		{"waiting for its backoff", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, time.Minute, later},
		{"a dead worker's lease ran out", winnow.LeverNote, winnow.LeverWriteSending, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, false, -time.Second, perform},
		{"disconnected", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverDisconnected, winnow.StatusInvited, winnow.StatusInvited, false, 0, skip},
		{"no connection", winnow.LeverNote, winnow.LeverWriteQueued, "", winnow.StatusInvited, winnow.StatusInvited, false, 0, skip},
		{"erased", winnow.LeverNote, winnow.LeverWriteQueued, winnow.LeverConnected, winnow.StatusInvited, winnow.StatusInvited, true, 0, skip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c *winnow.LeverConnection
			if tt.state != "" {
				c = &winnow.LeverConnection{State: tt.state}
			}
			a := &winnow.Applicant{ID: "a1", Status: tt.is}
			if tt.erased {
				a.ErasedAt = &now
			}
			w := &winnow.LeverWrite{ApplicantID: "a1", Kind: tt.kind, Status: tt.status, ForStatus: tt.planned, Attempts: 1}
			if tt.lease != 0 {
				until := now.Add(tt.lease)
				w.LeaseUntil = &until
			}
			before := *w
			got := w.Claim(a, c, now)
			switch tt.want {
			case perform:
				if !got.Send || !got.Changed || w.Status != winnow.LeverWriteSending || w.Attempts != 2 ||
					w.LeaseUntil == nil || !w.LeaseUntil.Equal(now.Add(winnow.LeverWriteLease)) || !w.MayHaveReachedLever() {
					t.Fatalf("claim %+v, write %+v", got, w)
				}
			case skip:
				if got.Send || !got.Changed || w.Status != winnow.LeverWriteSkipped || w.LastError == "" ||
					got.Event == nil || got.Event.Kind != winnow.EventLeverSkipped || got.Event.ApplicantID != "a1" {
					t.Fatalf("claim %+v, write %+v", got, w)
				}
			case later, nothing:
				if got.Send || got.Changed || got.Later != (tt.want == later) || w.Status != before.Status || w.Attempts != before.Attempts {
					t.Fatalf("claim %+v, write %+v", got, w)
				}
			}
		})
	}
}

// TestLeverWriteFinish: an attempt's outcome becomes the write's status and one
// timeline entry per call, the last saying how it ended; none names the candidate.
func TestLeverWriteFinish(t *testing.T) {
	t.Parallel()
	at := time.Now()
	calls := []winnow.Call{{Method: "GET", Path: "/v1/opportunities/opp1/notes", Status: 200, Duration: time.Millisecond},
		{Method: "POST", Path: "/v1/opportunities/opp1/notes", Status: 201, Duration: 2 * time.Millisecond}}
	tests := []struct {
		name   string
		o      winnow.LeverWriteOutcome
		status winnow.LeverWriteStatus
		last   winnow.EventKind
		events int
		held   bool
	}{
		{"done", winnow.LeverWriteOutcome{Status: winnow.LeverWriteDone, NoteID: "n1", Calls: calls}, winnow.LeverWriteDone, winnow.EventLeverCall, 2, false},
		{"retry later", winnow.LeverWriteOutcome{Status: winnow.LeverWriteQueued, Error: "Lever is busy; retrying.", Calls: calls[1:], RetryAt: at.Add(time.Minute)},
			winnow.LeverWriteQueued, winnow.EventLeverCall, 1, true},
		{"failed", winnow.LeverWriteOutcome{Status: winnow.LeverWriteFailed, Error: "Lever refused it.", Calls: calls[1:]}, winnow.LeverWriteFailed, winnow.EventLeverFailed, 1, false},
		{"paused before any call", winnow.LeverWriteOutcome{Status: winnow.LeverWriteQueued, Error: "Paused."}, winnow.LeverWriteQueued, winnow.EventLeverCall, 1, false},
		{"skipped", winnow.LeverWriteOutcome{Status: winnow.LeverWriteSkipped, Error: "Not written: gone."}, winnow.LeverWriteSkipped, winnow.EventLeverSkipped, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lease := at.Add(winnow.LeverWriteLease)
			w := &winnow.LeverWrite{OrgID: "o1", ApplicantID: "a1", Kind: winnow.LeverNote, Status: winnow.LeverWriteSending,
				Note: "Winnow: Invitation sent to ada@example.com", LeaseUntil: &lease}
			tt.o.At = at
			evs := w.Finish(tt.o)
			if w.Status != tt.status || len(evs) != tt.events || evs[len(evs)-1].Kind != tt.last || (w.LeaseUntil != nil) != tt.held {
				t.Fatalf("write %+v, events %+v", w, evs)
			}
			for i, ev := range evs {
				if ev.ApplicantID != "a1" || strings.Contains(ev.Message, "ada@") || (i < len(tt.o.Calls) && ev.Call == nil) {
					t.Errorf("event %+v", ev)
				}
			}
			if tt.status == winnow.LeverWriteDone && (w.NoteID != "n1" || w.DoneAt == nil) {
				t.Errorf("done write %+v", w)
			}
		})
	}
}

// TestClosedApplicant: once archived or deleted in Lever, the candidate can no longer
// start, submit or opt out, and lists name why.
func TestClosedApplicant(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, status := range []winnow.ApplicantStatus{winnow.StatusInvited, winnow.StatusInProgress} {
		a := &winnow.Applicant{Name: "Ada", Status: status, Deadline: now.Add(time.Hour)}
		if _, err := a.Archive(now, ""); err != nil || a.ClosedLabel() != "Archived in Lever" {
			t.Fatal(err)
		}
		for name, step := range map[string]func() (winnow.Event, error){
			"start":   func() (winnow.Event, error) { return a.Start(now) },
			"submit":  func() (winnow.Event, error) { return a.Submit(now) },
			"opt out": func() (winnow.Event, error) { return a.OptOut(now, "") },
		} {
			if _, err := step(); winnow.ErrorCode(err) != winnow.ECONFLICT || a.Status != status {
				t.Errorf("%s while %s and archived: %v", name, status, err)
			}
		}
	}
	a := &winnow.Applicant{Name: "Ada", Status: winnow.StatusInvited}
	a.Erase(now)
	if a.ClosedLabel() != "Deleted in Lever" {
		t.Errorf("label %q", a.ClosedLabel())
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
