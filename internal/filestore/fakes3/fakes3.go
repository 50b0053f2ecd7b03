// Package fakes3 runs an S3 server in the test's process (gofakes3 with its in-memory
// backend, on httptest, on 127.0.0.1), so that tests store uploads over the S3
// protocol as production does against a real bucket. Only tests import it.
package fakes3

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Bucket is the name of the bucket a Server holds.
const Bucket = "winnow-uploads"

// Server is one in-process S3 server with one bucket, Bucket.
type Server struct {
	// URL is the bucket's URL for filestore.Open and WINNOW_BLOB_URL.
	URL   string
	clock *Clock
}

// Start starts a server with an empty bucket and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	clock := &Clock{}
	backend := s3mem.New(s3mem.WithTimeSource(clock))
	if err := backend.CreateBucket(Bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	// No credentials: the fake server does not check signatures, and anonymous
	// requests keep tests off the machine's AWS settings.
	q := url.Values{"region": {"us-east-1"}, "endpoint": {srv.URL}, "use_path_style": {"true"},
		"anonymous": {"true"}, "disable_https": {"true"}}
	return &Server{URL: "s3://" + Bucket + "?" + q.Encode(), clock: clock}
}

// SetTime makes the server stamp objects written from now on with at, as their last
// modification, so that tests can make files look old; the zero time is the wall
// clock again.
func (s *Server) SetTime(at time.Time) { s.clock.set(at) }

// Clock is the time the server stamps objects with: the wall clock, or a time set.
type Clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *Clock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// Now returns the time set, or the wall clock's.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now().UTC()
	}
	return c.at
}

// Since returns how long ago t was by Now.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Sink is an S3 server that takes uploads, one part at a time or whole, and keeps only
// their sizes: a bucket for measuring the memory an upload costs the uploading process,
// which an in-memory S3 server in the same process would hide under its own.
type Sink struct {
	// URL is the bucket's URL for filestore.Open and WINNOW_BLOB_URL.
	URL   string
	mu    sync.Mutex
	sizes map[string]int64 // key → bytes, once complete
	parts map[string]int64 // upload ID → bytes so far
}

// StartSink starts a Sink and stops it when the test ends.
func StartSink(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{sizes: map[string]int64{}, parts: map[string]int64{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	q := url.Values{"region": {"us-east-1"}, "endpoint": {srv.URL}, "use_path_style": {"true"},
		"anonymous": {"true"}, "disable_https": {"true"}}
	s.URL = "s3://" + Bucket + "?" + q.Encode()
	return s
}

// Size returns the size of the object at key, and false when there is none.
func (s *Sink) Size(key string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.sizes[key]
	return n, ok
}

// serve answers the few S3 calls an upload makes: listing (to check the bucket),
// PutObject, and the multipart upload's create, part, complete and abort.
func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+Bucket), "/")
	q := r.URL.Query()
	xml := func(body string) {
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+body)
	}
	size := func() int64 {
		n, _ := io.Copy(io.Discard, r.Body)
		if d, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil {
			return d // aws-chunked: n counts the chunk headers too
		}
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case key == "" && r.Method == http.MethodGet:
		xml(`<ListBucketResult><Name>` + Bucket + `</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
	case r.Method == http.MethodPost && q.Has("uploads"):
		id := strconv.Itoa(len(s.parts)+1) + "-" + key
		s.parts[id] = 0
		xml(`<InitiateMultipartUploadResult><Bucket>` + Bucket + `</Bucket><Key>` + key + `</Key><UploadId>` + id + `</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Has("uploadId"):
		s.parts[q.Get("uploadId")] += size()
		w.Header().Set("ETag", `"part-`+q.Get("partNumber")+`"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		io.Copy(io.Discard, r.Body)
		s.sizes[key] = s.parts[q.Get("uploadId")]
		delete(s.parts, q.Get("uploadId"))
		xml(`<CompleteMultipartUploadResult><Bucket>` + Bucket + `</Bucket><Key>` + key + `</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`)
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		delete(s.parts, q.Get("uploadId"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut:
		s.sizes[key] = size()
		w.Header().Set("ETag", `"whole"`)
	default:
		http.Error(w, "not supported by the sink", http.StatusNotImplemented)
	}
}
