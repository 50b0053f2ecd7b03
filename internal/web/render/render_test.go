package render_test

import (
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"winnow/internal/web/render"
	"winnow/ui"
)

// TestNewNeedsEveryPage fails the start when a page a handler renders has no template,
// rather than answering a request with 500.
func TestNewNeedsEveryPage(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	if _, err := render.New(ui.Templates, logger); err != nil {
		t.Fatalf("the embedded templates: %v", err)
	}
	without := fstest.MapFS{}
	err := fs.WalkDir(ui.Templates, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "templates/pages/review_queue.html" {
			return err
		}
		b, err := fs.ReadFile(ui.Templates, path)
		without[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.New(without, logger)
	if err == nil || !strings.Contains(err.Error(), "templates/pages/review_queue.html") {
		t.Fatalf("New without the review queue's template: %v", err)
	}
}
