package password_test

import (
	"errors"
	"strings"
	"testing"

	"winnow/internal/password"
)

func TestHashCheck(t *testing.T) {
	t.Parallel()
	h, err := password.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash format: %s", h)
	}
	if err := password.Check(h, "correct horse battery"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := password.Check(h, "correct horse batterY"); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := password.Hash("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=x$a$b", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA"} {
		if err := password.Check(bad, "x"); err == nil || errors.Is(err, password.ErrMismatch) {
			t.Errorf("malformed hash %q: err = %v", bad, err)
		}
	}
}

// TestUnmatchable checks like a real hash and matches no password.
func TestUnmatchable(t *testing.T) {
	t.Parallel()
	u := password.Unmatchable()
	if !strings.HasPrefix(u, "$argon2id$v=19$m=19456,t=2,p=1$") || u != password.Unmatchable() {
		t.Fatalf("unmatchable hash %s", u)
	}
	for _, pw := range []string{"", "password", u} {
		if err := password.Check(u, pw); !errors.Is(err, password.ErrMismatch) {
			t.Fatalf("check %q: %v", pw, err)
		}
	}
}
