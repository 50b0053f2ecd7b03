package winnow

import (
	"context"
	"time"
)

// LeverDeliveryStatus is where a webhook delivery from Lever is.
type LeverDeliveryStatus string

// The delivery statuses.
const (
	LeverDeliveryReceived  LeverDeliveryStatus = "received"  // stored; its processing job is queued
	LeverDeliveryProcessed LeverDeliveryStatus = "processed" // acted on
	LeverDeliveryIgnored   LeverDeliveryStatus = "ignored"   // nothing to do (unlinked posting, unknown candidate, …)
	LeverDeliveryFailed    LeverDeliveryStatus = "failed"    // could not be processed; Outcome says why
)

// LeverDelivery is one webhook request from Lever that verified: acknowledged only once
// stored, with the job that processes it. Its fields are the payload's, never trusted
// for a candidate's name or email, which come from Lever's API.
type LeverDelivery struct {
	ID            string
	OrgID         string
	Event         string
	Token         string // Lever's per-request token
	TriggeredAt   time.Time
	OpportunityID string
	ApplicationID string // applicationCreated
	ToStageID     string // candidateStageChange
	FromStageID   string
	Archived      *bool  // candidateArchiveChange: archived (true) or restored (false)
	ArchiveReason string // candidateArchiveChange to archived
	Status        LeverDeliveryStatus
	Outcome       string // person-readable: what processing did
	ApplicantID   string // the applicant it concerned, once known
	ReceivedAt    time.Time
	ProcessedAt   *time.Time
}

// DedupKey identifies the delivery among the org's: the same application announced again
// (Lever's retries and "Rerun" repeat the request; a second request for the same
// application may carry a new token) is the same delivery; any other event is one per
// token.
func (d *LeverDelivery) DedupKey() string {
	if d.Event == LeverApplicationCreated && d.ApplicationID != "" {
		return "application:" + d.ApplicationID
	}
	return "token:" + d.Token
}

// MaxLeverWebhookBytes is the largest webhook body Winnow reads: Lever's are a few
// hundred bytes.
const MaxLeverWebhookBytes = 1 << 20

// What processing a delivery did, as the delivery's outcome says it.
const (
	LeverOutcomeInvited        = "Invited."
	LeverOutcomeAlreadyInvited = "Already invited; nothing changed."
	LeverOutcomeNoEmail        = "No email address; not invited."
	LeverOutcomeNotLinked      = "The posting is not linked to an open job; ignored."
	LeverOutcomeNoApplicant    = "No applicant of this opportunity in Winnow; ignored."
	LeverOutcomeNotInLever     = "The opportunity is not in Lever (deleted?); ignored."
	LeverOutcomeNotConnected   = "Lever is not connected; ignored."
	LeverOutcomeUnknownEvent   = "Winnow does not act on this event; ignored."
)

// LeverCandidate is what Lever's API says of the candidate behind an
// applicationCreated delivery: the opportunity, the posting applied to, the name and
// the first email address. It never comes from the webhook's payload.
type LeverCandidate struct {
	OpportunityID string
	PostingID     string
	Name          string
	Email         string
}

// LeverReceipt is what Winnow did with a webhook request that verified.
type LeverReceipt struct {
	OrgID      string
	DeliveryID string // the delivery stored, or the one it repeats
	Event      string
	Test       bool // Lever's "Verify connection" test: recorded as a verification, nothing else
	Duplicate  bool // the same delivery arrived before: nothing changed
}

// LeverWebhookService takes Lever's webhook requests.
type LeverWebhookService interface {
	// ReceiveLeverWebhook checks a webhook request's body, sent to the URL of the
	// org whose key is orgKey (empty for the URL that names no org: the delivery is
	// matched to the org whose signature token verifies it), and records it with the
	// job that processes it, both or neither, before it returns. A body that is not a
	// Lever webhook is EINVALID, an unknown org key ENOTFOUND, a signature that does
	// not verify EUNAUTHORIZED; none of them stores anything. A delivery that arrived
	// before changes nothing.
	ReceiveLeverWebhook(ctx context.Context, orgKey string, body []byte) (LeverReceipt, error)
}
