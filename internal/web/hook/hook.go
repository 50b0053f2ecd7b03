// Package hook serves the URLs other services call Winnow back on: Lever's webhooks.
// They are public routes with no session: a request proves where it comes from by its
// signature, which the service behind the handler checks.
package hook

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"winnow"
	"winnow/internal/web/render"
)

// Handler serves Lever's webhook URLs. Every field must be set.
type Handler struct {
	Webhooks winnow.LeverWebhookService
	Logger   *slog.Logger
}

// answer is the body of an accepted webhook. Lever ignores it; people testing a
// connection read it.
type answer struct {
	OK        bool   `json:"ok"`
	Test      bool   `json:"test,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Delivery  string `json:"delivery,omitempty"`
}

// Lever serves POST winnow.LeverWebhookPath + "/{orgKey}" and the bare
// winnow.LeverWebhookPath: it reads at most winnow.MaxLeverWebhookBytes and hands the
// body to the service, which answers once the delivery is stored. A body too large is
// 413, one that is not a Lever webhook 400, an unknown org key 404, a signature that
// does not verify 401; none stores anything.
func (h *Handler) Lever(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, winnow.MaxLeverWebhookBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.fail(w, r, winnow.Errorf(winnow.ETOOLARGE, "A Lever webhook is at most %d bytes.", winnow.MaxLeverWebhookBytes))
		return
	case err != nil:
		h.fail(w, r, &winnow.Error{Code: winnow.EINVALID, Message: "The request body could not be read.", Err: err})
		return
	}
	rc, err := h.Webhooks.ReceiveLeverWebhook(r.Context(), r.PathValue("orgKey"), body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.DebugContext(r.Context(), "lever webhook", "org_id", rc.OrgID, "event", rc.Event, "test", rc.Test,
		"duplicate", rc.Duplicate, "lever_delivery_id", rc.DeliveryID)
	render.WriteJSON(h.Logger, w, r, http.StatusOK, answer{OK: true, Test: rc.Test, Duplicate: rc.Duplicate, Delivery: rc.DeliveryID})
}

// fail answers err as JSON through the web layer's error edge. Refusals are logged at
// info, so that an operator can see why Lever's deliveries fail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if code := winnow.ErrorCode(err); code != winnow.EINTERNAL {
		h.Logger.InfoContext(r.Context(), "lever webhook refused", "path", render.LogPath(r), "code", code, "error", err)
	}
	render.Fail(h.Logger, w, r, form{}, err)
}

// form is JSON, with one difference: a body that is not a webhook at all is a bad
// request (400), not a form to correct (422).
type form struct{}

func (form) WriteProblem(w http.ResponseWriter, r *http.Request, p render.Problem) {
	if p.Code == winnow.EINVALID {
		p.Status = http.StatusBadRequest
	}
	render.JSON.WriteProblem(w, r, p)
}
