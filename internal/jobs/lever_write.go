package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/lever"
)

// LeverStore is what the Lever workers and the webhook intake need from the store;
// *sqlstore.Store implements it, and its methods of the same names document each.
type LeverStore interface {
	ClaimLeverWrite(ctx context.Context, orgID, opportunityID string) (*winnow.LeverWrite, winnow.Claim, error)
	FinishLeverWrite(ctx context.Context, orgID, id string, o winnow.LeverWriteOutcome) error
	FinishLeverWriteClaimNext(ctx context.Context, orgID, id string, o winnow.LeverWriteOutcome) (*winnow.LeverWrite, winnow.Claim, error)
	FindLeverWrite(ctx context.Context, orgID, id string) (*winnow.LeverWrite, error)
	ClearLeverPerformAs(ctx context.Context, orgID, performAs, warning string) error

	FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error)
	FindLeverConnectionByKey(ctx context.Context, orgKey string) (*winnow.LeverConnection, error)
	ListActiveLeverConnections(ctx context.Context) ([]*winnow.LeverConnection, error)
	TouchLeverConnection(ctx context.Context, orgID string, verified bool, at time.Time) error

	RecordLeverDelivery(ctx context.Context, d *winnow.LeverDelivery) (bool, error)
	FindLeverDelivery(ctx context.Context, orgID, id string) (*winnow.LeverDelivery, error)
	FinishLeverDelivery(ctx context.Context, orgID, id string, status winnow.LeverDeliveryStatus, outcome string) error
	ProcessLeverApplication(ctx context.Context, orgID, deliveryID string, c winnow.LeverCandidate, token string) (*winnow.LeverDelivery, error)
	ApplyLeverDelivery(ctx context.Context, orgID, deliveryID string, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.LeverDelivery, []string, error)
}

// How the Lever workers wait.
const (
	// leverMaxAttempts bounds the retries of a write that keeps meeting rate limits,
	// server errors or timeouts: with leverBackoff, about a day. Waiting while the
	// connection needs reconnecting does not count.
	leverMaxAttempts = 30
	leverMaxBackoff  = time.Hour
	// leverPauseWait is how long a job sleeps while its org's connection needs
	// reconnecting; ResumeLever wakes it sooner.
	leverPauseWait = 15 * time.Minute
	// leverBusyWait is the longest a job sleeps while another worker performs its
	// opportunity's next write: that worker usually goes on to this job's write too.
	leverBusyWait = 500 * time.Millisecond
	// leverWritesPerRun bounds how many writes one job performs before it yields, and
	// leverRunFor how long it goes on taking new ones.
	leverWritesPerRun = 50
	leverRunFor       = 20 * time.Second
	// leverWriteJobTimeout bounds a write job's run: leverRunFor, one more write's
	// winnow.LeverWriteCallLimit, and the outcome's recording.
	leverWriteJobTimeout = time.Minute
	// leverReadLimit bounds the read of an opportunity for an applicationCreated
	// (the call and the client's retries), and leverDeliveryJobTimeout the whole run
	// with its transaction.
	leverReadLimit          = 30 * time.Second
	leverDeliveryJobTimeout = time.Minute
	// leverHoldMax is the longest a worker waits for its Lever account's rate budget
	// before a call. A job whose account is busier than that is put off (snoozed) to
	// its turn instead, so that one org's backlog never holds every worker while
	// other orgs' jobs wait behind it.
	leverHoldMax = 250 * time.Millisecond
)

// leverBackoff is the wait before retry number attempt: 1, 2, 4, … seconds, up to an
// hour.
func leverBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 13 {
		return leverMaxBackoff
	}
	return min(time.Duration(1<<(attempt-1))*time.Second, leverMaxBackoff)
}

type leverWriteWorker struct {
	river.WorkerDefaults[LeverWriteArgs]
	deps Deps
}

// Timeout bounds one run: writes are taken for leverRunFor, each bounded by
// winnow.LeverWriteCallLimit. River takes over the job of a process that died only
// once this has passed since it started, so it is kept short.
func (w *leverWriteWorker) Timeout(*river.Job[LeverWriteArgs]) time.Duration {
	return leverWriteJobTimeout
}

// NextRetry backs off on the injected clock, as the write's own hold does.
func (w *leverWriteWorker) NextRetry(job *river.Job[LeverWriteArgs]) time.Time {
	return w.deps.Clock.Now().Add(leverBackoff(job.Attempt))
}

// Work performs the opportunity's writes in order, starting with the earliest that is
// not final, and goes on past this job's own write while there is more, so that a
// later transition's job usually finds its writes done. It sleeps (River's snooze)
// while another worker holds the next write, while that write waits for its backoff,
// and while the connection needs reconnecting.
//
// Each write's outcome is recorded in the transaction that claims the next (when the
// account's rate budget gives the next call a turn), so a write costs one transaction
// besides its call.
func (w *leverWriteWorker) Work(ctx context.Context, job *river.Job[LeverWriteArgs]) error {
	d := w.deps
	if d.Lever == nil || d.LeverStore == nil {
		return river.JobCancel(errors.New("lever is not configured in this process"))
	}
	r := &leverRun{w: w, job: job, log: d.Logger.With("org_id", job.Args.OrgID, "applicant_id", job.Args.ApplicantID,
		"lever_write_id", job.Args.WriteID, "job_id", job.ID)}
	return r.work(ctx)
}

// leverRun is one run of a write job.
type leverRun struct {
	w   *leverWriteWorker
	job *river.Job[LeverWriteArgs]
	log *slog.Logger
	// done is a write performed whose outcome is not recorded yet, and outcome that
	// outcome: it is recorded with the next claim.
	done    *winnow.LeverWrite
	outcome winnow.LeverWriteOutcome
	// ownFinal is set once the run knows the job's own write is final.
	ownFinal bool
}

func (r *leverRun) work(ctx context.Context) error {
	d, args := r.w.deps, r.job.Args
	started := time.Now()
	for n := 0; ; n++ {
		if n >= leverWritesPerRun || time.Since(started) > leverRunFor || ctx.Err() != nil {
			if err := r.record(ctx); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return r.snoozeUnlessOwnFinal(ctx, leverBusyWait)
		}
		// The next call's turn is taken before the claim (the call waits for it, up to
		// leverHoldMax).
		cctx, release, later, ok := d.Lever.Take(ctx, args.OrgID, leverHoldMax)
		if !ok {
			// The account is busy: put the job off to its turn, unless its own write is done.
			if err := r.record(ctx); err != nil {
				return err
			}
			return r.snoozeUnlessOwnFinal(ctx, later)
		}
		next, claim, err := r.claim(cctx)
		if err != nil {
			release()
			return err
		}
		if next == nil {
			release()
			return nil // nothing left to write for this opportunity
		}
		if args.Seq > 0 && next.Seq > args.Seq {
			r.ownFinal = true // the earliest write that is not final comes after it
		}
		if claim.Later {
			release()
			return r.snoozeUnlessOwnFinal(ctx, r.w.wait(next))
		}
		if !claim.Send {
			release()
			continue // final already, or skipped just now: on to the next
		}
		o, stop := r.w.perform(cctx, r.job, next, r.log)
		release() // when no call was made
		r.done, r.outcome = next, o
		if stop != nil {
			if err := r.record(ctx); err != nil {
				return err
			}
			return stop
		}
	}
}

// claim claims the opportunity's next write, recording in the same transaction the
// outcome of the write performed before, if any.
func (r *leverRun) claim(ctx context.Context) (*winnow.LeverWrite, winnow.Claim, error) {
	d, args := r.w.deps, r.job.Args
	if r.done == nil {
		next, claim, err := d.LeverStore.ClaimLeverWrite(ctx, args.OrgID, args.OpportunityID)
		if err != nil {
			return nil, winnow.Claim{}, fmt.Errorf("claim lever write: %w", err)
		}
		return next, claim, nil
	}
	done, o := r.done, r.at(r.outcome)
	next, claim, err := d.LeverStore.FinishLeverWriteClaimNext(context.WithoutCancel(ctx), done.OrgID, done.ID, o)
	if err != nil {
		// Nothing of that transaction holds: the outcome is recorded on its own if it
		// can be (else the write's lease runs out and it is claimed again, as after a
		// crash).
		if rerr := r.record(ctx); rerr != nil {
			r.log.WarnContext(ctx, "lever write outcome not recorded", "error", rerr)
		}
		return nil, winnow.Claim{}, fmt.Errorf("record lever write outcome and claim the next: %w", err)
	}
	r.recorded(done, o)
	return next, claim, nil
}

// record records the outcome of the write performed last, if not yet recorded.
func (r *leverRun) record(ctx context.Context) error {
	if r.done == nil {
		return nil
	}
	done, o := r.done, r.at(r.outcome)
	if err := r.w.deps.LeverStore.FinishLeverWrite(context.WithoutCancel(ctx), done.OrgID, done.ID, o); err != nil {
		return fmt.Errorf("record lever write outcome: %w", err)
	}
	r.recorded(done, o)
	return nil
}

// at is o timed now when it has no time.
func (r *leverRun) at(o winnow.LeverWriteOutcome) winnow.LeverWriteOutcome {
	if o.At.IsZero() {
		o.At = r.w.deps.Clock.Now()
	}
	return o
}

// recorded notes that the outcome o of write done is recorded.
func (r *leverRun) recorded(done *winnow.LeverWrite, o winnow.LeverWriteOutcome) {
	r.done = nil
	if done.ID == r.job.Args.WriteID && o.Status.Final() {
		r.ownFinal = true
	}
}

// snoozeUnlessOwnFinal ends the run: done when the job's own write needs nothing more
// (a write that is gone went with its applicant), else put off for wait.
func (r *leverRun) snoozeUnlessOwnFinal(ctx context.Context, wait time.Duration) error {
	if !r.ownFinal {
		args := r.job.Args
		own, err := r.w.deps.LeverStore.FindLeverWrite(ctx, args.OrgID, args.WriteID)
		switch {
		case winnow.ErrorCode(err) == winnow.ENOTFOUND:
			return nil
		case err != nil:
			return fmt.Errorf("load lever write: %w", err)
		}
		r.ownFinal = own.Status.Final()
	}
	if r.ownFinal {
		return nil
	}
	return river.JobSnooze(wait)
}

// wait is how long to sleep before claiming again the write next that is held: until
// its backoff ends, a moment while another worker performs it, or a long while when
// the connection needs reconnecting (ResumeLever wakes the job sooner).
func (w *leverWriteWorker) wait(next *winnow.LeverWrite) time.Duration {
	now := w.deps.Clock.Now()
	if next.LeaseUntil == nil || !now.Before(*next.LeaseUntil) {
		return leverPauseWait
	}
	left := next.LeaseUntil.Sub(now)
	if next.Status == winnow.LeverWriteSending {
		return min(left, leverBusyWait)
	}
	return left
}

// perform makes the Lever call of the claimed write wr and returns its outcome, to be
// recorded, and stop: nil to go on with the next write, an error for River to retry
// the job later, or a snooze while the connection needs reconnecting. A write that
// fails for good is final, and the job goes on with the next.
func (w *leverWriteWorker) perform(ctx context.Context, job *river.Job[LeverWriteArgs], wr *winnow.LeverWrite, log *slog.Logger) (o winnow.LeverWriteOutcome, stop error) {
	d := w.deps
	log = log.With("write_kind", string(wr.Kind), "write_seq", wr.Seq, "write_applicant_id", wr.ApplicantID)
	client, conn, err := d.Lever.Client(ctx, wr.OrgID)
	if err != nil {
		// Disconnected since the claim, or the credentials do not open: the write goes
		// back to the queue and the next claim decides.
		o = winnow.LeverWriteOutcome{Status: winnow.LeverWriteQueued, RetryAt: d.Clock.Now().Add(leverBackoff(job.Attempt)),
			Error: "Not sent yet: Lever's connection is not usable right now; retrying."}
		return o, fmt.Errorf("lever client: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, winnow.LeverWriteCallLimit)
	defer cancel()
	rctx, rec := lever.WithRecorder(cctx)
	noteID, found, callErr := call(rctx, client, conn, wr)
	o = winnow.LeverWriteOutcome{NoteID: noteID, Found: found, Calls: calls(rec.Calls())}
	var apiErr *lever.APIError
	errors.As(callErr, &apiErr)
	switch {
	case callErr == nil:
		o.Status = winnow.LeverWriteDone
		log.DebugContext(ctx, "lever write done")
	case errors.Is(callErr, lever.ErrAuthLost):
		reason := "Lever refused Winnow's access (" + leverReason(callErr) + "). Reconnect Lever to resume."
		if err := d.Lever.NeedsReconnecting(ctx, wr.OrgID, reason); err != nil {
			// The write goes back to the queue as it was claimed: the retry finds out again.
			o.Status, o.Error = winnow.LeverWriteQueued, "Not sent yet: "+reason
			return o, err
		}
		o.Status, o.Error = winnow.LeverWriteQueued, "Paused: Lever needs reconnecting; it will be written once an admin reconnects."
		log.WarnContext(ctx, "lever write paused: connection needs reconnecting", "error", callErr)
		return o, river.JobSnooze(leverPauseWait)
	case errors.Is(callErr, lever.ErrNotFound):
		o.Status, o.Error = winnow.LeverWriteSkipped, "Not written: the opportunity is no longer in Lever."
	case errors.Is(callErr, lever.ErrPermanent) && conn.PerformAs != "" && apiErr != nil && apiErr.StatusCode == 400 &&
		strings.Contains(strings.ToLower(apiErr.Message), "perform_as"):
		// The Lever user notes and stage moves were attributed to cannot act (deactivated):
		// stop naming them, tell the admins, and write again at once without them.
		name := conn.PerformAsName
		if name == "" {
			name = conn.PerformAs
		}
		warning := "The Lever user " + name + " can no longer be named as the author of notes and stage moves (deactivated in Lever?); Winnow now writes as no one. Pick another user."
		if err := d.LeverStore.ClearLeverPerformAs(ctx, wr.OrgID, conn.PerformAs, warning); err != nil {
			o.Status, o.Error = winnow.LeverWriteQueued, "Lever refused the author "+name+"; retrying."
			return o, err
		}
		o.Status, o.Error = winnow.LeverWriteQueued, "Lever refused the author "+name+"; writing again without one."
		log.WarnContext(ctx, "lever perform_as refused; cleared", "error", callErr)
	case errors.Is(callErr, lever.ErrPermanent):
		o.Status, o.Error = winnow.LeverWriteFailed, "Lever refused it: "+leverReason(callErr)
		log.WarnContext(ctx, "lever write failed for good", "error", callErr)
	case job.Attempt >= job.MaxAttempts:
		// Out of attempts: the write fails for good (the panel's Retry puts it back), and
		// the job goes on with the opportunity's next writes, which have no other job.
		o.Status, o.Error = winnow.LeverWriteFailed, "Lever did not take it after "+strconv.Itoa(job.Attempt)+" attempts: "+leverReason(callErr)
		log.WarnContext(ctx, "lever write failed for good: out of attempts", "attempt", job.Attempt, "error", callErr)
	default: // rate limited, a server error, a timeout: try again later
		backoff := leverBackoff(job.Attempt)
		if apiErr != nil && apiErr.RetryAfter > backoff {
			backoff = apiErr.RetryAfter
		}
		o.Status, o.Error, o.RetryAt = winnow.LeverWriteQueued, "Lever did not take it ("+leverReason(callErr)+"); retrying.", d.Clock.Now().Add(backoff)
		log.InfoContext(ctx, "lever write to retry", "attempt", job.Attempt, "error", callErr)
		return o, callErr
	}
	return o, nil
}

// call makes the Lever call of wr and returns a note's id and whether it was found
// rather than written. A note that an earlier attempt may have stored is looked for
// first, by its exact text and date (Lever's note create is not idempotent).
func call(ctx context.Context, c *lever.Client, conn *winnow.LeverConnection, wr *winnow.LeverWrite) (string, bool, error) {
	var err error
	switch wr.Kind {
	case winnow.LeverAddTags:
		_, err = c.AddTags(ctx, wr.OpportunityID, wr.Tags)
	case winnow.LeverRemoveTags:
		_, err = c.RemoveTags(ctx, wr.OpportunityID, wr.Tags)
	case winnow.LeverStage:
		_, err = c.ChangeStage(ctx, wr.OpportunityID, wr.StageID, lever.PerformAs(conn.PerformAs))
	case winnow.LeverNote:
		if wr.MayHaveReachedLever() {
			notes, err := c.ListNotes(ctx, wr.OpportunityID)
			if err != nil {
				return "", false, err
			}
			for _, n := range notes {
				if n.Value() == wr.Note && n.CreatedAt.UnixMilli() == wr.NoteAt.UnixMilli() && n.DeletedAt.IsZero() {
					return n.ID, true, nil
				}
			}
		}
		id, err := c.AddNote(ctx, wr.OpportunityID, lever.NewNote{Value: wr.Note, CreatedAt: lever.Timestamp{Time: wr.NoteAt}},
			lever.PerformAs(conn.PerformAs))
		return id, false, err
	default:
		return "", false, &lever.APIError{Kind: lever.ErrPermanent, Message: "Winnow does not know how to write " + string(wr.Kind)}
	}
	return "", false, err
}

// calls are the recorded requests as the timeline keeps them.
func calls(recs []lever.CallRecord) []winnow.Call {
	out := make([]winnow.Call, 0, len(recs))
	for _, r := range recs {
		out = append(out, winnow.Call{Method: r.Method, Path: r.Path, Status: r.Status, Duration: r.Duration})
	}
	return out
}

// leverReason is what Lever (or the network) said, for people: Lever's own message
// when it gave one, else the kind of failure.
func leverReason(err error) string {
	var apiErr *lever.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Message != "" && apiErr.StatusCode != 0:
			return strconv.Itoa(apiErr.StatusCode) + ": " + apiErr.Message
		case apiErr.StatusCode != 0:
			return "HTTP " + strconv.Itoa(apiErr.StatusCode)
		case apiErr.Message != "":
			return apiErr.Message
		}
		if errors.Is(err, lever.ErrTransient) {
			return "no answer in time"
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return "could not reach Lever"
}
