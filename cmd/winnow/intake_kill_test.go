//go:build unix

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/lever"
	"winnow/internal/leversandbox"
	"winnow/internal/mail/mailtest"
	"winnow/internal/sqlstore"
)

// TestIntakeSurvivesSIGKILL builds the winnow binary, serves on SQLite, and SIGKILLs
// the process in the middle of a burst of signed applicationCreated webhooks. After a
// restart every delivery that was answered 2xx is in the database; Lever's retries of
// the others (and repeats of acknowledged ones) go through, and each candidate ends up
// one applicant with one invitation email.
func TestIntakeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	ctx := context.Background()
	began := time.Now()
	bin := filepath.Join(t.TempDir(), "winnow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(began).Round(time.Millisecond))
	sb, err := leversandbox.New(leversandbox.Options{RateLimit: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	posting, err := sb.CreatePosting(leversandbox.PostingInput{Text: "Backend Engineer"})
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.NewServer(t, mailtest.Options{})
	env := map[string]string{
		"WINNOW_ADDR":                freeAddr(t),
		"WINNOW_DATA_DIR":            filepath.Join(t.TempDir(), "data"),
		"WINNOW_SECRET_KEY":          testSecret,
		"WINNOW_LOG_LEVEL":           "warn",
		"WINNOW_LEVER_API_URL":       sb.URL() + "/v1",
		"WINNOW_LEVER_AUTH_URL":      sb.URL(),
		"WINNOW_LEVER_CLIENT_ID":     sb.ClientID(),
		"WINNOW_LEVER_CLIENT_SECRET": sb.ClientSecret(),
		"WINNOW_SMTP_URL":            "smtp://127.0.0.1:" + strconv.Itoa(smtp.Port),
		"WINNOW_MAIL_FROM":           "Acme Hiring <jobs@acme.example>",
		// The killed process may have started some of the acknowledged deliveries' jobs:
		// they are taken over once their kind's one-minute timeout has passed, not
		// after the default two minutes.
		"WINNOW_RESCUE_AFTER": "3s",
	}
	hookURL, signature, orgID := setupKillWorld(t, env, sb, posting)

	// Candidates apply in Lever (no webhooks registered there: the test sends them,
	// signed as Lever signs, so that it knows which were acknowledged). Few enough
	// that Winnow's pacing of Lever (10 calls a second) invites them in seconds.
	const n = 30
	bodies, opps, emails := make([][]byte, n), make([]string, n), make([]string, n)
	for i := range n {
		emails[i] = fmt.Sprintf("cand%02d@example.com", i)
		a, err := sb.Apply(leversandbox.ApplyInput{PostingID: posting, Name: fmt.Sprintf("Candidate %02d", i), Email: emails[i]})
		if err != nil {
			t.Fatal(err)
		}
		opps[i] = a.OpportunityID
		token := "kill-" + strconv.Itoa(i)
		at := time.Now().UnixMilli()
		bodies[i] = fmt.Appendf(nil, `{"id":"%s","event":"applicationCreated","triggeredAt":%d,"token":"%s","signature":"%s","data":{"opportunityId":"%s","applicationId":"%s","contactId":"%s"}}`,
			token, at, token, lever.Sign(signature, token, at), a.OpportunityID, a.ApplicationID, a.ContactID)
	}

	srv := startServe(t, bin, env)
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(body []byte) (int, string) {
		resp, err := client.Post(hookURL, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	acked := make([]bool, n)
	var nAcked atomic.Int32
	var kill sync.Once
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if code, _ := post(bodies[i]); code/100 == 2 {
					acked[i] = true
					if nAcked.Add(1) >= n/3 {
						kill.Do(func() { srv.Process.Signal(syscall.SIGKILL) })
					}
				}
			}
		})
	}
	wg.Wait()
	err = srv.Wait()
	if st, ok := srv.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("serve was not killed: %v", err)
	}
	t.Logf("%d of %d webhooks acknowledged before SIGKILL", nAcked.Load(), n)
	if int(nAcked.Load()) == n {
		t.Fatal("the burst ended before the kill; nothing was cut off")
	}

	// Every acknowledged delivery survived the kill.
	db, err := sqlstore.Open(ctx, "", env["WINNOW_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		if !acked[i] {
			continue
		}
		var c int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM lever_deliveries WHERE org_id = $1 AND opportunity_id = $2`,
			orgID, opps[i]).Scan(&c); err != nil || c != 1 {
			t.Fatalf("acknowledged delivery %d: %d rows, %v", i, c, err)
		}
	}

	// Restart; Lever retries what was not acknowledged, and Rerun repeats some that were.
	srv = startServe(t, bin, env)
	for i := range n {
		code, body := post(bodies[i])
		if code != http.StatusOK {
			t.Fatalf("retry of %d: %d %s", i, code, body)
		}
		if acked[i] && !strings.Contains(body, `"duplicate":true`) {
			t.Fatalf("repeat of acknowledged delivery %d not a duplicate: %s", i, body)
		}
	}
	t.Logf("restarted and retried at %s", time.Since(began).Round(time.Millisecond))
	// A job the killed process held is taken over a minute after it started (its
	// timeout), at River's next rescue round (every 30 s): within 90 s of the kill,
	// plus the time to work it.
	const settle = 150 * time.Second
	deadline := time.Now().Add(settle)
	for {
		var applicants, processed int
		db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM applicants WHERE org_id = $1`, orgID).Scan(&applicants)
		db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM lever_deliveries WHERE org_id = $1 AND status <> $2`,
			orgID, string(winnow.LeverDeliveryReceived)).Scan(&processed)
		if applicants == n && processed == n && len(smtp.Messages()) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d applicants, %d deliveries processed, %d emails; want %d each", settle, applicants, processed, len(smtp.Messages()), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all invited at %s", time.Since(began).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // a duplicate effect would show by now
	perAddress := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			perAddress[to]++
		}
	}
	for i := range n {
		var c int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM applicants WHERE org_id = $1 AND lever_opportunity_id = $2`,
			orgID, opps[i]).Scan(&c); err != nil || c != 1 {
			t.Fatalf("candidate %d: %d applicants, %v", i, c, err)
		}
		if perAddress[emails[i]] != 1 {
			t.Fatalf("candidate %d got %d invitation emails", i, perAddress[emails[i]])
		}
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// setupKillWorld prepares the database of env as an admin would: an org connected to
// the sandbox with an API key and a webhook signature token, and an open job linked
// to posting. It returns the org's webhook URL, the signature token and the org ID.
func setupKillWorld(t *testing.T, env map[string]string, sb *leversandbox.Server, posting string) (hookURL, signature, orgID string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	c, err := m.Store.EnsureLeverConnection(ctx, admin.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	signature = "kill-test-signature-token"
	seal := func(s string) string {
		v, err := m.Keyring.Seal(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	now := time.Now()
	c.Mode, c.State, c.APIKey, c.SignatureToken = winnow.LeverAPIKey, winnow.LeverConnected, seal(sb.APIKey()), seal(signature)
	c.ConnectedAt, c.ConnectedBy, c.QualifiedStageID, c.QualifiedStageName = &now, admin.ID, qualifiedStage, "On-site interview"
	if err := m.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Backend Engineer", Status: winnow.FunnelOpen,
		Team: []string{admin.ID}, Steps: oneQuestion(), LeverPostingID: posting})
	return "http://" + env["WINNOW_ADDR"] + winnow.LeverWebhookPath + "/" + c.OrgKey, signature, admin.OrgID
}

// startServe runs `winnow serve` with env (and nothing else of the test's
// environment) and waits until it answers /healthz.
func startServe(t *testing.T, bin string, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + env["WINNOW_ADDR"] + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become healthy: %v", err)
		}
	}
}

// freeAddr returns a loopback address with a port nothing listens on, for a child
// process that must keep its address across a restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
