package recruiter

import (
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// PreviewPage is the data of "preview as a candidate": the job's steps drawn the way a
// candidate meets them, with nothing to submit.
type PreviewPage struct {
	render.Base
	Funnel *winnow.Funnel
	Steps  []PreviewStep
}

// PreviewStep is one step of the preview.
type PreviewStep struct {
	Number    int
	Kind      string
	KindLabel string
	Title     string
	Questions []PreviewQuestion
	// Homework.
	Instructions string
	AcceptText   bool
	AcceptFile   bool
	Accept       string // the file input's accept attribute
	FileLimits   string
	// Video interview.
	Prompts   []string
	MaxLength string
}

// PreviewQuestion is one question of the preview.
type PreviewQuestion struct {
	ID       string
	Text     string
	Type     string
	Choices  []string
	Required bool
}

// PreviewFunnel shows the job's steps as a candidate will see them.
func (h *Handler) PreviewFunnel(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	page := PreviewPage{Base: h.base(r, "Preview: "+f.Title, "jobs"), Funnel: f}
	for i, s := range f.Steps {
		page.Steps = append(page.Steps, previewStep(i, s))
	}
	h.Render.Page(w, r, http.StatusOK, render.PageJobPreview, page)
}

// previewStep draws step i of a job for the preview.
func previewStep(i int, s winnow.Step) PreviewStep {
	p := PreviewStep{Number: i + 1, Kind: string(s.Kind), KindLabel: s.Kind.Label(), Title: s.DisplayTitle()}
	for _, q := range s.Questions {
		p.Questions = append(p.Questions, PreviewQuestion{ID: q.ID, Text: q.Text, Type: string(q.Type), Choices: q.Choices,
			Required: q.Required || q.Knockout != nil})
	}
	if hw := s.Homework; hw != nil {
		p.Instructions, p.AcceptText, p.AcceptFile = hw.Instructions, hw.AcceptText, hw.AcceptFile
		p.Accept, p.FileLimits = strings.Join(hw.FileTypes, ","), fileLimits(hw)
	}
	if v := s.Video; v != nil {
		p.Prompts = v.Prompts
		if v.MaxSeconds > 0 {
			p.MaxLength = duration(v.MaxSeconds)
		}
	}
	return p
}
