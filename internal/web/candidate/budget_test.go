package candidate_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/web/candidate"
)

// TestResaveKeepsOneFile records a video answer ten times, as the recorder's script
// saves each take: every save replaces the one before, so one file and one row are
// left, and the answer names that row. Sending the whole form again replaces both
// prompts' files the same way.
func TestResaveKeepsOneFile(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		a := e.mustApplicant(stepVideo)
		c := "/c/" + a.Token
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s3")
		take := func(prompt int) file {
			return file{winnow.PromptItem(prompt), "take.webm", sized(webmHead, 1000)}
		}
		wantFiles := func(n int) {
			t.Helper()
			var paths []string
			for _, f := range e.diskFiles() {
				if !strings.HasPrefix(f, ".tmp") {
					paths = append(paths, f)
				}
			}
			if len(paths) != n || e.uploadRows(a) != n {
				t.Fatalf("files on disk %v and %d upload rows, want %d of each", paths, e.uploadRows(a), n)
			}
			ans := e.answers(a)["s3"]
			for item, id := range ans.Files {
				u, err := e.store.FindUpload(t.Context(), a.OrgID, id)
				if err != nil || !slices.Contains(paths, u.Path) {
					t.Fatalf("the answer's %s names %s (%v), whose file is not among %v", item, id, err, paths)
				}
			}
		}
		for range 10 {
			wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}}, take(0)), http.StatusNoContent, "")
		}
		wantFiles(1)
		wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}}, take(1)), http.StatusNoContent, "")
		wantFiles(2)
		wantPage(t, e.postMultipart(c+"/steps/s3", nil, take(0), take(1)), http.StatusSeeOther, c+"/review")
		wantFiles(2)
	})
}

// TestUploadBudget fills an applicant's upload budget (the steps' file limits added up,
// twice) with uploads a failed save left behind, and sends more: refused with 413 and a
// page that says why, leaving no file, no row and no answer, whether the body announced
// its length or not. A form that completes the step without a file still goes through.
func TestUploadBudget(t *testing.T) {
	t.Parallel()
	const videoLimit = 64 << 10
	budget := int64(winnow.UploadBudgetFactor * len(stepVideo.Video.Prompts) * videoLimit)
	tests := []struct {
		name    string
		used    int64
		chunked bool
		sizes   []int64 // of the videos sent, for prompts 0, 1, …
		raced   bool    // the form was read before another took the room: only the store's check is left
	}{
		{"budget used up", budget, false, []int64{1000}, false},
		{"file past the room, length announced", budget - 56<<10, false, []int64{60 << 10}, false},
		{"file past the room, streamed", budget - 56<<10, true, []int64{60 << 10}, false},
		{"second file past the room, streamed", budget - 100<<10, true, []int64{60 << 10, 60 << 10}, false},
		{"room taken while the form was read", budget, false, []int64{1000}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
				e := newEnv(t, eng, func(h *candidate.Handler) {
					h.MaxVideoBytes = videoLimit
					if tt.raced {
						h.Answers = staleSums{h.Answers}
					}
				})
				a := e.mustApplicant(stepVideo)
				c := "/c/" + a.Token
				wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s3")
				left := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s3", Item: winnow.PromptItem(0), Name: "lost.webm",
					ContentType: "video/webm", Size: tt.used, Path: a.OrgID + "/" + a.ID + "/left-behind"}
				if err := e.store.CreateUpload(t.Context(), left, 0); err != nil {
					t.Fatal(err)
				}
				var files []file
				for i, n := range tt.sizes {
					files = append(files, file{winnow.PromptItem(i), "take.webm", sized(webmHead, n)})
				}
				r := e.postForm(c+"/steps/s3", url.Values{"intent": {"save"}}, tt.chunked, files...)
				wantPage(t, r, http.StatusRequestEntityTooLarge, "", "There is no room for more files", "at most 256 KB of files",
					`href="`+c+`/steps/s3"`)
				if files := e.diskFiles(); len(files) != 0 {
					t.Fatalf("a refused upload left files: %v", files)
				}
				if n := e.uploadRows(a); n != 1 {
					t.Fatalf("upload rows = %d, want only the one left behind", n)
				}
				if got := e.answers(a); len(got) != 0 {
					t.Fatalf("a refused upload stored an answer: %+v", got)
				}
			})
		})
	}

	t.Run("completing without a file", func(t *testing.T) {
		t.Parallel()
		dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
			e := newEnv(t, eng, func(h *candidate.Handler) { h.MaxVideoBytes = videoLimit })
			a := e.mustApplicant(stepVideo)
			c := "/c/" + a.Token
			wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s3")
			for i := range stepVideo.Video.Prompts {
				wantPage(t, e.postMultipart(c+"/steps/s3", url.Values{"intent": {"save"}},
					file{winnow.PromptItem(i), "a.webm", sized(webmHead, 1000)}), http.StatusNoContent, "")
			}
			left := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s3", Item: winnow.PromptItem(0), Name: "lost.webm",
				ContentType: "video/webm", Size: budget, Path: a.OrgID + "/" + a.ID + "/left-behind"}
			if err := e.store.CreateUpload(t.Context(), left, 0); err != nil {
				t.Fatal(err)
			}
			wantPage(t, e.postMultipart(c+"/steps/s3", nil), http.StatusSeeOther, c+"/review")
		})
	})
}

// staleSums is an answer store whose sums of uploaded bytes are read before anything
// was uploaded, as when several forms arrive at once.
type staleSums struct{ winnow.AnswerService }

func (staleSums) UploadedBytes(context.Context, string, string) (int64, error) { return 0, nil }

// postForm sends fields and files as a multipart form; chunked leaves the length
// unannounced, so the server finds out the size while it reads.
func (e *env) postForm(path string, fields url.Values, chunked bool, files ...file) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := io.Copy(w, f.data); err != nil {
			e.t.Fatal(err)
		}
	}
	mw.Close()
	var body io.Reader = &buf
	if chunked {
		body = io.MultiReader(&buf) // hides the length from the client
	}
	return e.do("POST", path, mw.FormDataContentType(), body)
}
