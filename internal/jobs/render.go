package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"winnow"
)

// renderTemplate fills in t, the template in force, with data. A stored template that
// no longer renders (an edit the data cannot fill in) falls back to the built-in one of
// its kind, rather than sending nothing; log, which carries the caller's IDs, says so.
func renderTemplate(ctx context.Context, log *slog.Logger, t *winnow.Template, data winnow.TemplateData) (winnow.RenderedEmail, error) {
	r, err := t.Render(data)
	if err == nil {
		return r, nil
	}
	log.WarnContext(ctx, "template does not render; using the built-in one", "kind", string(t.Kind), "error", err)
	if r, err = winnow.DefaultTemplate(t.OrgID, t.Kind).Render(data); err != nil {
		return winnow.RenderedEmail{}, fmt.Errorf("render default template: %w", err)
	}
	return r, nil
}
