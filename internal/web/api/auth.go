package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"winnow"
)

// touchEvery is how stale a token's "last used" time may get before a request
// refreshes it, so that busy clients do not write on every request.
const touchEvery = time.Minute

type tokenKey struct{}

// token returns the API token that authenticated the request, or nil.
func token(r *http.Request) *winnow.APIToken {
	t, _ := r.Context().Value(tokenKey{}).(*winnow.APIToken)
	return t
}

// Authenticate lets through requests that carry a valid, unrevoked org API token as
// "Authorization: Bearer <token>" and answers every other one 401 in JSON. The
// browser session is never consulted: the token alone says which org acts.
func (h *Handler) Authenticate(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		raw = strings.TrimSpace(raw)
		if !strings.EqualFold(scheme, "Bearer") || raw == "" || len(raw) > 256 {
			h.unauthorized(w, r, "Send an API token as Authorization: Bearer <token>. Admins create tokens in Settings → API tokens.")
			return
		}
		t, err := h.Tokens.FindAPITokenByHash(r.Context(), h.Keyring.Hash(raw))
		if winnow.ErrorCode(err) == winnow.ENOTFOUND {
			h.unauthorized(w, r, "This API token is not valid or has been revoked.")
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		now := h.Clock.Now()
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
			if err := h.Tokens.TouchAPIToken(r.Context(), t.OrgID, t.ID, now); err != nil {
				h.Logger.WarnContext(r.Context(), "record api token use", "org_id", t.OrgID, "token_id", t.ID, "error", err)
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="winnow"`)
	h.failStatus(w, r, http.StatusUnauthorized, winnow.EUNAUTHORIZED, msg)
}
