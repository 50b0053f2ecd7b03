package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/leversandbox"
)

// TestLeverApplyInvitesOnce: an application in Lever to the linked posting becomes one
// applicant, invited by email (at the SMTP server), tagged CP-Sent with one note in
// Lever; the same webhook delivered five more times (Lever's Rerun) changes nothing.
func TestLeverApplyInvitesOnce(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e.URL(t), leverWorldOptions{})
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
	w := startLeverWorld(t, dbtest.SQLite.URL(t), leverWorldOptions{})
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
