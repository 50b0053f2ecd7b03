package winnow

import (
	"context"
	"time"
)

// Session is a signed-in browser. The cookie holds a random token; only its hash is
// stored, so a leaked database does not leak sessions.
type Session struct {
	TokenHash string
	UserID    string
	OrgID     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionService stores sessions.
type SessionService interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the unexpired session with this token hash, or ENOTFOUND.
	FindSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error)
	// DeleteSession removes the session; removing one that does not exist is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
}
