package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/leverconn"
	"winnow/internal/leversandbox"
)

// benchEngine is where a benchmark's Winnow keeps its data: a SQLite file in a temp
// folder, or a scratch PostgreSQL database that is dropped at the end.
type benchEngine struct {
	name  string // "sqlite" or "postgres"
	url   string // WINNOW_DATABASE_URL: "" for the data folder's SQLite file
	dir   string // the temp folder (data, uploads)
	clean func()
}

// benchFlags are the flags every benchmark takes.
type benchFlags struct {
	engine   string
	postgres string
}

func (f *benchFlags) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&f.engine, "engine", "sqlite", "database engine: sqlite or postgres")
	fs.StringVar(&f.postgres, "postgres-url", e.getenv("WINNOW_TEST_POSTGRES_URL"),
		"PostgreSQL server to create the scratch database on (WINNOW_TEST_POSTGRES_URL)")
}

// openBenchEngine creates the benchmark's temp folder and database.
func openBenchEngine(ctx context.Context, f benchFlags) (*benchEngine, error) {
	dir, err := os.MkdirTemp("", "winnow-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp folder: %w", err)
	}
	be := &benchEngine{name: f.engine, dir: dir, clean: func() { os.RemoveAll(dir) }}
	switch f.engine {
	case "sqlite":
		return be, nil
	case "postgres":
	default:
		be.clean()
		return nil, fmt.Errorf("--engine must be sqlite or postgres, not %q", f.engine)
	}
	if f.postgres == "" {
		be.clean()
		return nil, fmt.Errorf("--engine postgres needs --postgres-url or WINNOW_TEST_POSTGRES_URL (a server where a scratch database may be created)")
	}
	u, err := url.Parse(f.postgres)
	if err != nil {
		be.clean()
		return nil, fmt.Errorf("parse --postgres-url: %w", err)
	}
	admin, err := sql.Open("pgx", f.postgres)
	if err != nil {
		be.clean()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	name := "winnow_bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		be.clean()
		return nil, fmt.Errorf("create scratch database: %w", err)
	}
	u.Path = "/" + name
	be.url = u.String()
	be.clean = func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(cctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "winnow bench: drop scratch database", name+":", err)
		}
		admin.Close()
		os.RemoveAll(dir)
	}
	return be, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// benchConfig is the configuration of the benchmark's Winnow: loopback, the engine's
// database, Lever at the sandbox, email kept in the outbox.
func benchConfig(be *benchEngine, sb *leversandbox.Server, sbURL, secret string) (*config.Config, error) {
	env := map[string]string{
		"WINNOW_ADDR":                "127.0.0.1:0",
		"WINNOW_DATA_DIR":            filepath.Join(be.dir, "data"),
		"WINNOW_DATABASE_URL":        be.url,
		"WINNOW_SECRET_KEY":          secret,
		"WINNOW_LOG_LEVEL":           "error",
		"WINNOW_LEVER_API_URL":       sbURL + "/v1",
		"WINNOW_LEVER_AUTH_URL":      sbURL,
		"WINNOW_LEVER_CLIENT_ID":     sb.ClientID(),
		"WINNOW_LEVER_CLIENT_SECRET": sb.ClientSecret(),
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, nil, func(k string) string { return env[k] })
}

// newBenchMain builds a Main for the benchmark, with leverOpts adjusting Lever's
// connector (the rate budget).
func newBenchMain(cfg *config.Config, stderr io.Writer, leverOpts func(*leverconn.Options)) *Main {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	m := NewMain(cfg, logger)
	m.LeverOptions = leverOpts
	return m
}

// benchOrg is an org connected to the sandbox with its own API key (its own Lever
// account, so its own rate limit there), with a posting and the open job linked to it.
type benchOrg struct {
	id      string
	key     string // the org's webhook URL key
	posting string
	funnel  *winnow.Funnel
}

// setUpBenchOrg creates the org, its admin, its connection with apiKey, a posting in
// the sandbox and the job linked to it.
func setUpBenchOrg(ctx context.Context, m *Main, sb *leversandbox.Server, name, apiKey string) (*benchOrg, error) {
	u, _, _, err := createUser(ctx, m.Store, name, &winnow.User{Email: "admin@" + strings.ToLower(name) + ".example",
		Role: winnow.RoleAdmin, PasswordHash: "x"})
	if err != nil {
		return nil, fmt.Errorf("create org %s: %w", name, err)
	}
	c, err := m.Store.EnsureLeverConnection(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	sealed, err := m.Keyring.Seal(apiKey)
	if err != nil {
		return nil, err
	}
	now := m.Clock.Now()
	c.Mode, c.APIKey, c.State, c.ConnectedAt, c.ConnectedBy = winnow.LeverAPIKey, sealed, winnow.LeverConnected, &now, u.ID
	if err := m.Store.SaveLeverConnection(ctx, c); err != nil {
		return nil, err
	}
	posting, err := sb.CreatePosting(leversandbox.PostingInput{Text: name + " Engineer"})
	if err != nil {
		return nil, err
	}
	f := &winnow.Funnel{OrgID: u.OrgID, Title: name + " Engineer", Status: winnow.FunnelOpen, Team: []string{u.ID},
		LeverPostingID: posting, Steps: []winnow.Step{{Kind: winnow.StepQuestions,
			Questions: []winnow.Question{{Text: "Can you start in March?", Type: winnow.QuestionYesNo}}}}}
	if err := m.Store.CreateFunnel(ctx, f); err != nil {
		return nil, fmt.Errorf("create job: %w", err)
	}
	return &benchOrg{id: u.OrgID, key: c.OrgKey, posting: posting, funnel: f}, nil
}

// queueApplications applies n candidates to the org's posting in the sandbox (which
// has no webhook for them) and records each applicationCreated delivery as the
// webhook intake would, 8 at a time: n queued processing jobs. It returns the
// opportunities.
func queueApplications(ctx context.Context, m *Main, sb *leversandbox.Server, o *benchOrg, n int) ([]string, error) {
	opps := make([]string, n)
	deliveries := make([]*winnow.LeverDelivery, n)
	for i := range n {
		a, err := sb.Apply(leversandbox.ApplyInput{PostingID: o.posting, Name: fmt.Sprintf("Candidate %05d", i),
			Email: fmt.Sprintf("c%05d-%s@example.com", i, o.id[len(o.id)-6:])})
		if err != nil {
			return nil, err
		}
		opps[i] = a.OpportunityID
		deliveries[i] = &winnow.LeverDelivery{OrgID: o.id, Event: winnow.LeverApplicationCreated, Token: randomHex(12),
			TriggeredAt: time.Now(), Status: winnow.LeverDeliveryReceived, OpportunityID: a.OpportunityID, ApplicationID: a.ApplicationID}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan *winnow.LeverDelivery)
	for range 8 {
		wg.Go(func() {
			for d := range next {
				if _, err := m.Store.RecordLeverDelivery(ctx, d); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, d := range deliveries {
		select {
		case next <- d:
		case err := <-errs:
			close(next)
			wg.Wait()
			return nil, err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return opps, nil
}

// hookUp adds in the sandbox a webhook of applicationCreated pointing at the org's URL
// on m, and stores its signature token on the org's connection, as connecting does.
func hookUp(ctx context.Context, m *Main, sb *leversandbox.Server, o *benchOrg) error {
	info, err := sb.AddWebhook(leversandbox.WebhookInput{URL: winnow.LeverWebhookURL(m.Config.BaseURL, o.key), Event: winnow.LeverApplicationCreated})
	if err != nil {
		return err
	}
	c, err := m.Store.FindLeverConnection(ctx, o.id)
	if err != nil {
		return err
	}
	sealed, err := m.Keyring.Seal(info.SignatureToken)
	if err != nil {
		return err
	}
	c.Webhooks = append(c.Webhooks, winnow.LeverWebhook{ID: info.ID, Event: winnow.LeverApplicationCreated, SignatureToken: sealed})
	return m.Store.SaveLeverConnection(ctx, c)
}

// timeToCPSent applies one candidate in the sandbox (which sends the webhook) and
// returns how long until the opportunity carries CP-Sent there.
func timeToCPSent(ctx context.Context, sb *leversandbox.Server, o *benchOrg, email string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	a, err := sb.Apply(leversandbox.ApplyInput{PostingID: o.posting, Name: "Idle Candidate", Email: email})
	if err != nil {
		return 0, err
	}
	for {
		if st, ok := sb.Opportunity(a.OpportunityID); ok && slices.Contains(st.Tags, "CP-Sent") {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("no CP-Sent on %s after %s", a.OpportunityID, limit)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// percentile returns the p-th percentile (0–100) of ds, which it sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// countDone counts the org's Lever writes of kind that are done.
func countDone(ctx context.Context, m *Main, orgID string, kind winnow.LeverWriteKind) (int, error) {
	var n int
	err := m.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM lever_writes WHERE org_id = $1 AND kind = $2 AND status = $3`,
		orgID, string(kind), string(winnow.LeverWriteDone)).Scan(&n)
	return n, err
}

// tagCounter counts the opportunities the sandbox shows with a tag, the way a
// recruiter would see them, without reading Winnow's database: a count query there
// took server CPU from the work being measured. Each look reads only the
// opportunities not seen tagged before.
type tagCounter struct {
	sb      *leversandbox.Server
	tag     string
	total   int
	pending []string
}

// newTagCounter counts which of opps carry tag in sb.
func newTagCounter(sb *leversandbox.Server, opps []string, tag string) *tagCounter {
	return &tagCounter{sb: sb, tag: tag, total: len(opps), pending: slices.Clone(opps)}
}

// count returns how many of the opportunities carry the tag or have carried it at an
// earlier look.
func (c *tagCounter) count() int {
	keep := c.pending[:0]
	for _, opp := range c.pending {
		if st, ok := c.sb.Opportunity(opp); ok && slices.Contains(st.Tags, c.tag) {
			continue
		}
		keep = append(keep, opp)
	}
	c.pending = keep
	return c.total - len(keep)
}

// startCPUProfile writes a CPU profile to path until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
