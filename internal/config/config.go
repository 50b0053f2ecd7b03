// Package config loads Winnow's settings from WINNOW_* environment variables, with
// command-line flags overriding them.
package config

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config is everything an operator can set. The zero value is not useful: use Load.
type Config struct {
	Addr        string // where serve listens; port 0 picks a free port
	Role        string // what serve runs: RoleAll, RoleWeb or RoleWorker
	DataDir     string // SQLite file, uploads
	BlobURL     string // where uploaded files live; empty: the folder uploads in DataDir
	DatabaseURL string // empty: SQLite in DataDir; postgres://… selects PostgreSQL
	BaseURL     string // public URL used in links; derived from Addr when empty (see ListenedBaseURL)
	SecretKey   string // encrypts secrets at rest and signs sessions
	LogLevel    string // debug, info, warn, error
	LogFormat   string // text or json
	// MetricsToken is the bearer token /metrics requires; empty leaves it open.
	MetricsToken string

	LeverAPIURL       string
	LeverAuthURL      string
	LeverClientID     string
	LeverClientSecret string
	// LeverRate is the requests per second Winnow spends of each Lever account's limit,
	// in each worker process: a number, or "unlimited".
	LeverRate string

	SMTPURL  string // empty: email is kept in the outbox, not delivered
	MailFrom string // sender of every email; required with SMTPURL

	TrustedProxies string // comma-separated IPs and CIDRs whose forwarding headers are believed

	// RescueAfter is how long a job may stay running before a worker takes it over as
	// stuck, because the process working it died (a Go duration).
	RescueAfter string
}

// DefaultRescueAfter is WINNOW_RESCUE_AFTER's default: short enough that a killed
// worker delays its jobs by minutes, not River's default hour. A job is taken over
// only once its kind's own timeout has passed too, so a job still running in a live
// process is never taken (River ends a run at its timeout).
const DefaultRescueAfter = "2m"

// MinRescueAfter is the shortest WINNOW_RESCUE_AFTER accepted: a job taken over while
// still running elsewhere does no harm twice (every effect has its own claim), but it
// is wasted work.
const MinRescueAfter = time.Second

// LeverRateLimit returns WINNOW_LEVER_RATE in requests per second; math.Inf(1) for
// "unlimited".
func (c *Config) LeverRateLimit() (float64, error) {
	if c.LeverRate == "unlimited" {
		return math.Inf(1), nil
	}
	r, err := strconv.ParseFloat(c.LeverRate, 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, fmt.Errorf("WINNOW_LEVER_RATE %q: use requests per second above 0, such as 8, or unlimited", c.LeverRate)
	}
	return r, nil
}

// RescueAfterDuration returns WINNOW_RESCUE_AFTER, which Load has checked.
func (c *Config) RescueAfterDuration() time.Duration {
	d, _ := time.ParseDuration(c.RescueAfter)
	return d
}

// The roles of a serve process (WINNOW_ROLE). Any number of each may share one
// PostgreSQL database; on SQLite a single process of RoleAll is the only shape.
const (
	RoleAll    = "all"    // the web server and the background workers
	RoleWeb    = "web"    // the web server only: it queues jobs and never works them
	RoleWorker = "worker" // the background workers, with /healthz and /metrics only
)

// MinSecretKeyLength is the shortest WINNOW_SECRET_KEY that serve accepts.
const MinSecretKeyLength = 32

// Var describes one setting: its environment variable, flag, default and meaning.
type Var struct {
	Env     string
	Flag    string // empty when the setting has no flag
	Default string
	Usage   string
	Secret  bool
	field   func(*Config) *string
}

// Vars lists every setting in the order help shows them.
var Vars = []Var{
	{"WINNOW_ADDR", "addr", ":8080", "address the HTTP server listens on", false, func(c *Config) *string { return &c.Addr }},
	{"WINNOW_ROLE", "role", RoleAll, "what serve runs: all (web server and workers), web (pages, API and webhooks; queues jobs) or worker (works jobs; serves only /healthz and /metrics); web and worker need PostgreSQL", false, func(c *Config) *string { return &c.Role }},
	{"WINNOW_DATA_DIR", "data-dir", "./data", "folder for the SQLite database and uploaded files", false, func(c *Config) *string { return &c.DataDir }},
	{"WINNOW_BLOB_URL", "blob-url", "", "where uploaded files are kept: empty means the folder DATA_DIR/uploads; s3://BUCKET?region=REGION (add &endpoint=URL&use_path_style=true for S3-compatible stores) lets web processes on several machines share them; file:///path is another folder", false, func(c *Config) *string { return &c.BlobURL }},
	{"WINNOW_DATABASE_URL", "database-url", "", "database; empty means SQLite at DATA_DIR/winnow.db, a postgres:// URL selects PostgreSQL", true, func(c *Config) *string { return &c.DatabaseURL }},
	{"WINNOW_BASE_URL", "base-url", "", "public URL of this server, used in links (default http://localhost:PORT)", false, func(c *Config) *string { return &c.BaseURL }},
	{"WINNOW_SECRET_KEY", "", "", "at least 32 characters (openssl rand -hex 32); encrypts secrets and signs sessions", true, func(c *Config) *string { return &c.SecretKey }},
	{"WINNOW_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false, func(c *Config) *string { return &c.LogLevel }},
	{"WINNOW_LOG_FORMAT", "log-format", "text", "text or json", false, func(c *Config) *string { return &c.LogFormat }},
	{"WINNOW_METRICS_TOKEN", "", "", "bearer token that /metrics requires (Authorization: Bearer TOKEN); empty leaves /metrics open", true, func(c *Config) *string { return &c.MetricsToken }},
	{"WINNOW_LEVER_API_URL", "", "https://api.lever.co/v1", "Lever API base URL (point it at `winnow lever-sandbox` to try Winnow)", false, func(c *Config) *string { return &c.LeverAPIURL }},
	{"WINNOW_LEVER_AUTH_URL", "", "https://auth.lever.co", "Lever OAuth base URL", false, func(c *Config) *string { return &c.LeverAuthURL }},
	{"WINNOW_LEVER_CLIENT_ID", "", "", "OAuth client ID of your Lever app", false, func(c *Config) *string { return &c.LeverClientID }},
	{"WINNOW_LEVER_CLIENT_SECRET", "", "", "OAuth client secret of your Lever app", true, func(c *Config) *string { return &c.LeverClientSecret }},
	{"WINNOW_LEVER_RATE", "", "8", "requests per second each process spends of each Lever account's rate limit (Lever allows 10); with several worker processes give each its share, e.g. 4 for two; unlimited only against the sandbox", false, func(c *Config) *string { return &c.LeverRate }},
	{"WINNOW_SMTP_URL", "smtp-url", "", "SMTP server for email: smtp://user:pass@host:587 (STARTTLS when offered; add ?starttls=required to insist) or smtps://… (implicit TLS); empty keeps email in an outbox, undelivered", true, func(c *Config) *string { return &c.SMTPURL }},
	{"WINNOW_MAIL_FROM", "mail-from", "", `sender of every email, e.g. "Acme Hiring <jobs@acme.example>"; required with WINNOW_SMTP_URL`, false, func(c *Config) *string { return &c.MailFrom }},
	{"WINNOW_RESCUE_AFTER", "rescue-after", DefaultRescueAfter, "how long a background job may stay running before another worker takes it over, because the process working it died (at least the job's own timeout also passes; e.g. 2m)", false, func(c *Config) *string { return &c.RescueAfter }},
	{"WINNOW_TRUSTED_PROXIES", "trusted-proxies", "", "reverse proxies whose X-Forwarded-For or Forwarded header gives the client address, as comma-separated IPs and CIDRs (10.0.0.0/8, 192.0.2.7); empty trusts none", false, func(c *Config) *string { return &c.TrustedProxies }},
}

// Load builds a Config from defaults, then the environment (through getenv), then the
// flags in args that fs defines. It registers every flag-able setting on fs; callers may
// register their own flags on fs first, and a flag of theirs with a setting's name
// (user create's --role) replaces the setting's flag, which then comes from the
// environment only.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	for _, v := range Vars {
		p := v.field(c)
		*p = v.Default
		if e := getenv(v.Env); e != "" {
			*p = e
		}
		if v.Flag != "" && fs.Lookup(v.Flag) == nil {
			fs.StringVar(p, v.Flag, *p, v.Usage+" ("+v.Env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := c.normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) normalize() error {
	if c.DataDir == "" {
		return fmt.Errorf("WINNOW_DATA_DIR cannot be empty")
	}
	c.DataDir = filepath.Clean(c.DataDir)
	if c.BaseURL == "" {
		host, port := "localhost", "8080"
		if i := strings.LastIndex(c.Addr, ":"); i >= 0 {
			if h := c.Addr[:i]; h != "" && h != "0.0.0.0" && h != "[::]" {
				host = h
			}
			if p := c.Addr[i+1:]; p != "" {
				port = p
			}
		}
		c.BaseURL = "http://" + host + ":" + port
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("WINNOW_BASE_URL %q is not an http(s) URL such as https://winnow.example.com", c.BaseURL)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("WINNOW_LOG_LEVEL %q: use debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("WINNOW_LOG_FORMAT %q: use text or json", c.LogFormat)
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("WINNOW_TRUSTED_PROXIES: %w", err)
	}
	if _, err := c.LeverRateLimit(); err != nil {
		return err
	}
	if d, err := time.ParseDuration(c.RescueAfter); err != nil || d < MinRescueAfter {
		return fmt.Errorf("WINNOW_RESCUE_AFTER %q: use a duration of at least %s, such as 15m", c.RescueAfter, MinRescueAfter)
	}
	switch c.Role {
	case RoleAll, RoleWeb, RoleWorker:
	default:
		return fmt.Errorf("WINNOW_ROLE %q: use all, web or worker", c.Role)
	}
	if c.BlobURL != "" {
		u, err := url.Parse(c.BlobURL)
		if err != nil || u.Scheme == "" {
			return fmt.Errorf("WINNOW_BLOB_URL %q is not a URL such as s3://bucket?region=eu-west-1 or file:///var/lib/winnow/uploads", c.BlobURL)
		}
	}
	return nil
}

// ServesWeb reports whether serve runs the web server: roles all and web.
func (c *Config) ServesWeb() bool { return c.Role != RoleWorker }

// RunsWorkers reports whether serve works background jobs: roles all and worker.
func (c *Config) RunsWorkers() bool { return c.Role != RoleWeb }

// TrustedProxyPrefixes returns WINNOW_TRUSTED_PROXIES as address ranges, a single
// address as a range of one; Load has already refused a list that does not parse.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	p, _ := parseProxies(c.TrustedProxies)
	return p
}

// parseProxies reads a comma-separated list of IP addresses and CIDR ranges.
func parseProxies(s string) ([]netip.Prefix, error) {
	bad := func(e string) error {
		return fmt.Errorf("%q is not an IP address or CIDR range such as 192.0.2.7 or 10.0.0.0/8", e)
	}
	var p []netip.Prefix
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			n, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, bad(e)
			}
			p = append(p, n.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return nil, bad(e)
		}
		a = a.Unmap()
		p = append(p, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// CheckSecretKey reports whether the secret key is usable, with instructions when not.
func (c *Config) CheckSecretKey() error {
	if len(c.SecretKey) < MinSecretKeyLength {
		return fmt.Errorf("WINNOW_SECRET_KEY must be set to at least %d characters; make one with:\n\n    export WINNOW_SECRET_KEY=$(openssl rand -hex 32)\n\nKeep it: it encrypts stored secrets and signs sessions", MinSecretKeyLength)
	}
	return nil
}

// ListenedBaseURL fixes a base URL derived from an address with port 0 once the real
// address is known.
func (c *Config) ListenedBaseURL(addr string) {
	if strings.HasSuffix(c.BaseURL, ":0") {
		c.BaseURL = "http://" + addr
	}
}

// Secure reports whether the public URL is https, so cookies must be Secure.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// String prints every setting with secrets redacted, for start-up logs.
func (c *Config) String() string {
	var b strings.Builder
	for i, v := range Vars {
		if i > 0 {
			b.WriteString(" ")
		}
		val := *v.field(c)
		if v.Secret && val != "" {
			val = redact(v.Env, val)
		}
		fmt.Fprintf(&b, "%s=%q", v.Env, val)
	}
	return b.String()
}

// redact hides a secret; for a database or SMTP URL it keeps everything but the
// password so operators can still see where Winnow connects.
func redact(env, val string) string {
	if env == "WINNOW_DATABASE_URL" || env == "WINNOW_SMTP_URL" {
		if u, err := url.Parse(val); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "REDACTED")
			}
			return u.String()
		} else if err == nil {
			return val
		}
	}
	return "REDACTED"
}

// PrintVars writes the table of environment variables and defaults, for --help.
func PrintVars(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Environment variables (flags override them):")
	fmt.Fprintln(tw, "  VARIABLE\tDEFAULT\tMEANING")
	for _, v := range Vars {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Env, def, v.Usage)
	}
	tw.Flush()
}
