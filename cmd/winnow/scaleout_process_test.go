package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
	"winnow/internal/filestore/fakes3"
	"winnow/internal/keyring"
	"winnow/internal/lever"
	"winnow/internal/leversandbox"
	"winnow/internal/web/auth"
)

// scaleOutWebhooks is how many webhooks TestScaleOutProcesses spreads over its two web
// processes: 2,000; WINNOW_TEST_SCALEOUT_WEBHOOKS sets it.
func scaleOutWebhooks(t *testing.T) int {
	if v := os.Getenv("WINNOW_TEST_SCALEOUT_WEBHOOKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("WINNOW_TEST_SCALEOUT_WEBHOOKS=%q", v)
		}
		return n
	}
	return 2000
}

// TestScaleOutProcesses runs the built binary as 2 web and 2 worker processes on one
// PostgreSQL database, with uploads in one S3 bucket and Lever in the sandbox. Webhooks
// for applicationCreated are spread over both web processes; one worker is killed
// (SIGKILL) midway. In the end every candidate is an applicant once, with one
// invitation email, CP-Sent and one note in Lever; and a file a candidate uploads
// through one web process downloads through the other.
//
// Its length is set by River taking over the killed worker's jobs (once their
// timeouts have passed, a minute) and the Lever writes it held (their 45-second
// lease), not by its size; under -race that minute is the same but everything else
// crawls beside the race suite, so there it is skipped and .ci/run runs it without
// -race.
func TestScaleOutProcesses(t *testing.T) {
	if raceDetector {
		t.Skip("runs without -race (.ci/run): a worker's jobs are taken over only after a minute")
	}
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		if e == dbtest.SQLite {
			t.Skip("several processes share PostgreSQL only")
		}
		n := scaleOutWebhooks(t)
		ctx := context.Background()
		dbURL, bucket := e.URL(t), fakes3.Start(t)
		sb, err := leversandbox.New(leversandbox.Options{RateLimit: rate.Inf})
		if err != nil {
			t.Fatal(err)
		}
		if err := sb.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		bin := filepath.Join(t.TempDir(), "winnow")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}

		// The org, its connection and the job linked to the posting, written as an
		// admin's setup would, through a Main of this process that serves nothing.
		env := testEnv(t, dbURL)
		env["WINNOW_BLOB_URL"] = bucket.URL
		setup := mustOpen(t, env)
		admin := MustUser(t, setup, "Acme", "admin@acme.test", winnow.RoleAdmin)
		conn, err := setup.Store.EnsureLeverConnection(ctx, admin.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		const signatureToken = "scale-out-signature-token"
		now := time.Now()
		conn.Mode, conn.APIKey, conn.State, conn.ConnectedAt, conn.ConnectedBy = winnow.LeverAPIKey, mustSeal(t, setup, sb.APIKey()), winnow.LeverConnected, &now, admin.ID
		conn.Webhooks = []winnow.LeverWebhook{{ID: "wh-created", Event: winnow.LeverApplicationCreated, SignatureToken: mustSeal(t, setup, signatureToken)}}
		if err := setup.Store.SaveLeverConnection(ctx, conn); err != nil {
			t.Fatal(err)
		}
		posting, err := sb.CreatePosting(leversandbox.PostingInput{Text: "Writer"})
		if err != nil {
			t.Fatal(err)
		}
		MustFunnel(t, setup, &winnow.Funnel{OrgID: admin.OrgID, Title: "Writer", Status: winnow.FunnelOpen, OpenReview: true,
			Team: []string{admin.ID}, LeverPostingID: posting, Steps: []winnow.Step{{ID: "s_hw", Kind: winnow.StepHomework,
				Homework: &winnow.Homework{Instructions: "Send a sample.", AcceptFile: true, FileTypes: []string{".pdf"}}}}})

		procEnv := map[string]string{
			"WINNOW_DATABASE_URL": dbURL, "WINNOW_SECRET_KEY": testSecret, "WINNOW_BLOB_URL": bucket.URL,
			"WINNOW_LEVER_API_URL": sb.URL() + "/v1", "WINNOW_LEVER_AUTH_URL": sb.URL(), "WINNOW_LEVER_RATE": "unlimited",
			// A killed worker's jobs are taken over within seconds here, not 15 minutes.
			"WINNOW_RESCUE_AFTER": "3s", "WINNOW_LOG_LEVEL": "info", "WINNOW_ADDR": "127.0.0.1:0",
		}
		webA, webB := startProcess(t, bin, "web", procEnv), startProcess(t, bin, "web", procEnv)
		workerA := startProcess(t, bin, "worker", procEnv)
		startProcess(t, bin, "worker", procEnv) // worker B, which outlives A

		// Candidates apply in Lever (the sandbox has no webhook: the test sends them),
		// and each applicationCreated goes to one web process or the other.
		opps := make([]string, n)
		bodies := make([][]byte, n)
		for i := range n {
			a, err := sb.Apply(leversandbox.ApplyInput{PostingID: posting, Name: fmt.Sprintf("Candidate %04d", i), Email: fmt.Sprintf("c%04d@example.com", i)})
			if err != nil {
				t.Fatal(err)
			}
			opps[i] = a.OpportunityID
			bodies[i] = signedWebhook(t, signatureToken, a)
		}
		start := time.Now()
		var sent atomic.Int32
		var killed atomic.Bool
		var wg sync.WaitGroup
		next := make(chan int)
		for range 16 {
			wg.Go(func() {
				for i := range next {
					web := webA
					if i%2 == 1 {
						web = webB
					}
					resp, err := http.Post(web.url+winnow.LeverWebhookPath+"/"+conn.OrgKey, "application/json", bytes.NewReader(bodies[i]))
					if err != nil {
						t.Errorf("webhook %d: %v", i, err)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						t.Errorf("webhook %d answered %d", i, resp.StatusCode)
					}
					// Midway, one worker dies without a chance to finish anything.
					if sent.Add(1) == int32(n/2) && killed.CompareAndSwap(false, true) {
						workerA.kill(t)
					}
				}
			})
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		t.Logf("%d webhooks taken by 2 web processes in %s; worker A killed midway", n, time.Since(start).Round(time.Millisecond))

		// Every candidate ends invited once, tagged CP-Sent with one note in Lever.
		deadline := time.Now().Add(4 * time.Minute)
		for i := 0; i < n; {
			st, ok := sb.Opportunity(opps[i])
			if ok && len(st.Tags) == 1 && st.Tags[0] == "CP-Sent" && len(st.Notes) >= 1 {
				i++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("candidate %d not done after %s: %+v", i, time.Since(start).Round(time.Second), st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("all %d tagged CP-Sent after %s", n, time.Since(start).Round(time.Millisecond))
		time.Sleep(time.Second) // a note written twice would have landed by now
		for i, opp := range opps {
			st, _ := sb.Opportunity(opp)
			if len(st.Notes) != 1 || len(st.Tags) != 1 {
				t.Fatalf("candidate %d: tags %q, %d notes %q", i, st.Tags, len(st.Notes), noteValues(st))
			}
		}
		var applicants, people, emails, emailed int
		err = setup.DB.SQL().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT lever_opportunity_id) FROM applicants WHERE org_id = $1`,
			admin.OrgID).Scan(&applicants, &people)
		if err == nil {
			err = setup.DB.SQL().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT applicant_id) FROM emails WHERE org_id = $1 AND kind = $2`,
				admin.OrgID, string(winnow.EmailInvitation)).Scan(&emails, &emailed)
		}
		if err != nil {
			t.Fatal(err)
		}
		if applicants != n || people != n || emails != n || emailed != n {
			t.Fatalf("%d applicants for %d opportunities, %d invitation emails to %d applicants; want %d of each", applicants, people, emails, emailed, n)
		}

		// A file uploaded through web A downloads through web B.
		var token, applicantID string
		if err := setup.DB.SQL().QueryRowContext(ctx, `SELECT token, id FROM applicants WHERE org_id = $1 AND lever_opportunity_id = $2`,
			admin.OrgID, opps[0]).Scan(&token, &applicantID); err != nil {
			t.Fatal(err)
		}
		cand := processBrowser(t, webA.url)
		if s, _, _ := cand.post("/c/"+token+"/start", nil); s != http.StatusSeeOther {
			t.Fatalf("start through web A: %d", s)
		}
		const sample = "%PDF-1.4 a writing sample"
		if s, body, loc := postMultipart(t, cand, "/c/"+token+"/steps/s_hw", nil, formFile{"homework", "sample.pdf", sample}); s != http.StatusSeeOther {
			t.Fatalf("upload through web A: %d %s\n%s", s, loc, body)
		}
		answers, err := setup.Store.ListStepAnswers(ctx, admin.OrgID, applicantID)
		if err != nil || len(answers) != 1 || answers[0].Files["homework"] == "" {
			t.Fatalf("answers: %+v, %v", answers, err)
		}
		rec := processBrowser(t, webB.url)
		sessionFor(t, setup, rec, admin)
		s, body, h := rec.do("GET", "/uploads/"+answers[0].Files["homework"], nil, nil)
		if s != http.StatusOK || body != sample || h.Get("Content-Type") != "application/pdf" {
			t.Fatalf("download through web B: %d %s %q", s, h.Get("Content-Type"), body)
		}
	})
}

// mustMainFor builds, without running it, a Main for env.
func mustMainFor(t *testing.T, env map[string]string) *Main {
	t.Helper()
	cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return NewMain(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// mustOpen opens a Main on env's database without serving, for a test's setup, and
// closes it when the test ends.
func mustOpen(t *testing.T, env map[string]string) *Main {
	t.Helper()
	m := mustMainFor(t, env)
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func mustSeal(t *testing.T, m *Main, s string) string {
	t.Helper()
	v, err := m.Keyring.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signedWebhook is Lever's applicationCreated body for a, signed with token.
func signedWebhook(t *testing.T, signatureToken string, a leversandbox.Application) []byte {
	t.Helper()
	token, at := keyring.Token(), time.Now().UnixMilli()
	body, err := json.Marshal(map[string]any{"event": winnow.LeverApplicationCreated, "triggeredAt": at, "token": token,
		"signature": lever.Sign(signatureToken, token, at),
		"data":      map[string]string{"applicationId": a.ApplicationID, "opportunityId": a.OpportunityID, "candidateId": a.OpportunityID, "contactId": a.ContactID}})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// process is a running "winnow serve" of the built binary.
type process struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// servingAddr finds the address in serve's "winnow is serving" log line.
var servingAddr = regexp.MustCompile(`msg="winnow is serving".* addr=(\S+)`)

// startProcess runs "bin serve" with the role and env, waits until it serves, and
// stops it (SIGTERM, then SIGKILL) when the test ends.
func startProcess(t *testing.T, bin, role string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "WINNOW_ROLE="+role, "WINNOW_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := servingAddr.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if bytes.Contains([]byte(line), []byte("level=ERROR")) {
				t.Logf("%s: %s", role, line)
			}
		}
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		t.Fatalf("%s process exited before serving", role)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s process did not start serving", role)
	}
	return p
}

// kill ends the process at once, as the kernel's OOM killer or a lost machine would.
func (p *process) kill(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill: %v", err)
	}
	<-p.done
}

// processBrowser is a browser (cookie jar, redirects shown) for a process at base.
func processBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// sessionFor signs u in on b with a session made in the store, as signing in would.
func sessionFor(t *testing.T, m *Main, b *browser, u *winnow.User) {
	t.Helper()
	token, now := keyring.Token(), time.Now()
	if err := m.Store.CreateSession(context.Background(), &winnow.Session{TokenHash: m.Keyring.Hash(token), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(base, []*http.Cookie{{Name: auth.CookieName, Value: token, Path: "/"}})
}
