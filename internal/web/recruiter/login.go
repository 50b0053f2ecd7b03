package recruiter

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"winnow"
	"winnow/internal/password"
	"winnow/internal/web/render"
)

// LoginPage is the data of the sign-in page.
type LoginPage struct {
	render.Base
	Email string
	Next  string
	Error string
}

// LoginForm shows the sign-in form, or sends a signed-in user on.
func (h *Handler) LoginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if me(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageLogin, LoginPage{Base: h.base(r, "Sign in", ""), Next: next})
}

// Login checks the email and password, starts a session and redirects.
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	if !h.parseFormMax(w, r, maxLoginForm) {
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	page := LoginPage{Base: h.base(r, "Sign in", ""), Email: email, Next: next}

	addr := h.Proxies.ClientAddr(r)
	// The attempt is counted before the password is checked, so that guesses sent all at
	// once cannot all be checked before the first failure is recorded.
	attempt, wait := h.Limiter.Reserve(email, addr)
	if attempt == nil {
		page.Error = fmt.Sprintf("Too many failed sign-in attempts. Please wait %s and try again.", roundUp(wait))
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		h.Render.Page(w, r, http.StatusTooManyRequests, render.PageLogin, page)
		return
	}
	u, err := h.Users.FindUserByEmail(r.Context(), email)
	if err == nil {
		err = password.Check(u.PasswordHash, pw)
	} else if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		// Spend the same time as a real check so response times do not reveal which
		// addresses have accounts.
		if err = password.Check(password.Unmatchable(), pw); err == nil {
			err = password.ErrMismatch
		}
	}
	switch {
	case errors.Is(err, password.ErrMismatch):
		attempt.Failed()
		h.Logger.InfoContext(r.Context(), "sign-in failed", "email", email, "client", addr)
		page.Error = "That email and password do not match an account."
		h.Render.Page(w, r, http.StatusUnauthorized, render.PageLogin, page)
		return
	case errors.Is(err, password.ErrBusy):
		attempt.Cancel() // nothing was checked
		h.Logger.InfoContext(r.Context(), "sign-in refused: password checks busy", "client", addr)
		page.Error = winnow.ErrorMessage(err)
		w.Header().Set("Retry-After", fmt.Sprint(int(password.RetryAfter.Seconds())))
		h.Render.Page(w, r, http.StatusServiceUnavailable, render.PageLogin, page)
		return
	case err != nil:
		attempt.Cancel()
		h.fail(w, r, err)
		return
	}
	attempt.Succeeded()
	if err := h.Sessions.Start(r.Context(), w, u); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "signed in", "org_id", u.OrgID, "user_id", u.ID)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// Logout ends the session.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	if err := h.Sessions.End(r.Context(), w); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/jobs"
	}
	return next
}

func roundUp(d time.Duration) string {
	if m := int((d + time.Minute - 1) / time.Minute); m > 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "a minute"
}
