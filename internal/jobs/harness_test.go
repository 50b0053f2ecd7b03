package jobs

import (
	"context"
	"crypto/tls"
	"log/slog"
	"mime"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/filestore"
	"winnow/internal/filestore/fakes3"
	"winnow/internal/mail"
	"winnow/internal/mail/mailtest"
	"winnow/internal/sqlstore"
)

const day = 24 * time.Hour

// TestMain removes the template databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

// newStore returns a store on db with clock clk whose effects are planners', as
// cmd/winnow builds it: an insert-only River client, the effects, then the store.
func newStore(t testing.TB, db *sqlstore.DB, clk winnow.Clock, planners ...Planner) (*sqlstore.Store, *Client) {
	t.Helper()
	inserter, err := NewInserter(db.RiverDriver(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sqlstore.NewStore(db, clk, NewEffects[*sqlstore.Tx](inserter, planners...)), inserter
}

// harness is a migrated database, a store and a started River client whose workers send
// through a real SMTP server on 127.0.0.1 (or keep email in the outbox), all on one
// injected clock.
type harness struct {
	t      *testing.T
	ctx    context.Context
	db     *sqlstore.DB
	store  *sqlstore.Store
	clock  *dbtest.Clock
	client *Client
	files  *filestore.Store
	dir    string         // the uploads folder; empty when uploads go to S3
	s3     *fakes3.Server // the S3 server uploads go to, if they do
	smtp   *mailtest.Server
	deps   Deps
	org    *winnow.Org
	funnel *winnow.Funnel
}

const testBaseURL = "https://winnow.test"

// newHarness starts everything on the database at dbURL, with uploads in a folder.
// With outbox set there is no SMTP server and no sender.
func newHarness(t *testing.T, dbURL string, outbox bool) *harness {
	t.Helper()
	return newHarnessFiles(t, dbURL, outbox, "folder")
}

// newHarnessFiles is newHarness with uploads in a bucket of kind "folder" or "s3" (an
// S3 server in the test's process).
func newHarnessFiles(t *testing.T, dbURL string, outbox bool, kind string) *harness {
	t.Helper()
	ctx := context.Background()
	db := dbtest.MustOpen(t, dbURL)
	// The clock starts at the wall clock and only moves forward, so River never finds
	// a job due by its own clock before it is due by ours.
	clk := dbtest.NewClock(time.Now().UTC().Truncate(time.Second))
	store, _ := newStore(t, db, clk, OptOutPlanner{}, EmailPlanner{})
	h := &harness{t: t, ctx: ctx, db: db, store: store, clock: clk}
	var filesURL string
	var err error
	switch kind {
	case "folder":
		h.dir = filepath.Join(t.TempDir(), "uploads")
		if filesURL, err = filestore.FolderURL(h.dir); err != nil {
			t.Fatal(err)
		}
	case "s3":
		h.s3 = fakes3.Start(t)
		filesURL = h.s3.URL
	default:
		t.Fatalf("unknown kind of bucket %q", kind)
	}
	files, err := filestore.Open(ctx, filesURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	h.files = files
	h.deps = Deps{Applicants: store, Clock: clk, Logger: slog.New(slog.DiscardHandler), Emails: store,
		From: "Acme Hiring <jobs@acme.example>", Sealer: testKeyring, BaseURL: func() string { return testBaseURL },
		PollInterval: 100 * time.Millisecond, Uploads: store, Files: files}
	if !outbox {
		h.smtp = mailtest.NewServer(t, mailtest.Options{})
		server, err := mail.ParseURL("smtp://127.0.0.1:" + strconv.Itoa(h.smtp.Port))
		if err != nil {
			t.Fatal(err)
		}
		sender, err := mail.NewSMTP(server, h.deps.From, mail.WithTimeout(5*time.Second), mail.WithTLSConfig(&tls.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		h.deps.Sender = sender
	}
	h.client, err = NewClient(db.RiverDriver(), h.deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.client.Stop(stop)
	})
	h.org = &winnow.Org{Name: "Acme"}
	if err := store.CreateOrg(ctx, h.org); err != nil {
		t.Fatal(err)
	}
	h.funnel = &winnow.Funnel{OrgID: h.org.ID, Title: "Backend Engineer", Status: winnow.FunnelOpen, Steps: oneQuestion()}
	if err := store.CreateFunnel(ctx, h.funnel); err != nil {
		t.Fatal(err)
	}
	return h
}

// oneQuestion is the smallest step list an open job may have: one yes/no question.
func oneQuestion() []winnow.Step {
	return []winnow.Step{{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Can you start in March?", Type: winnow.QuestionYesNo}}}}
}

// invite creates an invited applicant with address email at the clock's time.
func (h *harness) invite(name, email string) *winnow.Applicant {
	h.t.Helper()
	a, err := winnow.NewApplicant(h.funnel, name, email, dbtest.RandomHex(16), h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateApplicant(h.ctx, a, ""); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// transition applies fn to the applicant at the clock's time.
func (h *harness) transition(a *winnow.Applicant, fn func(x *winnow.Applicant, now time.Time) (winnow.Event, error)) {
	h.t.Helper()
	now := h.clock.Now()
	if _, err := h.store.TransitionApplicant(h.ctx, a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return fn(x, now) }); err != nil {
		h.t.Fatal(err)
	}
}

// at moves the clock to start+d and runs every job due by then.
func (h *harness) at(start time.Time, d time.Duration) {
	h.t.Helper()
	h.clock.Set(start.Add(d))
	h.runDue()
}

// runDue makes River work every job that is due by the injected clock: scheduled and
// retryable jobs whose time has come are made available with JobRetry, and the River
// client works them (and anything they enqueue) as it would in production. It repeats
// until nothing more is due.
func (h *harness) runDue() {
	h.t.Helper()
	for range 50 {
		h.waitIdle()
		res, err := h.client.JobList(h.ctx, river.NewJobListParams().
			States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).First(10000))
		if err != nil {
			h.t.Fatal(err)
		}
		due := 0
		for _, j := range res.Jobs {
			if !j.ScheduledAt.After(h.clock.Now()) {
				if _, err := h.client.JobRetry(h.ctx, j.ID); err != nil {
					h.t.Fatal(err)
				}
				due++
			}
		}
		if due == 0 {
			return
		}
	}
	h.t.Fatal("jobs kept coming due")
}

// waitIdle waits until River has no job available or running.
func (h *harness) waitIdle() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := h.client.JobList(h.ctx, river.NewJobListParams().
			States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStatePending).First(1))
		if err != nil {
			h.t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatal("River did not finish its available jobs in 30 s")
}

// subjects returns the decoded subjects of msgs.
func subjects(msgs []mailtest.Message) []string {
	var out []string
	for _, m := range msgs {
		s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			s = m.Header.Get("Subject")
		}
		out = append(out, s)
	}
	return out
}

// timeline returns the kinds of a's events in order.
func (h *harness) timeline(a *winnow.Applicant) []winnow.EventKind {
	h.t.Helper()
	evs, err := h.store.ListEvents(h.ctx, a.OrgID, a.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var kinds []winnow.EventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// emails returns a's emails, oldest due first.
func (h *harness) emails(a *winnow.Applicant) []*winnow.Email {
	h.t.Helper()
	list, err := h.store.ListEmails(h.ctx, a.OrgID, winnow.EmailFilter{ApplicantID: a.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// count returns how many of kinds are k.
func count[T comparable](list []T, k T) int {
	n := 0
	for _, v := range list {
		if v == k {
			n++
		}
	}
	return n
}
