package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files of a demo data folder, besides Winnow's database and uploads.
const (
	// demoMarkerFile says the folder is a demo's: --reset deletes only such folders.
	demoMarkerFile   = "WINNOW-DEMO.txt"
	demoKeyFile      = "secret-key"         // WINNOW_SECRET_KEY of the demo, mode 0600
	demoPasswordFile = "admin-password"     // the admin's password, reprinted each run, mode 0600
	demoSandboxFile  = "lever-sandbox.json" // the Lever sandbox's state
	demoJobFile      = "sample-job-id"      // the ID of the sample job the walkthrough names
)

const demoMarkerText = `This folder holds the data of "winnow demo": a SQLite database, uploads, the
demo's secret key, the admin's password and the Lever sandbox's state.
"winnow demo --reset" deletes it. Do not use it for anything else.
`

// prepareDemoDir makes the data folder a demo folder, deleting it first when reset is
// set, and reports whether it held an earlier run's data. A folder with files but no
// marker is refused either way: it may be someone's real data.
func prepareDemoDir(dir string, reset bool) (reused bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("data folder: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarkerFile)); err != nil {
			return false, fmt.Errorf("%s is not a demo folder (it has files but no %s), so winnow demo will neither use nor delete it: "+
				"choose another with --data", dir, demoMarkerFile)
		}
		if !reset {
			return true, nil
		}
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("data folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, demoMarkerFile), []byte(demoMarkerText), 0o644); err != nil {
		return false, fmt.Errorf("data folder: %w", err)
	}
	return false, nil
}

// demoSecret returns the secret kept in path, first writing a new one of n random
// bytes (as hex) readable by the owner only.
func demoSecret(path string, n int) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 2*n {
			return "", fmt.Errorf("%s holds %d characters, fewer than %d: delete it or use --reset", path, len(s), 2*n)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, n)
	rand.Read(raw)
	s := hex.EncodeToString(raw)
	// O_EXCL: two demos started at once on one folder must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}
