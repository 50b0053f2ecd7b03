package candidate_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/web/candidate"
)

// TestUploadRefused checks that oversized files (413) and files of the wrong type (415)
// are refused with a page that says why, and leave no file on disk, no upload row and
// no answer; the candidate can then try again.
func TestUploadRefused(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		const videoLimit = 256 << 10
		tests := []struct {
			name     string
			step     string
			fields   url.Values
			files    []file
			status   int
			contains string
		}{
			{"homework over the step's limit", "s2", nil,
				[]file{{"homework", "big.pdf", sized(pdfHead, 64<<10+1)}}, http.StatusRequestEntityTooLarge, "larger than the limit of 64 KB"},
			{"homework of a type not allowed", "s2", url.Values{"text": {"answer"}},
				[]file{{"homework", "photo.png", strings.NewReader("\x89PNG\r\n\x1a\n rest")}}, http.StatusUnsupportedMediaType, "PDF or TXT"},
			{"homework page renamed to pdf", "s2", nil,
				[]file{{"homework", "cv.pdf", strings.NewReader(htmlHead)}}, http.StatusUnsupportedMediaType, "can&#39;t be used here"},
			{"empty homework file", "s2", nil,
				[]file{{"homework", "empty.pdf", strings.NewReader("")}}, http.StatusUnprocessableEntity, "has nothing in it"},
			{"video over the handler's limit", "s3", nil,
				[]file{{winnow.PromptItem(0), "long.webm", sized(webmHead, videoLimit+1)}}, http.StatusRequestEntityTooLarge, "larger than the limit of 256 KB"},
			{"second video over the limit after a good first", "s3", nil,
				[]file{{winnow.PromptItem(0), "a.webm", sized(webmHead, 1000)}, {winnow.PromptItem(1), "b.webm", sized(webmHead, videoLimit+1)}},
				http.StatusRequestEntityTooLarge, "“b.webm” is larger"},
			{"video that is text", "s3", url.Values{"intent": {"save"}},
				[]file{{winnow.PromptItem(0), "answer.mp4", strings.NewReader("just words, not a video")}}, http.StatusUnsupportedMediaType, "is not a video"},
			{"video that is a page", "s3", nil,
				[]file{{winnow.PromptItem(1), "answer.webm", strings.NewReader(htmlHead)}}, http.StatusUnsupportedMediaType, "is not a video"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, eng, func(h *candidate.Handler) { h.MaxVideoBytes = videoLimit })
				a := e.mustApplicant(stepHomework, stepVideo)
				c := "/c/" + a.Token
				wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s2")
				if tt.step == "s3" {
					wantPage(t, e.post(c+"/steps/s2", url.Values{"text": {"My answer."}}), http.StatusSeeOther, c+"/steps/s3")
				}
				before := e.answers(a)
				r := e.postMultipart(c+"/steps/"+tt.step, tt.fields, tt.files...)
				wantPage(t, r, tt.status, "", tt.contains, `id="error-message"`, `href="`+c+`/steps/`+tt.step+`"`)
				if files := e.diskFiles(); len(files) != 0 {
					t.Fatalf("a refused upload left files: %v", files)
				}
				if n := e.uploadRows(a); n != 0 {
					t.Fatalf("a refused upload left %d rows", n)
				}
				if got := e.answers(a); len(got) != len(before) || got[tt.step] != nil {
					t.Fatalf("a refused upload stored an answer: %+v", got)
				}
				if got := e.applicant(a); got.Status != winnow.StatusInProgress {
					t.Fatalf("status = %s", got.Status)
				}
				// The candidate can try again with a good file.
				good := file{"homework", "answer.txt", strings.NewReader("My answer, as a file.")}
				if tt.step == "s3" {
					good = file{winnow.PromptItem(0), "a.webm", sized(webmHead, 1000)}
				}
				if r := e.postMultipart(c+"/steps/"+tt.step, url.Values{"intent": {"save"}}, good); r.status != http.StatusSeeOther && r.status != http.StatusNoContent {
					t.Fatalf("retry: %d\n%s", r.status, r.body)
				}
				if n := e.uploadRows(a); n != 1 {
					t.Fatalf("after the retry: %d upload rows", n)
				}
			})
		}
	})
}

// TestUploadTooLargeAnnounced checks that a body whose announced length is over every
// limit is refused before it is read.
func TestUploadTooLargeAnnounced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite, func(h *candidate.Handler) { h.MaxVideoBytes = 64 << 10 })
	a := e.mustApplicant(stepVideo)
	c := "/c/" + a.Token
	wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/s3")
	write := func(w io.Writer, boundary string) {
		mw := multipart.NewWriter(w)
		mw.SetBoundary(boundary)
		fw, _ := mw.CreateFormFile(winnow.PromptItem(0), "big.webm")
		io.Copy(fw, sized(webmHead, 4<<20))
		mw.Close()
	}
	const boundary = "winnow-test-boundary"
	var n countingWriter
	write(&n, boundary) // the exact length, without holding the body
	pr, pw := io.Pipe()
	go func() { write(pw, boundary); pw.Close() }()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.server.URL+c+"/steps/s3", pr)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.ContentLength = int64(n)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "at most 64 KB") {
		t.Fatalf("status %d\n%s", res.StatusCode, body)
	}
	if files := e.diskFiles(); len(files) != 0 || e.uploadRows(a) != 0 {
		t.Fatalf("files %v, rows %d", files, e.uploadRows(a))
	}
}

// TestHomeworkText checks a text-only homework sent as a plain URL-encoded form, its
// required answer and its length limit.
func TestHomeworkText(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
		e := newEnv(t, eng, nil)
		textOnly := winnow.Step{ID: "hw", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Explain.", AcceptText: true}}
		a := e.mustApplicant(textOnly)
		c := "/c/" + a.Token
		wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/hw")
		r := e.get(c + "/steps/hw")
		wantPage(t, r, http.StatusOK, "")
		wantElements(t, r, `label[for=hw-text]:contains("Your answer")`, `textarea#hw-text`)
		if strings.Contains(r.body, `type="file"`) {
			t.Fatal("a text-only homework offers a file input")
		}
		wantPage(t, e.post(c+"/steps/hw", url.Values{"text": {"  "}}), http.StatusUnprocessableEntity, "", "Please write your answer.")
		long := strings.Repeat("é", winnow.MaxLongText+1)
		wantPage(t, e.post(c+"/steps/hw", url.Values{"text": {long}}), http.StatusUnprocessableEntity, "", "too long")
		wantPage(t, e.post(c+"/steps/hw", url.Values{"text": {"Because.\r\nReally."}}), http.StatusSeeOther, c+"/review")
		if got := e.answers(a)["hw"]; got == nil || got.Text != "Because.\nReally." || got.Files != nil {
			t.Fatalf("stored = %+v", got)
		}
	})
}

// countingWriter counts what is written to it and keeps nothing.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
