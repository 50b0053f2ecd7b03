package keyring_test

import (
	"strings"
	"testing"

	"winnow/internal/keyring"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, err := keyring.New(strings.Repeat("a", 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal("lever-refresh-token")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "lever-refresh-token") {
		t.Fatal("plaintext visible")
	}
	if got, err := k.Open(sealed); err != nil || got != "lever-refresh-token" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := keyring.New(strings.Repeat("b", 32))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("opened with another key")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	if _, err := k.Open(string(tampered)); err == nil {
		t.Fatal("opened tampered text")
	}
	if _, err := keyring.New("short"); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestHashAndToken(t *testing.T) {
	t.Parallel()
	k, _ := keyring.New(strings.Repeat("a", 32))
	other, _ := keyring.New(strings.Repeat("b", 32))
	tok := keyring.Token()
	if len(tok) != 43 || tok == keyring.Token() {
		t.Fatalf("token %q not random 32 bytes", tok)
	}
	if k.Hash(tok) != k.Hash(tok) || k.Hash(tok) == other.Hash(tok) || k.Hash(tok) == k.Hash(tok+"x") {
		t.Fatal("hash not keyed and deterministic")
	}
}
