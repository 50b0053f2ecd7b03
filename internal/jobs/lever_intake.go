package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/lever"
)

// LeverIntake takes Lever's webhook requests: it implements winnow.LeverWebhookService.
// A request is parsed, verified against the signature tokens of the org its URL names
// (or, on the URL that names none, of every active connection), and recorded with its
// processing job in one transaction (Store.RecordLeverDelivery) before it is
// acknowledged. Every field but Deliveries and Logger must be set.
type LeverIntake struct {
	Store LeverStore
	// Deliveries records verified deliveries; nil means Store. serve sets the store's
	// IntakeBatcher, which commits concurrent deliveries together (group commit).
	Deliveries DeliveryRecorder
	Sealer     Sealer
	Clock      winnow.Clock
	Logger     *slog.Logger

	connMu sync.Mutex
	conns  map[string]connEntry // by org key; see connection
}

// DeliveryRecorder stores a verified webhook delivery with its processing job, as
// Store.RecordLeverDelivery does; stored is false for a duplicate.
type DeliveryRecorder interface {
	RecordLeverDelivery(ctx context.Context, d *winnow.LeverDelivery) (stored bool, err error)
}

var _ winnow.LeverWebhookService = (*LeverIntake)(nil)

// Messages of refused webhook requests, for Lever's delivery history and for people
// testing a connection.
const (
	msgNotAWebhook   = "This is not a Lever webhook: the body must be a JSON object with event, triggeredAt, token, signature and data."
	msgUnknownOrgKey = "No organization receives webhooks at this URL. Copy the URL again from Settings → Integrations."
	msgBadSignature  = "The webhook's signature does not match the signature token Winnow has for this organization. Paste the webhook's signature token from Lever into Settings → Integrations."
)

// ReceiveLeverWebhook implements winnow.LeverWebhookService.
func (in *LeverIntake) ReceiveLeverWebhook(ctx context.Context, orgKey string, body []byte) (winnow.LeverReceipt, error) {
	ev, err := lever.ParseWebhookEvent(body)
	if err != nil {
		return winnow.LeverReceipt{}, &winnow.Error{Code: winnow.EINVALID, Message: msgNotAWebhook, Err: err}
	}
	var conn *winnow.LeverConnection
	if orgKey != "" {
		c, cached, err := in.connection(ctx, orgKey, false)
		if err != nil {
			return winnow.LeverReceipt{}, err
		}
		if conn = in.verify(ev, []*winnow.LeverConnection{c}); conn == nil && cached {
			// A token pasted a moment ago is not in the cached copy: read it again.
			if c, _, err = in.connection(ctx, orgKey, true); err != nil {
				return winnow.LeverReceipt{}, err
			}
			conn = in.verify(ev, []*winnow.LeverConnection{c})
		}
	} else {
		candidates, err := in.Store.ListActiveLeverConnections(ctx)
		if err != nil {
			return winnow.LeverReceipt{}, err
		}
		conn = in.verify(ev, candidates)
	}
	if conn == nil {
		return winnow.LeverReceipt{}, winnow.Errorf(winnow.EUNAUTHORIZED, msgBadSignature)
	}
	rc := winnow.LeverReceipt{OrgID: conn.OrgID, Event: ev.Event}
	if ev.IsTest() {
		rc.Test = true
		return rc, in.Store.TouchLeverConnection(ctx, conn.OrgID, true, in.Clock.Now())
	}
	d := &winnow.LeverDelivery{OrgID: conn.OrgID, Event: ev.Event, Token: ev.Token, TriggeredAt: ev.Time(),
		Status: winnow.LeverDeliveryReceived}
	data, err := ev.OpportunityData()
	switch {
	case !slices.Contains(winnow.LeverWebhookEvents, ev.Event):
		// Signed, but not an event Winnow acts on: kept, and acknowledged so that
		// Lever stops sending it.
		d.Status, d.Outcome = winnow.LeverDeliveryIgnored, winnow.LeverOutcomeUnknownEvent
		now := in.Clock.Now()
		d.ProcessedAt = &now
	case err != nil:
		return winnow.LeverReceipt{}, &winnow.Error{Code: winnow.EINVALID,
			Message: "This " + ev.Event + " webhook names no opportunity.", Err: err}
	}
	d.OpportunityID, d.ApplicationID, d.ToStageID, d.FromStageID = data.OpportunityID, data.ApplicationID, data.ToStageID, data.FromStageID
	d.Archived, d.ArchiveReason = data.Archived, data.ArchiveReason
	rec := in.Deliveries
	if rec == nil {
		rec = in.Store
	}
	stored, err := rec.RecordLeverDelivery(ctx, d)
	if err != nil {
		return winnow.LeverReceipt{}, err
	}
	rc.DeliveryID, rc.Duplicate = d.ID, !stored
	return rc, nil
}

// connCacheTTL is how long intake reuses a connection it read by org key. During a
// burst that saves a read per webhook, which was most of the handler's own work. A
// signature token added meanwhile still verifies at once (a failed verification reads
// again); one removed, or a disconnection, takes effect within this time, and a
// delivery accepted then is processed as for any disconnected org.
const connCacheTTL = time.Second

// connEntry is a connection read by org key, and when (wall clock: freshness is about
// real time even when tests freeze the domain clock).
type connEntry struct {
	c  *winnow.LeverConnection
	at time.Time
}

// connection returns the connection of orgKey, from the cache unless it is older than
// connCacheTTL or fresh is set; cached reports that it came from the cache. An
// unknown key is ENOTFOUND, never cached.
func (in *LeverIntake) connection(ctx context.Context, orgKey string, fresh bool) (c *winnow.LeverConnection, cached bool, err error) {
	in.connMu.Lock()
	e, ok := in.conns[orgKey]
	in.connMu.Unlock()
	if ok && !fresh && time.Since(e.at) < connCacheTTL {
		return e.c, true, nil
	}
	c, err = in.Store.FindLeverConnectionByKey(ctx, orgKey)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		in.connMu.Lock()
		delete(in.conns, orgKey)
		in.connMu.Unlock()
		return nil, false, winnow.Errorf(winnow.ENOTFOUND, msgUnknownOrgKey)
	} else if err != nil {
		return nil, false, err
	}
	in.connMu.Lock()
	if in.conns == nil {
		in.conns = make(map[string]connEntry)
	}
	in.conns[orgKey] = connEntry{c: c, at: time.Now()}
	in.connMu.Unlock()
	return c, false, nil
}

// verify returns the connection among candidates one of whose signature tokens signed
// ev, or nil. Every token is compared in constant time.
func (in *LeverIntake) verify(ev *lever.WebhookEvent, candidates []*winnow.LeverConnection) *winnow.LeverConnection {
	for _, c := range candidates {
		sealed := make([]string, 0, len(c.Webhooks)+1)
		for _, h := range c.Webhooks {
			sealed = append(sealed, h.SignatureToken)
		}
		sealed = append(sealed, c.SignatureToken)
		for _, s := range sealed {
			if s == "" {
				continue
			}
			token, err := in.Sealer.Open(s)
			if err != nil {
				in.logger().Warn("lever signature token does not open", "org_id", c.OrgID, "error", err)
				continue
			}
			if lever.VerifySignature(token, ev.Token, ev.TriggeredAt, ev.Signature) {
				return c
			}
		}
	}
	return nil
}

func (in *LeverIntake) logger() *slog.Logger {
	if in.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Logger
}

// LeverDeliveryArgs processes one webhook delivery from Lever, as the store recorded
// it. The delivery row is the authority: a job that finds it processed does nothing.
type LeverDeliveryArgs struct {
	OrgID      string `json:"org_id"`
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`
}

// Kind names the job in River's table.
func (LeverDeliveryArgs) Kind() string { return "lever_delivery" }

// deliveryParams is the processing job of d, tagged with its org, at River priority
// priority (see DeliveryPacer).
func deliveryParams(d *winnow.LeverDelivery, priority int) river.InsertManyParams {
	return river.InsertManyParams{Args: LeverDeliveryArgs{OrgID: d.OrgID, DeliveryID: d.ID, Event: d.Event},
		InsertOpts: &river.InsertOpts{MaxAttempts: leverMaxAttempts, Priority: priority, Tags: []string{LeverOrgTag(d.OrgID)}}}
}

type leverDeliveryWorker struct {
	river.WorkerDefaults[LeverDeliveryArgs]
	deps Deps
}

// Timeout bounds one run: a read from Lever (leverReadLimit) and a transaction. River
// takes over the job of a process that died only once this has passed since it
// started, so it is kept short.
func (w *leverDeliveryWorker) Timeout(*river.Job[LeverDeliveryArgs]) time.Duration {
	return leverDeliveryJobTimeout
}

// NextRetry backs off on the injected clock.
func (w *leverDeliveryWorker) NextRetry(job *river.Job[LeverDeliveryArgs]) time.Time {
	return w.deps.Clock.Now().Add(leverBackoff(job.Attempt))
}

// Work acts on the delivery:
//
//   - applicationCreated: the candidate is read from Lever's API (never from the
//     webhook) and invited to the open job linked to the posting they applied to;
//   - candidateStageChange: recorded on the timeline of the opportunity's applicants;
//   - candidateArchiveChange: the applicants are archived (reminders stop) or restored;
//   - candidateDeleted: the applicants' personal data is erased (their files once the
//     erase has committed), an anonymous record stays.
//
// While the connection needs reconnecting the job waits; Lever's refusal of the
// credentials makes it so. Server errors and timeouts are retried.
func (w *leverDeliveryWorker) Work(ctx context.Context, job *river.Job[LeverDeliveryArgs]) error {
	d, args := w.deps, job.Args
	if d.Lever == nil || d.LeverStore == nil {
		return river.JobCancel(errors.New("lever is not configured in this process"))
	}
	if args.Event == winnow.LeverApplicationCreated {
		// It reads the opportunity from Lever: its turn in the account's budget, or
		// put off to it while the account is busy. New candidates give way to the
		// writes of those already invited, so that tags follow invitations closely.
		tctx, release, later, ok := d.Lever.TakeNew(ctx, args.OrgID, leverHoldMax)
		if !ok {
			return river.JobSnooze(later)
		}
		defer release()
		ctx = tctx
	}
	log := d.Logger.With("org_id", args.OrgID, "lever_delivery_id", args.DeliveryID, "event", args.Event, "job_id", job.ID)
	dl, err := d.LeverStore.FindLeverDelivery(ctx, args.OrgID, args.DeliveryID)
	switch {
	case winnow.ErrorCode(err) == winnow.ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("load lever delivery: %w", err)
	case dl.Status != winnow.LeverDeliveryReceived:
		return nil
	}
	now := d.Clock.Now()
	var fn func(*winnow.Applicant) (winnow.Event, error)
	switch dl.Event {
	case winnow.LeverApplicationCreated:
		return w.application(ctx, dl, log)
	case winnow.LeverCandidateStageChange:
		msg := w.stageMessage(ctx, dl)
		fn = func(a *winnow.Applicant) (winnow.Event, error) {
			return winnow.Event{Kind: winnow.EventLeverStage, Message: msg, At: now}, nil
		}
	case winnow.LeverCandidateArchive:
		switch {
		case dl.Archived == nil:
			return d.LeverStore.FinishLeverDelivery(ctx, dl.OrgID, dl.ID, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeUnknownEvent)
		case *dl.Archived:
			fn = func(a *winnow.Applicant) (winnow.Event, error) { return a.Archive(now, dl.ArchiveReason) }
		default:
			fn = func(a *winnow.Applicant) (winnow.Event, error) { return a.Unarchive(now) }
		}
	case winnow.LeverCandidateDeleted:
		fn = func(a *winnow.Applicant) (winnow.Event, error) { return a.Erase(now) }
	default:
		return d.LeverStore.FinishLeverDelivery(ctx, dl.OrgID, dl.ID, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeUnknownEvent)
	}
	dl, files, err := d.LeverStore.ApplyLeverDelivery(ctx, dl.OrgID, dl.ID, fn)
	if err != nil {
		return fmt.Errorf("apply lever delivery: %w", err)
	}
	for _, f := range files {
		if d.Files == nil {
			break // the upload sweep removes them
		}
		if err := d.Files.Remove(ctx, f); err != nil {
			log.WarnContext(ctx, "remove erased applicant's file; the upload sweep will", "error", err)
		}
	}
	log.InfoContext(ctx, "lever delivery processed", "applicant_id", dl.ApplicantID, "outcome", dl.Outcome)
	return nil
}

// stageMessage says where Lever moved the opportunity, by name when it is the
// qualified stage Winnow knows.
func (w *leverDeliveryWorker) stageMessage(ctx context.Context, dl *winnow.LeverDelivery) string {
	to := dl.ToStageID
	if c, err := w.deps.LeverStore.FindLeverConnection(ctx, dl.OrgID); err == nil && c.QualifiedStageID == to && c.QualifiedStageName != "" {
		to = c.QualifiedStageName
	}
	if to == "" {
		return "Moved to another stage in Lever"
	}
	return "Moved to stage " + to + " in Lever"
}

// application invites the candidate of an applicationCreated delivery.
func (w *leverDeliveryWorker) application(ctx context.Context, dl *winnow.LeverDelivery, log *slog.Logger) error {
	d := w.deps
	client, conn, err := d.Lever.Client(ctx, dl.OrgID)
	switch {
	case winnow.ErrorCode(err) == winnow.ECONFLICT:
		return d.LeverStore.FinishLeverDelivery(ctx, dl.OrgID, dl.ID, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeNotConnected)
	case err != nil:
		return fmt.Errorf("lever client: %w", err)
	case conn.State == winnow.LeverNeedsReconnecting:
		return river.JobSnooze(leverPauseWait)
	}
	rctx, cancel := context.WithTimeout(ctx, leverReadLimit)
	opp, err := client.GetOpportunity(rctx, dl.OpportunityID)
	cancel()
	switch {
	case err == nil:
	case errors.Is(err, lever.ErrAuthLost):
		if err := d.Lever.NeedsReconnecting(ctx, dl.OrgID, "Lever refused Winnow's access ("+leverReason(err)+"). Reconnect Lever to resume."); err != nil {
			return err
		}
		log.WarnContext(ctx, "lever delivery paused: connection needs reconnecting", "error", err)
		return river.JobSnooze(leverPauseWait)
	case errors.Is(err, lever.ErrNotFound):
		return d.LeverStore.FinishLeverDelivery(ctx, dl.OrgID, dl.ID, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeNotInLever)
	case errors.Is(err, lever.ErrPermanent):
		log.WarnContext(ctx, "lever refused to show the opportunity", "error", err)
		return d.LeverStore.FinishLeverDelivery(ctx, dl.OrgID, dl.ID, winnow.LeverDeliveryFailed,
			"Lever refused to show the opportunity ("+leverReason(err)+"); not invited.")
	default:
		return fmt.Errorf("read opportunity: %w", err)
	}
	c := winnow.LeverCandidate{OpportunityID: dl.OpportunityID, Name: opp.Name, Email: opp.Email(), PostingID: opp.PostingID()}
	for _, app := range opp.Applications {
		if app.ID == dl.ApplicationID && app.Posting != "" {
			c.PostingID = app.Posting
		}
	}
	dl, err = d.LeverStore.ProcessLeverApplication(ctx, dl.OrgID, dl.ID, c, keyring.Token())
	if err != nil {
		return fmt.Errorf("process lever application: %w", err)
	}
	log.InfoContext(ctx, "lever application processed", "applicant_id", dl.ApplicantID, "posting_id", c.PostingID, "outcome", dl.Outcome)
	return nil
}
