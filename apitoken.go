package winnow

import (
	"context"
	"strings"
	"time"
)

// APIToken lets a program use the JSON API on behalf of an org. The token itself is
// shown once at creation; only its keyed hash is stored.
type APIToken struct {
	ID         string
	OrgID      string
	Name       string
	TokenHash  string
	CreatedBy  string // user ID, empty when made with `winnow token create`
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// MaxTokenNameLength is the most characters in an API token's name.
const MaxTokenNameLength = 100

// Validate reports whether the token can be stored.
func (t *APIToken) Validate() error {
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.OrgID == "" || t.TokenHash == "":
		return Errorf(EINVALID, "An API token needs an organization.")
	case t.Name == "":
		return Errorf(EINVALID, "Give the token a name that says what uses it.")
	case tooLong(t.Name, MaxTokenNameLength):
		return Errorf(EINVALID, "Token name must be at most %d characters.", MaxTokenNameLength)
	}
	return nil
}

// APITokenService stores API tokens.
type APITokenService interface {
	// CreateAPIToken stores a new token and fills in ID and CreatedAt.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// FindAPITokenByHash returns the unrevoked token with this hash, or ENOTFOUND.
	FindAPITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// ListAPITokens returns the org's tokens, newest first, revoked ones included.
	ListAPITokens(ctx context.Context, orgID string) ([]*APIToken, error)
	// RevokeAPIToken revokes the org's token; revoking twice is not an error.
	RevokeAPIToken(ctx context.Context, orgID, id string, now time.Time) error
	// TouchAPIToken records that the token was used at now.
	TouchAPIToken(ctx context.Context, orgID, id string, now time.Time) error
}
