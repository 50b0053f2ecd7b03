package winnow

import "time"

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
