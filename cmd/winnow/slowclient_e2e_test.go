package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/filestore"
	"winnow/internal/web"
)

// TestSlowClients holds connections open the way a slow-loris attack does, over TCP
// against the real server with its limits shortened: a form body or an upload
// trickled a byte at a time, a download never read. Each connection is closed within
// its limit. An upload that keeps the minimum rate is not cut, though it takes longer
// than the read limit. The assertions are "closed before", never exact timings.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		// Reads: 2 s to send a form; uploads 2 s of grace, then at least 16 KiB/s.
		limits := web.Timeouts{Read: 2 * time.Second, Write: 2 * time.Second, MinTransferRate: 16 << 10, MaxTransfer: time.Minute}
		m := mustStartWith(t, testEnv(t, e.URL(t)), func(m *Main) { m.Timeouts = limits })
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		videoJob := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Presenter", Status: winnow.FunnelOpen, Steps: []winnow.Step{
			{ID: "s_video", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Say hello"}}}}})
		candidate := func() *winnow.Applicant {
			t.Helper()
			a := MustInvited(t, m, videoJob, "Ada Lovelace", "ada-"+time.Now().Format("150405.000000000")+"@example.com")
			a, err := m.Store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(m.Clock.Now()) })
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		const closedBefore = 8 * time.Second // four times the limit: slack for a busy machine

		t.Run("form body trickled", func(t *testing.T) {
			t.Parallel()
			conn := dialServer(t, m)
			fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=", m.Addr())
			trickle(t, conn, 100*time.Millisecond)
			wantClosedBefore(t, conn, closedBefore)
		})

		t.Run("upload trickled", func(t *testing.T) {
			t.Parallel()
			a := candidate()
			conn := dialServer(t, m)
			head, _, contentType := videoForm(t)
			fmt.Fprintf(conn, "POST /c/%s/steps/s_video HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
				a.Token, m.Addr(), contentType, 8<<20, head)
			trickle(t, conn, 100*time.Millisecond)
			wantClosedBefore(t, conn, closedBefore)
		})

		t.Run("upload at the minimum rate", func(t *testing.T) {
			t.Parallel()
			a := candidate()
			conn := dialServer(t, m)
			// 256 KiB at 64 KiB/s, four times the minimum: 4 s, twice the read limit.
			head, tail, contentType := videoForm(t)
			body := head + strings.Repeat("\x00", 256<<10-len(head)-len(tail)) + tail
			fmt.Fprintf(conn, "POST /c/%s/steps/s_video HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
				a.Token, m.Addr(), contentType, len(body))
			start := time.Now()
			const chunk, every = 4 << 10, time.Second / 16
			for i := 0; i < len(body); i += chunk {
				time.Sleep(time.Until(start.Add(time.Duration(i/chunk) * every)))
				if _, err := conn.Write([]byte(body[i:min(i+chunk, len(body))])); err != nil {
					t.Fatalf("cut off after %d bytes and %s: %v", i, time.Since(start).Round(time.Millisecond), err)
				}
			}
			if took := time.Since(start); took < limits.Read {
				t.Fatalf("sent in %s: the test must outlast the read limit", took)
			}
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want 303", resp.StatusCode)
			}
			answers, err := m.Store.ListStepAnswers(context.Background(), a.OrgID, a.ID)
			if err != nil || len(answers) != 1 || answers[0].CompletedAt == nil {
				t.Fatalf("answers %+v, %v", answers, err)
			}
		})
	})
}

// TestSlowDownload opens a large download and does not read it: the server stops
// writing once the transfer falls behind the minimum rate or reaches its maximum,
// rather than holding the connection for as long as the client likes. A client that
// reads gets the whole file.
func TestSlowDownload(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		// 1 s of grace, then at least 4 MiB/s; never more than 5 s.
		limits := web.Timeouts{Write: time.Second, MinTransferRate: 4 << 20, MaxTransfer: 5 * time.Second}
		m := mustStartWith(t, testEnv(t, e.URL(t)), func(m *Main) { m.Timeouts = limits })
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		a := MustInvited(t, m, MustFunnel(t, m, threeStepFunnel(admin.OrgID, false)), "Grace Hopper", "grace@example.com")
		a, err := m.Store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(m.Clock.Now()) })
		if err != nil {
			t.Fatal(err)
		}
		const size = 48 << 20 // more than loopback buffers hold
		rel := filestore.NewPath(a.OrgID, a.ID)
		p, err := m.Files.Receive(context.Background(), rel, "video/webm", io.LimitReader(zeroReader{}, size), size)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Keep(); err != nil {
			t.Fatal(err)
		}
		up := &winnow.Upload{OrgID: a.OrgID, ApplicantID: a.ID, StepID: "s_video", Item: winnow.PromptItem(0), Name: "hello.webm",
			ContentType: "video/webm", Size: size, Path: rel}
		if err := m.Store.CreateUpload(context.Background(), up, 0); err != nil {
			t.Fatal(err)
		}
		get := func() net.Conn {
			conn := dialServer(t, m)
			fmt.Fprintf(conn, "GET /api/v1/uploads/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", up.ID, m.Addr(), tok)
			return conn
		}

		t.Run("read at once", func(t *testing.T) {
			t.Parallel()
			conn := get()
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != 200 || n != size || err != nil {
				t.Fatalf("status %d, %d of %d bytes, %v", resp.StatusCode, n, size, err)
			}
		})

		t.Run("never read", func(t *testing.T) {
			t.Parallel()
			conn := get()
			// Past the maximum (5 s), however much the buffers took by then.
			time.Sleep(7 * time.Second)
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := io.Copy(io.Discard, conn)
			if isTimeout(err) {
				t.Fatalf("still open after %d bytes", n)
			}
			if n >= size {
				t.Fatalf("the whole file (%d bytes) went to a client that did not read it", n)
			}
			t.Logf("cut after %d bytes", n)
		})
	})
}

// dialServer opens a raw TCP connection to m, closed when the test ends.
func dialServer(t *testing.T, m *Main) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// trickle writes one byte every interval until a write fails or the test ends.
func trickle(t *testing.T, conn net.Conn, interval time.Duration) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
}

// wantClosedBefore fails unless the server closes conn within limit: whatever it
// answers first, reading ends with EOF or a reset, not with the client's own deadline.
func wantClosedBefore(t *testing.T, conn net.Conn, limit time.Duration) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(limit))
	var got bytes.Buffer
	_, err := io.Copy(&got, conn)
	if isTimeout(err) {
		t.Fatalf("connection still open after %s (read %q)", limit, got.String())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// videoForm returns a multipart form with one WebM file for prompt-0, split around
// the file's content: head (up to the file's first bytes, which pass the type check)
// and tail (the closing boundary). The rest of the file is the caller's to send.
func videoForm(t *testing.T) (head, tail, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(winnow.PromptItem(0), "hello.webm")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("\x1a\x45\xdf\xa3"))
	head = buf.String()
	buf.Reset()
	mw.Close()
	return head, buf.String(), mw.FormDataContentType()
}

// zeroReader reads as an endless run of zero bytes.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
