package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
	"winnow/internal/keyring"
	"winnow/internal/web/auth"
)

// growthApplicants is how many applicants the grown job holds.
const growthApplicants = 100_000

// growthRounds is how many times each request is timed per job; the median counts.
const growthRounds = 200

// growthLimit is how much slower than on an empty job a request may be on the grown one.
const growthLimit = 2.0

// growthMaxWAL bounds SQLite's WAL file throughout the benchmark.
const growthMaxWAL = 64 << 20

// BenchmarkGrowth checks that cost stays flat as a job grows (issue 11): on each
// engine it runs a real Main with two orgs, one whose only job is empty and one whose
// job holds 100,000 applicants (seeded with multi-row inserts), and times, on each,
// an invitation through the API, the job page and the first page of Applicants: the
// median of growthRounds requests each, which on the grown job must stay within
// growthLimit times the empty one's. It samples SQLite's WAL file all along, which
// must stay under 64 MB. It prints one table; the per-request figures are reported as
// metrics too.
//
//	go test -run '^$' -bench Growth -benchtime 1x ./cmd/winnow/
//
// Each iteration seeds and measures anew, so -benchtime 1x is enough.
func BenchmarkGrowth(b *testing.B) {
	for _, e := range dbtest.Available() {
		b.Run(e.Name, func(b *testing.B) {
			for b.Loop() {
				g := startGrowth(b, e.URL(b), filepath.Join(b.TempDir(), "data"))
				g.report(b, g.measure(b))
			}
		})
	}
}

// growth is one run of the benchmark: a Main and its two orgs.
type growth struct {
	m       *Main
	client  *http.Client
	base    string
	small   *growthOrg
	grown   *growthOrg
	walPeak atomic.Int64
	stop    func()
	seeded  time.Duration
}

// growthOrg is an org with one job, an admin's session and an API token.
type growthOrg struct {
	name   string
	job    *winnow.Funnel
	cookie *http.Cookie
	token  string
	n      int // applicants invited through the API so far
}

// startGrowth starts a Main on the database at dbURL with its data in dataDir, and
// seeds it.
func startGrowth(b testing.TB, dbURL, dataDir string) *growth {
	b.Helper()
	env := map[string]string{"WINNOW_ADDR": "127.0.0.1:0", "WINNOW_DATA_DIR": dataDir,
		"WINNOW_DATABASE_URL": dbURL, "WINNOW_SECRET_KEY": testSecret, "WINNOW_LOG_LEVEL": "error"}
	cfg, err := config.Load(flag.NewFlagSet("bench", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	jar, _ := cookiejar.New(nil)
	g := &growth{m: m, base: "http://" + m.Addr(), client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	// Sample the WAL from the start, seeding included.
	done, wg := make(chan struct{}), sync.WaitGroup{}
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			g.walPeak.Store(max(g.walPeak.Load(), m.DB.WALBytes()))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	g.stop = func() { close(done); wg.Wait() }
	b.Cleanup(func() {
		select {
		case <-done:
		default:
			g.stop()
		}
	})

	g.small, g.grown = g.org(b, "Small"), g.org(b, "Grown")
	start := time.Now()
	g.seed(b, g.grown.job, growthApplicants)
	g.seeded = time.Since(start)
	return g
}

// org creates an org with an admin, a signed-in session, an API token and one open job.
func (g *growth) org(b testing.TB, name string) *growthOrg {
	b.Helper()
	ctx := context.Background()
	u, _, _, err := createUser(ctx, g.m.Store, name, &winnow.User{Email: "admin@" + strings.ToLower(name) + ".test", Role: winnow.RoleAdmin, PasswordHash: "unused"})
	if err != nil {
		b.Fatal(err)
	}
	f := &winnow.Funnel{OrgID: u.OrgID, Title: name + " engineer", Status: winnow.FunnelOpen, OpenReview: true, Team: []string{u.ID}, Steps: oneQuestion()}
	if err := g.m.Store.CreateFunnel(ctx, f); err != nil {
		b.Fatal(err)
	}
	session, now := keyring.Token(), g.m.Clock.Now()
	if err := g.m.Store.CreateSession(ctx, &winnow.Session{TokenHash: g.m.Keyring.Hash(session), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		b.Fatal(err)
	}
	token := keyring.Token()
	if err := g.m.Store.CreateAPIToken(ctx, &winnow.APIToken{OrgID: u.OrgID, Name: "bench", TokenHash: g.m.Keyring.Hash(token), CreatedBy: u.ID}); err != nil {
		b.Fatal(err)
	}
	return &growthOrg{name: name, job: f, token: token, cookie: &http.Cookie{Name: auth.CookieName, Value: session, Path: "/"}}
}

// seed puts n applicants into f with multi-row inserts, 40 rows a statement and 5,000
// a transaction, as imports would: invited over the last 30 days, most
// still invited, some started, submitted or decided.
func (g *growth) seed(b testing.TB, f *winnow.Funnel, n int) {
	b.Helper()
	// SQLite looks up each $n of a statement among all of them: a few hundred a
	// statement keep that cheap.
	const perInsert, perTx = 40, 5000
	ctx := context.Background()
	steps, err := json.Marshal(f.Steps)
	if err != nil {
		b.Fatal(err)
	}
	db := g.m.DB.SQL()
	tokenTail := keyring.Token()
	now := time.Now().UTC().Add(-time.Hour)
	const cols = `id, org_id, funnel_id, name, email, status, token, invited_at, started_at, submitted_at, decided_at, deadline, created_at, updated_at, steps`
	const ncols = 15
	for done := 0; done < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for end := min(done+perTx, n); done < end; {
			rows := min(perInsert, end-done)
			var q strings.Builder
			q.WriteString(`INSERT INTO applicants (` + cols + `) VALUES `)
			args := make([]any, 0, rows*ncols)
			for r := range rows {
				i := done + r
				if r > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(")
				for c := range ncols {
					if c > 0 {
						q.WriteString(", ")
					}
					q.WriteString("$" + strconv.Itoa(r*ncols+c+1))
				}
				q.WriteString(")")
				invited := now.Add(-time.Duration(n-i) * 25 * time.Second) // 100,000 over ~29 days, oldest first
				var started, submitted, decided *time.Time
				status := winnow.StatusInvited
				switch i % 10 {
				case 1:
					status, started = winnow.StatusInProgress, ptr(invited.Add(time.Hour))
				case 2, 3:
					status, started, submitted = winnow.StatusSubmitted, ptr(invited.Add(time.Hour)), ptr(invited.Add(2*time.Hour))
				case 4:
					status, started, submitted, decided = winnow.StatusQualified, ptr(invited.Add(time.Hour)), ptr(invited.Add(2*time.Hour)), ptr(invited.Add(3*time.Hour))
				}
				// Keys that grow with i (the UUIDv7 too) append to every index, as an
				// import sorted by date would, which keeps seeding quick.
				args = append(args, uuid.Must(uuid.NewV7()).String(), f.OrgID, f.ID, "Candidate "+strconv.Itoa(i),
					fmt.Sprintf("candidate-%07d@example.com", i), string(status), fmt.Sprintf("seed-%07d-%s", i, tokenTail), invited,
					started, submitted, decided, invited.Add(f.Cadence.OptOutAfter), invited, invited, string(steps))
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				tx.Rollback()
				b.Fatalf("seed: %v", err)
			}
			done += rows
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	// The store keeps counts per job and status as it writes applicants; rows put in
	// with SQL are counted as migration 00013 counts those it finds.
	if _, err := db.ExecContext(ctx, `INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n)
		SELECT org_id, funnel_id, status, 0, COUNT(*) FROM applicants WHERE org_id = $1 AND funnel_id = $2 GROUP BY org_id, funnel_id, status`,
		f.OrgID, f.ID); err != nil {
		b.Fatalf("count the seeded applicants: %v", err)
	}
}

func ptr(t time.Time) *time.Time { return &t }

// growthOps are the requests the benchmark times, by name.
var growthOps = []string{"invitation (API)", "job page", "Applicants, first page"}

// measure times every request on both orgs, alternating between them so that both
// see the same machine, and returns the medians by org and request.
func (g *growth) measure(b *testing.B) map[string]map[string]time.Duration {
	b.Helper()
	samples := map[string]map[string][]time.Duration{}
	for _, o := range []*growthOrg{g.small, g.grown} {
		samples[o.name] = map[string][]time.Duration{}
		for _, op := range growthOps { // warm up: templates, connections, caches
			g.do(b, o, op)
		}
	}
	for range growthRounds {
		for _, op := range growthOps {
			for _, o := range []*growthOrg{g.small, g.grown} {
				start := time.Now()
				g.do(b, o, op)
				samples[o.name][op] = append(samples[o.name][op], time.Since(start))
			}
		}
	}
	g.stop()
	out := map[string]map[string]time.Duration{}
	for org, ops := range samples {
		out[org] = map[string]time.Duration{}
		for op, d := range ops {
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			out[org][op] = d[len(d)/2]
		}
	}
	return out
}

// do sends one request of op for org o and fails unless it succeeds.
func (g *growth) do(b *testing.B, o *growthOrg, op string) {
	b.Helper()
	var req *http.Request
	switch op {
	case "invitation (API)":
		o.n++
		body := fmt.Sprintf(`{"name": "New %d", "email": "new-%d@example.com"}`, o.n, o.n)
		req, _ = http.NewRequest("POST", g.base+"/api/v1/jobs/"+o.job.ID+"/applicants", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", "application/json")
	case "job page":
		req, _ = http.NewRequest("GET", g.base+"/jobs/"+o.job.ID, nil)
		req.AddCookie(o.cookie)
	case "Applicants, first page":
		req, _ = http.NewRequest("GET", g.base+"/applicants", nil)
		req.AddCookie(o.cookie)
	}
	res, err := g.client.Do(req)
	if err != nil {
		b.Fatalf("%s for %s: %v", op, o.name, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		b.Fatalf("%s for %s: %d", op, o.name, res.StatusCode)
	}
}

// report prints the table, reports the metrics and fails past the limits.
func (g *growth) report(b *testing.B, med map[string]map[string]time.Duration) {
	b.Helper()
	var t strings.Builder
	fmt.Fprintf(&t, "%s: %d applicants seeded in %s\n", g.m.DB.Dialect(), growthApplicants, g.seeded.Round(time.Millisecond))
	fmt.Fprintf(&t, "%-24s %12s %12s %7s\n", "request (median)", "empty job", "100k job", "ratio")
	for _, op := range growthOps {
		small, grown := med[g.small.name][op], med[g.grown.name][op]
		ratio := float64(grown) / float64(small)
		fmt.Fprintf(&t, "%-24s %12s %12s %6.2fx\n", op, small.Round(10*time.Microsecond), grown.Round(10*time.Microsecond), ratio)
		key := strings.NewReplacer(" ", "-", "(", "", ")", "", ",", "").Replace(strings.ToLower(op))
		b.ReportMetric(float64(small.Microseconds())/1000, key+"-empty-ms")
		b.ReportMetric(float64(grown.Microseconds())/1000, key+"-100k-ms")
		if ratio > growthLimit {
			b.Errorf("%s takes %.2f times as long on the grown job; want at most %.1f", op, ratio, growthLimit)
		}
	}
	if g.m.DB.Dialect() == "sqlite" {
		fmt.Fprintf(&t, "WAL peak: %.1f MB\n", float64(g.walPeak.Load())/(1<<20))
		b.ReportMetric(float64(g.walPeak.Load())/(1<<20), "wal-peak-MB")
		if g.walPeak.Load() >= growthMaxWAL {
			b.Errorf("the WAL reached %.1f MB; want under %d MB", float64(g.walPeak.Load())/(1<<20), growthMaxWAL>>20)
		}
	}
	b.Log("\n" + t.String())
}
