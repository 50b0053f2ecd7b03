package lever

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultScopes is the scope set Winnow asks for: refresh tokens, tag and
// stage writes, notes, stages, postings, users and webhook management.
var DefaultScopes = []string{
	"offline_access",
	"opportunities:write:admin",
	"notes:write:admin",
	"stages:read:admin",
	"tags:read:admin",
	"postings:read:admin",
	"webhooks:write:admin",
	"users:read:admin",
}

// Credentials authenticate requests to the Data API. Build them with
// BearerAuth (OAuth) or APIKeyAuth.
type Credentials interface {
	authorize(ctx context.Context, req *http.Request) error
}

type bearerAuth struct{ ts oauth2.TokenSource }

// BearerAuth authenticates with OAuth access tokens from ts. When ts is a
// *TokenSource the request's context bounds a refresh.
func BearerAuth(ts oauth2.TokenSource) Credentials { return bearerAuth{ts: ts} }

func (b bearerAuth) authorize(ctx context.Context, req *http.Request) error {
	var (
		tok *oauth2.Token
		err error
	)
	if cts, ok := b.ts.(interface {
		TokenContext(context.Context) (*oauth2.Token, error)
	}); ok {
		tok, err = cts.TokenContext(ctx)
	} else {
		tok, err = b.ts.Token()
	}
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

type apiKeyAuth struct{ key string }

// APIKeyAuth authenticates with a Lever API key: HTTP Basic with the key as
// user name and an empty password.
func APIKeyAuth(key string) Credentials { return apiKeyAuth{key: key} }

func (a apiKeyAuth) authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(a.key, "")
	return nil
}

// OAuth runs Lever's authorization-code flow for one OAuth app.
type OAuth struct {
	cfg      oauth2.Config
	audience string
	hc       *http.Client
	leeway   time.Duration
}

// NewOAuth returns the OAuth helper for cfg. It uses cfg.AuthURL,
// ClientID, ClientSecret, RedirectURL, Scopes (DefaultScopes if empty),
// Audience (APIURL plus a trailing slash if empty), HTTPClient and
// RefreshLeeway.
func NewOAuth(cfg Config) *OAuth {
	cfg = cfg.withDefaults()
	authURL := strings.TrimRight(cfg.AuthURL, "/")
	return &OAuth{
		cfg: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   authURL + "/authorize",
				TokenURL:  authURL + "/oauth/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		audience: cfg.Audience,
		hc:       cfg.HTTPClient,
		leeway:   cfg.RefreshLeeway,
	}
}

// AuthCodeURL returns the Lever authorize URL an admin's browser is sent to.
// state must be unguessable and bound to the admin's session; Lever echoes
// it on the callback. It asks for consent every time (prompt=consent), as
// Lever's own example app does.
func (o *OAuth) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	opts = append([]oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("audience", o.audience),
		oauth2.SetAuthURLParam("prompt", "consent"),
	}, opts...)
	return o.cfg.AuthCodeURL(state, opts...)
}

// Exchange trades the one-time code from the callback for tokens. The
// granted scopes are in tok.Extra("scope").
func (o *OAuth) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	tok, err := o.cfg.Exchange(o.ctx(ctx), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", classifyTokenError(err))
	}
	return tok, nil
}

// Refresh trades a refresh token for new tokens once, for callers that keep their own
// lock around refreshes (several processes sharing one connection). Lever rotates
// refresh tokens: the returned token carries the new one (or the old one when the
// server did not rotate), and the old one must not be used again. An invalid_grant
// answer is ErrAuthLost.
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	if refreshToken == "" {
		return nil, &APIError{Kind: ErrAuthLost, Message: "no refresh token stored"}
	}
	tok, err := o.cfg.TokenSource(o.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("refresh token: %w", ctx.Err())
		}
		return nil, fmt.Errorf("refresh token: %w", classifyTokenError(err))
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// Leeway is how long before expiry an access token counts as due for a refresh.
func (o *OAuth) Leeway() time.Duration { return o.leeway }

func (o *OAuth) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.hc)
}

// PersistFunc stores a token after a refresh. Lever rotates refresh tokens:
// the old one stops working once the new one is issued, so the new token
// must be saved (atomically) before it is used.
type PersistFunc func(ctx context.Context, tok *oauth2.Token) error

// TokenSource returns a token source for one connection, starting from tok
// (as stored). It refreshes the access token RefreshLeeway before it
// expires, lets only one refresh run at a time, and calls persist with every
// new token before handing it out. Share one TokenSource per connection in a
// process; across processes, callers need their own lock around refreshes.
func (o *OAuth) TokenSource(tok *oauth2.Token, persist PersistFunc) *TokenSource {
	return &TokenSource{o: o, tok: tok, persist: persist, sem: make(chan struct{}, 1), now: time.Now}
}

// TokenSource is an oauth2.TokenSource that refreshes through Lever with
// refresh-token rotation. It is safe for concurrent use.
type TokenSource struct {
	o       *OAuth
	persist PersistFunc
	now     func() time.Time
	sem     chan struct{} // held while refreshing or persisting

	mu      sync.Mutex
	tok     *oauth2.Token
	unsaved bool  // tok came from a refresh whose persist failed
	lost    error // sticky ErrAuthLost after invalid_grant
}

// Token implements oauth2.TokenSource.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	return ts.TokenContext(context.Background())
}

// TokenContext returns a fresh access token, refreshing it first if needed;
// ctx bounds both the wait for another caller's refresh and the refresh.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if tok, ok := ts.usable(); ok {
		return tok, nil
	}
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-ts.sem }()

	if tok, ok := ts.usable(); ok { // another caller refreshed meanwhile
		return tok, nil
	}
	ts.mu.Lock()
	cur, unsaved, lost := ts.tok, ts.unsaved, ts.lost
	ts.mu.Unlock()
	if lost != nil {
		return nil, lost
	}
	if unsaved && ts.fresh(cur) {
		return ts.save(ctx, cur)
	}
	if cur == nil || cur.RefreshToken == "" {
		return nil, &APIError{Kind: ErrAuthLost, Message: "access token expired and no refresh token stored"}
	}
	next, err := ts.o.cfg.TokenSource(ts.o.ctx(ctx), &oauth2.Token{RefreshToken: cur.RefreshToken}).Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("refresh token: %w", ctx.Err())
		}
		err = classifyTokenError(err)
		if errors.Is(err, ErrAuthLost) {
			ts.mu.Lock()
			ts.lost = fmt.Errorf("refresh token: %w", err)
			ts.mu.Unlock()
		}
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	if next.RefreshToken == "" { // no rotation: keep the old one
		next.RefreshToken = cur.RefreshToken
	}
	ts.mu.Lock()
	ts.tok, ts.unsaved = next, true
	ts.mu.Unlock()
	return ts.save(ctx, next)
}

// save persists tok and marks it saved; on failure tok stays in memory
// (the old refresh token is already spent) and the next call tries again.
func (ts *TokenSource) save(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	if ts.persist != nil {
		if err := ts.persist(ctx, tok); err != nil {
			return nil, fmt.Errorf("persist refreshed token: %w", err)
		}
	}
	ts.mu.Lock()
	ts.unsaved = false
	ts.mu.Unlock()
	return tok, nil
}

func (ts *TokenSource) usable() (*oauth2.Token, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.lost != nil || ts.unsaved || !ts.fresh(ts.tok) {
		return nil, false
	}
	return ts.tok, true
}

func (ts *TokenSource) fresh(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || ts.now().Add(ts.o.leeway).Before(tok.Expiry)
}

// classifyTokenError maps a token-endpoint failure to a sentinel kind.
func classifyTokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return &APIError{Kind: ErrTransient, Err: err}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	kind := ErrPermanent
	switch {
	case re.ErrorCode == "invalid_grant", re.ErrorCode == "invalid_client",
		re.ErrorCode == "unauthorized_client", re.ErrorCode == "access_denied",
		status == http.StatusUnauthorized:
		kind = ErrAuthLost
	case status == http.StatusTooManyRequests:
		kind = ErrRateLimited
	case status >= 500:
		kind = ErrTransient
	}
	return &APIError{Kind: kind, StatusCode: status, Code: re.ErrorCode, Message: re.ErrorDescription, Err: err}
}

// AccountID reads the Lever account id claim from an access token without
// verifying it (Lever's tokens are JWTs). It returns "" if the token is not
// a JWT or has no such claim. Use it as a tenant or rate-limit key only.
func AccountID(accessToken string) string {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	id, _ := claims["https://oauth.lever.co/accountId"].(string)
	return id
}
