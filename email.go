package winnow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EmailKind names what an email is for. Each kind has a template that orgs may edit.
type EmailKind string

// The email kinds. Qualified and unqualified are the closing messages, off by default.
const (
	EmailInvitation   EmailKind = "invitation"
	EmailReminder     EmailKind = "reminder"
	EmailOptedOut     EmailKind = "opted_out"
	EmailNewLink      EmailKind = "new_link"
	EmailMemberInvite EmailKind = "member_invite"
	EmailQualified    EmailKind = "qualified"
	EmailUnqualified  EmailKind = "unqualified"
	// EmailLeverReconnect tells an org's admins that Lever refused Winnow's access and
	// the connection needs reconnecting; one per admin per incident.
	EmailLeverReconnect EmailKind = "lever_reconnect"
)

// EmailKinds lists every email kind in the order settings show them.
var EmailKinds = []EmailKind{EmailInvitation, EmailReminder, EmailOptedOut, EmailNewLink, EmailQualified, EmailUnqualified, EmailMemberInvite, EmailLeverReconnect}

// Valid reports whether k is a known kind.
func (k EmailKind) Valid() bool {
	for _, v := range EmailKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Label is the kind as people read it.
func (k EmailKind) Label() string {
	switch k {
	case EmailInvitation:
		return "Invitation"
	case EmailReminder:
		return "Reminder"
	case EmailOptedOut:
		return "Opted out"
	case EmailNewLink:
		return "New link"
	case EmailMemberInvite:
		return "Member invitation"
	case EmailQualified:
		return "Closing: qualified"
	case EmailUnqualified:
		return "Closing: unqualified"
	case EmailLeverReconnect:
		return "Lever needs reconnecting"
	}
	return string(k)
}

// Closing reports whether k is one of the closing messages, which orgs switch on.
func (k EmailKind) Closing() bool { return k == EmailQualified || k == EmailUnqualified }

// ForCandidates reports whether emails of kind k go to candidates (all but member
// invitations and notices to admins), so that a job may override their template.
func (k EmailKind) ForCandidates() bool { return k != EmailMemberInvite && k != EmailLeverReconnect }

// ParseEmailKind returns the kind named s or an EINVALID error.
func ParseEmailKind(s string) (EmailKind, error) {
	k := EmailKind(strings.TrimSpace(s))
	if !k.Valid() {
		return "", Errorf(EINVALID, "Unknown email kind %q.", s)
	}
	return k, nil
}

// EmailStatus is where an email is on its way out.
type EmailStatus string

// The email statuses. Sent, outbox, failed, unknown, skipped and cancelled are final.
const (
	EmailScheduled EmailStatus = "scheduled" // a reminder waiting for its time
	EmailQueued    EmailStatus = "queued"    // due; waiting for a worker, or for a retry
	EmailSending   EmailStatus = "sending"   // handed to the mail server; outcome not yet recorded
	EmailSent      EmailStatus = "sent"      // the mail server accepted it
	EmailOutbox    EmailStatus = "outbox"    // kept in the database: no mail server is configured
	EmailFailed    EmailStatus = "failed"    // refused by the mail server, or out of retries
	EmailUnknown   EmailStatus = "unknown"   // lost contact after handing it over, twice: may or may not have arrived
	EmailSkipped   EmailStatus = "skipped"   // came due when it no longer applied (submitted, decided, …)
	EmailCancelled EmailStatus = "cancelled" // replaced before it came due (an extension) or made moot
)

// Final reports whether nothing more will happen to an email in status s.
func (s EmailStatus) Final() bool {
	switch s {
	case EmailSent, EmailOutbox, EmailFailed, EmailUnknown, EmailSkipped, EmailCancelled:
		return true
	}
	return false
}

// Label is the status as people read it. An email held in the outbox is never called
// delivered.
func (s EmailStatus) Label() string {
	switch s {
	case EmailScheduled:
		return "Scheduled"
	case EmailQueued:
		return "Queued"
	case EmailSending:
		return "Sending"
	case EmailSent:
		return "Sent"
	case EmailOutbox:
		return "In outbox (not delivered)"
	case EmailFailed:
		return "Failed"
	case EmailUnknown:
		return "Delivery unknown"
	case EmailSkipped:
		return "Skipped"
	case EmailCancelled:
		return "Cancelled"
	}
	return string(s)
}

// EmailStatuses lists every email status, for status pages.
var EmailStatuses = []EmailStatus{EmailScheduled, EmailQueued, EmailSending, EmailSent, EmailOutbox, EmailFailed, EmailUnknown, EmailSkipped, EmailCancelled}

// The event kinds that record emails on an applicant's timeline.
const (
	EventEmailQueued  EventKind = "email_queued"
	EventEmailSent    EventKind = "email_sent"
	EventEmailHeld    EventKind = "email_held" // kept in the outbox, not delivered
	EventEmailDelayed EventKind = "email_delayed"
	EventEmailFailed  EventKind = "email_failed"
	EventEmailUnknown EventKind = "email_unknown"
)

// Email is one message to one person. An email is identified for sending by
// (applicant, kind, sequence): the first invitation is sequence 1 and a resend 2; the
// reminders of the first round are 1 to 4 and those after an extension continue from 5.
// Its content is rendered once, when it is first sent, and kept, so that a retry sends
// the same message and the outbox shows exactly what went out.
//
// A member invitation is the exception: there is one per invitation (InviteID), and its
// content holds the invitation link, a credential that creates an account in the org
// and that Winnow otherwise keeps only as a hash. It is rendered when the invitation is
// created, the one moment the link is known, and stored Sealed: Subject, Text and HTML
// are AES-GCM ciphertext from the keyring, opened only right before sending and in the
// outbox's mail viewer.
type Email struct {
	ID          string
	OrgID       string
	ApplicantID string // empty for member invitations
	InviteID    string // the member invitation the email carries; empty for candidate emails
	FunnelID    string
	Kind        EmailKind
	Seq         int
	To          string
	Status      EmailStatus
	DueAt       time.Time  // when it should go out
	Deadline    *time.Time // reminders: the applicant's deadline when planned; a later extension makes them moot
	Subject     string
	Text        string
	HTML        string
	Sealed      bool   // Subject, Text and HTML are encrypted at rest: see above
	Attempts    int    // sends tried
	Uncertain   int    // sends whose outcome was unknown
	LastError   string // person-readable: why the last attempt failed
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SentAt      *time.Time // when the server accepted it, or when it was put in the outbox
}

// Name is how timelines and lists name the email: "Invitation", "Invitation (resent)",
// "Reminder 2".
func (e *Email) Name() string {
	switch {
	case e.Kind == EmailReminder:
		return "Reminder " + strconv.Itoa(e.Seq)
	case e.Kind == EmailInvitation && e.Seq > 1:
		return "Invitation (resent)"
	}
	return e.Kind.Label()
}

// Rendered reports whether the email's content has been rendered.
func (e *Email) Rendered() bool { return e.Subject != "" }

// Unseal returns a copy of e whose content open (the keyring's Open) has decrypted, or
// e itself when its content is not sealed. It never changes e, so a sealed email read
// from the store stays sealed wherever else it goes.
func (e *Email) Unseal(open func(sealed string) (string, error)) (*Email, error) {
	if !e.Sealed {
		return e, nil
	}
	c := *e
	for _, part := range []*string{&c.Subject, &c.Text, &c.HTML} {
		if *part == "" {
			continue
		}
		var err error
		if *part, err = open(*part); err != nil {
			return nil, fmt.Errorf("unseal email %s: %w", e.ID, err)
		}
	}
	c.Sealed = false
	return &c, nil
}

// StillApplies reports whether the email still makes sense for the applicant now that
// it is due: invitations, reminders and new links only while a submission is awaited (a
// reminder also only under the deadline it was planned for), the opted-out and closing
// messages only while the applicant is in the matching status.
func (e *Email) StillApplies(a *Applicant) bool {
	if a == nil {
		return e.ApplicantID == ""
	}
	switch e.Kind {
	case EmailInvitation, EmailNewLink:
		return a.AwaitsSubmission()
	case EmailReminder:
		return a.AwaitsSubmission() && (e.Deadline == nil || e.Deadline.Equal(a.Deadline))
	case EmailOptedOut:
		return a.Status == StatusOptedOut
	case EmailQualified:
		return a.Status == StatusQualified
	case EmailUnqualified:
		return a.Status == StatusUnqualified
	}
	return true
}

// Messages an email keeps as its last error when a claim does not send it.
const (
	msgExtendedSincePlanned = "Not sent: the invitation was extended since it was planned."
	msgLostContactTwice     = "Lost contact with the mail server twice after handing the message over; it may or may not have arrived."
)

// Claim decides whether e may be sent now, to its applicant a (nil for a member
// invitation), and changes e to match:
//
//   - a final email (sent, held, … — a retried job lands here) stays as it is and is
//     not sent;
//   - an email that no longer applies to the applicant (see StillApplies) is skipped,
//     with the reason;
//   - an email found sending is an attempt that died before its outcome was recorded:
//     an unknown outcome. The first is retried once; after that the email is unknown;
//   - otherwise e becomes sending with one more attempt, and takes content (the
//     rendered template) if it has none yet.
//
// The decision's event, if any, records on the timeline what happened to e; a
// scheduled reminder that goes out now records that it is queued.
func (e *Email) Claim(a *Applicant, content *RenderedEmail, now time.Time) Claim {
	if e.Status.Final() {
		return Claim{}
	}
	c := Claim{Changed: true}
	switch {
	case !e.StillApplies(a):
		e.Status, e.LastError = EmailSkipped, "Not sent: the candidate is "+strings.ToLower(a.Status.Label())+" by now."
		if e.Kind == EmailReminder && a.AwaitsSubmission() {
			e.LastError = msgExtendedSincePlanned
		}
	case e.Status == EmailSending && e.Uncertain >= 1:
		e.Status, e.LastError = EmailUnknown, msgLostContactTwice
		c.Event = e.Event(EventEmailUnknown, e.Name()+" email: delivery unknown after one retry; not sent again", now)
	case e.Status == EmailSending:
		e.Uncertain++
		c.Event = e.Event(EventEmailUnknown, e.Name()+" email: the last attempt stopped before its outcome was known; trying once more", now)
	case e.Status == EmailScheduled:
		c.Event = e.Event(EventEmailQueued, e.Name()+" email queued", now)
	}
	if e.Status != EmailSkipped && e.Status != EmailUnknown {
		e.Status, c.Send = EmailSending, true
		e.Attempts++
		if !e.Rendered() && content != nil {
			e.Subject, e.Text, e.HTML = content.Subject, content.Text, content.HTML
		}
	}
	e.UpdatedAt = now
	return c
}

// Event returns the timeline entry of kind about e, on its applicant's timeline. The
// message names the email, never its address: the card adds the address from the
// email itself where the applicant's identity may be shown.
func (e *Email) Event(kind EventKind, msg string, at time.Time) *Event {
	return &Event{OrgID: e.OrgID, ApplicantID: e.ApplicantID, Kind: kind, Message: msg, EmailID: e.ID, At: at}
}

// EmailOutcome is what became of one attempt to send an email, as the email worker
// records it.
type EmailOutcome struct {
	Status    EmailStatus // sent, outbox, queued (to retry), failed or unknown
	Error     string      // person-readable reason for a failure or delay
	Uncertain bool        // the attempt's outcome is unknown; counts towards the one retry
	Event     EventKind   // timeline entry to add, if any
	Message   string      // the entry's text
	At        time.Time
}

// EmailFilter narrows ListEmails.
type EmailFilter struct {
	ApplicantID string
	Statuses    []EmailStatus
	Limit       int // at most this many, newest first; 0 means 100
}

// EmailService reads the emails of an org: sent, held in the outbox, failed or planned.
type EmailService interface {
	// ListEmails returns the org's emails, newest first.
	ListEmails(ctx context.Context, orgID string, filter EmailFilter) ([]*Email, error)
	// FindEmailByID returns the org's email or ENOTFOUND.
	FindEmailByID(ctx context.Context, orgID, id string) (*Email, error)
	// CountEmails returns how many of the org's emails are in each status.
	CountEmails(ctx context.Context, orgID string) (map[EmailStatus]int, error)
	// EmailAddresses returns, by email ID, the address each of the applicant's emails
	// went (or goes) to, so that a timeline can say where an email event's email went.
	EmailAddresses(ctx context.Context, orgID, applicantID string) (map[string]string, error)
}

// MailMode says how email leaves Winnow, for status pages and start-up logs. It never
// holds credentials.
type MailMode struct {
	Outbox bool   // no SMTP server is configured: emails are kept in the database
	Server string // host:port of the SMTP server
	TLS    string // how the connection is protected, in words
	From   string // the sender address
}

// CandidatePath is the path of the candidate page an applicant's link opens.
func CandidatePath(token string) string { return "/c/" + token }

// OptOutPath is the path of the candidate's "I'm no longer interested" page, the target
// of List-Unsubscribe: GET shows a confirmation, POST opts out (RFC 8058 one-click).
func OptOutPath(token string) string { return CandidatePath(token) + "/opt-out" }
