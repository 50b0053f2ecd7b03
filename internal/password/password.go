// Package password hashes and checks passwords with argon2id. Every hash and check goes
// through one process-wide gate, so a flood of sign-ins cannot take more memory or CPU
// than the gate allows.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The parameters follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane); they are
// stored with each hash, so raising them later still verifies old hashes.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// ErrMismatch is returned by Check when the password is wrong.
var ErrMismatch = errors.New("password does not match")

// Hash returns an encoded argon2id hash of pw with a fresh random salt. It returns
// ErrBusy when the gate stays full for MaxWait.
func Hash(pw string) (string, error) {
	return defaultGate.hash(pw)
}

// Check reports whether pw matches the encoded hash: nil when it does, ErrMismatch when
// it does not, ErrBusy when the gate stays full for MaxWait, another error when the hash
// is malformed.
func Check(encoded, pw string) error {
	return defaultGate.check(encoded, pw)
}

// Unmatchable returns an encoded hash, with the current parameters, that no known
// password matches: its key is random bytes rather than the hash of anything. Checking
// a password against it costs what a real check costs, which is what sign-in needs when
// an address has no account, so that response times do not tell which addresses do.
var Unmatchable = sync.OnceValue(func() string {
	b := make([]byte, saltLen+keyLen)
	rand.Read(b)
	return encode(memoryKiB, passes, lanes, b[:saltLen], b[saltLen:])
})

func (g *gate) hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	var key []byte
	if err := g.run(func() { key = argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen) }); err != nil {
		return "", err
	}
	return encode(memoryKiB, passes, lanes, salt, key), nil
}

func encode(m, t uint32, p uint8, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func (g *gate) check(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password hash: unknown format")
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password hash: unsupported version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return errors.New("password hash: bad parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return errors.New("password hash: bad key")
	}
	var got []byte
	if err := g.run(func() { got = argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want))) }); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
