// Package filestore keeps the files candidates upload on disk, under one folder
// (DATA_DIR/uploads). Files are streamed through a temporary file and renamed into
// place only once complete, so a failed or refused upload leaves nothing behind and no
// upload is ever held whole in memory. Every access goes through an os.Root, so no
// stored path can reach outside the folder.
package filestore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// tmpDir is the folder, inside the root, where uploads are written until they are kept.
// It is on the same file system as their final place, so keeping one is a rename.
const tmpDir = ".tmp"

// staleAfter is how old a temporary file left by a crash must be before Open removes it.
const staleAfter = 24 * time.Hour

// ErrTooLarge is returned by Receive when the source holds more than the limit.
var ErrTooLarge = errors.New("file too large")

// Store is a folder of uploaded files.
type Store struct {
	dir  string
	root *os.Root
}

// Open returns the store of the folder dir, creating it if needed, and removes
// temporary files that a crashed process left there more than a day ago.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create uploads folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open uploads folder: %w", err)
	}
	if err := root.MkdirAll(tmpDir, 0o700); err != nil {
		root.Close()
		return nil, fmt.Errorf("create uploads temp folder: %w", err)
	}
	s := &Store{dir: dir, root: root}
	s.RemoveStaleTemp(time.Now().Add(-staleAfter))
	return s, nil
}

// Dir returns the folder the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

// Close releases the folder.
func (s *Store) Close() error { return s.root.Close() }

// RemoveStaleTemp deletes temporary files last written before cutoff: files of
// uploads that a crashed process never finished. It is best effort: a file it cannot
// remove now is tried again next time.
func (s *Store) RemoveStaleTemp(cutoff time.Time) {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			s.root.Remove(path.Join(tmpDir, e.Name()))
		}
	}
}

// NewPath returns a new, unused-looking path for a file of the applicant, relative to
// the folder: org/applicant/random. The random part makes it unguessable and unique.
func NewPath(orgID, applicantID string) string {
	return safeSegment(orgID) + "/" + safeSegment(applicantID) + "/" + randomName()
}

// safeSegment keeps IDs usable as one folder name; anything else becomes "_".
func safeSegment(id string) string {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`+"\x00") {
		return "_"
	}
	return id
}

func randomName() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Pending is a file being received: written to a temporary file, not yet in its place.
// Exactly one of Keep and Discard ends it; Discard after Keep does nothing.
type Pending struct {
	s    *Store
	f    *os.File
	tmp  string // relative to the root
	done bool
	// Size is the number of bytes received.
	Size int64
}

// Receive streams src into a new temporary file, copying at most limit bytes through
// a small buffer. A source longer than limit gives ErrTooLarge; any failure removes the
// temporary file, so nothing is left behind.
func (s *Store) Receive(src io.Reader, limit int64) (*Pending, error) {
	tmp := path.Join(tmpDir, randomName())
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create temp file: %w", err)
	}
	p := &Pending{s: s, f: f, tmp: tmp}
	// One byte more than the limit tells a file of exactly limit bytes from a longer one.
	n, err := io.Copy(f, io.LimitReader(src, limit+1))
	p.Size = n
	switch {
	case err != nil:
		p.Discard()
		return nil, fmt.Errorf("receive file: %w", err)
	case n > limit:
		p.Discard()
		return nil, ErrTooLarge
	}
	return p, nil
}

// Keep makes the file durable and moves it to rel, a path from NewPath, creating its
// folders. After a failure the temporary file is gone.
func (p *Pending) Keep(rel string) error {
	if p.done {
		return errors.New("keep upload: already kept or discarded")
	}
	p.done = true
	defer p.s.root.Remove(p.tmp) // only left when something failed
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return fmt.Errorf("sync upload: %w", err)
	}
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("close upload: %w", err)
	}
	dir := path.Dir(rel)
	if err := p.s.root.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create upload folder: %w", err)
	}
	if err := p.s.root.Rename(p.tmp, rel); err != nil {
		return fmt.Errorf("move upload into place: %w", err)
	}
	// The rename is durable only once the folder holding the new name is synced.
	if d, err := p.s.root.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Discard removes the temporary file.
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	p.s.root.Remove(p.tmp)
}

// Walk calls fn with the path (relative to the folder, as NewPath makes them) and the
// last write time of every kept file, temporary files left out. An error from fn stops
// the walk and is returned; a file removed meanwhile is skipped.
func (s *Store) Walk(fn func(rel string, modTime time.Time) error) error {
	return fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return fmt.Errorf("walk uploads: %w", err)
		case d.IsDir() && p == tmpDir:
			return fs.SkipDir
		case d.IsDir() || !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walk uploads: %w", err)
		}
		return fn(p, info.ModTime())
	})
}

// Remove deletes the kept file at rel; a file that is already gone is not an error.
// It undoes Keep when recording the upload fails, and removes files that no upload
// names any more.
func (s *Store) Remove(rel string) error {
	if err := s.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove upload: %w", err)
	}
	return nil
}
