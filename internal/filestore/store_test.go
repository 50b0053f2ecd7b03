package filestore_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/filestore"
)

// MustOpen opens a store on a fresh folder.
func MustOpen(t *testing.T) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReceiveKeepDiscard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		limit   int64
		keep    bool
		wantErr error
	}{
		{"kept", "hello, world", 100, true, nil},
		{"exactly the limit", "12345", 5, true, nil},
		{"discarded", "not wanted", 100, false, nil},
		{"one byte too many", "123456", 5, false, filestore.ErrTooLarge},
		{"empty", "", 5, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := MustOpen(t)
			p, err := s.Receive(strings.NewReader(tt.data), tt.limit)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Receive error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got := files(t, s.Dir()); len(got) != 0 {
					t.Fatalf("a refused file left %v", got)
				}
				return
			}
			if p.Size != int64(len(tt.data)) {
				t.Fatalf("Size = %d, want %d", p.Size, len(tt.data))
			}
			if !tt.keep {
				p.Discard()
				p.Discard() // twice is harmless
				if got := files(t, s.Dir()); len(got) != 0 {
					t.Fatalf("a discarded file left %v", got)
				}
				return
			}
			rel := filestore.NewPath("org-1", "app-1")
			if err := p.Keep(rel); err != nil {
				t.Fatalf("keep: %v", err)
			}
			p.Discard() // after Keep it does nothing
			if got := files(t, s.Dir()); len(got) != 1 || got[0] != rel {
				t.Fatalf("files = %v, want only %s", got, rel)
			}
			b, err := os.ReadFile(filepath.Join(s.Dir(), rel))
			if err != nil || string(b) != tt.data {
				t.Fatalf("kept file = %q, %v", b, err)
			}
			if err := p.Keep(rel + "-again"); err == nil {
				t.Fatal("Keep twice succeeded")
			}
			if err := s.Remove(rel); err != nil {
				t.Fatal(err)
			}
			if err := s.Remove(rel); err != nil {
				t.Fatalf("removing a missing file: %v", err)
			}
		})
	}
}

// failingReader returns some bytes and then an error, like a connection that drops.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		n := min(len(p), r.n)
		r.n -= n
		return n, nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestReceiveFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	if _, err := s.Receive(&failingReader{n: 100_000}, 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error = %v, want the reader's", err)
	}
	if got := files(t, s.Dir()); len(got) != 0 {
		t.Fatalf("files = %v, want none", got)
	}
}

func TestOpenRemovesStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "uploads")
	s, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := s.Receive(bytes.NewReader([]byte("left by a crash")), 100)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.Receive(bytes.NewReader([]byte("still being written")), 100)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = stale, fresh
	tmp := files(t, dir)
	if len(tmp) != 2 {
		t.Fatalf("temp files = %v", tmp)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, tmp[0]), old, old); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := files(t, dir); len(got) != 1 || got[0] != tmp[1] {
		t.Fatalf("after reopening = %v, want only %s", got, tmp[1])
	}
}

func TestNewPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, org, applicant, prefix string
	}{
		{"ids", "o1", "a1", "o1/a1/"},
		{"climbing ids", "..", "../x", "_/_/"},
		{"empty ids", "", "", "_/_/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filestore.NewPath(tt.org, tt.applicant)
			if !strings.HasPrefix(p, tt.prefix) || len(p) != len(tt.prefix)+32 {
				t.Fatalf("NewPath = %q, want %q + 32 hex digits", p, tt.prefix)
			}
			if p == filestore.NewPath(tt.org, tt.applicant) {
				t.Fatal("two paths are the same")
			}
		})
	}
}

// TestWalk lists kept files with their write times and leaves out files still being
// received.
func TestWalk(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	keep := func(rel string) {
		t.Helper()
		p, err := s.Receive(strings.NewReader("data"), 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Keep(rel); err != nil {
			t.Fatal(err)
		}
	}
	a, b := filestore.NewPath("org", "ada"), filestore.NewPath("org", "bob")
	keep(a)
	keep(b)
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(s.Dir(), filepath.FromSlash(a)), old, old); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Receive(strings.NewReader("in flight"), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Discard()
	got := map[string]time.Time{}
	if err := s.Walk(func(rel string, mod time.Time) error { got[rel] = mod; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[a].Equal(old) || got[b].IsZero() {
		t.Fatalf("walked %v, want %s (written %v) and %s", got, a, old, b)
	}
	stop := errors.New("stop")
	if err := s.Walk(func(string, time.Time) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("walk returned %v, want the callback's error", err)
	}
}
