package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// demoRun is winnow demo running in the background, as from a shell.
type demoRun struct {
	out, errOut *syncBuffer
	stop        context.CancelFunc
	done        chan error
}

// startDemoCommand runs "winnow demo" with args on port 0 and waits for its walkthrough.
func startDemoCommand(t *testing.T, args ...string) (*demoRun, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &demoRun{out: &syncBuffer{}, errOut: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	args = append([]string{"demo", "--addr", "127.0.0.1:0"}, args...)
	go func() {
		r.done <- run(ctx, args, nil, r.out, r.errOut, func(k string) string {
			if k == "WINNOW_LOG_LEVEL" {
				return "error"
			}
			return ""
		})
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(r.out.String(), "Press Ctrl-C") {
		select {
		case err := <-r.done:
			cancel()
			t.Fatalf("winnow demo %v ended: %v\n%s\n%s", args, err, r.out.String(), r.errOut.String())
		case <-deadline:
			r.close(t)
			t.Fatalf("no walkthrough from winnow demo %v:\n%s\n%s", args, r.out.String(), r.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return r, r.out.String()
}

// close stops the demo as Ctrl-C does and fails unless it stopped cleanly.
func (r *demoRun) close(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("winnow demo stopped with %v\n%s", err, r.errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("winnow demo did not stop within 30s of Ctrl-C")
	}
}

var (
	demoWinnowURL = regexp.MustCompile(`(?m)^  Winnow +(http://\S+)$`)
	demoLeverURL  = regexp.MustCompile(`(?m)^  Lever sandbox +(http://\S+)`)
	demoCreds     = regexp.MustCompile(`email (\S+), password (\S+)`)
	demoJobURL    = regexp.MustCompile(`(/jobs/[^/\s]+)/integrations`)
)

// demoPrinted is what a newcomer reads off the walkthrough.
type demoPrinted struct{ winnow, lever, email, password, job string }

func parseWalkthrough(t *testing.T, out string) demoPrinted {
	t.Helper()
	w, l, c, j := demoWinnowURL.FindStringSubmatch(out), demoLeverURL.FindStringSubmatch(out), demoCreds.FindStringSubmatch(out), demoJobURL.FindStringSubmatch(out)
	if w == nil || l == nil || c == nil || j == nil {
		t.Fatalf("walkthrough lacks the URLs, credentials or job:\n%s", out)
	}
	return demoPrinted{winnow: w[1], lever: l[1], email: c[1], password: c[2], job: j[1]}
}

// signIn signs in to the demo with the printed credentials and opens the printed job.
func (p demoPrinted) signIn(t *testing.T) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: p.winnow, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.login(p.email, p.password)
	if s, body := b.get(p.job); s != 200 || !strings.HasPrefix(mustDoc(t, body).Find("h1").Text(), demoJobTitle) {
		t.Fatalf("the printed job %s: %d", p.job, s)
	}
	// The sandbox answers at the printed address.
	resp, err := http.Get(p.lever + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sandbox at %s: %v %v", p.lever, resp, err)
	}
	resp.Body.Close()
}

// TestDemoCommand runs winnow demo as a newcomer would: it prints a walkthrough whose
// credentials sign in, a second run reuses the data (same key, password and job),
// --reset starts over, and a folder that is not a demo's is neither used nor deleted.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo-data")

	r, out := startDemoCommand(t, "--data", dir)
	first := parseWalkthrough(t, out)
	if !strings.Contains(out, "First run") {
		t.Fatalf("first run says:\n%s", out)
	}
	first.signIn(t)
	r.close(t)
	key, err := os.ReadFile(filepath.Join(dir, demoKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{demoKeyFile, demoPasswordFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", f, fi, err)
		}
	}

	r, out = startDemoCommand(t, "--data", dir)
	second := parseWalkthrough(t, out)
	if !strings.Contains(out, "Reusing the data") || second.password != first.password || second.job != first.job {
		t.Fatalf("second run did not reuse the data: %+v then %+v\n%s", first, second, out)
	}
	second.signIn(t)
	r.close(t)
	if again, _ := os.ReadFile(filepath.Join(dir, demoKeyFile)); !bytes.Equal(again, key) {
		t.Fatal("the second run changed the secret key")
	}

	// A lost password file is said, not printed anew: the new one would not sign in.
	os.Remove(filepath.Join(dir, demoPasswordFile))
	var o, e bytes.Buffer
	err = run(context.Background(), []string{"demo", "--data", dir, "--addr", "127.0.0.1:0"}, nil, &o, &e, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("demo without its password file: %v\n%s", err, o.String())
	}

	r, out = startDemoCommand(t, "--data", dir, "--reset")
	third := parseWalkthrough(t, out)
	if !strings.Contains(out, "First run") || third.password == first.password || third.job == first.job {
		t.Fatalf("--reset did not start over: %+v then %+v", first, third)
	}
	third.signIn(t)
	r.close(t)

	// A folder with someone's files and no marker is refused, with and without --reset.
	other := t.TempDir()
	precious := filepath.Join(other, "winnow.db")
	os.WriteFile(precious, []byte("real data"), 0o600)
	for _, args := range [][]string{{"demo", "--data", other, "--reset"}, {"demo", "--data", other}} {
		var o, e bytes.Buffer
		err := run(context.Background(), append(args, "--addr", "127.0.0.1:0"), nil, &o, &e, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), "is not a demo folder") {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "real data" {
		t.Fatalf("the other folder's file: %q, %v", b, err)
	}
}
