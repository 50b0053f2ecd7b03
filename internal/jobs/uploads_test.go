package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/filestore"
)

// keepFile writes a file of the applicant into the uploads bucket, last written at
// mod, and returns its path.
func (h *harness) keepFile(a *winnow.Applicant, mod time.Time) string {
	h.t.Helper()
	if h.s3 != nil {
		h.s3.SetTime(mod)
		defer h.s3.SetTime(time.Time{})
	}
	rel := filestore.NewPath(a.OrgID, a.ID)
	p, err := h.files.Receive(h.ctx, rel, "video/webm", strings.NewReader("a video"), 1<<20)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := p.Keep(); err != nil {
		h.t.Fatal(err)
	}
	if h.dir != "" {
		if err := os.Chtimes(filepath.Join(h.dir, filepath.FromSlash(rel)), mod, mod); err != nil {
			h.t.Fatal(err)
		}
	}
	return rel
}

// record writes the upload row of the file at rel, for the applicant's item.
func (h *harness) record(a *winnow.Applicant, item, rel string) *winnow.Upload {
	h.t.Helper()
	u := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_video", Item: item, Name: "take.webm",
		ContentType: "video/webm", Size: 7, Path: rel}
	if err := h.store.CreateUpload(h.ctx, u, 0); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// uploadRows counts the applicant's upload rows.
func (h *harness) uploadRows(a *winnow.Applicant) int {
	h.t.Helper()
	var n int
	if err := h.db.SQL().QueryRowContext(h.ctx, `SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND applicant_id = $2`,
		a.OrgID, a.ID).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// onDisk reports which of paths are still in the uploads bucket.
func (h *harness) onDisk(paths ...string) map[string]bool {
	h.t.Helper()
	out := map[string]bool{}
	for _, p := range paths {
		ok, err := h.files.Exists(h.ctx, p)
		if err != nil {
			h.t.Fatal(err)
		}
		if ok {
			out[p] = true
		}
	}
	return out
}

// bucketKinds runs fn per engine and per kind of uploads bucket (a folder, S3), as
// parallel subtests named for both ("sqlite/folder", "postgres/s3").
func bucketKinds(t *testing.T, fn func(t *testing.T, e dbtest.Engine, kind string)) {
	t.Helper()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		for _, kind := range []string{"folder", "s3"} {
			t.Run(kind, func(t *testing.T) {
				t.Parallel()
				fn(t, e, kind)
			})
		}
	})
}

// started invites a candidate and starts their application.
func (h *harness) started(name, email string) *winnow.Applicant {
	h.t.Helper()
	a := h.invite(name, email)
	h.transition(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
	return a
}

// sweep runs the upload sweep through River and waits for it to complete.
func (h *harness) sweep() {
	h.t.Helper()
	res, err := h.client.Insert(h.ctx, SweepUploadsArgs{}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitIdle()
	job, err := h.client.JobGet(h.ctx, res.Job.ID)
	if err != nil || job.State != rivertype.JobStateCompleted {
		h.t.Fatalf("sweep job: %+v, %v", job, err)
	}
}

// TestUploadSweep runs the periodic upload sweep through River: a file that no row
// names goes once it is a day old, and a younger one stays (an upload in flight has
// its file before its row); a row that no answer names goes, with its file, once it is
// a day old; what an answer names stays, however old.
func TestUploadSweep(t *testing.T) {
	t.Parallel()
	bucketKinds(t, func(t *testing.T, e dbtest.Engine, kind string) {
		h := newHarnessFiles(t, e.URL(t), true, kind)
		a := h.started("Ada Lovelace", "ada@example.com")
		now := h.clock.Now()
		old := now.Add(-OrphanUploadAge - time.Hour)

		answered := h.keepFile(a, old)
		u := h.record(a, winnow.PromptItem(0), answered)
		if _, err := h.store.SaveStepAnswer(h.ctx, &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_video",
			Files: map[string]string{winnow.PromptItem(0): u.ID}}); err != nil {
			t.Fatal(err)
		}
		unnamed := h.keepFile(a, now)
		h.record(a, winnow.PromptItem(1), unnamed) // recorded, but the answer naming it was never saved
		orphan := h.keepFile(a, old)               // written, then the process stopped before the row
		fresh := h.keepFile(a, now)                // an upload in flight, its row not written yet

		h.sweep()
		if got := h.onDisk(answered, unnamed, orphan, fresh); len(got) != 3 || got[orphan] {
			t.Fatalf("after the first sweep on disk: %v; want all but the day-old file without a row %s", got, orphan)
		}
		if n := h.uploadRows(a); n != 2 {
			t.Fatalf("upload rows = %d, want 2 while the unnamed one is younger than a day", n)
		}

		// A day later the unnamed row has aged out, and with it its file; so has the
		// file that was in flight, whose row never came.
		h.clock.Set(now.Add(OrphanUploadAge + time.Hour))
		h.sweep()
		if got := h.onDisk(answered, unnamed, orphan, fresh); len(got) != 1 || !got[answered] {
			t.Fatalf("after a day on disk: %v; want only the answer's file %s", got, answered)
		}
		if n := h.uploadRows(a); n != 1 {
			t.Fatalf("upload rows = %d, want only the answer's", n)
		}
		if got, err := h.store.FindUpload(h.ctx, a.OrgID, u.ID); err != nil || got.Path != answered {
			t.Fatalf("the answer's upload: %+v, %v", got, err)
		}
	})
}

// TestUploadSweepConcurrent runs several sweeps at once over many leftovers, as several
// processes might: none fails, every row is deleted by exactly one of them, every
// leftover file goes and the answer's file stays.
func TestUploadSweepConcurrent(t *testing.T) {
	t.Parallel()
	bucketKinds(t, func(t *testing.T, e dbtest.Engine, kind string) {
		h := newHarnessFiles(t, e.URL(t), true, kind)
		a := h.started("Ada Lovelace", "ada@example.com")
		now := h.clock.Now()
		old := now.Add(-OrphanUploadAge - time.Hour)
		answered := h.keepFile(a, old)
		u := h.record(a, winnow.PromptItem(0), answered)
		if _, err := h.store.SaveStepAnswer(h.ctx, &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_video",
			Files: map[string]string{winnow.PromptItem(0): u.ID}}); err != nil {
			t.Fatal(err)
		}
		var leftovers []string
		for i := range 40 {
			rel := h.keepFile(a, old)
			if i%2 == 0 {
				h.record(a, winnow.PromptItem(1), rel)
			}
			leftovers = append(leftovers, rel)
		}
		h.clock.Set(now.Add(OrphanUploadAge + time.Hour))

		const n = 4
		rows := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				rows[i], _, errs[i] = sweepUploads(h.ctx, h.store, h.files, h.clock.Now().Add(-OrphanUploadAge))
			})
		}
		wg.Wait()
		total := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("sweep %d: %v", i, errs[i])
			}
			total += rows[i]
		}
		if total != 20 {
			t.Fatalf("the sweeps deleted %d rows between them, want each of the 20 once", total)
		}
		if got := h.onDisk(append(leftovers, answered)...); len(got) != 1 || !got[answered] {
			t.Fatalf("on disk after the sweeps: %d files; want only the answer's", len(got))
		}
	})
}

// TestUploadSweepIsPeriodic checks that a working client schedules the sweep.
func TestUploadSweepIsPeriodic(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), true)
		c, err := NewClient(h.db.RiverDriver(), h.deps)
		if err != nil {
			t.Fatal(err)
		}
		if !c.PeriodicJobs().RemoveByID("uploads_sweep") {
			t.Fatal("the client has no periodic upload sweep")
		}
	})
}

// TestUploadSweepLeftoverTemp checks that the sweep removes, once a day old, the
// temporary files a crashed process left in an uploads folder: those of the folder
// store before uploads went through buckets (.tmp/…) and those of the folder bucket
// (path.<hex>.tmp), and leaves a temporary file being written now.
func TestUploadSweepLeftoverTemp(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), true)
		a := h.started("Ada Lovelace", "ada@example.com")
		now := h.clock.Now()
		old := now.Add(-OrphanUploadAge - time.Hour)
		write := func(rel string, mod time.Time) string {
			t.Helper()
			p := filepath.Join(h.dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("half a video"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, mod, mod); err != nil {
				t.Fatal(err)
			}
			return rel
		}
		base := filestore.NewPath(a.OrgID, a.ID)
		earlier := write(".tmp/0123456789abcdef", old)
		crashed := write(base+".18a2b3c4d5e6f708.tmp", old)
		writing := write(base+".18a2b3c4d5e6f709.tmp", now)
		h.sweep()
		if got := h.onDisk(earlier, crashed, writing); len(got) != 1 || !got[writing] {
			t.Fatalf("after the sweep on disk: %v; want only the file being written, %s", got, writing)
		}
	})
}
