package recruiter

import (
	"errors"
	"fmt"
	"net/http"

	"winnow"
	"winnow/internal/password"
	"winnow/internal/web/auth"
	"winnow/internal/web/render"
)

// AccountPage is the data of the signed-in user's own page: their name and password.
type AccountPage struct {
	render.Base
	Name          string
	NameError     string
	PasswordError string
	MinPassword   int
}

// accountNotices are the sentences a redirect back to the account page may ask for.
var accountNotices = map[string]string{
	"name":     "Your name is saved.",
	"password": "Your password is changed. Your other sessions are signed out.",
}

// Account shows the signed-in user's name and password forms.
func (h *Handler) Account(w http.ResponseWriter, r *http.Request) {
	page := h.accountPage(r, AccountPage{Name: me(r).Name})
	page.Notice = accountNotices[r.URL.Query().Get("done")]
	h.Render.Page(w, r, http.StatusOK, render.PageAccount, page)
}

func (h *Handler) accountPage(r *http.Request, page AccountPage) AccountPage {
	page.Base, page.MinPassword = h.base(r, "Your account", ""), winnow.MinPasswordLength
	return page
}

// SaveAccountName sets the signed-in user's name.
func (h *Handler) SaveAccountName(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u, name := me(r), r.PostFormValue("name")
	if err := h.People.RenameUser(r.Context(), u.OrgID, u.ID, name); err != nil {
		if winnow.ErrorCode(err) != winnow.EINVALID {
			h.fail(w, r, err)
			return
		}
		h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageAccount, h.accountPage(r, AccountPage{Name: name,
			NameError: winnow.ErrorMessage(err)}))
		return
	}
	http.Redirect(w, r, "/account?done=name", http.StatusSeeOther)
}

// SaveAccountPassword changes the signed-in user's password: the current one is checked
// first, through the same sign-in limiter and hashing gate as the sign-in form, so that
// a session left open cannot be used to guess it. Other sessions end; this one stays.
func (h *Handler) SaveAccountPassword(w http.ResponseWriter, r *http.Request) {
	if !h.parseFormMax(w, r, maxLoginForm) {
		return
	}
	u := me(r)
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	failed := func(status int, msg string) {
		h.Render.Page(w, r, status, render.PageAccount, h.accountPage(r, AccountPage{Name: u.Name, PasswordError: msg}))
	}
	if err := winnow.ValidatePassword(next); err != nil {
		failed(http.StatusUnprocessableEntity, winnow.ErrorMessage(err))
		return
	}
	if next != r.PostFormValue("new_password_confirm") {
		failed(http.StatusUnprocessableEntity, "The two new passwords do not match.")
		return
	}
	attempt, wait := h.Limiter.Reserve(u.Email, h.Proxies.ClientAddr(r))
	if attempt == nil {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		failed(http.StatusTooManyRequests, fmt.Sprintf("Too many wrong passwords. Please wait %s and try again.", roundUp(wait)))
		return
	}
	err := password.Check(u.PasswordHash, current)
	var hash string
	if err == nil {
		hash, err = password.Hash(next)
	}
	switch {
	case errors.Is(err, password.ErrMismatch):
		attempt.Failed()
		failed(http.StatusUnprocessableEntity, "Your current password is not right.")
		return
	case errors.Is(err, password.ErrBusy):
		attempt.Cancel()
		w.Header().Set("Retry-After", fmt.Sprint(int(password.RetryAfter.Seconds())))
		failed(http.StatusServiceUnavailable, winnow.ErrorMessage(err))
		return
	case err != nil:
		attempt.Cancel()
		h.fail(w, r, err)
		return
	}
	attempt.Succeeded()
	keep := ""
	if id := auth.FromContext(r.Context()); id != nil {
		keep = id.SessionKey
	}
	if err := h.People.SetPassword(r.Context(), u.OrgID, u.ID, hash, keep); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "password changed", "org_id", u.OrgID, "user_id", u.ID)
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}
