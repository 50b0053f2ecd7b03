package lever

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestIsLeverHost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		host string
		want bool
	}{
		{"api", "api.lever.co", true},
		{"eu", "api.eu.lever.co", true},
		{"with port", "api.eu.lever.co:443", true},
		{"apex", "lever.co", true},
		{"upper case", "API.Lever.CO", true},
		{"look-alike suffix", "evillever.co", false},
		{"look-alike prefix", "api.lever.co.evil.com", false},
		{"other", "127.0.0.1:8080", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := IsLeverHost(tc.host); got != tc.want {
				t.Errorf("IsLeverHost(%q) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
}

func TestKindForStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		want   error
	}{
		{"too many requests", http.StatusTooManyRequests, ErrRateLimited},
		{"unauthorized", http.StatusUnauthorized, ErrAuthLost},
		{"server error", http.StatusInternalServerError, ErrTransient},
		{"unavailable", http.StatusServiceUnavailable, ErrTransient},
		{"bad request", http.StatusBadRequest, ErrPermanent},
		{"forbidden", http.StatusForbidden, ErrPermanent},
		{"not found", http.StatusNotFound, ErrPermanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := error(&APIError{Kind: kindForStatus(tc.status), StatusCode: tc.status})
			if !errors.Is(err, tc.want) {
				t.Errorf("status %d: %v is not %v", tc.status, err, tc.want)
			}
		})
	}
	if err := error(&APIError{Kind: ErrPermanent, StatusCode: 404}); !errors.Is(err, ErrNotFound) {
		t.Error("404 is not ErrNotFound")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "3", 3 * time.Second},
		{"negative", "-1", 0},
		{"date", now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRetryDelayBounded(t *testing.T) {
	t.Parallel()
	r := Retry{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}.withDefaults()
	for n := 1; n < 20; n++ {
		d := r.delay(n)
		if d < 5*time.Millisecond || d > 80*time.Millisecond {
			t.Fatalf("delay(%d) = %v, outside [5ms, 80ms]", n, d)
		}
	}
}
