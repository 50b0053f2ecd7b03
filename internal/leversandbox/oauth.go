package leversandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// knownScopes are the scopes Lever documents; others are dropped.
var knownScopes = []string{
	"offline_access", "applications:read:admin", "archive_reasons:read:admin",
	"audit_events:read:admin", "confidential:access:admin", "contact:read:admin",
	"contact:write:admin", "diversity_surveys:read:admin", "eeo_responses:read:admin",
	"eeo_responses_pii:read:admin", "feedback:read:admin", "feedback:write:admin",
	"feedback_templates:read:admin", "feedback_templates:write:admin", "files:read:admin",
	"files:write:admin", "forms:read:admin", "forms:write:admin", "form_templates:read:admin",
	"form_templates:write:admin", "groups:read:admin", "groups:write:admin",
	"interviews:read:admin", "interviews:write:admin", "notes:read:admin", "notes:write:admin",
	"offers:read:admin", "opportunities:read:admin", "opportunities:write:admin",
	"panels:read:admin", "panels:write:admin", "permissions:read:admin",
	"permissions:write:admin", "postings:read:admin", "postings:write:admin",
	"referrals:read:admin", "requisitions:read:admin", "requisitions:write:admin",
	"requisition_fields:read:admin", "requisition_fields:write:admin", "resumes:read:admin",
	"roles:read:admin", "roles:write:admin", "sources:read:admin", "stages:read:admin",
	"tags:read:admin", "tasks:read:admin", "uploads:write:admin", "users:read:admin",
	"users:write:admin", "webhooks:read:admin", "webhooks:write:admin",
}

// authRequest is a validated /authorize request.
type authRequest struct {
	ClientID, RedirectURI, State, Scope, Audience string
	Scopes                                        []string
}

// parseAuthorize validates an authorize request. A bad client or callback
// is shown as a page (never redirected to); other problems are sent back
// to the callback as error=invalid_request.
func (s *Server) parseAuthorize(v url.Values) (req authRequest, pageErr, redirectErr string) {
	req = authRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), Audience: v.Get("audience"),
	}
	if req.ClientID != s.opts.ClientID {
		return req, "Unknown client_id.", ""
	}
	if !s.redirectAllowed(req.RedirectURI) {
		return req, "The redirect_uri is not registered for this app.", ""
	}
	if v.Get("response_type") != "code" {
		return req, "", "response_type must be code"
	}
	if req.State == "" {
		return req, "", "state is required"
	}
	if !strings.HasSuffix(req.Audience, "/v1/") {
		return req, "", "audience must be the API base URL with a trailing slash, e.g. http://HOST/v1/"
	}
	for _, sc := range strings.Fields(v.Get("scope")) {
		if slices.Contains(knownScopes, sc) && !slices.Contains(req.Scopes, sc) {
			req.Scopes = append(req.Scopes, sc)
		}
	}
	if len(req.Scopes) == 0 {
		return req, "", "scope is required"
	}
	req.Scope = strings.Join(req.Scopes, " ")
	return req, "", ""
}

// redirectAllowed accepts the configured callback, or any loopback one.
func (s *Server) redirectAllowed(raw string) bool {
	if s.opts.RedirectURI != "" {
		return raw == s.opts.RedirectURI
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redirectWith(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, _ := url.Parse(target)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// handleAuthorize shows the consent page.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, pageErr, redirectErr := s.parseAuthorize(r.URL.Query())
	if pageErr != "" {
		s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Authorization failed", Message: pageErr})
		return
	}
	if redirectErr != "" {
		redirectWith(w, r, req.RedirectURI, url.Values{"error": {"invalid_request"}, "error_description": {redirectErr}, "state": {req.State}})
		return
	}
	s.render(w, "consent", consentPage{Req: req})
}

// handleAuthorizeDecision handles Accept / Deny on the consent page.
func (s *Server) handleAuthorizeDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Bad request", Message: "The form could not be read."})
		return
	}
	v := r.PostForm
	v.Set("response_type", "code")
	req, pageErr, redirectErr := s.parseAuthorize(v)
	if pageErr != "" {
		s.renderStatus(w, http.StatusBadRequest, "error", errorPage{Title: "Authorization failed", Message: pageErr})
		return
	}
	if redirectErr != "" {
		redirectWith(w, r, req.RedirectURI, url.Values{"error": {"invalid_request"}, "error_description": {redirectErr}, "state": {req.State}})
		return
	}
	if v.Get("decision") != "accept" {
		redirectWith(w, r, req.RedirectURI, url.Values{
			"error": {"access_denied"}, "error_description": {"The user denied access."}, "state": {req.State},
		})
		return
	}
	code := randomToken(16)
	s.mu.Lock()
	s.st.Codes[code] = &authCode{
		ClientID: req.ClientID, RedirectURI: req.RedirectURI, Scope: req.Scope,
		ExpiresAt: millis(time.Now().Add(s.opts.CodeTTL)),
	}
	s.saveLocked()
	s.mu.Unlock()
	redirectWith(w, r, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}})
}

// tokenError answers the token endpoint in Auth0's error shape.
func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// tokenParams reads the token request, form-encoded or JSON (Lever's
// example app posts JSON).
func tokenParams(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			if str, ok := x.(string); ok {
				v.Set(k, str)
			}
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

// handleToken implements authorization_code and refresh_token grants with
// refresh-token rotation: a refresh token works once, and presenting it
// again revokes its whole grant (as Auth0's reuse detection does).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	v, err := tokenParams(r)
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	id, secret := v.Get("client_id"), v.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Unknown client or wrong client secret.")
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var scope, family string
	switch v.Get("grant_type") {
	case "authorization_code":
		code := v.Get("code")
		c, ok := s.st.Codes[code]
		delete(s.st.Codes, code) // single use, even when the exchange fails
		if !ok || now.UnixMilli() > c.ExpiresAt || c.ClientID != id {
			s.saveLocked()
			tokenError(w, http.StatusForbidden, "invalid_grant", "Invalid authorization code.")
			return
		}
		if c.RedirectURI != v.Get("redirect_uri") {
			s.saveLocked()
			tokenError(w, http.StatusForbidden, "invalid_grant", "redirect_uri does not match the authorize request.")
			return
		}
		scope, family = c.Scope, randomToken(8)
	case "refresh_token":
		rt, ok := s.st.RefreshTokens[v.Get("refresh_token")]
		if !ok {
			tokenError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
			return
		}
		if rt.Used {
			s.revokeFamilyLocked(rt.Family)
			s.saveLocked()
			tokenError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
			return
		}
		rt.Used = true
		scope, family = rt.Scope, rt.Family
		s.stats.Refreshes++
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
		return
	}
	access := s.signJWTLocked(r, scope, now)
	s.st.AccessTokens[access] = &accessToken{Scope: scope, Family: family, ExpiresAt: millis(now.Add(s.opts.TokenTTL))}
	resp := map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"scope":        scope,
		"expires_in":   int(s.opts.TokenTTL / time.Second),
	}
	if slices.Contains(strings.Fields(scope), "offline_access") {
		refresh := "v1." + randomToken(32)
		s.st.RefreshTokens[refresh] = &refreshToken{Scope: scope, Family: family}
		resp["refresh_token"] = refresh
	}
	s.stats.TokensIssued++
	s.saveLocked()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// revokeFamilyLocked drops every token of one grant.
func (s *Server) revokeFamilyLocked(family string) {
	for k, t := range s.st.AccessTokens {
		if t.Family == family {
			delete(s.st.AccessTokens, k)
		}
	}
	for k, t := range s.st.RefreshTokens {
		if t.Family == family {
			delete(s.st.RefreshTokens, k)
		}
	}
}

// Revoke does what a Super Admin's "Revoke access" does: every access
// token answers 401 and every refresh token invalid_grant from now on. API
// keys are not affected.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.st.AccessTokens)
	clear(s.st.RefreshTokens)
	clear(s.st.Codes)
	s.saveLocked()
}

// signJWTLocked makes a Lever-like access token: an HS256 JWT with Lever's
// custom claims, so callers can read the account id from it.
func (s *Server) signJWTLocked(r *http.Request, scope string, now time.Time) string {
	base := "http://" + r.Host
	header := map[string]any{"alg": "HS256", "typ": "JWT", "v": "2.0"}
	claims := map[string]any{
		"https://oauth.lever.co/userId":    s.st.Users[0].ID,
		"https://oauth.lever.co/accountId": s.st.AccountID,
		"https://oauth.lever.co/clientId":  s.opts.ClientID,
		"iss":                              base + "/",
		"aud":                              base + "/v1/",
		"iat":                              now.Unix(),
		"exp":                              now.Add(s.opts.TokenTTL).Unix(),
		"azp":                              s.opts.ClientID,
		"scope":                            scope,
		"jti":                              randomToken(12),
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, s.st.JWTKey)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// credential is who an API request authenticated as.
type credential struct {
	apiKey bool
	scopes []string
	// account names the rate-limit bucket: Lever keeps one per API key; the
	// sandbox's OAuth grants all belong to its one account.
	account string
}

type credentialKey struct{}

// allows reports whether the credential grants scope; a write scope
// includes its read scope, and API keys may do everything.
func (c credential) allows(scope string) bool {
	if c.apiKey || slices.Contains(c.scopes, scope) {
		return true
	}
	if read, ok := strings.CutSuffix(scope, ":read:admin"); ok {
		return slices.Contains(c.scopes, read+":write:admin")
	}
	return false
}

var errNoCredential = errors.New("valid API key or access token not provided")

// authenticate checks a Bearer access token or a Basic API key.
func (s *Server) authenticate(r *http.Request) (credential, error) {
	if key, _, ok := r.BasicAuth(); ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, k := range s.st.APIKeys {
			if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
				return credential{apiKey: true, account: "key:" + k}, nil
			}
		}
		return credential{}, errNoCredential
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return credential{}, errNoCredential
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.st.AccessTokens[tok]
	if !ok {
		return credential{}, errors.New("invalid or revoked access token")
	}
	if time.Now().UnixMilli() >= at.ExpiresAt {
		return credential{}, errors.New("access token expired")
	}
	return credential{scopes: strings.Fields(at.Scope), account: "oauth"}, nil
}

// need wraps an API handler with a scope check.
func (s *Server) need(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(credentialKey{}).(credential)
		if !c.allows(scope) {
			writeError(w, http.StatusForbidden, "ForbiddenError", "the access token lacks scope "+scope)
			return
		}
		h(w, r)
	}
}

func withCredential(ctx context.Context, c credential) context.Context {
	return context.WithValue(ctx, credentialKey{}, c)
}
