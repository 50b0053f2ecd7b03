package winnow_test

import (
	"testing"

	"winnow"
)

func TestValidText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", true},
		{"ascii", "Backend Engineer", true},
		{"accents and emoji", "Lösung ✓ 🎉", true},
		{"replacement character itself", "a\uFFFDb", true},
		{"NUL", "a\x00b", false},
		{"lone continuation byte", "a\x80b", false},
		{"0xFF", "a\xffb", false},
		{"truncated sequence", "\xe2\x82", false},
		{"surrogate half as UTF-8", "\xed\xa0\x80", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := winnow.ValidText(c.in); got != c.want {
				t.Fatalf("ValidText(%q) = %v, want %v", c.in, got, c.want)
			}
			err := winnow.CheckText(`Field "x"`, c.in)
			if (err == nil) != c.want {
				t.Fatalf("CheckText(%q) = %v", c.in, err)
			}
			if err != nil && (winnow.ErrorCode(err) != winnow.EINVALID || winnow.ErrorMessage(err)[:9] != `Field "x"`) {
				t.Fatalf("CheckText(%q) = %v, want EINVALID naming the field", c.in, err)
			}
		})
	}
}
