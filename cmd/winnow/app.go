package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"
	"riverqueue.com/riverui"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/filestore"
	"winnow/internal/jobs"
	"winnow/internal/keyring"
	"winnow/internal/lever"
	"winnow/internal/leverconn"
	"winnow/internal/sqlstore"
	"winnow/internal/web"
	"winnow/internal/web/api"
	"winnow/internal/web/auth"
	"winnow/internal/web/candidate"
	"winnow/internal/web/hook"
	"winnow/internal/web/recruiter"
	"winnow/internal/web/render"
	"winnow/ui"
)

// Main is the whole program, built in one place. Run builds and starts everything in
// order; Close stops it in reverse. Tests start a real Main on :0.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	Clock  winnow.Clock

	DB    *sqlstore.DB
	Store *sqlstore.Store
	// Inserter only inserts jobs: the store's effects and River's UI use it, in every
	// role.
	Inserter *jobs.Client
	// River works jobs; Run starts it in the roles all and worker.
	River   *jobs.Client
	Keyring *keyring.Keyring
	Files   *filestore.Store // uploads, in the bucket of WINNOW_BLOB_URL; set by Open
	// Lever connects orgs to Lever: their API clients, OAuth and API-key connection,
	// settings and job links (set by Open).
	Lever *leverconn.Connector
	// LeverWrites lists and retries the writes Lever refused, for the Lever panel: the
	// store, set by Open unless a test set another.
	LeverWrites winnow.LeverWriteService
	// MailMode says how email leaves: an SMTP server, or the outbox (set by Open).
	MailMode winnow.MailMode
	// Timeouts limit how long requests may take; the zero value means web's defaults.
	// Tests shorten them.
	Timeouts web.Timeouts
	// LeverOptions, when set, adjusts how Open builds Lever's connector: tests shorten
	// timeouts and lift the rate limit.
	LeverOptions func(*leverconn.Options)

	started bool                    // the River client was started
	stopUI  context.CancelFunc      // stops River's UI's background work
	intake  *sqlstore.IntakeBatcher // group commit of Lever's webhooks, in the roles all and web
	// intakeOnly lets winnow bench intake run the role web on SQLite too, so that
	// intake is measured without workers sharing the database.
	intakeOnly bool
	listener   net.Listener
	server     *http.Server
	serveErr   chan error
}

// NewMain returns a Main for cfg with the system clock.
func NewMain(cfg *config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger, Clock: winnow.SystemClock{}}
}

// Open opens and migrates the database and builds the store, the file store and the
// River clients: the inserter always, the working client unless the role is web. It
// is what every subcommand that touches data needs; serve adds the HTTP server with
// Run.
func (m *Main) Open(ctx context.Context) error {
	kr, err := keyring.New(m.Config.SecretKey)
	if err != nil {
		return err
	}
	m.Keyring = kr
	db, err := sqlstore.Open(ctx, m.Config.DatabaseURL, m.Config.DataDir)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	m.DB = db
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	// The workers need the store and the store needs its effects, which only insert
	// jobs: so an insert-only River client first, then the effects, the store, and the
	// working client last.
	inserter, err := jobs.NewInserter(db.RiverDriver(), m.Logger)
	if err != nil {
		return err
	}
	m.Inserter = inserter
	leverRate, err := m.Config.LeverRateLimit()
	if err != nil {
		return err
	}
	baseURL := func() string { return m.Config.BaseURL }
	effects := jobs.NewEffects[*sqlstore.Tx](inserter, jobs.OptOutPlanner{}, jobs.EmailPlanner{}, jobs.LeverPlanner{BaseURL: baseURL}).
		PaceDeliveries(jobs.NewDeliveryPacer(leverRate))
	m.Store = sqlstore.NewStore(db, m.Clock, effects)
	if m.LeverWrites == nil { // tests may set a stand-in
		m.LeverWrites = m.Store
	}
	sender, mode, err := newMailer(m.Config)
	if err != nil {
		return err
	}
	m.MailMode = mode
	blobURL := m.Config.BlobURL
	if blobURL == "" {
		if blobURL, err = filestore.FolderURL(filepath.Join(m.Config.DataDir, "uploads")); err != nil {
			return err
		}
	}
	files, err := filestore.Open(ctx, blobURL)
	if err != nil {
		return fmt.Errorf("uploads: %w", err)
	}
	m.Files = files
	// The base URL is read when needed: serve learns it only once it listens (port 0).
	lo := leverconn.Options{Store: m.Store, Sealer: kr, Lever: leverConfig(m.Config), Logger: m.Logger,
		Limiters: lever.NewLimiters(leverLimit(leverRate), 0),
		Clock:    m.Clock, BaseURL: func() string { return m.Config.BaseURL }, OnReconnect: m.resumeLever}
	if m.LeverOptions != nil {
		m.LeverOptions(&lo)
	}
	m.Lever = leverconn.New(lo)
	if !m.Config.RunsWorkers() {
		return nil // a web process only queues jobs
	}
	client, err := jobs.NewClient(db.RiverDriver(), jobs.Deps{Applicants: m.Store, Clock: m.Clock, Logger: m.Logger,
		Emails: m.Store, Sender: sender, From: mode.From, Sealer: kr, BaseURL: baseURL,
		Uploads: m.Store, Files: files, Lever: m.Lever, LeverStore: m.Store, RescueAfter: m.Config.RescueAfterDuration()})
	if err != nil {
		return err
	}
	m.River = client
	return nil
}

// resumeLever makes the org's paused Lever jobs available at once, after it
// reconnected. It goes through the inserter, which every role has: reconnecting happens
// in a web process.
func (m *Main) resumeLever(ctx context.Context, orgID string) {
	n, err := jobs.ResumeLever(ctx, m.Inserter, orgID)
	if err != nil {
		m.Logger.ErrorContext(ctx, "resume lever jobs", "org_id", orgID, "error", err)
		return
	}
	m.Logger.InfoContext(ctx, "lever jobs resumed", "org_id", orgID, "jobs", n)
}

// Run opens everything, starts what the role runs (config.Role: the web server, the
// workers, or both) and serves HTTP on the configured address until Close: every page
// in the roles all and web, only /healthz and /metrics in the role worker. It returns
// once the server is listening.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.CheckSecretKey(); err != nil {
		return err
	}
	if err := checkRole(m.Config); err != nil && !m.intakeOnly {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.listener = ln
	m.Config.ListenedBaseURL(ln.Addr().String())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if m.DB.Dialect() == sqlstore.DialectSQLite {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "winnow_sqlite_wal_bytes",
			Help: "Size of SQLite's WAL file in bytes; it returns to 0 when the writer is idle."},
			func() float64 { return float64(m.DB.WALBytes()) }))
	} else {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "winnow_postgres_tables_analyzed_total",
			Help: "Tables this process ran ANALYZE on because they had grown since PostgreSQL last took their statistics."},
			func() float64 { return float64(m.DB.TablesAnalyzed()) }))
	}
	var handler http.Handler
	if m.Config.ServesWeb() {
		if handler, err = m.webHandler(ctx, reg); err != nil {
			return err
		}
	} else {
		ops := &web.Server{Logger: m.Logger, Ping: m.DB.Ping, Registry: reg, Timeouts: m.Timeouts, MetricsToken: m.Config.MetricsToken}
		handler = ops.OpsHandler()
	}
	if m.Config.RunsWorkers() {
		if err := m.River.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		m.started = true
	}
	m.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.server.Serve(ln) }()
	m.Logger.Info("winnow is serving", "role", m.Config.Role, "addr", ln.Addr().String(), "url", m.Config.BaseURL, "database", m.DB.Dialect(), "version", version,
		"config", m.Config.String()) // every setting, secrets redacted
	logMailMode(m.Logger, m.MailMode, m.Config.BaseURL)
	return nil
}

// checkRole refuses the roles web and worker on SQLite. SQLite takes one writer at a
// time on one machine: processes split by role would only queue for its lock and poll
// each other's jobs through the file, with nothing gained. One process of the role all
// is the supported shape there; scaling out is several processes on PostgreSQL.
func checkRole(cfg *config.Config) error {
	if cfg.Role == config.RoleAll {
		return nil
	}
	dialect, err := sqlstore.DialectOf(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	if dialect != sqlstore.DialectPostgres {
		return fmt.Errorf("WINNOW_ROLE=%s needs PostgreSQL (WINNOW_DATABASE_URL=postgres://…): on SQLite run one process with the role all, "+
			"since SQLite lets one process write at a time and split processes would only wait for each other", cfg.Role)
	}
	return nil
}

// webHandler builds the web server's handler: pages, API and River's UI for admins.
func (m *Main) webHandler(ctx context.Context, reg *prometheus.Registry) (http.Handler, error) {
	renderer, err := render.New(ui.Templates, m.Logger)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	// River's UI reads and acts on jobs through any client of the database: the
	// inserter is one in every role, started or not.
	jobsUI, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(m.Inserter, nil),
		Logger: m.Logger.With("component", "riverui"), Prefix: web.JobsPrefix, JobListHideArgsByDefault: true})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	if err := jobsUI.Start(uiCtx); err != nil {
		stopUI()
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	m.stopUI = stopUI
	m.intake = m.Store.NewIntakeBatcher()
	files := m.Files
	sessions := &auth.Sessions{Store: m.Store, Users: m.Store, Orgs: m.Store, Keyring: m.Keyring, Clock: m.Clock,
		Secure: m.Config.Secure(), Logger: m.Logger}
	srv := &web.Server{
		Recruiter: &recruiter.Handler{Insights: m.Store, Orgs: m.Store, Users: m.Store, Invites: m.Store, Funnels: m.Store, Applicants: m.Store,
			Answers: m.Store, Reviews: m.Store, Tokens: m.Store, Files: files,
			Sessions: sessions, Limiter: auth.NewLoginLimiter(auth.MaxAccountAttempts, auth.MaxAddressAttempts, auth.LoginWindow, m.Clock),
			Keyring: m.Keyring, Proxies: auth.Proxies(m.Config.TrustedProxyPrefixes()),
			Render: renderer, Clock: m.Clock, Logger: m.Logger, BaseURL: m.Config.BaseURL, MailMode: m.MailMode,
			MemberInvites: &jobs.MemberInvites{Store: m.Store, Sealer: m.Keyring, Logger: m.Logger},
			Templates:     m.Store, Emails: m.Store, Invitations: m.Store,
			Lever: m.Lever, LeverWrites: m.LeverWrites, People: m.Store},
		API: &api.Handler{Insights: m.Store, Funnels: m.Store, Applicants: m.Store, Answers: m.Store, Reviews: m.Store, Tokens: m.Store, Invitations: m.Store, Emails: m.Store, Files: files,
			Users: m.Store, Keyring: m.Keyring, Clock: m.Clock, Logger: m.Logger, BaseURL: m.Config.BaseURL, Lever: m.Lever},
		Candidate: &candidate.Handler{Orgs: m.Store, Templates: m.Store, Funnels: m.Store, Applicants: m.Store, Answers: m.Store, Links: m.Store, Files: files,
			Render: renderer, Clock: m.Clock, Logger: m.Logger},
		Hooks: &hook.Handler{Webhooks: &jobs.LeverIntake{Store: m.Store, Deliveries: m.intake, Sealer: m.Keyring, Clock: m.Clock, Logger: m.Logger},
			Logger: m.Logger},
		Sessions: sessions, Render: renderer, Logger: m.Logger, Ping: m.DB.Ping, Registry: reg,
		Timeouts: m.Timeouts, Secure: m.Config.Secure(), MetricsToken: m.Config.MetricsToken, Jobs: jobsUI,
	}
	return srv.Handler(), nil
}

// Addr returns the address the server listens on, useful after listening on :0.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Wait blocks until the server stops by itself (an error) or ctx ends.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case err := <-m.serveErr:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close stops the HTTP server (letting requests finish), the workers, and the database.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop http: %w", err))
		}
	} else if m.listener != nil {
		m.listener.Close()
	}
	if m.intake != nil { // after the server: handlers still waiting get their answers
		m.intake.Close()
	}
	if m.started {
		if err := m.River.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("stop workers: %w", err))
		}
	}
	if m.stopUI != nil {
		m.stopUI()
	}
	if m.Files != nil {
		m.Files.Close()
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	return errors.Join(errs...)
}

// leverLimit is WINNOW_LEVER_RATE as a limiter's rate: rate.Inf for unlimited.
func leverLimit(perSecond float64) rate.Limit {
	if math.IsInf(perSecond, 1) {
		return rate.Inf
	}
	return rate.Limit(perSecond)
}

// leverConfig says where Lever is and which OAuth app Winnow is, from WINNOW_LEVER_*.
// The OAuth callback is under the base URL, which the connector reads when it needs it.
func leverConfig(cfg *config.Config) lever.Config {
	return lever.Config{APIURL: cfg.LeverAPIURL, AuthURL: cfg.LeverAuthURL, ClientID: cfg.LeverClientID,
		ClientSecret: cfg.LeverClientSecret}
}

// newLogger builds the process logger from the config.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
