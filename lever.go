package winnow

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LeverMode is how an org's Lever connection authenticates.
type LeverMode string

// The Lever connection modes.
const (
	LeverOAuth  LeverMode = "oauth"   // Lever's OAuth for partner apps, with refresh tokens
	LeverAPIKey LeverMode = "api_key" // a Lever API key, for companies without a partner app
)

// LeverState is whether an org's Lever connection works.
type LeverState string

// The Lever connection states.
const (
	LeverConnected         LeverState = "connected"          // writes and reads go out
	LeverNeedsReconnecting LeverState = "needs_reconnecting" // Lever refused our credentials: Lever work waits
	LeverDisconnected      LeverState = "disconnected"       // an admin disconnected: credentials forgotten, history kept
)

// Label is the state as admins read it.
func (s LeverState) Label() string {
	switch s {
	case LeverConnected:
		return "Connected"
	case LeverNeedsReconnecting:
		return "Needs reconnecting"
	case LeverDisconnected:
		return "Disconnected"
	}
	return "Not connected"
}

// The Lever webhook events Winnow subscribes to.
const (
	LeverApplicationCreated    = "applicationCreated"
	LeverCandidateStageChange  = "candidateStageChange"
	LeverCandidateArchive      = "candidateArchiveChange"
	LeverCandidateDeleted      = "candidateDeleted"
	LeverDefaultTagPrefix      = "CP-"
	MaxLeverTagPrefixLength    = 20
	LeverOAuthStateTTL         = 10 * time.Minute
	LeverWebhookPath           = "/api/integrations/lever/webhooks/application"
	LeverOAuthCallbackPath     = "/settings/integrations/lever/callback"
	leverStatusTagSent         = "Sent"
	leverStatusTagInProgress   = "InProg"
	leverStatusTagUnqualified  = "Unqual"
	leverStatusTagQualified    = "Qual"
	maxLeverSignatureTokenSize = 200
)

// LeverWebhookEvents lists the events Winnow registers webhooks for, where the grant
// allows it, in the order it registers them.
var LeverWebhookEvents = []string{LeverApplicationCreated, LeverCandidateStageChange, LeverCandidateArchive, LeverCandidateDeleted}

// LeverWebhook is a webhook Winnow registered in Lever for an org.
type LeverWebhook struct {
	ID             string `json:"id"`
	Event          string `json:"event"`
	SignatureToken string `json:"signatureToken"` // sealed with the keyring
}

// LeverConnection is an org's link to its Lever account: how Winnow authenticates, what
// it was granted, where webhooks arrive and how Winnow writes back. There is at most one
// per org. Secret fields hold keyring ciphertext, never plain text: they are opened only
// to call Lever or to check a webhook's signature, and never rendered or logged.
type LeverConnection struct {
	OrgID string
	// OrgKey names the org in its webhook URL (Lever's payloads carry no account). It is
	// random, made once per org and kept across reconnections, so the URL pasted into
	// Lever stays valid.
	OrgKey      string
	Mode        LeverMode
	State       LeverState
	StateReason string // why it needs reconnecting, as admins read it
	AccountID   string // Lever's account id, from the OAuth token; empty for API keys
	ConnectedBy string // the Winnow admin who connected
	ConnectedAt *time.Time
	Scopes      []string // granted by the OAuth grant; empty for API keys (they may do everything)

	AccessToken  string // sealed
	RefreshToken string // sealed
	TokenExpiry  *time.Time
	APIKey       string // sealed
	// Webhooks are those Winnow registered through the API, each with its signature
	// token; SignatureToken is one an admin pasted from Lever's settings. Deliveries
	// verify against any of them.
	Webhooks       []LeverWebhook
	SignatureToken string // sealed

	// QualifiedStageID is where qualified candidates move (a job may override it).
	QualifiedStageID   string
	QualifiedStageName string
	// TagPrefix starts every status tag: "CP-" gives CP-Sent, CP-InProg, CP-Unqual, CP-Qual.
	TagPrefix string
	// PerformAs is the Lever user notes and stage moves are attributed to; empty means
	// none. PerformAsWarning says why it fell back to none.
	PerformAs        string
	PerformAsName    string
	PerformAsWarning string

	LastWebhookAt  *time.Time
	LastVerifiedAt *time.Time // Lever's "Verify connection" test arrived and verified
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Usable reports whether Lever work for the org may go out now.
func (c *LeverConnection) Usable() bool { return c != nil && c.State == LeverConnected }

// Active reports whether the org has a connection whose work is kept: connected, or
// waiting to be reconnected.
func (c *LeverConnection) Active() bool {
	return c != nil && (c.State == LeverConnected || c.State == LeverNeedsReconnecting)
}

// HasScope reports whether the connection may do what scope names. API keys carry every
// permission their creator gave them, which Lever does not tell us: they count as having
// all. A write scope includes its read scope.
func (c *LeverConnection) HasScope(scope string) bool {
	if c.Mode == LeverAPIKey {
		return true
	}
	if slices.Contains(c.Scopes, scope) {
		return true
	}
	if read, ok := strings.CutSuffix(scope, ":read:admin"); ok {
		return slices.Contains(c.Scopes, read+":write:admin")
	}
	return false
}

// prefix is the tag prefix in force.
func (c *LeverConnection) prefix() string {
	if c.TagPrefix == "" {
		return LeverDefaultTagPrefix
	}
	return c.TagPrefix
}

// StatusTags lists the four status tags with the connection's prefix.
func (c *LeverConnection) StatusTags() []string {
	p := c.prefix()
	return []string{p + leverStatusTagSent, p + leverStatusTagInProgress, p + leverStatusTagUnqualified, p + leverStatusTagQualified}
}

// StatusTag returns the tag an applicant in status s carries in Lever, and false for
// opted out, which keeps whatever tag it had.
func (c *LeverConnection) StatusTag(s ApplicantStatus) (string, bool) {
	p := c.prefix()
	switch s {
	case StatusInvited:
		return p + leverStatusTagSent, true
	case StatusInProgress, StatusSubmitted:
		return p + leverStatusTagInProgress, true
	case StatusUnqualified:
		return p + leverStatusTagUnqualified, true
	case StatusQualified:
		return p + leverStatusTagQualified, true
	}
	return "", false
}

// StageFor returns the stage a qualified applicant of f moves to: the job's override,
// else the org's choice, else none.
func (c *LeverConnection) StageFor(f *Funnel) string {
	if f != nil && f.QualifiedStageID != "" {
		return f.QualifiedStageID
	}
	return c.QualifiedStageID
}

// ValidateSettings normalises and checks what admins set on the connection.
func (c *LeverConnection) ValidateSettings() error {
	c.TagPrefix = strings.TrimSpace(c.TagPrefix)
	if c.TagPrefix == "" {
		c.TagPrefix = LeverDefaultTagPrefix
	}
	switch {
	case utf8.RuneCountInString(c.TagPrefix) > MaxLeverTagPrefixLength:
		return Errorf(EINVALID, "The tag prefix must be at most %d characters.", MaxLeverTagPrefixLength)
	case !ValidText(c.TagPrefix) || strings.ContainsAny(c.TagPrefix, "\r\n\t"):
		return Errorf(EINVALID, "The tag prefix may not contain control characters.")
	case len(c.QualifiedStageID) > 200 || !ValidText(c.QualifiedStageID):
		return Errorf(EINVALID, "That is not a Lever stage.")
	}
	return nil
}

// ValidateSignatureToken checks a signature token an admin pasted from Lever.
func ValidateSignatureToken(t string) (string, error) {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", Errorf(EINVALID, "Paste the signature token Lever shows for the webhook.")
	case len(t) > maxLeverSignatureTokenSize || !ValidText(t) || strings.ContainsAny(t, " \r\n\t"):
		return "", Errorf(EINVALID, "That does not look like a Lever signature token: it is a single word of at most %d characters.", maxLeverSignatureTokenSize)
	}
	return t, nil
}

// ValidateLeverAPIKey checks a Lever API key an admin pasted.
func ValidateLeverAPIKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	switch {
	case k == "":
		return "", Errorf(EINVALID, "Paste a Lever API key.")
	case len(k) > 500 || !ValidText(k) || strings.ContainsAny(k, " \r\n\t"):
		return "", Errorf(EINVALID, "That does not look like a Lever API key: it is a single word.")
	}
	return k, nil
}

// NeedsReconnecting records that Lever refused the connection's credentials: its work
// pauses until an admin reconnects. It reports whether the state changed, so that
// admins are told once, not at every refused call.
func (c *LeverConnection) NeedsReconnecting(reason string, now time.Time) bool {
	if c.State != LeverConnected {
		return false
	}
	c.State, c.StateReason, c.UpdatedAt = LeverNeedsReconnecting, reason, now
	return true
}

// Disconnect forgets the connection's credentials and webhooks; the org key, settings
// and history stay, so a later connection picks up where this one left off.
func (c *LeverConnection) Disconnect(now time.Time) {
	c.State, c.StateReason = LeverDisconnected, ""
	c.AccessToken, c.RefreshToken, c.APIKey, c.SignatureToken = "", "", "", ""
	c.TokenExpiry, c.Webhooks, c.Scopes = nil, nil, nil
	c.UpdatedAt = now
}
