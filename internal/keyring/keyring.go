// Package keyring derives Winnow's keys from WINNOW_SECRET_KEY: one to encrypt secrets
// at rest (AES-256-GCM) and one to hash bearer tokens (HMAC-SHA256), so the database
// alone never yields a usable token or a plaintext secret.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Keyring holds the derived keys. It is safe for concurrent use.
type Keyring struct {
	aead    cipher.AEAD
	hashKey []byte
}

// New derives the keys from secret, which must be at least 32 bytes.
func New(secret string) (*Keyring, error) {
	if len(secret) < 32 {
		return nil, errors.New("secret key must be at least 32 characters")
	}
	encKey := derive(secret, "winnow encryption v1")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &Keyring{aead: aead, hashKey: derive(secret, "winnow token hash v1")}, nil
}

func derive(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Seal encrypts plaintext and returns base64 text holding nonce and ciphertext.
func (k *Keyring) Seal(plaintext string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned. It fails when the text was changed or sealed with
// another secret key.
func (k *Keyring) Open(sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	n := k.aead.NonceSize()
	if len(raw) < n+k.aead.Overhead() {
		return "", errors.New("open secret: too short")
	}
	pt, err := k.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("open secret: wrong key or tampered data")
	}
	return string(pt), nil
}

// Hash returns the hex HMAC of a bearer token (session cookie, invite link, API token),
// the form in which such tokens are stored and looked up.
func (k *Keyring) Hash(token string) string {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Token returns a new random bearer token: 32 bytes, URL-safe base64.
func Token() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("keyring: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
