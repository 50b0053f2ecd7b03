package winnow

import (
	"context"
	"slices"
	"strings"
	"time"
)

// LeverPanelPath is where admins see and change the org's Lever connection: Settings →
// Integrations, at its Lever section. Banners and emails about the connection link here.
const LeverPanelPath = "/settings/integrations#lever"

// LeverOAuthState is an OAuth authorization in flight: who started it, from which
// session, until when. Only a hash of the state sent to Lever is stored, so the stored
// row cannot be replayed, and it is taken (deleted) by the callback that uses it.
type LeverOAuthState struct {
	StateHash   string
	OrgID       string
	UserID      string
	SessionHash string
	ExpiresAt   time.Time
}

// LeverAdmin is the admin who connects Lever, and the browser session they do it from:
// an OAuth state started in one session is refused in any other.
type LeverAdmin struct {
	OrgID   string
	UserID  string
	Email   string // finds the admin's Lever user, to attribute notes and stage moves to
	Session string // a stable value of the admin's session; empty for API tokens
}

// LeverCallback is what Lever's authorization server sends back to the callback.
type LeverCallback struct {
	State            string
	Code             string
	Error            string // e.g. access_denied when the admin clicked Deny
	ErrorDescription string
}

// LeverConnectResult says how a connection went beyond "connected": what Winnow could
// not set up by itself, for the admin to finish by hand.
type LeverConnectResult struct {
	Connection *LeverConnection
	// Warnings are sentences for the admin, e.g. webhooks Lever would not create.
	Warnings []string
}

// LeverPipelineStage is a stage of the Lever pipeline, for pickers.
type LeverPipelineStage struct {
	ID   string
	Name string
}

// LeverUser is an active Lever user, for the perform-as picker.
type LeverUser struct {
	ID    string
	Name  string
	Email string
}

// LeverPosting is a Lever posting a job may link to.
type LeverPosting struct {
	ID       string
	Title    string
	State    string // published or internal
	Team     string
	Location string
}

// LeverPostingStates are the posting states a job may link to: published ones and
// internal (unlisted) ones.
var LeverPostingStates = []string{"published", "internal"}

// Matches reports whether the posting's title, team or location contains every word of
// q, ignoring case; an empty q matches every posting.
func (p LeverPosting) Matches(q string) bool {
	hay := strings.ToLower(p.Title + " " + p.Team + " " + p.Location)
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// LeverScopeNeed is an OAuth scope Winnow asks for and what stops working without it.
type LeverScopeNeed struct {
	Scope   string
	Without string // what stops working, as admins read it
}

// LeverNeededScopes are the scopes Winnow asks Lever for, each with what it is for.
var LeverNeededScopes = []LeverScopeNeed{
	{"offline_access", "Winnow cannot renew its access, so the connection stops working after an hour."},
	{"opportunities:write:admin", "Winnow cannot read new applications nor set the status tags and move qualified candidates."},
	{"notes:write:admin", "Winnow cannot add notes to candidates in Lever."},
	{"stages:read:admin", "Winnow cannot list the stages for the qualified stage picker."},
	{"tags:read:admin", "Winnow cannot read the account's tags."},
	{"postings:read:admin", "Jobs cannot be linked to postings from a list (the posting picker stays empty)."},
	{"webhooks:write:admin", "Winnow cannot register its webhooks: add them in Lever by hand, with the URL and signature token below."},
	{"users:read:admin", "Winnow cannot find the Lever user to attribute notes and stage moves to."},
}

// MissingScopes lists the scopes Winnow needs that the connection's grant lacks, with
// what stops working. API keys carry whatever their creator gave them, which Lever does
// not tell: nothing is reported missing for them.
func (c *LeverConnection) MissingScopes() []LeverScopeNeed {
	var missing []LeverScopeNeed
	for _, n := range LeverNeededScopes {
		if !c.HasScope(n.Scope) {
			missing = append(missing, n)
		}
	}
	return missing
}

// MayRegisterWebhooks reports whether Winnow may create its webhooks in Lever itself.
func (c *LeverConnection) MayRegisterWebhooks() bool { return c.HasScope("webhooks:write:admin") }

// WebhookEvents lists the events Winnow registered webhooks for, in LeverWebhookEvents
// order.
func (c *LeverConnection) WebhookEvents() []string {
	var events []string
	for _, e := range LeverWebhookEvents {
		if slices.ContainsFunc(c.Webhooks, func(h LeverWebhook) bool { return h.Event == e }) {
			events = append(events, e)
		}
	}
	return events
}

// LeverWebhookURL is the webhook URL of the org whose key is orgKey, on the server at
// baseURL.
func LeverWebhookURL(baseURL, orgKey string) string {
	return strings.TrimRight(baseURL, "/") + LeverWebhookPath + "/" + orgKey
}

// LeverPanel is what Settings → Integrations shows about the org's Lever connection:
// what is stored, and what Lever says now when it can be reached.
type LeverPanel struct {
	Connection *LeverConnection
	// OAuthAvailable says whether this server has a Lever OAuth app (a client id and
	// secret); without one, admins connect with an API key.
	OAuthAvailable bool
	WebhookURL     string // the org's own webhook URL
	BareWebhookURL string // the URL that names no org, which also works
	// Stages and Users are read from Lever when the connection is active; Unreachable
	// says, when Lever could not be asked, why, in words for the admin.
	Stages      []LeverPipelineStage
	Users       []LeverUser
	Unreachable string
}

// LeverSettings are what admins change on a connection; nil fields stay as they are.
type LeverSettings struct {
	QualifiedStageID *string // "" means no stage move
	TagPrefix        *string // "" means the default
	PerformAs        *string // a Lever user id; "" means none
}

// LeverConnectionService connects an org to Lever and reads what the connection
// settings pages show. Lever being down while a page loads is not an error: the panel
// says so.
type LeverConnectionService interface {
	// LeverState returns the state of the org's connection ("" when it never
	// connected), without asking Lever: cheap enough for every admin page's banner.
	LeverState(ctx context.Context, orgID string) (LeverState, error)
	// LeverPanel returns the org's connection as stored and, when it is active, Lever's
	// stages and users.
	LeverPanel(ctx context.Context, orgID string) (*LeverPanel, error)
	// StartLeverOAuth begins OAuth for the admin and returns Lever's authorize URL. The
	// state it sends is single-use, bound to the admin's session and expires after
	// LeverOAuthStateTTL.
	StartLeverOAuth(ctx context.Context, admin LeverAdmin) (string, error)
	// FinishLeverOAuth completes OAuth with Lever's answer. Nothing is stored unless
	// the state is the admin's, unused and unexpired, and Lever gives tokens for the code.
	FinishLeverOAuth(ctx context.Context, admin LeverAdmin, cb LeverCallback) (*LeverConnectResult, error)
	// ConnectLeverAPIKey checks the key with Lever and, if Lever accepts it, connects
	// the org with it.
	ConnectLeverAPIKey(ctx context.Context, admin LeverAdmin, key string) (*LeverConnectResult, error)
	// RegisterLeverWebhooks creates Winnow's webhooks in Lever where they are missing,
	// and returns warnings for those it could not create.
	RegisterLeverWebhooks(ctx context.Context, orgID string) ([]string, error)
	// UpdateLeverSettings changes the org's qualified stage, tag prefix or perform-as user.
	UpdateLeverSettings(ctx context.Context, orgID string, s LeverSettings) (*LeverConnection, error)
	// SetLeverSignatureToken stores a signature token pasted from Lever's settings.
	SetLeverSignatureToken(ctx context.Context, orgID, token string) error
	// DisconnectLever deletes the webhooks Winnow registered (best effort: the warnings
	// say which could not be) and forgets the credentials; settings and history stay.
	DisconnectLever(ctx context.Context, orgID string) ([]string, error)
	// LeverPostings lists the postings a job may link to, every page of them.
	LeverPostings(ctx context.Context, orgID string) ([]LeverPosting, error)
	// LinkLeverPosting links the org's job to a posting ("" unlinks). A posting feeds at
	// most one open job: another open job linked to it is ECONFLICT naming that job.
	LinkLeverPosting(ctx context.Context, orgID, funnelID, postingID string) (*Funnel, error)
	// SetFunnelLeverStage sets the job's own qualified stage ("" means the org's).
	SetFunnelLeverStage(ctx context.Context, orgID, funnelID, stageID string) (*Funnel, error)
}

// LeverPostingTaken returns the conflict of linking a posting, or opening a job linked to
// one, that already feeds another open job, named by its title ("" when unknown).
func LeverPostingTaken(otherTitle string) error {
	if otherTitle == "" {
		return Errorf(ECONFLICT, "This Lever posting is already linked to another open job. A posting feeds at most one open job: unlink it there, or close that job, first.")
	}
	return Errorf(ECONFLICT, "This Lever posting is already linked to the open job “%s”. A posting feeds at most one open job: unlink it there, or close that job, first.", clip(otherTitle))
}
