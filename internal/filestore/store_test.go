package filestore_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/filestore"
	"winnow/internal/filestore/fakes3"
)

// bucket is a store of one kind under test with what the tests need to see inside it.
type bucket struct {
	*filestore.Store
	dir string         // the folder of a folder bucket; empty for S3
	s3  *fakes3.Server // the server of an S3 bucket
	t   testing.TB
}

// kinds are the two kinds of bucket uploads go to: a folder (the default) and S3.
var kinds = []string{"folder", "s3"}

// forKinds runs fn as a parallel subtest per kind of bucket, on a fresh bucket.
func forKinds(t *testing.T, fn func(t *testing.T, b *bucket)) {
	t.Helper()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, mustBucket(t, kind))
		})
	}
}

// mustBucket opens a fresh bucket of kind, closed when the test ends.
func mustBucket(t testing.TB, kind string) *bucket {
	t.Helper()
	b := &bucket{t: t}
	var u string
	switch kind {
	case "folder":
		b.dir = filepath.Join(t.TempDir(), "uploads")
		var err error
		if u, err = filestore.FolderURL(b.dir); err != nil {
			t.Fatal(err)
		}
	case "s3":
		b.s3 = fakes3.Start(t)
		u = b.s3.URL
	}
	s, err := filestore.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { s.Close() })
	b.Store = s
	return b
}

// keep stores data at rel, written at at (the zero time: now), and returns rel.
func (b *bucket) keep(rel, data string, at time.Time) string {
	b.t.Helper()
	if b.s3 != nil && !at.IsZero() {
		b.s3.SetTime(at)
		defer b.s3.SetTime(time.Time{})
	}
	p, err := b.Receive(context.Background(), rel, "text/plain", strings.NewReader(data), 1<<20)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := p.Keep(); err != nil {
		b.t.Fatal(err)
	}
	if b.dir != "" && !at.IsZero() {
		if err := os.Chtimes(filepath.Join(b.dir, filepath.FromSlash(rel)), at, at); err != nil {
			b.t.Fatal(err)
		}
	}
	return rel
}

// listed returns the paths Walk lists with their write times.
func (b *bucket) listed() map[string]time.Time {
	b.t.Helper()
	got := map[string]time.Time{}
	if err := b.Walk(context.Background(), func(rel string, mod time.Time) error { got[rel] = mod; return nil }); err != nil {
		b.t.Fatal(err)
	}
	return got
}

// read returns the file at rel as ServeUpload sends it, or an error when there is none.
func (b *bucket) read(rel string) (string, error) {
	b.t.Helper()
	w := httptest.NewRecorder()
	if err := b.ServeUpload(w, httptest.NewRequest("GET", "/", nil), &winnow.Upload{Path: rel, Name: "f"}, false); err != nil {
		return "", err
	}
	return w.Body.String(), nil
}

// onDisk lists every regular file under a folder bucket, relative to it, temporary
// files included; nil for S3.
func (b *bucket) onDisk() []string {
	b.t.Helper()
	if b.dir == "" {
		return nil
	}
	var out []string
	err := filepath.WalkDir(b.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(b.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		b.t.Fatal(err)
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
		{"larger than an S3 part", strings.Repeat("0123456789abcdef", 400_000), 8 << 20, true, nil},
		{"larger than an S3 part, discarded", strings.Repeat("0123456789abcdef", 400_000), 8 << 20, false, nil},
		{"too large after an S3 part", strings.Repeat("0123456789abcdef", 400_000), 6 << 20, false, filestore.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forKinds(t, func(t *testing.T, b *bucket) {
				ctx := context.Background()
				rel := filestore.NewPath("org-1", "app-1")
				p, err := b.Receive(ctx, rel, "text/plain", strings.NewReader(tt.data), tt.limit)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Receive error = %v, want %v", err, tt.wantErr)
				}
				if err != nil {
					if got, disk := b.listed(), b.onDisk(); len(got) != 0 || len(disk) != 0 {
						t.Fatalf("a refused file left %v %v", got, disk)
					}
					return
				}
				if p.Size != int64(len(tt.data)) || p.Path != rel {
					t.Fatalf("Size = %d, Path = %s; want %d, %s", p.Size, p.Path, len(tt.data), rel)
				}
				if ok, _ := b.Exists(ctx, rel); ok {
					t.Fatal("a file not kept yet is visible")
				}
				if !tt.keep {
					p.Discard()
					p.Discard() // twice is harmless
					if got, disk := b.listed(), b.onDisk(); len(got) != 0 || len(disk) != 0 {
						t.Fatalf("a discarded file left %v %v", got, disk)
					}
					return
				}
				if err := p.Keep(); err != nil {
					t.Fatalf("keep: %v", err)
				}
				p.Discard() // after Keep it does nothing
				if got := b.listed(); len(got) != 1 || got[rel].IsZero() {
					t.Fatalf("listed %v, want only %s", got, rel)
				}
				if disk := b.onDisk(); b.dir != "" && !slices.Equal(disk, []string{rel}) {
					t.Fatalf("on disk %v, want only %s", disk, rel)
				}
				if got, err := b.read(rel); err != nil || got != tt.data {
					t.Fatalf("kept file = %d bytes, %v", len(got), err)
				}
				if err := p.Keep(); err == nil {
					t.Fatal("Keep twice succeeded")
				}
				if err := b.Remove(ctx, rel); err != nil {
					t.Fatal(err)
				}
				if err := b.Remove(ctx, rel); err != nil {
					t.Fatalf("removing a missing file: %v", err)
				}
				if got := b.listed(); len(got) != 0 {
					t.Fatalf("after remove: %v", got)
				}
			})
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
	forKinds(t, func(t *testing.T, b *bucket) {
		rel := filestore.NewPath("o", "a")
		if _, err := b.Receive(context.Background(), rel, "", &failingReader{n: 6 << 20}, 10<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error = %v, want the reader's", err)
		}
		if got, disk := b.listed(), b.onDisk(); len(got) != 0 || len(disk) != 0 {
			t.Fatalf("left %v %v, want nothing", got, disk)
		}
	})
}

// TestReceiveEndsWithContext checks that an upload whose request ends (the client
// went away) is abandoned and never becomes visible.
func TestReceiveEndsWithContext(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, b *bucket) {
		ctx, cancel := context.WithCancel(context.Background())
		rel := filestore.NewPath("o", "a")
		p, err := b.Receive(ctx, rel, "", strings.NewReader("half of it"), 100)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := p.Keep(); err == nil {
			t.Fatal("kept an upload whose request had ended")
		}
		if got, disk := b.listed(), b.onDisk(); len(got) != 0 || len(disk) != 0 {
			t.Fatalf("left %v %v, want nothing", got, disk)
		}
	})
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
// received, except that a folder bucket lists their temporary files, with the time
// they are being written (now), which the sweep leaves alone.
func TestWalk(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, b *bucket) {
		old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
		a := b.keep(filestore.NewPath("org", "ada"), "data", old)
		bob := b.keep(filestore.NewPath("org", "bob"), "data", time.Time{})
		pending, err := b.Receive(context.Background(), filestore.NewPath("org", "cy"), "", strings.NewReader("in flight"), 100)
		if err != nil {
			t.Fatal(err)
		}
		defer pending.Discard()
		got := b.listed()
		if !got[a].Equal(old) || got[bob].Before(old.Add(24*time.Hour)) {
			t.Fatalf("walked %v, want %s written %v and %s written now", got, a, old, bob)
		}
		for rel, mod := range got {
			if rel != a && rel != bob && (b.dir == "" || !strings.HasPrefix(rel, pending.Path+".") || mod.Before(old.Add(24*time.Hour))) {
				t.Fatalf("walked %s (written %v), a file not kept", rel, mod)
			}
		}
		stop := errors.New("stop")
		if err := b.Walk(context.Background(), func(string, time.Time) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("walk returned %v, want the callback's error", err)
		}
	})
}

// TestFolderKeepsEarlierFiles checks that files the folder store wrote before uploads
// went through buckets (org/applicant/random, no metadata beside them) are read and
// listed where they are, and that the store adds nothing but the files themselves,
// readable by this user only.
func TestFolderKeepsEarlierFiles(t *testing.T) {
	t.Parallel()
	b := mustBucket(t, "folder")
	earlier := filestore.NewPath("org", "ada")
	if err := os.MkdirAll(filepath.Join(b.dir, filepath.Dir(filepath.FromSlash(earlier))), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, filepath.FromSlash(earlier)), []byte("stored before"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := b.keep(filestore.NewPath("org", "bob"), "stored now", time.Time{})
	if got := b.listed(); len(got) != 2 || got[earlier].IsZero() || got[now].IsZero() {
		t.Fatalf("listed %v", got)
	}
	if got, err := b.read(earlier); err != nil || got != "stored before" {
		t.Fatalf("earlier file: %q, %v", got, err)
	}
	if disk := b.onDisk(); len(disk) != 2 {
		t.Fatalf("on disk %v: want the two files and nothing beside them", disk)
	}
	st, err := os.Stat(filepath.Join(b.dir, filepath.FromSlash(now)))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kept file mode %v, %v; want 0600", st.Mode(), err)
	}
	st, err = os.Stat(filepath.Join(b.dir, "org", "bob"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v, %v; want 0700", st.Mode(), err)
	}
}

func TestOpenRefusesBadURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url string }{
		{"unknown scheme", "ftp://example.com/uploads"},
		{"missing bucket", "s3://no-such-bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true&anonymous=true&disable_https=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if s, err := filestore.Open(ctx, tt.url); err == nil {
				s.Close()
				t.Fatal("opened")
			} else if strings.Contains(err.Error(), "endpoint=") {
				t.Fatalf("the error shows the URL's query: %v", err)
			}
		})
	}
}
