package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/web/auth"
)

// attemptResult is what one sign-in attempt got back.
type attemptResult struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// loginAttempt posts the sign-in form with an optional X-Forwarded-For. It reports
// errors instead of failing the test, so that it can run in many goroutines.
func loginAttempt(c *http.Client, m *Main, email, pw, xff string) attemptResult {
	form := url.Values{"email": {email}, "password": {pw}}
	req, err := http.NewRequest("POST", "http://"+m.Addr()+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return attemptResult{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		return attemptResult{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return attemptResult{err: err}
	}
	return attemptResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(body)}
}

// burst sends n sign-in attempts at once: attempt i uses the email, password and
// X-Forwarded-For that at(i) returns. It returns the results in order, errors included.
func burst(t *testing.T, m *Main, n int, at func(i int) (email, pw, xff string)) []attemptResult {
	t.Helper()
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: n},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer c.CloseIdleConnections()
	results := make([]attemptResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			email, pw, xff := at(i)
			<-start
			results[i] = loginAttempt(c, m, email, pw, xff)
		})
	}
	close(start)
	wg.Wait()
	return results
}

// mustAllAnswer fails the test unless every attempt got an answer.
func mustAllAnswer(t *testing.T, results []attemptResult) {
	t.Helper()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("attempt %d: %v", i, r.err)
		}
	}
}

// TestLoginParallelGuesses sends 50 guesses for one account at once: exactly the limit
// of 5 are checked and the other 45 are refused with 429 and Retry-After; the right
// password, sent at once with more guesses after that, does not sign in.
//
// It is not parallel, and runs the engines in turn: the password gate is process-wide,
// and other tests hashing at the same moment would keep an attempt waiting past the
// gate's wait (503 busy), which releases its reservation and so lets one more through.
func TestLoginParallelGuesses(t *testing.T) {
	dbtest.EnginesInTurn(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		MustUser(t, m, "Acme", "ada@acme.test", winnow.RoleAdmin)
		results := burst(t, m, 50, func(i int) (string, string, string) {
			return "ada@acme.test", fmt.Sprintf("wrong-guess-%02d", i), ""
		})
		mustAllAnswer(t, results)
		statuses := map[int]int{}
		for i, r := range results {
			statuses[r.status]++
			if r.status == http.StatusTooManyRequests && (r.retryAfter == "" || !strings.Contains(r.body, "Too many failed sign-in attempts")) {
				t.Fatalf("attempt %d: 429 without Retry-After or explanation\n%s", i, r.body)
			}
		}
		// Exactly the limit's worth of attempts are checked (401); the rest are refused.
		if statuses[http.StatusUnauthorized] != auth.MaxAccountAttempts || statuses[http.StatusTooManyRequests] != 50-auth.MaxAccountAttempts {
			t.Fatalf("statuses %v: want %d checked (401) and %d refused (429)", statuses, auth.MaxAccountAttempts, 50-auth.MaxAccountAttempts)
		}

		results = burst(t, m, 10, func(i int) (string, string, string) {
			if i == 5 {
				return "ada@acme.test", "password-ada@acme.test", ""
			}
			return "ada@acme.test", fmt.Sprintf("more-guesses-%02d", i), ""
		})
		mustAllAnswer(t, results)
		for i, r := range results {
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("attempt %d after the limit: %d, want 429\n%s", i, r.status, r.body)
			}
		}
	})
}

// TestLoginMemoryBound sends 200 sign-in attempts at once for made-up accounts, each
// from its own client address behind a trusted proxy so that no limit stops them: the
// password gate keeps the heap under 200 MiB (each argon2 check takes 19 MiB, so
// unbounded checks take gigabytes). Every attempt is checked (401) or refused as busy
// (503 with Retry-After and a readable page).
//
// It is not parallel: it measures the whole process's heap, which other tests running
// at the same time would add to.
func TestLoginMemoryBound(t *testing.T) {
	const attempts, maxHeap = 200, 200 << 20
	dbtest.EnginesInTurn(t, func(t *testing.T, e dbtest.Engine) {
		env := testEnv(t, e.URL(t))
		env["WINNOW_TRUSTED_PROXIES"] = "127.0.0.1"
		m := MustStart(t, env)

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := make(chan uint64)
		stop := make(chan struct{})
		go func() {
			var p uint64
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				p = max(p, ms.HeapAlloc)
				select {
				case <-stop:
					peak <- p
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		results := burst(t, m, attempts, func(i int) (string, string, string) {
			return fmt.Sprintf("nobody-%03d@acme.test", i), "a wrong password", fmt.Sprintf("203.0.%d.%d", i/250, i%250+1)
		})
		close(stop)
		heap := <-peak
		t.Logf("heap %d MiB before, peak %d MiB", before.HeapAlloc>>20, heap>>20)
		if heap > maxHeap {
			t.Fatalf("peak heap %d MiB with %d simultaneous sign-ins, want under %d MiB", heap>>20, attempts, maxHeap>>20)
		}
		mustAllAnswer(t, results)

		statuses := map[int]int{}
		for i, r := range results {
			statuses[r.status]++
			switch r.status {
			case http.StatusUnauthorized:
			case http.StatusServiceUnavailable:
				if r.retryAfter == "" || !strings.Contains(r.body, "busy checking other passwords") {
					t.Fatalf("attempt %d: 503 without Retry-After or explanation\n%s", i, r.body)
				}
			default:
				t.Fatalf("attempt %d: status %d\n%s", i, r.status, r.body)
			}
		}
		t.Logf("statuses %v", statuses)
		if statuses[http.StatusUnauthorized] == 0 {
			t.Fatal("no attempt was checked")
		}
	})
}

// TestLoginBehindProxy takes the client address from X-Forwarded-For only when the
// peer is a trusted proxy, and five failures for made-up accounts from one address do
// not lock a real user out from it.
func TestLoginBehindProxy(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		tests := []struct {
			name    string
			proxies string
			client  string // the address the log names
		}{
			{"untrusted peer's header ignored", "", "127.0.0.1"},
			{"trusted peer's header used", "127.0.0.0/8", "203.0.113.9"},
		}
		dbName := e.URL(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				env := testEnv(t, dbName)
				env["WINNOW_TRUSTED_PROXIES"] = tt.proxies
				m, logs := mustStartLogged(t, env)
				c := &http.Client{}
				r := loginAttempt(c, m, "ghost@acme.test", "a wrong password", "198.51.100.1, 203.0.113.9")
				if r.err != nil || r.status != http.StatusUnauthorized {
					t.Fatalf("attempt: %d %v", r.status, r.err)
				}
				if l := logs.String(); !strings.Contains(l, "sign-in failed") || !strings.Contains(l, "client="+tt.client) {
					t.Fatalf("the failure is not logged for client %s:\n%s", tt.client, l)
				}
			})
		}

		t.Run("made-up accounts do not lock the address", func(t *testing.T) {
			m := MustStart(t, testEnv(t, dbName))
			MustUser(t, m, "Acme", "ada@acme.test", winnow.RoleAdmin)
			b := newBrowser(t, m)
			for i := range auth.MaxAccountAttempts {
				if s, _, _ := b.post("/login", url.Values{"email": {fmt.Sprintf("ghost%d@acme.test", i)}, "password": {"wrong-password"}}); s != http.StatusUnauthorized {
					t.Fatalf("attempt %d: %d", i, s)
				}
			}
			b.login("ada@acme.test", "password-ada@acme.test")
		})
	})
}
