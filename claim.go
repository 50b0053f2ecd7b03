package winnow

// Claim is the domain's decision about one attempt at an outbound effect of an
// applicant change: an email, or a write to Lever. Each such row has a Claim method
// that takes the row's applicant (and whatever else the rule needs) and the time,
// changes the row to match and returns the decision. The store only loads the row and
// its applicant, asks, saves the row when Changed and records Event, all in one
// transaction; the worker performs the effect only when Send, and comes back later
// when Later.
type Claim struct {
	Send    bool   // the attempt goes ahead now; the row is marked as under way
	Changed bool   // the row changed and is to be saved
	Event   *Event // the timeline entry to record, if any
	// Later keeps the row as it is, to be claimed again later: not now, but not
	// given up either (a Lever write while its connection needs reconnecting, or
	// while another worker holds it).
	Later bool
}
