package api

import (
	"net/http"

	"winnow"
)

// UploadServer sends the bytes of an applicant's uploaded file; the file store is one.
type UploadServer interface {
	ServeUpload(w http.ResponseWriter, r *http.Request, u *winnow.Upload, inline bool) error
}

// Upload sends one of the org's uploaded files (a homework file or a video answer) as an
// attachment, so that a program holding a token can fetch what GET
// /api/v1/applicants/{id} lists. The API is not blind: the file keeps its own name.
func (h *Handler) Upload(w http.ResponseWriter, r *http.Request) {
	t := token(r)
	up, err := h.Answers.FindUpload(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Files.ServeUpload(w, r, up, false); err != nil {
		h.fail(w, r, err)
	}
}
