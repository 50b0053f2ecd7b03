package candidate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/web/form"
)

// formSlack is what a multipart form may carry beside its files: text fields, part
// headers and boundaries.
const formSlack = 1 << 20

// fileField says what one file field of a form accepts.
type fileField struct {
	limit  int64
	detect func(name string, head []byte) (string, bool) // content type, or false to refuse
	what   string                                        // "video", "file": for messages
	types  string                                        // the accepted types, for messages
}

// formSpec is what a step's form may carry: text fields with their byte limits, and
// file fields. room is how many bytes of files the applicant's upload budget (budget)
// still takes; the files of one form may not go past it. Files are stored under the
// org and applicant (a path from filestore.NewPath).
type formSpec struct {
	texts       map[string]int64
	files       map[string]fileField
	budget      int64
	room        int64
	capped      bool // the budget, not the file limits, bounds the body
	orgID       string
	applicantID string
}

// fileSpec is the spec of a form with files, with the room left in the applicant's
// upload budget.
func (h *Handler) fileSpec(r *http.Request, c *stepContext, texts map[string]int64, files map[string]fileField) (formSpec, error) {
	spec := formSpec{texts: texts, files: files, budget: h.uploadBudget(c.a), orgID: c.a.OrgID, applicantID: c.a.ID}
	if len(files) == 0 {
		return spec, nil
	}
	used, err := h.Answers.UploadedBytes(r.Context(), c.a.OrgID, c.a.ID)
	if err != nil {
		return spec, err
	}
	spec.room = spec.budget - used
	return spec, nil
}

// overBudget is the refusal of files that would take the applicant's uploads past
// their budget.
func (spec formSpec) overBudget() *uploadError {
	return &uploadError{http.StatusRequestEntityTooLarge, "There is no room for more files",
		fmt.Sprintf("Your application can keep at most %s of files, and what you sent would take it past that. "+
			"Your answers so far are saved. If you need to send more, please contact the company.", formatBytes(spec.budget))}
}

// received is a file that passed its checks and waits in the file store to be kept.
type received struct {
	name        string
	contentType string
	pending     *filestore.Pending
}

// stepForm is a read form: its text values and its files.
type stepForm struct {
	text  map[string]string
	files map[string]*received
}

// discard removes every file not kept. It is safe to call after keeping some.
func (f *stepForm) discard() {
	for _, rf := range f.files {
		rf.pending.Discard()
	}
}

// uploadError is a refused form, with the status and message the candidate sees.
type uploadError struct {
	status  int
	heading string
	msg     string
}

func (e *uploadError) Error() string { return fmt.Sprintf("upload refused (%d): %s", e.status, e.msg) }

// readForm reads a step's form, streaming each file to the file store (not yet visible)
// after checking its type from its first bytes, and never holding a file in memory. Every file is
// limited on its own and the whole body by the sum of the limits, and the files
// together by the room left in the applicant's upload budget, so an oversized upload
// is refused (413) while it streams; a file of the wrong type (415) is refused before
// a byte of it is written. On any error nothing is left in the store.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, spec formSpec) (*stepForm, error) {
	f := &stepForm{text: map[string]string{}, files: map[string]*received{}}
	var limits int64
	for _, ff := range spec.files {
		limits = min(limits, math.MaxInt64-ff.limit) + ff.limit
	}
	if len(spec.files) > 0 && spec.room < limits {
		limits, spec.capped = max(spec.room, 0), true
	}
	total := formSlack + min(limits, math.MaxInt64-formSlack)
	if r.ContentLength > total {
		// Refused before reading: the size the browser announced is already too large.
		if spec.capped {
			return nil, spec.overBudget()
		}
		return nil, tooLarge(spec)
	}
	if !isMultipart(r) {
		// A form without files (homework answered in text) may be URL-encoded.
		if err := form.Parse(w, r, total); err != nil {
			return nil, bodyError(err, spec)
		}
		for name := range spec.texts {
			f.text[name] = r.PostForm.Get(name)
		}
		return f, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, total)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, bodyError(err, spec)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			f.discard()
			return nil, bodyError(err, spec)
		}
		name := part.FormName()
		if ff, ok := spec.files[name]; ok && part.FileName() != "" {
			if f.files[name] != nil {
				f.discard()
				return nil, &uploadError{http.StatusUnprocessableEntity, "Please send one file per answer",
					"The form carried two files for the same answer. Please choose one file and try again."}
			}
			left := spec.room
			for _, rf := range f.files {
				left -= rf.pending.Size
			}
			if left <= 0 {
				f.discard()
				return nil, spec.overBudget()
			}
			rf, err := h.receive(r, part, ff, min(ff.limit, left), spec)
			if err != nil {
				f.discard()
				return nil, err
			}
			f.files[name] = rf
			continue
		}
		if max, ok := spec.texts[name]; ok && part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, max+1))
			if err != nil {
				f.discard()
				return nil, bodyError(err, spec)
			}
			if int64(len(b)) > max {
				f.discard()
				return nil, &uploadError{http.StatusRequestEntityTooLarge, "That was too long",
					"Your text answer is longer than this form accepts. Please shorten it and try again."}
			}
			if !winnow.ValidText(string(b)) {
				f.discard()
				return nil, textRefused()
			}
			if _, seen := f.text[name]; !seen {
				f.text[name] = string(b)
			}
		}
		// Anything else (an empty file input, an unknown field) is skipped: NextPart
		// reads past what is left of it.
	}
}

// receive checks one file's first bytes and streams the rest, at most limit bytes,
// to the file store. A limit below the field's is the room left in the budget.
func (h *Handler) receive(r *http.Request, part io.Reader, ff fileField, limit int64, spec formSpec) (*received, error) {
	name := filestore.CleanName(partFileName(part))
	head := make([]byte, filestore.SniffLen)
	n, err := io.ReadFull(part, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, bodyError(err, spec)
	}
	head = head[:n]
	if n == 0 {
		return nil, &uploadError{http.StatusUnprocessableEntity, "That file is empty",
			fmt.Sprintf("The %s you chose (%s) has nothing in it. Please choose another and try again.", ff.what, name)}
	}
	ct, ok := ff.detect(name, head)
	if !ok {
		return nil, &uploadError{http.StatusUnsupportedMediaType, "That type of file can't be used here",
			fmt.Sprintf("%s is not %s. Please choose %s and try again.", quoteName(name), article(ff.what), ff.types)}
	}
	src := &readTracker{r: io.MultiReader(bytes.NewReader(head), part)}
	p, err := h.Files.Receive(r.Context(), filestore.NewPath(spec.orgID, spec.applicantID), ct, src, limit)
	switch {
	case errors.Is(err, filestore.ErrTooLarge) && limit < ff.limit:
		return nil, spec.overBudget()
	case errors.Is(err, filestore.ErrTooLarge):
		return nil, &uploadError{http.StatusRequestEntityTooLarge, "That file is too large",
			fmt.Sprintf("%s is larger than the limit of %s. Please choose a smaller %s and try again.", quoteName(name), formatBytes(ff.limit), ff.what)}
	case err != nil && src.err != nil:
		return nil, bodyError(src.err, spec)
	case err != nil:
		return nil, fmt.Errorf("store upload: %w", err)
	}
	return &received{name: name, contentType: ct, pending: p}, nil
}

// partFileName is the file name a part carries.
func partFileName(part io.Reader) string {
	if p, ok := part.(interface{ FileName() string }); ok {
		return p.FileName()
	}
	return ""
}

func quoteName(name string) string {
	if name == "" {
		return "The file"
	}
	return "“" + name + "”"
}

func article(what string) string {
	switch what {
	case "video":
		return "a video"
	}
	return "a file type this step accepts"
}

// tooLarge is the refusal of a body larger than every limit together.
func tooLarge(spec formSpec) *uploadError {
	var largest int64
	what := "file"
	for _, ff := range spec.files {
		if ff.limit > largest {
			largest, what = ff.limit, ff.what
		}
	}
	msg := "What you sent is larger than this form accepts."
	if largest > 0 {
		msg = fmt.Sprintf("What you sent is larger than this form accepts: each %s may be at most %s. Please choose a smaller one and try again.", what, formatBytes(largest))
	}
	return &uploadError{http.StatusRequestEntityTooLarge, "That was too large", msg}
}

// bodyError turns a failure to read the request into what the candidate sees: too
// large when the body limit was reached, else unreadable (a dropped connection, a
// malformed form). It is only used for errors reading the request, never the disk.
func bodyError(err error, spec formSpec) error {
	var mbe *http.MaxBytesError
	var formTooLarge *form.TooLargeError
	if errors.As(err, &mbe) || errors.As(err, &formTooLarge) {
		if spec.capped {
			return spec.overBudget()
		}
		return tooLarge(spec)
	}
	if errors.As(err, new(*form.FieldError)) {
		return textRefused()
	}
	return &uploadError{http.StatusBadRequest, "The form could not be read",
		"Something went wrong while sending your answer, or the connection dropped. Please try again."}
}

// textRefused is the refusal of a text answer that cannot be saved (a NUL byte, or
// bytes that are not UTF-8), by form.Parse or by the multipart reader.
func textRefused() *uploadError {
	return &uploadError{http.StatusUnprocessableEntity, "Please check your answer", winnow.TextError("Your answer").Message}
}

// readTracker remembers the error its reader returned, so that a failed copy can tell
// the request's fault (a read error) from the disk's (a write error).
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// uploadFailed renders a refused form and reads what is left of the body (within its
// limit), so that the browser, still sending, receives the page instead of a reset.
func (h *Handler) uploadFailed(w http.ResponseWriter, r *http.Request, c *stepContext, err error) {
	io.Copy(io.Discard, r.Body)
	var ue *uploadError
	if errors.As(err, &ue) {
		h.Logger.InfoContext(r.Context(), "candidate upload refused", c.logAttrs("step_id", c.step.ID, "status", ue.status, "reason", ue.msg)...)
		h.errorPage(w, r, c.visit, ue.status, ue.heading, ue.msg, c.stepURL(c.index), "Back to the form")
		return
	}
	h.fail(w, r, c.visit, err)
}

// keep makes a received file visible and records it, returning the upload's ID. If
// recording fails the file is removed again. The store checks the upload budget once
// more as it records, under the applicant's lock, so that forms sent at once cannot
// together go past it: a file that would is refused as over budget.
func (h *Handler) keep(r *http.Request, c *stepContext, spec formSpec, item string, rf *received, durationMs int64) (string, error) {
	rel := rf.pending.Path
	if err := rf.pending.Keep(); err != nil {
		return "", err
	}
	u := &winnow.Upload{OrgID: c.a.OrgID, ApplicantID: c.a.ID, StepID: c.step.ID, Item: item, Name: rf.name,
		ContentType: rf.contentType, Size: rf.pending.Size, Path: rel, DurationMs: durationMs}
	if err := h.Answers.CreateUpload(r.Context(), u, spec.budget); err != nil {
		h.removeFile(r, c, rel)
		if winnow.ErrorCode(err) == winnow.ETOOLARGE {
			return "", spec.overBudget()
		}
		return "", err
	}
	h.Logger.InfoContext(r.Context(), "candidate uploaded a file", c.logAttrs("step_id", c.step.ID, "item", item,
		"upload_id", u.ID, "size", u.Size, "content_type", u.ContentType, "duration_ms", u.DurationMs)...)
	return u.ID, nil
}

// keepFailed shows why a received file could not be kept: over the budget is a refused
// upload; anything else is what a failed transition shows.
func (h *Handler) keepFailed(w http.ResponseWriter, r *http.Request, c *stepContext, err error) {
	var ue *uploadError
	if errors.As(err, &ue) {
		h.uploadFailed(w, r, c, err)
		return
	}
	h.transitionFailed(w, r, c.visit, err)
}

// removeFile removes a file no upload row names any more. A failure is logged and
// left to the upload sweep.
func (h *Handler) removeFile(r *http.Request, c *stepContext, rel string) {
	if err := h.Files.Remove(r.Context(), rel); err != nil {
		h.Logger.ErrorContext(r.Context(), "remove upload file", c.logAttrs("path", rel, "error", err)...)
	}
}
