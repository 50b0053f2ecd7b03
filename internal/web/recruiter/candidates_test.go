package recruiter

import (
	"testing"

	"winnow"
)

// TestParseCandidateLines reads each accepted line format, and reports bad addresses
// per line without dropping the others.
func TestParseCandidateLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		line  string
		cName string
		email string
		code  string
	}{
		{"name and angle brackets", "Ada Lovelace <Ada@Example.com>", "Ada Lovelace", "ada@example.com", ""},
		{"quoted name", `"Lovelace, Ada" <ada@example.com>`, "Lovelace, Ada", "ada@example.com", ""},
		{"name comma email", "Alan Turing, alan@example.com", "Alan Turing", "alan@example.com", ""},
		{"surname first, comma email", "Hopper, Grace, grace@example.com", "Hopper, Grace", "grace@example.com", ""},
		{"tab from a spreadsheet", "Barbara Liskov\tbarbara@example.com", "Barbara Liskov", "barbara@example.com", ""},
		{"semicolon", "Edsger Dijkstra; edsger@example.com", "Edsger Dijkstra", "edsger@example.com", ""},
		{"email alone is also the name", "  linus@example.com  ", "linus@example.com", "linus@example.com", ""},
		{"words", "just some words", "just some words", "just some words", winnow.EINVALID},
		{"bad address", "Nobody <nobody@@example>", "Nobody", "nobody@@example", winnow.EINVALID},
		{"empty address", "Nobody, ", "Nobody", "", winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseCandidateLines("\n" + tt.line + "\r\n\n")
			if len(got) != 1 {
				t.Fatalf("%d candidates, want 1", len(got))
			}
			c := got[0]
			if winnow.ErrorCode(c.err) != tt.code || c.line != 2 {
				t.Fatalf("line %d err %v, want line 2 and code %q", c.line, c.err, tt.code)
			}
			if tt.code == "" && (c.name != tt.cName || c.email != tt.email) {
				t.Fatalf("got %q <%s>, want %q <%s>", c.name, c.email, tt.cName, tt.email)
			}
		})
	}
}
