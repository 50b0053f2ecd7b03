package render_test

import (
	"net/http/httptest"
	"testing"

	"winnow/internal/web/render"
)

// TestLogPathHidesTokens cleans the path as the router does before it hides the token
// of a candidate or invitation link, so that no spelling of such a path logs the token.
func TestLogPathHidesTokens(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"/c/s3cr3t-token", "/c/{token}"},
		{"/c/s3cr3t-token/steps/s_1", "/c/{token}/steps/s_1"},
		{"/invite/s3cr3t-token", "/invite/{token}"},
		{"/c/new-link", "/c/new-link"},
		{"/jobs/0192-abc", "/jobs/0192-abc"},
		{"/api/v1/applicants/a1/decision", "/api/v1/applicants/a1/decision"},
		{"//c/s3cr3t-token/start", "/c/{token}/start"},
		{"/./c/s3cr3t-token", "/c/{token}"},
		{"/x/../c/s3cr3t-token", "/c/{token}"},
		{"/c//s3cr3t-token", "/c/{token}"},
		{"/c/s3cr3t-token/", "/c/{token}"},
		{"/C/s3cr3t-token", "/c/{token}"},
		{"//invite/s3cr3t-token", "/invite/{token}"},
		{"/%63/s3cr3t-token", "/c/{token}"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			if got := render.LogPath(httptest.NewRequest("GET", "http://winnow.test"+c.in, nil)); got != c.want {
				t.Fatalf("LogPath(%s) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}
