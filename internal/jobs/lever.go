package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/lever"
)

// LeverTx is what the Lever planner reads and writes inside a change's transaction;
// the methods of the same names on *sqlstore.Tx document each.
type LeverTx interface {
	FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error)
	AddLeverWrites(ctx context.Context, ws []*winnow.LeverWrite) ([]*winnow.LeverWrite, error)
}

// LeverConnector hands the Lever workers a client for an org and takes their word
// that Lever refused the org's credentials; *leverconn.Connector is the one Winnow
// uses.
type LeverConnector interface {
	// Client returns a Lever client for the org and its connection as stored now;
	// ECONFLICT when the org has no active connection.
	Client(ctx context.Context, orgID string) (*lever.Client, *winnow.LeverConnection, error)
	// NeedsReconnecting records that Lever refused the org's credentials: its Lever
	// work pauses until an admin reconnects.
	NeedsReconnecting(ctx context.Context, orgID, reason string) error
	// Take takes the turn of the org's next Lever call in its account's rate budget
	// when it comes within hold, in the returned context (release gives it back
	// unused); otherwise ok is false and later is how long to put the job off.
	Take(ctx context.Context, orgID string, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool)
	// TakeNew is Take for new work (the read that starts a new candidate), which
	// gives way to the writes of candidates already begun.
	TakeNew(ctx context.Context, orgID string, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool)
}

// LeverPlanner plans the writes to Lever of each change of an applicant who came from
// Lever (winnow.PlanLeverWrites: the spec's tags, note and stage move per status) as
// lever_writes rows, numbered per opportunity, and one write job for them. The connection
// is read in the change's transaction. When Lever itself closes the application
// (archived or deleted there), the reminders planned for it are cancelled here: those
// are the effects of Lever's events, which the email planner leaves alone.
type LeverPlanner struct {
	// BaseURL returns Winnow's public URL, which the notes' links to the applicant
	// card start with. It is a function because serve learns its address only after
	// listening.
	BaseURL func() string
}

var _ Planner = LeverPlanner{}

// Plan returns the write jobs of the change, after adding their rows in tx.
func (p LeverPlanner) Plan(ctx context.Context, tx Tx, c Change) ([]river.InsertManyParams, error) {
	a, ev := c.Applicant, c.Event
	if a == nil || ev == nil || a.LeverOpportunityID == "" {
		return nil, nil
	}
	if ev.Kind == winnow.EventArchived || ev.Kind == winnow.EventErased {
		return nil, tx.CancelScheduledEmails(ctx, a.OrgID, a.ID)
	}
	conn, err := tx.FindLeverConnection(ctx, a.OrgID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !conn.Active() {
		return nil, nil
	}
	f, err := tx.FindFunnel(ctx, a.OrgID, a.FunnelID)
	if err != nil {
		return nil, err
	}
	base := ""
	if p.BaseURL != nil {
		base = p.BaseURL()
	}
	ws := winnow.PlanLeverWrites(conn, f, a, ev, base+"/applicants/"+a.ID)
	if len(ws) == 0 {
		return nil, nil
	}
	added, err := tx.AddLeverWrites(ctx, ws)
	if err != nil {
		return nil, err
	}
	return leverWriteParams(added), nil
}

// LeverOrgTag is the River tag of every Lever job of the org, so that the org's paused
// Lever work can be found and resumed at once when it reconnects. River tags allow
// letters, digits, '_' and '-' (UUIDs fit).
func LeverOrgTag(orgID string) string { return "lever_org_" + orgID }

// LeverWriteArgs performs the writes to Lever of one opportunity, one at a time in seq
// order, until this job's write (WriteID, number Seq) is done, failed or skipped. A
// transition's writes have one job, naming the last of them. The row is the authority:
// a job that finds its write final does nothing, so a repeated job writes nothing
// twice.
type LeverWriteArgs struct {
	OrgID         string `json:"org_id"`
	WriteID       string `json:"write_id"`
	OpportunityID string `json:"opportunity_id"`
	ApplicantID   string `json:"applicant_id,omitempty"`
	// Seq tells the job its write is final once the opportunity's earliest write that
	// is not comes after it, without reading the write; 0 (jobs enqueued before it was
	// added) reads it.
	Seq int `json:"seq,omitempty"`
}

// Kind names the job in River's table.
func (LeverWriteArgs) Kind() string { return "lever_write" }

// leverWriteParams returns one job per opportunity of ws, tagged with its org, naming
// the opportunity's last write of ws: the job performs the opportunity's writes in
// order up to it, so one job does a transition's writes (a River job costs an insert,
// a fetch and a completion).
func leverWriteParams(ws []*winnow.LeverWrite) []river.InsertManyParams {
	last := make(map[[2]string]int, len(ws)) // org and opportunity → index in ws of the highest seq
	order := make([][2]string, 0, len(ws))
	for i, w := range ws {
		key := [2]string{w.OrgID, w.OpportunityID}
		j, seen := last[key]
		if !seen {
			order = append(order, key)
		}
		if !seen || w.Seq > ws[j].Seq {
			last[key] = i
		}
	}
	params := make([]river.InsertManyParams, 0, len(order))
	for _, key := range order {
		w := ws[last[key]]
		params = append(params, river.InsertManyParams{
			Args: LeverWriteArgs{OrgID: w.OrgID, WriteID: w.ID, OpportunityID: w.OpportunityID, ApplicantID: w.ApplicantID,
				Seq: w.Seq},
			InsertOpts: &river.InsertOpts{MaxAttempts: leverMaxAttempts, Tags: []string{LeverOrgTag(w.OrgID)}},
		})
	}
	return params
}

// ResumeLever makes the org's waiting Lever jobs (snoozed while the connection needed
// reconnecting, or waiting for a retry) available now, and returns how many. Call it
// once an admin has reconnected; the writes then go out in their order. client may be
// any River client on the database, an insert-only one included.
func ResumeLever(ctx context.Context, client *Client, orgID string) (int, error) {
	params := river.NewJobListParams().
		Kinds(LeverWriteArgs{}.Kind(), LeverDeliveryArgs{}.Kind()).
		States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).
		TagsAny(LeverOrgTag(orgID)).
		First(resumePage)
	n := 0
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return n, fmt.Errorf("list paused lever jobs: %w", err)
		}
		for _, j := range res.Jobs {
			if _, err := client.JobRetry(ctx, j.ID); err != nil {
				return n, fmt.Errorf("resume lever job %d: %w", j.ID, err)
			}
			n++
		}
		if len(res.Jobs) < resumePage || res.LastCursor == nil {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
}

// resumePage is how many jobs ResumeLever lists at a time.
const resumePage = 500
