package form_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"winnow/internal/web/form"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		target string
		body   string
		limit  int64
		status int    // from Problem; 0 when Parse succeeds
		want   string // in Problem's sentence
	}{
		{"plain form", "/x", "title=Backend+Engineer&status=open", 1 << 10, 0, ""},
		{"over the limit", "/x", "title=" + strings.Repeat("x", 2<<10), 1 << 10, 413, "at most 1 KB"},
		{"NUL in a value", "/x", "b=ok&a=x%00y", 1 << 10, 422, `The field "a" contains a character that can't be saved`},
		{"not UTF-8", "/x", "title=caf%E9", 1 << 10, 422, `The field "title"`},
		{"first bad field by name", "/x", "z=%00&m=%FF", 1 << 10, 422, `The field "m"`},
		{"bad field name", "/x", "a%00=1", 1 << 10, 422, `The field "a\x00"`},
		{"bad query value", "/x?next=%00", "a=1", 1 << 10, 422, `The field "next"`},
		{"malformed escape", "/x", "title=%zz", 1 << 10, 400, "could not be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", c.target, strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			err := form.Parse(httptest.NewRecorder(), r, c.limit)
			if c.status == 0 {
				if err != nil || r.PostForm.Get("title") != "Backend Engineer" {
					t.Fatalf("Parse = %v, title %q", err, r.PostForm.Get("title"))
				}
				return
			}
			status, msg := form.Problem(err)
			if status != c.status || !strings.Contains(msg, c.want) {
				t.Fatalf("Problem(%v) = %d %q, want %d with %q", err, status, msg, c.status, c.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{512: "512 bytes", 4 << 10: "4 KB", 64 << 10: "64 KB", 1 << 20: "1 MB", 4<<20 + 1: "4096 KB"} {
		if got := form.Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	if got, _ := form.Problem(&form.TooLargeError{Limit: 1}); got != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", got)
	}
}
