package candidate

import (
	"net/http"
	"strconv"
	"strings"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/web/render"
)

// maxRecorderSeconds caps a browser recording when the step sets no maximum length.
const maxRecorderSeconds = 600

// videoForm renders the video step: each prompt with a recorder (where the browser
// has one) and a file input, and which prompts are already answered.
func (h *Handler) videoForm(w http.ResponseWriter, r *http.Request, c *stepContext, status int, saved *winnow.StepAnswer, errs ...string) {
	vid := c.step.Video
	page := VideoPage{StepPage: c.page(errs...), MaxSeconds: vid.MaxSeconds, MaxSize: formatBytes(h.maxVideo())}
	if page.MaxSeconds <= 0 {
		page.MaxSeconds = maxRecorderSeconds
	} else {
		page.MaxLength = duration(vid.MaxSeconds)
	}
	for i, text := range vid.Prompts {
		p := PromptField{Index: i, Number: i + 1, Text: text, Name: winnow.PromptItem(i)}
		if saved != nil && saved.Files[p.Name] != "" {
			p.Saved = true
			if u, err := h.Answers.FindUpload(r.Context(), c.a.OrgID, saved.Files[p.Name]); err == nil {
				p.SavedName = u.Name
			}
		}
		page.Prompts = append(page.Prompts, p)
	}
	h.Render.Page(w, r, status, render.PageCandidateVideo, page)
}

// saveVideo takes video answers: from the plain form, every prompt's file at once;
// from the recorder's script (intent "save"), one recording at a time, answered with
// 204 and leaving the step open. The step completes when the form is sent and every
// prompt has an answer; until then what arrived is kept and the form says what is
// missing.
func (h *Handler) saveVideo(w http.ResponseWriter, r *http.Request, c *stepContext) {
	vid := c.step.Video
	field := fileField{limit: h.maxVideo(), what: "video", types: "a video (WebM, MP4 or MOV)", detect: filestore.VideoType}
	files := map[string]fileField{}
	texts := map[string]int64{"intent": 16}
	for i := range vid.Prompts {
		files[winnow.PromptItem(i)] = field
		texts[durationField(i)] = 16
	}
	spec, err := h.fileSpec(r, c, texts, files)
	if err != nil {
		h.fail(w, r, c.visit, err)
		return
	}
	f, err := h.readForm(w, r, spec)
	if err != nil {
		h.uploadFailed(w, r, c, err)
		return
	}
	defer f.discard()
	// The recorder's measured lengths are checked before any file is kept, so that a
	// bad one stores nothing.
	lengths := make([]int64, len(vid.Prompts))
	for i := range vid.Prompts {
		if f.files[winnow.PromptItem(i)] == nil {
			continue
		}
		if lengths[i], err = winnow.ParseRecordingMs(f.text[durationField(i)], vid.MaxSeconds); err != nil {
			h.fail(w, r, c.visit, err)
			return
		}
	}
	ans := c.newAnswer()
	for i := range vid.Prompts {
		item := winnow.PromptItem(i)
		rf := f.files[item]
		if rf == nil {
			continue
		}
		id, err := h.keep(r, c, spec, item, rf, lengths[i])
		if err != nil {
			h.keepFailed(w, r, c, err)
			return
		}
		if ans.Files == nil {
			ans.Files = map[string]string{}
		}
		ans.Files[item] = id
	}
	var missing []string
	for i := range vid.Prompts {
		if ans.Files[winnow.PromptItem(i)] == "" {
			missing = append(missing, "question "+strconv.Itoa(i+1))
		}
	}
	partial := f.text["intent"] == "save"
	if len(f.files) > 0 || partial {
		if !h.saveAnswer(w, r, c, ans, !partial && len(missing) == 0) {
			return
		}
	}
	switch {
	case partial:
		w.WriteHeader(http.StatusNoContent)
	case len(missing) == 0 && len(f.files) == 0:
		// Everything was recorded before: sending the form completes the step.
		h.saveAnswer(w, r, c, ans, true)
	case len(missing) > 0:
		msg := "Please record or upload an answer to " + joinAnd(missing) + "."
		h.videoForm(w, r, c, http.StatusUnprocessableEntity, ans, msg)
	}
}

// durationField is the form field in which the recorder sends how long its recording
// of prompt i is, in milliseconds: "prompt-0-ms".
func durationField(i int) string { return winnow.PromptItem(i) + "-ms" }

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
