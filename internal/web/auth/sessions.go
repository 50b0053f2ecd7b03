package auth

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"winnow"
	"winnow/internal/keyring"
)

// CookieName is the session cookie's name.
const CookieName = "winnow_session"

// SessionTTL is how long a session lasts without signing in again.
const SessionTTL = 14 * 24 * time.Hour

// Sessions starts, loads and ends browser sessions. The cookie holds a random token; the
// database holds only its keyed hash.
type Sessions struct {
	Store   winnow.SessionService
	Users   winnow.UserService
	Orgs    winnow.OrgService
	Keyring *keyring.Keyring
	Clock   winnow.Clock
	Secure  bool // set the cookie's Secure flag (the base URL is https)
	Logger  *slog.Logger
}

// Start creates a session for u and sets its cookie.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, u *winnow.User) error {
	token := keyring.Token()
	now := s.Clock.Now()
	sess := &winnow.Session{TokenHash: s.Keyring.Hash(token), UserID: u.ID, OrgID: u.OrgID, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// End deletes the request's session and clears its cookie.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter) error {
	if id := FromContext(ctx); id != nil && id.SessionKey != "" {
		if err := s.Store.DeleteSession(ctx, id.SessionKey); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// Middleware puts the signed-in identity, if any, into the request context. A stale or
// unknown cookie is treated as no session.
func (s *Sessions) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil || c.Value == "" || len(c.Value) > 128 {
			next.ServeHTTP(w, r)
			return
		}
		id, err := s.load(r.Context(), c.Value)
		if err != nil {
			if winnow.ErrorCode(err) != winnow.ENOTFOUND {
				s.Logger.ErrorContext(r.Context(), "load session", "error", err)
			}
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

func (s *Sessions) load(ctx context.Context, token string) (*Identity, error) {
	key := s.Keyring.Hash(token)
	sess, err := s.Store.FindSession(ctx, key, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	u, err := s.Users.FindUserByID(ctx, sess.OrgID, sess.UserID)
	if err != nil {
		return nil, err
	}
	org, err := s.Orgs.FindOrgByID(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	return &Identity{User: u, Org: org, SessionKey: key}, nil
}
