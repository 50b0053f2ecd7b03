// Package auth knows who is making a request: the session cookie, the signed-in user in
// the request context, the role checks, and the limit on failed sign-ins.
package auth

import (
	"context"

	"winnow"
)

type ctxKey struct{}

// Identity is the signed-in user and their org.
type Identity struct {
	User       *winnow.User
	Org        *winnow.Org
	SessionKey string // hash of the session token
}

// WithIdentity returns a context carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the signed-in identity, or nil for an anonymous request.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(ctxKey{}).(*Identity)
	return id
}

// User returns the signed-in user, or nil.
func User(ctx context.Context) *winnow.User {
	if id := FromContext(ctx); id != nil {
		return id.User
	}
	return nil
}
