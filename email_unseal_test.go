package winnow_test

import (
	"errors"
	"strings"
	"testing"

	"winnow"
)

// TestEmailUnseal opens a sealed email into a copy, part by part, and leaves plain
// emails and the original alone.
func TestEmailUnseal(t *testing.T) {
	t.Parallel()
	// A stand-in for the keyring: "sealed:" + plaintext, and an error for anything else.
	open := func(s string) (string, error) {
		if p, ok := strings.CutPrefix(s, "sealed:"); ok {
			return p, nil
		}
		return "", errors.New("wrong key")
	}
	tests := []struct {
		name    string
		email   winnow.Email
		want    winnow.Email
		wantErr bool
	}{
		{"plain content is returned as is",
			winnow.Email{ID: "e1", Subject: "Hi", Text: "Body", HTML: "<p>Body</p>"},
			winnow.Email{ID: "e1", Subject: "Hi", Text: "Body", HTML: "<p>Body</p>"}, false},
		{"sealed content is opened",
			winnow.Email{ID: "e2", Subject: "sealed:Join", Text: "sealed:https://x/invite/t", HTML: "sealed:<a>", Sealed: true},
			winnow.Email{ID: "e2", Subject: "Join", Text: "https://x/invite/t", HTML: "<a>"}, false},
		{"empty parts stay empty",
			winnow.Email{ID: "e3", Subject: "sealed:Join", Text: "sealed:Body", Sealed: true},
			winnow.Email{ID: "e3", Subject: "Join", Text: "Body"}, false},
		{"a part that does not open is an error",
			winnow.Email{ID: "e4", Subject: "sealed:Join", Text: "other-key", Sealed: true}, winnow.Email{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := tt.email
			got, err := tt.email.Unseal(open)
			if tt.wantErr {
				if err == nil || got != nil || !strings.Contains(err.Error(), tt.email.ID) {
					t.Fatalf("Unseal = %+v, %v; want an error naming the email", got, err)
				}
			} else if err != nil || *got != tt.want {
				t.Fatalf("Unseal = %+v, %v; want %+v", got, err, tt.want)
			}
			if tt.email != before {
				t.Fatalf("Unseal changed the email: %+v", tt.email)
			}
		})
	}
}
