package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/lever"
	"winnow/internal/sqlstore"
)

// Defaults of winnow bench intake: the figures the README and issue 11 quote.
const (
	benchIntakeRate     = 10000
	benchIntakeDuration = 5 * time.Second
	benchIntakeClients  = 64
	// benchClosedPerSec sizes the bodies signed before the closed-loop phase; a faster
	// run signs the rest as it goes.
	benchClosedPerSec = 30000
)

// benchIntakeCommand runs `winnow bench intake`: it starts Winnow (the web role: the
// webhook intake, no workers) on loopback with a fresh database, connects an org to
// Lever with a webhook signature token, and drives signed applicationCreated webhooks
// at it and at a no-op net/http handler with the same Go load generator: closed loop
// (peak throughput) and an open model at a fixed offered rate (latency counted from
// each request's scheduled send time, so queueing delay counts). Every acknowledged
// delivery is then looked up in the database.
func benchIntakeCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("bench intake", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	engine := fs.String("engine", sqlstore.DialectSQLite, "database: sqlite (a file in a temporary folder) or postgres (a scratch database, created and dropped)")
	pgURL := fs.String("postgres-url", e.getenv("WINNOW_TEST_POSTGRES_URL"), "PostgreSQL server for --engine postgres, as postgres://user@host:port/db; the run creates its own database there and drops it after (default $WINNOW_TEST_POSTGRES_URL)")
	rate := fs.Int("rate", benchIntakeRate, "offered rate of the open-model phase, in webhooks per second")
	duration := fs.Duration("duration", benchIntakeDuration, "length of each measured phase")
	clients := fs.Int("clients", benchIntakeClients, "concurrent clients of the closed-loop (peak) phase")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phases to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *engine != sqlstore.DialectSQLite && *engine != sqlstore.DialectPostgres:
		return fmt.Errorf("--engine %q: use sqlite or postgres", *engine)
	case *engine == sqlstore.DialectPostgres && *pgURL == "":
		return errors.New("--engine postgres needs --postgres-url or WINNOW_TEST_POSTGRES_URL")
	case *rate < 1 || *clients < 1 || *duration < 100*time.Millisecond:
		return errors.New("--rate and --clients must be at least 1, --duration at least 100ms")
	}

	dbURL, dropDB, err := benchDatabase(ctx, *engine, *pgURL)
	if err != nil {
		return err
	}
	defer dropDB()
	dataDir, err := os.MkdirTemp("", "winnow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	target, err := startIntakeTarget(ctx, dbURL, dataDir, e.stderr)
	if err != nil {
		return err
	}
	defer target.m.Close()
	noop, err := startNoop()
	if err != nil {
		return err
	}
	defer noop.Close()

	loadBefore := loadAverage()
	run := newBenchID()
	pool := newWebhookPool(run, target.signature, benchClosedPerSec*int(duration.Seconds()+1)+*rate*int(duration.Seconds()+1))
	fmt.Fprintf(e.stderr, "signed %d webhooks; measuring (%s per phase)…\n", len(pool.bodies), *duration)
	client := benchClient()
	defer client.CloseIdleConnections()
	acked := newAckSet()
	gen := &loadGen{client: client, pool: pool}

	// Warm-up: connections opened, caches and the query plans of both targets hot.
	gen.closed(ctx, noop.URL, *clients, 500*time.Millisecond, nil)
	gen.closed(ctx, target.url, *clients, 500*time.Millisecond, acked)
	time.Sleep(500 * time.Millisecond)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rows []loadResult
	phase := func(name string, run func() loadResult) {
		cpu0, db0 := processCPU(), backendCPU(ctx, target.m.DB)
		r := run()
		r.cpu = processCPU() - cpu0
		if db0 != nil {
			r.dbCPU = cpuSince(db0, backendCPU(ctx, target.m.DB))
		}
		r.target = name
		rows = append(rows, r)
	}
	phase("no-op net/http", func() loadResult { return gen.closed(ctx, noop.URL, *clients, *duration, nil) })
	phase("winnow webhook", func() loadResult { return gen.closed(ctx, target.url, *clients, *duration, acked) })
	time.Sleep(time.Second) // let the database settle (SQLite checkpoints its WAL)
	phase("no-op net/http", func() loadResult { return gen.open(ctx, noop.URL, *rate, *duration, nil) })
	phase("winnow webhook", func() loadResult { return gen.open(ctx, target.url, *rate, *duration, acked) })

	found, jobs, err := target.durable(ctx, acked)
	if err != nil {
		return err
	}
	printIntakeTable(e.stdout, *engine, *duration, loadBefore, rows)
	fmt.Fprintf(e.stdout, "\ndurable: %d of %d acknowledged deliveries found in lever_deliveries; %d processing jobs in river_job\n",
		found, acked.count(), jobs)
	if found != acked.count() || jobs < found {
		return fmt.Errorf("%d acknowledged deliveries are missing from the database", acked.count()-found)
	}
	return nil
}

// benchDatabase returns the database URL of the run: "" (SQLite in the data folder)
// or a scratch PostgreSQL database made on the server of pgURL, which drop removes.
func benchDatabase(ctx context.Context, engine, pgURL string) (dbURL string, drop func(), err error) {
	if engine == sqlstore.DialectSQLite {
		return "", func() {}, nil
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	name := "winnow_bench_intake_" + newBenchID()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create scratch database: %w", err)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("parse --postgres-url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "winnow bench: drop scratch database", name+":", err)
		}
		admin.Close()
	}, nil
}

// intakeTarget is Winnow serving webhooks for one org connected to Lever.
type intakeTarget struct {
	m         *Main
	url       string // the org's webhook URL
	orgID     string
	signature string // the webhook signature token, as Lever has it
}

// startIntakeTarget starts Winnow on loopback in the role web (no workers, so that
// intake is measured alone; processing is another benchmark) and connects an org.
func startIntakeTarget(ctx context.Context, dbURL, dataDir string, logTo io.Writer) (*intakeTarget, error) {
	vars := map[string]string{
		"WINNOW_ADDR": "127.0.0.1:0", "WINNOW_DATA_DIR": dataDir, "WINNOW_DATABASE_URL": dbURL,
		"WINNOW_SECRET_KEY": newBenchID() + newBenchID(), "WINNOW_ROLE": config.RoleWeb, "WINNOW_LOG_LEVEL": "error",
	}
	cfg, err := config.Load(flag.NewFlagSet("bench", flag.ContinueOnError), nil, func(k string) string { return vars[k] })
	if err != nil {
		return nil, err
	}
	m := NewMain(cfg, newLogger(cfg, logTo))
	m.intakeOnly = true
	if err := m.Run(ctx); err != nil {
		m.Close()
		return nil, err
	}
	org := &winnow.Org{Name: "Bench " + newBenchID()}
	if err := m.Store.CreateOrg(ctx, org); err != nil {
		m.Close()
		return nil, err
	}
	c, err := m.Store.EnsureLeverConnection(ctx, org.ID)
	if err != nil {
		m.Close()
		return nil, err
	}
	signature := newBenchID()
	sealedSig, err := m.Keyring.Seal(signature)
	if err != nil {
		m.Close()
		return nil, err
	}
	sealedKey, err := m.Keyring.Seal("bench-api-key")
	if err != nil {
		m.Close()
		return nil, err
	}
	now := time.Now()
	c.Mode, c.State, c.APIKey, c.SignatureToken, c.ConnectedAt = winnow.LeverAPIKey, winnow.LeverConnected, sealedKey, sealedSig, &now
	if err := m.Store.SaveLeverConnection(ctx, c); err != nil {
		m.Close()
		return nil, err
	}
	return &intakeTarget{m: m, url: "http://" + m.Addr() + winnow.LeverWebhookPath + "/" + c.OrgKey,
		orgID: org.ID, signature: signature}, nil
}

// durable counts the acknowledged deliveries stored for the org, and the processing
// jobs in River's table.
func (t *intakeTarget) durable(ctx context.Context, acked *ackSet) (found, jobs int, err error) {
	db := t.m.DB.SQL()
	rows, err := db.QueryContext(ctx, `SELECT application_id FROM lever_deliveries WHERE org_id = $1`, t.orgID)
	if err != nil {
		return 0, 0, fmt.Errorf("read deliveries: %w", err)
	}
	stored := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read deliveries: %w", err)
		}
		stored[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read deliveries: %w", err)
	}
	for _, i := range acked.list() {
		if stored[applicationID(acked.run, i)] {
			found++
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'lever_delivery'`).Scan(&jobs); err != nil {
		return 0, 0, fmt.Errorf("count jobs: %w", err)
	}
	return found, jobs, nil
}

// startNoop serves the no-op handler: it reads the body and answers 200 with a body
// like Winnow's, which is the ceiling of the HTTP stack and load generator alone.
func startNoop() (*noopServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`+"\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &noopServer{srv: srv, URL: "http://" + ln.Addr().String() + "/"}, nil
}

type noopServer struct {
	srv *http.Server
	URL string
}

func (n *noopServer) Close() { n.srv.Close() }

// benchMaxConns bounds the generator's connections to a target: enough for any
// latency the targets show at the rates measured here, and few enough that the server
// (in the same process, with its database files) never runs out of file descriptors.
// A request that finds them all busy waits for one, which the open model counts.
const benchMaxConns = 512

// benchClient keeps enough connections open for either phase.
func benchClient() *http.Client {
	tr := &http.Transport{MaxIdleConns: benchMaxConns, MaxIdleConnsPerHost: benchMaxConns, MaxConnsPerHost: benchMaxConns, IdleConnTimeout: time.Minute,
		DisableCompression: true, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// webhookPool holds webhooks signed before the run, each a new application, so that
// signing and encoding cost the generator nothing while it measures. Past its end,
// bodies are signed as they are sent.
type webhookPool struct {
	run, signature string
	bodies         [][]byte
}

func newWebhookPool(run, signature string, n int) *webhookPool {
	p := &webhookPool{run: run, signature: signature, bodies: make([][]byte, n)}
	for i := range p.bodies {
		p.bodies[i] = p.sign(i)
	}
	return p
}

// body returns the i-th webhook of the run.
func (p *webhookPool) body(i int) []byte {
	if i < len(p.bodies) {
		return p.bodies[i]
	}
	return p.sign(i)
}

// sign encodes the i-th applicationCreated webhook, signed as Lever signs.
func (p *webhookPool) sign(i int) []byte {
	token := p.run + "-" + strconv.Itoa(i)
	at := time.Now().UnixMilli()
	return fmt.Appendf(nil, `{"id":"%s","event":"applicationCreated","triggeredAt":%d,"token":"%s","signature":"%s",`+
		`"data":{"opportunityId":"opp-%s","applicationId":"%s","contactId":"contact-%s"}}`,
		token, at, token, lever.Sign(p.signature, token, at), token, applicationID(p.run, i), token)
}

// applicationID is the Lever application of the run's i-th webhook.
func applicationID(run string, i int) string { return "app-" + run + "-" + strconv.Itoa(i) }

// ackSet is the indexes of the webhooks Winnow acknowledged (2xx).
type ackSet struct {
	run string
	mu  sync.Mutex
	ids []int
}

func newAckSet() *ackSet { return &ackSet{} }

func (a *ackSet) add(ids []int) {
	a.mu.Lock()
	a.ids = append(a.ids, ids...)
	a.mu.Unlock()
}

func (a *ackSet) list() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ids)
}

func (a *ackSet) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// loadGen sends the pool's webhooks, each index once across all phases.
type loadGen struct {
	client *http.Client
	pool   *webhookPool
	next   atomic.Int64
}

// loadResult is one phase against one target.
type loadResult struct {
	target, load      string
	sent, ok, refused int // refused: non-2xx answers and transport errors
	elapsed           time.Duration
	lat               []time.Duration // of the 2xx answers
	// cpu is the CPU time (user and system) the whole process used during the phase:
	// generator, HTTP and the target together (and, on PostgreSQL, not the server's).
	cpu time.Duration
	// dbCPU is the CPU time of the PostgreSQL server processes serving the target's
	// database during the phase, where they can be seen (a server on this machine).
	dbCPU time.Duration
}

// post sends body to u; ok is a 2xx answer.
func (g *loadGen) post(ctx context.Context, u string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// closed runs clients that each send the next webhook as soon as the last one was
// answered, for d: the peak rate. Acknowledged indexes go to acked when it is set.
func (g *loadGen) closed(ctx context.Context, u string, clients int, d time.Duration, acked *ackSet) loadResult {
	res := loadResult{load: "closed, " + strconv.Itoa(clients) + " clients"}
	if acked != nil {
		acked.run = g.pool.run
	}
	type part struct {
		lat          []time.Duration
		ids          []int
		sent, failed int
	}
	parts := make([]part, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			p := &parts[c]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(g.next.Add(1) - 1)
				t0 := time.Now()
				p.sent++
				if !g.post(ctx, u, g.pool.body(i)) {
					p.failed++
					continue
				}
				p.lat = append(p.lat, time.Since(t0))
				p.ids = append(p.ids, i)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	for _, p := range parts {
		res.sent += p.sent
		res.refused += p.failed
		res.ok += len(p.lat)
		res.lat = append(res.lat, p.lat...)
		if acked != nil {
			acked.add(p.ids)
		}
	}
	return res
}

// open sends rate webhooks a second for d on a fixed schedule, each from its own
// goroutine whatever the answers, and times each from its scheduled send time: a
// target (or generator) that falls behind shows it as latency, not as a lower rate.
func (g *loadGen) open(ctx context.Context, u string, rate int, d time.Duration, acked *ackSet) loadResult {
	res := loadResult{load: "open, " + strconv.Itoa(rate) + "/s offered"}
	if acked != nil {
		acked.run = g.pool.run
	}
	n := int(int64(rate) * int64(d) / int64(time.Second))
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	base := int(g.next.Add(int64(n)) - int64(n))
	interval := float64(time.Second) / float64(rate)
	start := time.Now().Add(5 * time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; {
		due := int(float64(time.Since(start))/interval) + 1
		for ; i < due && i < n; i++ {
			k, sched := i, start.Add(time.Duration(float64(i)*interval))
			wg.Go(func() {
				if ok[k] = g.post(ctx, u, g.pool.body(base+k)); ok[k] {
					lat[k] = time.Since(sched)
				}
			})
		}
		if i < n {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) * interval))))
		}
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	var ids []int
	for i := range n {
		res.sent++
		if !ok[i] {
			res.refused++
			continue
		}
		res.ok++
		res.lat = append(res.lat, lat[i])
		ids = append(ids, base+i)
	}
	if acked != nil {
		acked.add(ids)
	}
	return res
}

// printIntakeTable writes the figures as one table.
// load is the machine's load average when the run began, as the figures depend on
// what else runs.
func printIntakeTable(w io.Writer, engine string, d time.Duration, load string, rows []loadResult) {
	db := "SQLite (WAL, synchronous=FULL), temporary file"
	if engine == sqlstore.DialectPostgres {
		db = "PostgreSQL, scratch database"
	}
	fmt.Fprintf(w, "winnow bench intake: %s; %d CPUs (load average %s before the run), %s; %s per phase; Winnow in the role web (no workers)\n\n",
		db, runtime.NumCPU(), load, runtime.Version(), d)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "target\tload\tsent\t2xx\tother\t2xx/s\tp50\tp99\tmax\tCPU/2xx\t"
	if engine == sqlstore.DialectPostgres {
		header += "server CPU/2xx\t"
	}
	fmt.Fprintln(tw, header)
	perOK := func(cpu time.Duration, ok int) string {
		if cpu <= 0 || ok == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f µs", float64(cpu)/float64(time.Microsecond)/float64(ok))
	}
	for _, r := range rows {
		slices.Sort(r.lat)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t", r.target, r.load, r.sent, r.ok, r.refused,
			float64(r.ok)/r.elapsed.Seconds(), pct(r.lat, 0.50), pct(r.lat, 0.99), pct(r.lat, 1), perOK(r.cpu, r.ok))
		if engine == sqlstore.DialectPostgres {
			fmt.Fprintf(tw, "%s\t", perOK(r.dbCPU, r.ok))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCPU/2xx: CPU time (user+system) of this whole process per acknowledged request: load generator, HTTP and target"+
		" (the no-op rows are the generator's and HTTP's share).")
	if engine == sqlstore.DialectPostgres {
		fmt.Fprintln(w, "server CPU/2xx: that of the PostgreSQL backends serving the scratch database (only when the server runs on this machine;"+
			" its WAL writer and checkpointer are not counted).")
	}
}

// pct is the q-quantile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, q float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return fmt.Sprintf("%.1f ms", float64(sorted[i])/float64(time.Millisecond))
}

// loadAverage is the 1-minute load average where the system tells it (Linux), "unknown"
// elsewhere.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// newBenchID returns 16 random hex digits.
func newBenchID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
