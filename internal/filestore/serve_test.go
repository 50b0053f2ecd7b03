package filestore_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/filestore"
)

func TestServeUpload(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testServeUpload(t, mustBucket(t, kind))
		})
	}
}

func testServeUpload(t *testing.T, s *bucket) {
	keep := func(data string) string {
		return s.keep(filestore.NewPath("o", "a"), data, time.Time{})
	}
	video := &winnow.Upload{ID: "u1", Name: "Antwort «1».webm", ContentType: "video/webm", Size: 10, Path: keep(webmHead),
		CreatedAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	page := &winnow.Upload{ID: "u2", Name: "evil.html", ContentType: "text/html", Size: 10, Path: keep(htmlHead)}
	missing := &winnow.Upload{ID: "u3", Name: "gone.pdf", ContentType: "application/pdf", Path: "o/a/gone"}

	tests := []struct {
		name        string
		u           *winnow.Upload
		inline      bool
		rangeHeader string
		status      int
		disposition string
		body        string
	}{
		{"video as attachment", video, false, "", 200, `attachment; filename*=utf-8''Antwort%20%C2%AB1%C2%BB.webm`, webmHead},
		{"video inline", video, true, "", 200, `inline; filename*=utf-8''Antwort%20%C2%AB1%C2%BB.webm`, webmHead},
		{"video range", video, true, "bytes=0-3", 206, `inline; filename*=utf-8''Antwort%20%C2%AB1%C2%BB.webm`, webmHead[:4]},
		{"html is never inline", page, true, "", 200, `attachment; filename=evil.html`, htmlHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/uploads/"+tt.u.ID, nil)
			if tt.rangeHeader != "" {
				r.Header.Set("Range", tt.rangeHeader)
			}
			w := httptest.NewRecorder()
			if err := s.ServeUpload(w, r, tt.u, tt.inline); err != nil {
				t.Fatal(err)
			}
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			h := res.Header
			if res.StatusCode != tt.status || string(body) != tt.body {
				t.Fatalf("status %d body %q; want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
			if h.Get("Content-Disposition") != tt.disposition || h.Get("Content-Type") != tt.u.ContentType ||
				h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Fatalf("headers = %v", h)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		err := s.ServeUpload(w, httptest.NewRequest("GET", "/", nil), missing, false)
		if winnow.ErrorCode(err) != winnow.ENOTFOUND || w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Fatalf("err %v, wrote %d %v %q", err, w.Code, w.Header(), w.Body)
		}
	})
}
