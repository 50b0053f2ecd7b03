package winnow_test

import (
	"strings"
	"testing"

	"winnow"
)

func TestPageLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int
		want  int
		code  string
	}{
		{"zero is the default", 0, winnow.DefaultPageSize, ""},
		{"one", 1, 1, ""},
		{"the most", winnow.MaxPageSize, winnow.MaxPageSize, ""},
		{"one too many", winnow.MaxPageSize + 1, 0, winnow.EINVALID},
		{"negative", -5, 0, winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := winnow.PageLimit(tt.limit)
			if got != tt.want || winnow.ErrorCode(err) != tt.code {
				t.Fatalf("PageLimit(%d) = %d, %v; want %d, %q", tt.limit, got, err, tt.want, tt.code)
			}
		})
	}
}

// TestCursor round-trips a cursor through its opaque form and refuses what Encode did
// not make for the list's order.
func TestCursor(t *testing.T) {
	t.Parallel()
	c := winnow.Cursor{Order: "newest", Key: "2026-12-03T04:05:06.123456789Z", ID: "01a2", Before: true}
	enc := c.Encode()
	if strings.ContainsAny(enc, "+/=?&#") {
		t.Fatalf("encoded cursor %q is not fit for a URL", enc)
	}
	if got, err := winnow.ParseCursor(enc, "newest"); err != nil || got != c {
		t.Fatalf("ParseCursor = %+v, %v; want %+v", got, err, c)
	}
	for name, s := range map[string]string{
		"another order":    enc,
		"not base64":       "***",
		"not JSON":         "bm90IGpzb24",
		"no key":           winnow.Cursor{Order: "waiting", ID: "x"}.Encode(),
		"no id":            winnow.Cursor{Order: "waiting", Key: "k"}.Encode(),
		"not text":         winnow.Cursor{Order: "waiting", Key: "k\x00", ID: "x"}.Encode(),
		"longer than made": strings.Repeat("e", 2048),
	} {
		if _, err := winnow.ParseCursor(s, "waiting"); winnow.ErrorCode(err) != winnow.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
