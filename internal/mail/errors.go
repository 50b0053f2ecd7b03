package mail

import "errors"

// Outcome is what a failed send means for the message.
type Outcome int

// The outcomes of a failed send.
const (
	// NotDelivered: the message certainly did not arrive; trying again is safe.
	NotDelivered Outcome = iota
	// Refused: the server rejected it for good (5xx); trying again will not help.
	Refused
	// Unknown: contact was lost after the message was handed over; it may or may not
	// have arrived, so a retry may deliver it twice.
	Unknown
)

// SendError is a failed send: its Outcome and a Reason an admin can read. Err, the
// underlying error, is for logs; it never carries the SMTP password.
type SendError struct {
	Outcome Outcome
	Reason  string
	Err     error
}

// Error returns the reason with the cause, for logs.
func (e *SendError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// OutcomeOf returns the outcome of a failed send; an error that is not a SendError
// counts as not delivered.
func OutcomeOf(err error) Outcome {
	var se *SendError
	if errors.As(err, &se) {
		return se.Outcome
	}
	return NotDelivered
}

// Reason returns the admin-readable reason of a failed send.
func Reason(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Reason
	}
	return "The message could not be sent."
}
