package candidate_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"winnow/internal/dbtest"
	"winnow/internal/filestore/fakes3"

	"winnow"
)

// maxHeapGrowth bounds how much the process's heap may grow while a video streams
// through: a few buffers, never the file. A handler that read the upload into memory
// would exceed it on the 20 MB test already.
const maxHeapGrowth = 16 << 20

// videoOnly is a funnel step with a single prompt.
var videoOnly = winnow.Step{ID: "v", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Hello?"}}}

// heapSampler records the largest heap seen between start and stop, from
// runtime/metrics: live objects and dead ones not yet freed, so garbage counts too.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), peak: heapNow()}
	h.done.Go(func() {
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				h.peak = max(h.peak, heapNow())
			}
		}
	})
	return h
}

// Stop ends sampling and returns the peak.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return max(h.peak, heapNow())
}

// bucketKinds are the buckets the memory test and benchmark upload to: a folder, and
// S3 (a sink that keeps only sizes: an S3 server in the process would hold the files
// in its own heap and hide what uploading costs).
var bucketKinds = []string{"folder", "s3"}

// memEnv is a test world whose uploads go to a bucket of kind, and a function that
// tells the size of a stored file.
func memEnv(tb testing.TB, kind string) (*env, func(rel string) (int64, bool)) {
	tb.Helper()
	if kind == "s3" {
		sink := fakes3.StartSink(tb)
		return newEnvFiles(tb, dbtest.SQLite, sink.URL, nil), sink.Size
	}
	e := newEnv(tb, dbtest.SQLite, nil)
	return e, func(rel string) (int64, bool) {
		st, err := os.Stat(filepath.Join(e.dir, rel))
		if err != nil {
			return 0, false
		}
		return st.Size(), true
	}
}

// uploadVideo streams a video of size bytes (a WebM header, then zeros), generated on
// the fly and never held in memory, through the video step of a new applicant, checks
// that it was stored whole (stored tells the size of a stored file), and returns how
// much the heap grew meanwhile.
func uploadVideo(tb testing.TB, e *env, stored func(rel string) (int64, bool), size int64) uint64 {
	tb.Helper()
	a := e.mustApplicant(videoOnly)
	c := "/c/" + a.Token
	if r := e.post(c+"/start", nil); r.status != http.StatusSeeOther {
		tb.Fatalf("start: %d", r.status)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, err := mw.CreateFormFile(winnow.PromptItem(0), "interview.webm")
		if err == nil {
			_, err = io.Copy(w, sized(webmHead, size))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	runtime.GC()
	base := heapNow()
	sampler := startHeapSampler()
	r := e.do("POST", c+"/steps/v", mw.FormDataContentType(), pr)
	peak := sampler.Stop()
	if r.status != http.StatusSeeOther || r.location != c+"/review" {
		tb.Fatalf("upload: %d %s\n%s", r.status, r.location, r.body)
	}
	ans := e.answers(a)["v"]
	u, err := e.store.FindUpload(tb.Context(), a.OrgID, ans.Files[winnow.PromptItem(0)])
	if err != nil || u.Size != size || u.ContentType != "video/webm" {
		tb.Fatalf("upload row = %+v, %v", u, err)
	}
	if n, ok := stored(u.Path); !ok || n != size {
		tb.Fatalf("stored file: %d bytes (%v), want %d", n, ok, size)
	}
	if peak < base {
		return 0
	}
	return peak - base
}

// TestUploadMemory uploads a 20 MB video to each kind of bucket and checks that the
// heap stays flat. It is not parallel on purpose: it measures the whole process's
// heap, which tests running beside it would move.
func TestUploadMemory(t *testing.T) {
	for _, kind := range bucketKinds {
		t.Run(kind, func(t *testing.T) {
			e, stored := memEnv(t, kind)
			growth := uploadVideo(t, e, stored, 20<<20)
			t.Logf("peak heap growth while uploading 20 MB: %.2f MB", float64(growth)/(1<<20))
			if growth > maxHeapGrowth {
				t.Fatalf("the heap grew by %.1f MB while uploading 20 MB; want under %d MB", float64(growth)/(1<<20), maxHeapGrowth>>20)
			}
		})
	}
}

// BenchmarkUpload200MB uploads a 200 MB video through the video step per iteration,
// to each kind of bucket, and reports the peak heap growth, which must stay under the
// same bound as the test.
// Run it with: go test -run '^$' -bench Upload200MB ./internal/web/candidate/
func BenchmarkUpload200MB(b *testing.B) {
	const size = 200 << 20
	for _, kind := range bucketKinds {
		b.Run(kind, func(b *testing.B) {
			e, stored := memEnv(b, kind)
			b.SetBytes(size)
			var worst uint64
			for b.Loop() {
				worst = max(worst, uploadVideo(b, e, stored, size))
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MB")
			if worst > maxHeapGrowth {
				b.Fatalf("the heap grew by %.1f MB while uploading 200 MB; want under %d MB", float64(worst)/(1<<20), maxHeapGrowth>>20)
			}
		})
	}
}
