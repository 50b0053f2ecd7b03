package main

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/jobs"
	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// TestLeverApplyInvitesOnce: an application in Lever to the linked posting becomes one
// applicant, invited by email (at the SMTP server), tagged CP-Sent with one note in
// Lever; the same webhook delivered five more times (Lever's Rerun) changes nothing.
func TestLeverApplyInvitesOnce(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{})
		opp := w.apply("Ada Lovelace", "ada@example.com")
		a := w.applicant(opp)
		if a.Name != "Ada Lovelace" || a.Email != "ada@example.com" || a.Status != winnow.StatusInvited {
			t.Fatalf("applicant %+v", a)
		}
		msgs := w.smtp.Wait(1, 30*time.Second)
		if msgs[0].To[0] != "ada@example.com" || !strings.Contains(msgs[0].Text, w.m.Config.BaseURL+"/c/"+a.Token) {
			t.Fatalf("invitation %+v", msgs[0])
		}
		w.settled(a)
		check := func() {
			t.Helper()
			st := w.lever(opp)
			notes := noteValues(st)
			if !slices.Equal(st.Tags, []string{"CP-Sent"}) || len(notes) != 1 ||
				!strings.HasPrefix(notes[0], "Winnow: Invitation sent to ada@example.com for Backend Engineer.") ||
				!strings.Contains(notes[0], w.m.Config.BaseURL+"/applicants/"+a.ID) {
				t.Fatalf("opportunity: tags %q notes %q", st.Tags, notes)
			}
			list, err := w.m.Store.ListApplicants(context.Background(), w.org, winnow.ApplicantFilter{})
			if err != nil || len(list) != 1 {
				t.Fatalf("applicants %d %v", len(list), err)
			}
			if n := len(w.smtp.Messages()); n != 1 {
				t.Fatalf("%d emails", n)
			}
		}
		check()

		var delivery string
		for _, d := range w.sb.Deliveries() {
			if d.Event == winnow.LeverApplicationCreated && d.OK {
				delivery = d.ID
			}
		}
		for i := range 5 {
			d, err := w.sb.Rerun(delivery)
			if err != nil || !d.OK || !strings.Contains(d.Response, `"duplicate":true`) {
				t.Fatalf("rerun %d: %+v %v", i, d, err)
			}
		}
		deliveries, err := w.m.Store.ListLeverDeliveries(context.Background(), w.org, 0)
		if err != nil || len(deliveries) != 1 || deliveries[0].Status != winnow.LeverDeliveryProcessed ||
			deliveries[0].ApplicantID != a.ID || deliveries[0].Outcome != winnow.LeverOutcomeInvited {
			t.Fatalf("deliveries %+v %v", deliveries, err)
		}
		if c := w.conn(); c.LastWebhookAt == nil {
			t.Fatal("last webhook not recorded")
		}
		time.Sleep(300 * time.Millisecond) // anything the reruns set off would show by now
		check()
	})
}

// TestLeverUnlinkedAndNoEmail: an application to a posting no open job links is
// recorded and ignored; one without an email address gets a note in Lever instead of
// an invitation.
func TestLeverUnlinkedAndNoEmail(t *testing.T) {
	t.Parallel()
	w := startLoopWorld(t, dbtest.SQLite.URL(t), loopWorldOptions{})
	other, err := w.sb.CreatePosting(leversandbox.PostingInput{Text: "Designer"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := w.sb.Apply(leversandbox.ApplyInput{PostingID: other, Name: "Grace Hopper", Email: "grace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	noEmail := w.apply("Alan Turing", "")
	w.eventually(30*time.Second, func() error {
		ds, err := w.m.Store.ListLeverDeliveries(context.Background(), w.org, 0)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Status == winnow.LeverDeliveryReceived {
				return errString("a delivery is still to process")
			}
		}
		if len(ds) != 2 {
			return errString("not both deliveries yet")
		}
		return nil
	})
	ds, _ := w.m.Store.ListLeverDeliveries(context.Background(), w.org, 0)
	outcomes := map[string]string{}
	for _, d := range ds {
		outcomes[d.OpportunityID] = string(d.Status) + ": " + d.Outcome
	}
	if outcomes[app.OpportunityID] != "ignored: "+winnow.LeverOutcomeNotLinked || outcomes[noEmail] != "processed: "+winnow.LeverOutcomeNoEmail {
		t.Fatalf("outcomes %q", outcomes)
	}
	w.eventually(30*time.Second, func() error {
		if notes := noteValues(w.lever(noEmail)); len(notes) != 1 || !strings.Contains(notes[0], "no email address; not invited to Backend Engineer") {
			return errString("notes " + strings.Join(notes, " | "))
		}
		return nil
	})
	if st := w.lever(app.OpportunityID); len(st.Notes) != 0 || len(st.Tags) != 0 {
		t.Fatalf("the unlinked opportunity was written to: %+v", st)
	}
	if list, _ := w.m.Store.ListApplicants(context.Background(), w.org, winnow.ApplicantFilter{}); len(list) != 0 {
		t.Fatalf("%d applicants", len(list))
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// lifecycleSteps is a job that needs review: a knockout question, then homework.
func lifecycleSteps() []winnow.Step {
	return []winnow.Step{
		{ID: "s_q", Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{
			{ID: "q_permit", Text: "Are you allowed to work in the EU?", Type: winnow.QuestionYesNo,
				Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs an EU work permit"}}}},
		{ID: "s_hw", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Design a queue.", AcceptText: true}},
	}
}

// TestLeverLifecycle drives an applicant down every path (knockout, qualified and
// unqualified by review, opted out by link and by deadline, archived and deleted in
// Lever) and checks that each sandbox opportunity ends with exactly the spec's tags,
// notes and stage, and that the applicant's timeline shows every call to Lever.
func TestLeverLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{steps: lifecycleSteps()})
		ctx := context.Background()
		admin := signedIn(t, w.m, "admin@acme.test")
		card := func(a *winnow.Applicant) string { return w.m.Config.BaseURL + "/applicants/" + a.ID }
		type path struct {
			name  string
			tags  []string
			stage string
			notes []string // each note starts "Winnow: " + this
		}
		expect := func(a *winnow.Applicant, opp string, p path) {
			t.Helper()
			writes := w.settled(a)
			st := w.lever(opp)
			notes := noteValues(st)
			if !slices.Equal(st.Tags, p.tags) || st.Stage != p.stage || len(notes) != len(p.notes) {
				t.Fatalf("%s: tags %q stage %s notes %q; want %q %s and %d notes", p.name, st.Tags, st.Stage, notes, p.tags, p.stage, len(p.notes))
			}
			for i, n := range notes {
				if !strings.HasPrefix(n, "Winnow: "+p.notes[i]) || !strings.Contains(n, card(a)) {
					t.Errorf("%s: note %d is %q, want %q with the card link", p.name, i, n, p.notes[i])
				}
			}
			// Every write that went out is on the timeline with its call.
			evs, err := w.m.Store.ListEvents(ctx, a.OrgID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			okCalls := 0
			for _, ev := range evs {
				if ev.Call != nil && ev.Call.Status >= 200 && ev.Call.Status < 300 {
					if !strings.HasPrefix(ev.Call.Path, "/v1/opportunities/"+opp) || ev.Call.Method == "" || strings.Contains(ev.Call.Path, "?") {
						t.Errorf("%s: call %+v", p.name, ev.Call)
					}
					okCalls++
				}
			}
			done := 0
			for _, x := range writes {
				if x.Status == winnow.LeverWriteDone {
					done++
				}
				if x.Status == winnow.LeverWriteFailed {
					t.Errorf("%s: write %d failed: %s", p.name, x.Seq, x.LastError)
				}
			}
			if done == 0 || okCalls < done {
				t.Errorf("%s: %d writes done but %d calls on the timeline", p.name, done, okCalls)
			}
		}

		// Knockout: the candidate answers no on their own pages.
		oppKO := w.apply("Kurt Knockout", "kurt@example.com")
		ko := w.applicant(oppKO)
		c := "/c/" + ko.Token
		cand := newBrowser(t, w.m)
		mustPost(t, cand, c+"/start", nil, c+"/steps/s_q")
		mustPost(t, cand, c+"/steps/s_q", map[string][]string{"a-q_permit": {"no"}}, c)
		expect(ko, oppKO, path{"knockout", []string{"CP-Unqual"}, "applicant-new",
			[]string{"Invitation sent to kurt@example.com", "Started the qualification", "Unqualified for Backend Engineer: Needs an EU work permit"}})

		// Review, both ways: the candidate submits, the admin decides on the card.
		submit := func(name, email string) (*winnow.Applicant, string) {
			opp := w.apply(name, email)
			a := w.applicant(opp)
			c := "/c/" + a.Token
			b := newBrowser(t, w.m)
			mustPost(t, b, c+"/start", nil, c+"/steps/s_q")
			mustPost(t, b, c+"/steps/s_q", map[string][]string{"a-q_permit": {"yes"}}, c+"/steps/s_hw")
			now := w.clock.Now()
			if _, err := w.m.Store.SaveStepAnswer(ctx, &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_hw",
				Text: "Two stacks.", CompletedAt: &now}); err != nil {
				t.Fatal(err)
			}
			mustPost(t, b, c+"/submit", nil, c+"/thanks")
			return w.reload(a), opp
		}
		yes, oppYes := submit("Quinn Qualified", "quinn@example.com")
		no, oppNo := submit("Una Unqualified", "una@example.com")
		mustPost(t, admin, "/applicants/"+yes.ID+"/decision", map[string][]string{"outcome": {"qualified"}}, "/applicants/"+yes.ID+"?done=qualified")
		mustPost(t, admin, "/applicants/"+no.ID+"/decision", map[string][]string{"outcome": {"unqualified"}, "reason": {"Queue too slow"}},
			"/applicants/"+no.ID+"?done=unqualified")
		expect(yes, oppYes, path{"qualified", []string{"CP-Qual"}, qualifiedStage,
			[]string{"Invitation sent to quinn@example.com", "Started", "Submitted for Backend Engineer; in review", "Qualified for Backend Engineer."}})
		expect(no, oppNo, path{"unqualified", []string{"CP-Unqual"}, "applicant-new",
			[]string{"Invitation sent to una@example.com", "Started", "Submitted", "Unqualified for Backend Engineer: Queue too slow"}})
		// Lever reports the stage move back; it goes on the timeline.
		w.eventually(30*time.Second, func() error {
			evs, err := w.m.Store.ListEvents(ctx, yes.OrgID, yes.ID)
			if err == nil && !slices.ContainsFunc(evs, func(ev *winnow.Event) bool {
				return ev.Kind == winnow.EventLeverStage && strings.Contains(ev.Message, "On-site interview")
			}) {
				err = errString("no stage change on the qualified applicant's timeline")
			}
			return err
		})

		// Opted out through the link: the tag stays.
		oppOut := w.apply("Otto Out", "otto@example.com")
		out := w.applicant(oppOut)
		mustPost(t, newBrowser(t, w.m), "/c/"+out.Token+"/opt-out", nil, "/c/"+out.Token)
		expect(out, oppOut, path{"opted out by link", []string{"CP-Sent"}, "applicant-new",
			[]string{"Invitation sent to otto@example.com", "Opted out of Backend Engineer: declined via the candidate link"}})

		// Archived in Lever: reminders stop, the link says the application is closed,
		// the card and the list say why, and blind review holds on the timeline.
		oppArch := w.apply("Archie Archived", "archie@example.com")
		arch := w.applicant(oppArch)
		w.settled(arch)
		if err := w.sb.Archive(oppArch, "withdrew"); err != nil {
			t.Fatal(err)
		}
		w.eventually(30*time.Second, func() error {
			if w.reload(arch).ArchivedAt == nil {
				return errString("not archived yet")
			}
			return nil
		})
		expect(arch, oppArch, path{"archived", []string{"CP-Sent"}, "applicant-new", []string{"Invitation sent to archie@example.com"}})
		if emails, _ := w.m.Store.ListEmails(ctx, w.org, winnow.EmailFilter{ApplicantID: arch.ID, Statuses: []winnow.EmailStatus{winnow.EmailScheduled}}); len(emails) != 0 {
			t.Fatalf("%d reminders still scheduled after the archive", len(emails))
		}
		mustPage(t, newBrowser(t, w.m), "/c/"+arch.Token, "closed")
		if s, _, _ := newBrowser(t, w.m).post("/c/"+arch.Token+"/start", nil); s != 409 {
			t.Fatalf("start after the archive: %d", s)
		}
		body := mustPage(t, admin, "/applicants/"+arch.ID, "Archived in Lever")
		if strings.Contains(body, "archie@example.com") || strings.Contains(body, "Archie") || !has(t, body, "#timeline code.call") {
			t.Fatalf("the blind card shows the candidate or no calls:\n%s", body)
		}
		mustPage(t, admin, "/applicants", "Archived in Lever")
		tok, _ := MustAPIToken(t, w.m, w.org, w.admin.ID)
		if status, raw, v := newAPIClient(t, w.m, tok).call("GET", "/api/v1/applicants/"+arch.ID, "", nil); status != 200 ||
			get(v, "archivedAt") == nil || !strings.Contains(raw, `"call":{"method":"POST","path":"/v1/opportunities/`+oppArch) {
			t.Fatalf("API applicant: %d %s", status, raw)
		}

		// Deleted in Lever: answers, files, name and email go; an anonymous record stays.
		oppDel := w.apply("Dora Deleted", "dora@example.com")
		del := w.applicant(oppDel)
		cd := "/c/" + del.Token
		bd := newBrowser(t, w.m)
		mustPost(t, bd, cd+"/start", nil, cd+"/steps/s_q")
		mustPost(t, bd, cd+"/steps/s_q", map[string][]string{"a-q_permit": {"yes"}}, cd+"/steps/s_hw")
		up := mustUpload(t, w.m, del, "s_hw", "homework", "dora.pdf", "application/pdf", "%PDF dora")
		w.settled(del)
		if err := w.sb.DeleteOpportunity(oppDel); err != nil {
			t.Fatal(err)
		}
		w.eventually(30*time.Second, func() error {
			if w.reload(del).ErasedAt == nil {
				return errString("not erased yet")
			}
			return nil
		})
		gone := w.reload(del)
		answers, _ := w.m.Store.ListStepAnswers(ctx, del.OrgID, del.ID)
		emails, _ := w.m.Store.ListEmails(ctx, del.OrgID, winnow.EmailFilter{ApplicantID: del.ID})
		if gone.Name != winnow.ErasedName || gone.Email != "" || len(answers) != 0 {
			t.Fatalf("erased applicant %+v, %d answers", gone, len(answers))
		}
		for _, em := range emails {
			if em.To != "" || em.Text != "" || em.Status == winnow.EmailScheduled {
				t.Fatalf("email kept %q %q %s", em.To, em.Text, em.Status)
			}
		}
		if _, err := w.m.Store.FindUpload(ctx, del.OrgID, up.ID); winnow.ErrorCode(err) != winnow.ENOTFOUND {
			t.Fatalf("upload row: %v", err)
		}
		if ok, err := w.m.Files.Exists(ctx, up.Path); ok || err != nil {
			t.Fatalf("upload file still there: %v, %v", ok, err)
		}
		st := w.lever(oppDel)
		if !st.Deleted || !slices.Equal(st.Tags, []string{"CP-InProg"}) || len(st.Notes) != 2 {
			t.Fatalf("deleted opportunity %+v", st)
		}
		mustPage(t, admin, "/applicants/"+del.ID, "Deleted in Lever")
		mustPage(t, newBrowser(t, w.m), cd, "closed")

		// Opted out at the deadline, 17.5 days on.
		oppLate := w.apply("Lena Late", "lena@example.com")
		late := w.applicant(oppLate)
		w.settled(late)
		w.clock.Advance(18 * 24 * time.Hour)
		w.runDue()
		w.eventually(30*time.Second, func() error {
			if w.reload(late).Status != winnow.StatusOptedOut {
				return errString("not opted out yet")
			}
			return nil
		})
		expect(late, oppLate, path{"opted out at the deadline", []string{"CP-Sent"}, "applicant-new",
			[]string{"Invitation sent to lena@example.com", "Opted out of Backend Engineer: no submission within 17.5 days"}})
		// The archived applicant was not opted out: it no longer owed a submission.
		if a := w.reload(arch); a.Status != winnow.StatusInvited {
			t.Fatalf("archived applicant became %s", a.Status)
		}
	})
}

// TestLeverPauseAndResume: access revoked in Lever pauses the next write (the
// connection needs reconnecting, the writes stay queued, their jobs sleep rather than
// fail) and the processing of new applications; reconnecting resumes the paused work,
// which completes in order.
func TestLeverPauseAndResume(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{oauth: true})
		ctx := context.Background()
		oppA := w.apply("Ada Lovelace", "ada@example.com")
		a := w.applicant(oppA)
		w.settled(a)

		w.sb.Revoke()
		a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
		w.eventually(30*time.Second, func() error {
			if c := w.conn(); c.State != winnow.LeverNeedsReconnecting {
				return errString("connection is " + string(c.State))
			}
			return nil
		})
		if c := w.conn(); !strings.Contains(c.StateReason, "Reconnect Lever") {
			t.Fatalf("reason %q", c.StateReason)
		}
		oppB := w.apply("Grace Hopper", "grace@example.com") // arrives while paused
		// The sandbox sends its webhook in the background: once Winnow has it, its
		// job is among those that must come to rest.
		w.eventually(30*time.Second, func() error {
			ds, err := w.m.Store.ListLeverDeliveries(ctx, w.org, 0)
			for _, d := range ds {
				if d.OpportunityID == oppB {
					return err
				}
			}
			return cmp.Or[error](err, errString("B's webhook not received yet"))
		})
		w.eventually(30*time.Second, func() error {
			jobs, err := w.m.River.JobList(ctx, river.NewJobListParams().Kinds("lever_write", "lever_delivery").
				States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStatePending).First(100))
			if err == nil && len(jobs.Jobs) > 0 {
				err = errString("Lever jobs still running")
			}
			return err
		})
		writes, _ := w.m.Store.ListLeverWrites(ctx, w.org, winnow.LeverWriteFilter{ApplicantID: a.ID})
		queued := 0
		for _, x := range writes {
			switch x.Status {
			case winnow.LeverWriteQueued:
				queued++
			case winnow.LeverWriteFailed, winnow.LeverWriteSkipped:
				t.Fatalf("write %d %s while paused: %s", x.Seq, x.Status, x.LastError)
			}
		}
		if queued != 3 {
			t.Fatalf("%d writes queued while paused, want the start's 3", queued)
		}
		bad, _ := w.m.River.JobList(ctx, river.NewJobListParams().Kinds("lever_write", "lever_delivery").
			States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable).First(100))
		if len(bad.Jobs) != 0 {
			t.Fatalf("%d Lever jobs failed or cancelled while paused", len(bad.Jobs))
		}
		if st := w.lever(oppA); !slices.Equal(st.Tags, []string{"CP-Sent"}) || len(st.Notes) != 1 {
			t.Fatalf("Lever changed while paused: %+v", st)
		}

		w.connectOAuth()
		n, err := jobs.ResumeLever(ctx, w.m.River, w.org)
		if err != nil || n < 2 { // the job of the start's 3 writes and B's delivery
			t.Fatalf("resumed %d jobs: %v", n, err)
		}
		writes = w.settled(a)
		for i := 1; i < len(writes); i++ {
			if writes[i].Status == winnow.LeverWriteDone && writes[i-1].Status == winnow.LeverWriteDone && writes[i].DoneAt.Before(*writes[i-1].DoneAt) {
				t.Fatalf("write %d done before write %d", writes[i].Seq, writes[i-1].Seq)
			}
		}
		st := w.lever(oppA)
		if notes := noteValues(st); !slices.Equal(st.Tags, []string{"CP-InProg"}) || len(notes) != 2 ||
			!strings.Contains(notes[0], "Invitation sent") || !strings.Contains(notes[1], "Started") {
			t.Fatalf("after reconnecting: tags %q notes %q", st.Tags, notes)
		}
		b := w.applicant(oppB)
		w.settled(b)
		if st := w.lever(oppB); !slices.Equal(st.Tags, []string{"CP-Sent"}) || len(st.Notes) != 1 {
			t.Fatalf("the application that arrived while paused: %+v", st)
		}
	})
}

// TestLeverWebhookRefusals: a forged or missing signature, an unknown org key, a body
// that is no webhook and one over 1 MiB are refused with their status and store
// nothing; Lever's "Verify connection" test is answered and shown as verified; the
// URL that names no org takes a delivery its signature matches to an org.
func TestLeverWebhookRefusals(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{})
		ctx := context.Background()
		key := w.conn().OrgKey
		var token string
		for _, h := range w.sb.Webhooks() {
			if h.Event == winnow.LeverApplicationCreated {
				token = h.SignatureToken
			}
		}
		signed := func(event, data, sigToken string) string {
			at := time.Now().UnixMilli()
			tok := "tok" + dbtest.RandomHex(20)
			return `{"event":"` + event + `","triggeredAt":` + strconv.FormatInt(at, 10) + `,"token":"` + tok +
				`","signature":"` + lever.Sign(sigToken, tok, at) + `","data":` + data + `}`
		}
		app := `{"applicationId":"ap1","opportunityId":"opp-unknown"}`
		orgURL := winnow.LeverWebhookPath + "/" + key
		cases := []struct {
			name, path, body string
			status           int
		}{
			{"forged signature", orgURL, signed("applicationCreated", app, "not-the-token"), 401},
			{"missing signature", orgURL, `{"event":"applicationCreated","triggeredAt":1,"token":"t","data":` + app + `}`, 401},
			{"forged on the bare URL", winnow.LeverWebhookPath, signed("applicationCreated", app, "not-the-token"), 401},
			{"unknown org key", winnow.LeverWebhookPath + "/" + strings.Repeat("0", 32), signed("applicationCreated", app, token), 404},
			{"org key that cannot be one", winnow.LeverWebhookPath + "/bad.key", signed("applicationCreated", app, token), 404},
			{"garbled body", orgURL, `{"event":"applicationCreated","triggeredAt":`, 400},
			{"not an object", orgURL, `[1, 2, 3]`, 400},
			{"no opportunity", orgURL, signed("applicationCreated", `{"applicationId":"ap1"}`, token), 400},
			{"2 MiB body", orgURL, `{"event":"applicationCreated","data":{"x":"` + strings.Repeat("x", 2<<20) + `"}}`, 413},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp, err := http.Post(w.m.Config.BaseURL+c.path, "application/json", strings.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var answer struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
					t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
				}
				if resp.StatusCode != c.status || answer.Error.Message == "" {
					t.Fatalf("status %d, want %d: %+v", resp.StatusCode, c.status, answer)
				}
			})
		}
		if n := countRows(t, w.m, "lever_deliveries"); n != 0 {
			t.Fatalf("%d deliveries stored from refused requests", n)
		}
		if c := w.conn(); c.LastWebhookAt != nil || c.LastVerifiedAt != nil {
			t.Fatalf("refused requests touched the connection: %+v", c)
		}

		// Lever's "Verify connection": signed, empty data.
		for _, h := range w.sb.Webhooks() {
			if d, err := w.sb.VerifyWebhook(h.ID); err != nil || !d.OK {
				t.Fatalf("verify: %+v %v", d, err)
			}
		}
		if c := w.conn(); c.LastVerifiedAt == nil {
			t.Fatal("the test was not recorded as a verification")
		}
		// The bare URL, signed with the org's token.
		resp, err := http.Post(w.m.Config.BaseURL+winnow.LeverWebhookPath, "application/json", strings.NewReader(signed("applicationCreated", app, token)))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("bare URL: %v %v", resp, err)
		}
		resp.Body.Close()
		ds, _ := w.m.Store.ListLeverDeliveries(ctx, w.org, 0)
		if len(ds) != 1 || ds[0].OpportunityID != "opp-unknown" {
			t.Fatalf("deliveries %+v", ds)
		}
		w.eventually(30*time.Second, func() error {
			d, err := w.m.Store.FindLeverDelivery(ctx, w.org, ds[0].ID)
			if err == nil && d.Status != winnow.LeverDeliveryIgnored {
				err = errString("delivery " + string(d.Status))
			}
			return err
		})
	})
}

// countRows counts a table's rows in m's database.
func countRows(t *testing.T, m *Main, table string) int {
	t.Helper()
	var n int
	if err := m.DB.SQL().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLeverWriteOutcomes: a deactivated perform_as user is dropped (with a warning for
// admins) and the write goes out at once without them; a note whose answer was lost
// after Lever stored it is found, not written twice; a write Lever refuses for good
// fails with the reason on the timeline, and Retry tries it again.
func TestLeverWriteOutcomes(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{})
		ctx := context.Background()
		lc, err := lever.New(lever.Config{APIURL: w.sb.URL() + "/v1"}, lever.APIKeyAuth(w.sb.APIKey()))
		if err != nil {
			t.Fatal(err)
		}
		users, err := lc.ListUsers(ctx, "rui@example.com")
		if err != nil || len(users) != 1 {
			t.Fatalf("users %v %v", users, err)
		}
		rui := users[0].ID
		w.connect(func(c *winnow.LeverConnection) { c.PerformAs, c.PerformAsName = rui, "Rui Recruiter" })

		opp := w.apply("Ada Lovelace", "ada@example.com")
		a := w.applicant(opp)
		w.settled(a)
		if st := w.lever(opp); len(st.Notes) != 1 || st.Notes[0].User != rui {
			t.Fatalf("the invitation note is not by the perform_as user: %+v", st.Notes)
		}

		// perform_as deactivated in Lever.
		if err := w.sb.DeactivateUser("rui@example.com"); err != nil {
			t.Fatal(err)
		}
		a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
		w.settled(a)
		c := w.conn()
		if c.PerformAs != "" || !strings.Contains(c.PerformAsWarning, "Rui Recruiter") {
			t.Fatalf("perform_as %q warning %q", c.PerformAs, c.PerformAsWarning)
		}
		st := w.lever(opp)
		if notes := noteValues(st); len(notes) != 2 || st.Notes[0].User != "" || !strings.Contains(notes[1], "Started") {
			t.Fatalf("notes after the deactivation: %+v", st.Notes)
		}

		// The answer to the note is lost after Lever stored it.
		if err := w.sb.SetFaults(leversandbox.Faults{TimeoutAfterWriteRate: 1}); err != nil {
			t.Fatal(err)
		}
		a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Submit(now) })
		w.eventually(30*time.Second, func() error {
			if n := len(w.lever(opp).Notes); n != 3 {
				return errString(strconv.Itoa(n) + " notes")
			}
			return nil
		})
		if err := w.sb.SetFaults(leversandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
		w.settled(a)
		if notes := noteValues(w.lever(opp)); len(notes) != 3 || !strings.Contains(notes[2], "Submitted") {
			t.Fatalf("notes after the lost answer: %q", notes)
		}
		evs, _ := w.m.Store.ListEvents(ctx, a.OrgID, a.ID)
		if !slices.ContainsFunc(evs, func(ev *winnow.Event) bool { return strings.Contains(ev.Message, "found in Lever") }) {
			t.Fatal("the timeline does not say the note was found")
		}
		if !slices.ContainsFunc(evs, func(ev *winnow.Event) bool { return ev.Call != nil && ev.Call.Status == 0 }) {
			t.Fatal("the timeline does not show the call that got no answer")
		}

		// A stage Lever does not know: the move fails for good.
		w.connect(func(c *winnow.LeverConnection) { c.QualifiedStageID = "no-such-stage" })
		a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Qualify(now, "") })
		w.settled(a)
		failed, _ := w.m.Store.ListLeverWrites(ctx, w.org, winnow.LeverWriteFilter{Status: winnow.LeverWriteFailed})
		if len(failed) != 1 || failed[0].Kind != winnow.LeverStage || !strings.Contains(failed[0].LastError, "not found") {
			t.Fatalf("failed writes %+v", failed)
		}
		st = w.lever(opp)
		if !slices.Equal(st.Tags, []string{"CP-Qual"}) || len(st.Notes) != 4 || st.Stage != "applicant-new" {
			t.Fatalf("after the failure %+v", st)
		}
		failures := func() int {
			evs, _ := w.m.Store.ListEvents(ctx, a.OrgID, a.ID)
			n := 0
			for _, ev := range evs {
				if ev.Kind == winnow.EventLeverFailed && ev.Call != nil && ev.Call.Status == http.StatusBadRequest {
					n++
				}
			}
			return n
		}
		if n := failures(); n != 1 {
			t.Fatalf("%d failures on the timeline", n)
		}
		if err := w.m.Store.RetryLeverWrite(ctx, w.org, failed[0].ID); err != nil {
			t.Fatal(err)
		}
		w.eventually(30*time.Second, func() error {
			if n := failures(); n != 2 {
				return errString(strconv.Itoa(n) + " failures")
			}
			return nil
		})
	})
}
