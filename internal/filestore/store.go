// Package filestore keeps the files candidates upload in a bucket of gocloud.dev/blob:
// by default a folder (DATA_DIR/uploads, a file:// URL), or an S3 bucket that web
// processes on several machines share (an s3:// URL). Files stream in and out through
// small buffers and are never held whole in memory. An upload becomes visible under
// its path only once it is complete and kept, so a failed or refused upload leaves
// nothing behind.
package filestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs
	"gocloud.dev/gcerrors"
)

// ErrTooLarge is returned by Receive when the source holds more than the limit.
var ErrTooLarge = errors.New("file too large")

// partSize is how much of an upload to S3 is buffered before it is sent as one part of
// a multipart upload: S3's smallest part, so that an upload in flight holds a few
// parts' worth of memory at most (see s3upload.go). 5 MiB parts allow files up to S3's
// 10,000 parts, 48 GiB: far above any upload limit.
const partSize = 5 << 20

// maxConcurrentParts is how many parts of one upload are sent to S3 at once.
const maxConcurrentParts = 1

// copyBuffer is the buffer each upload streams through.
const copyBuffer = 32 << 10

// Store is the bucket of uploaded files.
type Store struct {
	bucket *blob.Bucket
	// dir is the folder of a file:// bucket, whose files and folders are synced to
	// disk when kept; empty for other buckets.
	dir string
	// s3 writes the files of an s3:// bucket (see s3upload.go); nil for other buckets.
	s3 *s3Uploads
}

// FolderURL returns the file:// URL of the folder dir as Open needs it for uploads:
// created if missing, with folders only the process's user may open, no metadata files
// beside the uploads, and each upload written in its own folder until it is complete.
// Files stored under dir before uploads went through URLs stay where they are and are
// read as before.
func FolderURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("uploads folder: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1&dir_file_mode=0700&metadata=skip&no_tmp_dir=1"}
	return u.String(), nil
}

// Open opens the bucket at rawURL: file:///path for a folder (see FolderURL) or
// s3://bucket?region=…, with &endpoint=…&use_path_style=true for S3-compatible stores;
// S3 credentials come from the usual AWS environment (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, a profile, or the machine's role).
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("uploads URL does not parse")
	}
	s := &Store{}
	if u.Scheme == "file" {
		s.dir = filepath.FromSlash(u.Path)
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open uploads bucket %s: %w", redactURL(rawURL), err)
	}
	// Refuse at start, not at the first upload, a bucket that cannot be reached.
	if ok, err := b.IsAccessible(ctx); err != nil || !ok {
		b.Close()
		if err == nil {
			err = errors.New("no such bucket")
		}
		return nil, fmt.Errorf("open uploads bucket %s: %w", redactURL(rawURL), err)
	}
	if u.Scheme == "s3" {
		if s.s3, err = newS3Uploads(b, u); err != nil {
			b.Close()
			return nil, fmt.Errorf("open uploads bucket %s: %w", redactURL(rawURL), err)
		}
	}
	s.bucket = b
	return s, nil
}

// redactURL returns the bucket URL without its query, which may name credentials
// (an S3 profile or role), for logs and errors.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(malformed URL)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// NewPath returns a new, unused-looking path for a file of the applicant:
// org/applicant/random. The random part makes it unguessable and unique.
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

// Pending is a file being received: written to the bucket but not yet visible under
// its path. Exactly one of Keep and Discard ends it; Discard after Keep does nothing.
type Pending struct {
	w    objectWriter
	done bool
	// Path is where the file will be once kept.
	Path string
	// Size is the number of bytes received.
	Size int64
}

// objectWriter is a file being written to a bucket.
type objectWriter interface {
	io.Writer
	// finish makes the file durable and visible; after a failure nothing is left.
	finish() error
	// abandon drops what was written.
	abandon()
}

// Receive streams src into a new file at rel (a path from NewPath), copying at most
// limit bytes through a small buffer. The file is not visible until Keep. A source
// longer than limit gives ErrTooLarge; any failure discards what was written, so
// nothing is left behind. contentType is stored with the file where the bucket keeps
// it (S3). The write ends with ctx, so receive within the request that sends the file.
func (s *Store) Receive(ctx context.Context, rel, contentType string, src io.Reader, limit int64) (*Pending, error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	p := &Pending{Path: rel}
	if s.s3 != nil {
		p.w = s.s3.start(ctx, rel, contentType)
	} else {
		w, err := s.newBlobWriter(ctx, rel, contentType)
		if err != nil {
			return nil, err
		}
		p.w = w
	}
	// One byte more than the limit tells a file of exactly limit bytes from a longer
	// one. The writer is hidden behind io.Writer so that the copy uses this buffer,
	// not one of the writer's own.
	n, err := io.CopyBuffer(struct{ io.Writer }{p.w}, io.LimitReader(src, limit+1), make([]byte, copyBuffer))
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

// Keep makes the file durable and visible at its Path. After a failure nothing of it
// is left.
func (p *Pending) Keep() error {
	if p.done {
		return errors.New("keep upload: already kept or discarded")
	}
	p.done = true
	if err := p.w.finish(); err != nil {
		return fmt.Errorf("keep upload: %w", err)
	}
	return nil
}

// Discard drops what was received.
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	p.w.abandon()
}

// blobWriter is a file being written through the bucket's own writer: a folder's.
type blobWriter struct {
	w      *blob.Writer
	cancel context.CancelFunc
	file   *os.File // a folder bucket's temporary file, synced before it is renamed
	folder string   // the folder that will hold the file, synced after the rename
}

// newBlobWriter starts writing rel through the bucket's writer.
func (s *Store) newBlobWriter(ctx context.Context, rel, contentType string) (*blobWriter, error) {
	wctx, cancel := context.WithCancel(ctx)
	bw := &blobWriter{cancel: cancel}
	if s.dir != "" {
		bw.folder = filepath.Join(s.dir, filepath.FromSlash(path.Dir(rel)))
	}
	w, err := s.bucket.NewWriter(wctx, rel, &blob.WriterOptions{ContentType: contentType,
		BufferSize: partSize, MaxConcurrency: maxConcurrentParts, BeforeWrite: bw.beforeWrite})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create upload file: %w", err)
	}
	bw.w = w
	return bw, nil
}

// beforeWrite keeps a folder bucket's temporary file, to sync it, and makes it
// readable by this user only, as the folders are.
func (bw *blobWriter) beforeWrite(as func(any) bool) error {
	var f *os.File
	if as(&f) && f != nil {
		bw.file = f
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("restrict upload file: %w", err)
		}
	}
	return nil
}

func (bw *blobWriter) Write(p []byte) (int, error) { return bw.w.Write(p) }

func (bw *blobWriter) finish() error {
	defer bw.cancel()
	if bw.file != nil {
		// The folder bucket renames its temporary file into place on Close; the data
		// must be on disk before the name is.
		if err := bw.file.Sync(); err != nil {
			bw.cancel()
			bw.w.Close()
			return fmt.Errorf("sync upload: %w", err)
		}
	}
	if err := bw.w.Close(); err != nil {
		return err
	}
	if bw.folder != "" {
		// The rename is durable only once the folder holding the new name is synced.
		if d, err := os.Open(bw.folder); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

func (bw *blobWriter) abandon() {
	bw.cancel() // a cancelled write is abandoned, never made visible
	bw.w.Close()
}

// listPage is how many files Walk asks a bucket for at once: S3's largest page.
const listPage = 1000

// Walk calls fn with the path and last write time of every file in the bucket. An
// error from fn stops the walk and is returned. A folder bucket lists the temporary
// files of uploads in flight too (path.<hex>.tmp, written now) and those a crashed
// process left (old), as files no upload names.
func (s *Store) Walk(ctx context.Context, fn func(rel string, modTime time.Time) error) error {
	if s.dir != "" {
		return s.walkFolder(ctx, fn)
	}
	token := blob.FirstPageToken
	for {
		page, next, err := s.bucket.ListPage(ctx, token, listPage, nil)
		if err != nil {
			return fmt.Errorf("list uploads: %w", err)
		}
		for _, obj := range page {
			if obj.IsDir {
				continue
			}
			if err := fn(obj.Key, obj.ModTime); err != nil {
				return err
			}
		}
		if len(next) == 0 {
			return nil
		}
		token = next
	}
}

// walkFolder walks a folder bucket's folder itself. The folder bucket's own listing
// fails a whole page when a file it found is gone before it reads the file's time,
// which happens whenever an upload is renamed into place or another sweep removes a
// file meanwhile; this walk skips such a file. Metadata files that a file:// URL
// without metadata=skip keeps beside the uploads are not uploads.
func (s *Store) walkFolder(ctx context.Context, fn func(rel string, modTime time.Time) error) error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return fmt.Errorf("list uploads: %w", err)
		case ctx.Err() != nil:
			return ctx.Err()
		case !d.Type().IsRegular() || strings.HasSuffix(p, ".attrs"):
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list uploads: %w", err)
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return fmt.Errorf("list uploads: %w", err)
		}
		return fn(filepath.ToSlash(rel), info.ModTime())
	})
}

// Exists reports whether a file is kept at rel.
func (s *Store) Exists(ctx context.Context, rel string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, rel)
	if err != nil {
		return false, fmt.Errorf("look up upload: %w", err)
	}
	return ok, nil
}

// Remove deletes the file at rel; a file that is already gone is not an error. It
// undoes Keep when recording the upload fails, and removes files that no upload names
// any more.
func (s *Store) Remove(ctx context.Context, rel string) error {
	if err := s.bucket.Delete(ctx, rel); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("remove upload: %w", err)
	}
	return nil
}
