package winnow

// Claim is the domain's decision about one attempt at an outbound effect of an
// applicant change: an email today, a Lever write next. Each such row has a Claim
// method that takes the row's applicant (and whatever else the rule needs) and the
// time, changes the row to match and returns the decision. The store only loads the
// row and its applicant, asks, saves the row when Changed and records Event, all in
// one transaction; the worker performs the effect only when Send.
type Claim struct {
	Send    bool   // the attempt goes ahead now; the row is marked as under way
	Changed bool   // the row changed and is to be saved
	Event   *Event // the timeline entry to record, if any
}
