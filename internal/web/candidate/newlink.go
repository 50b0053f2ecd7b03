package candidate

import (
	"context"
	"net/http"

	"winnow/internal/web/render"

	"winnow"
	"winnow/internal/web/form"
)

// maxNewLinkForm bounds the "Send me a new link" form: one email address.
const maxNewLinkForm = 4 << 10

// LinkRequester sends candidates their link again. It answers the same way whether or
// not the address is known, and limits requests per address.
type LinkRequester interface {
	RequestNewLink(ctx context.Context, email string) error
}

// NewLinkForm shows the form to have one's link sent again, for candidates who lost it.
func (h *Handler) NewLinkForm(w http.ResponseWriter, r *http.Request) {
	h.Render.Page(w, r, http.StatusOK, render.PageCandidateStatus, StatusPage{Chrome: Chrome{Title: "Get your link again"}, Kind: "new_link",
		Heading: "Get your link again", Message: "We'll email the link to your application to the address you applied with."})
}

// RequestNewLink takes an address from the "Send me a new link" form. The page that
// follows says the same whether the address is known, unknown or over its limit, so it
// reveals nothing about who applied where.
func (h *Handler) RequestNewLink(w http.ResponseWriter, r *http.Request) {
	if err := form.Parse(w, r, maxNewLinkForm); err != nil {
		status, msg := form.Problem(err)
		h.errorPage(w, r, nil, status, "That didn't work", msg, "/c/new-link", "Try again")
		return
	}
	err := h.Links.RequestNewLink(r.Context(), r.PostFormValue("email"))
	switch winnow.ErrorCode(err) {
	case "", winnow.ERATELIMITED:
		h.Render.Page(w, r, http.StatusOK, render.PageCandidateStatus, StatusPage{Chrome: Chrome{Title: "Check your email"}, Kind: "link_requested",
			Heading: "Check your email",
			Message: "If that address has an open application, its link is on its way; it can take a few minutes to arrive. " +
				"If your invitation has ended, we've let the hiring team know you're still interested."})
	case winnow.EINVALID:
		h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageCandidateStatus, StatusPage{Chrome: Chrome{Title: "Get your link again"}, Kind: "new_link",
			Heading: "Get your link again", Message: "We'll email the link to your application to the address you applied with.",
			NewLinkError: "Please enter the email address you applied with, like name@example.com."})
	default:
		h.fail(w, r, nil, err)
	}
}
