package candidate

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/web/render"
)

// homeworkItem is the answer item of a homework file.
const homeworkItem = "homework"

// homeworkTypes are the extensions the step accepts: its own list, or the default.
func homeworkTypes(hw *winnow.Homework) []string {
	if len(hw.FileTypes) == 0 {
		return DefaultHomeworkTypes
	}
	var out []string
	for _, t := range hw.FileTypes {
		if t = filestore.NormalizeExt(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// homeworkForm renders the homework step with the text entered so far and an error.
func (h *Handler) homeworkForm(w http.ResponseWriter, r *http.Request, c *stepContext, status int, text string, errs []string) {
	hw := c.step.Homework
	types := homeworkTypes(hw)
	page := HomeworkPage{StepPage: c.page(errs...), Homework: hw, Text: text, MaxText: winnow.MaxLongText,
		Accept: strings.Join(types, ","), Types: typesList(types), MaxSize: formatBytes(h.maxHomework(hw))}
	if status == http.StatusOK && c.prev != nil {
		page.Text = c.prev.Text
	}
	if id := c.prevFile(homeworkItem); id != "" {
		if u, err := h.Answers.FindUpload(r.Context(), c.a.OrgID, id); err == nil {
			page.SavedFile = u.Name
		}
	}
	h.Render.Page(w, r, status, render.PageCandidateHomework, page)
}

// prevFile is the upload ID saved before for item, if any.
func (c *stepContext) prevFile(item string) string {
	if c.prev == nil {
		return ""
	}
	return c.prev.Files[item]
}

// saveHomework takes the homework's text and file. The step needs what it accepts: a
// text, a file, or (when it takes both) at least one of them.
func (h *Handler) saveHomework(w http.ResponseWriter, r *http.Request, c *stepContext) {
	hw := c.step.Homework
	types := homeworkTypes(hw)
	var files map[string]fileField
	if hw.AcceptFile {
		files = map[string]fileField{homeworkItem: {limit: h.maxHomework(hw), what: "file", types: "a " + typesList(types) + " file",
			detect: func(name string, head []byte) (string, bool) { return filestore.FileType(name, head, types) }}}
	}
	spec, err := h.fileSpec(r, c, map[string]int64{"text": 4*winnow.MaxLongText + 1024}, files)
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
	text := ""
	if hw.AcceptText {
		text = strings.TrimSpace(strings.ReplaceAll(f.text["text"], "\r\n", "\n"))
	}
	file := f.files[homeworkItem]
	hasFile := file != nil || c.prevFile(homeworkItem) != ""
	var problem string
	switch {
	case utf8.RuneCountInString(text) > winnow.MaxLongText:
		problem = "Your answer is too long: please keep it under 20,000 characters, or hand it in as a file."
	case hw.AcceptText && hw.AcceptFile && text == "" && !hasFile:
		problem = "Please write your answer or choose a file to hand in."
	case hw.AcceptText && !hw.AcceptFile && text == "":
		problem = "Please write your answer."
	case hw.AcceptFile && !hw.AcceptText && !hasFile:
		problem = "Please choose a file to hand in."
	}
	if problem != "" {
		h.homeworkForm(w, r, c, http.StatusUnprocessableEntity, text, []string{problem})
		return
	}
	ans := c.newAnswer()
	ans.Text = text
	if file != nil {
		id, err := h.keep(r, c, spec, homeworkItem, file, 0)
		if err != nil {
			h.keepFailed(w, r, c, err)
			return
		}
		if ans.Files == nil {
			ans.Files = map[string]string{}
		}
		ans.Files[homeworkItem] = id
	}
	h.saveAnswer(w, r, c, ans, true)
}
