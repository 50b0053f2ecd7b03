package config_test

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"winnow/internal/config"
)

func load(t *testing.T, env map[string]string, args ...string) (*config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "data" || c.DatabaseURL != "" || c.BaseURL != "http://localhost:8080" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.LeverAPIURL != "https://api.lever.co/v1" || c.LeverAuthURL != "https://auth.lever.co" {
		t.Fatalf("lever defaults: %+v", c)
	}
	if c.CheckSecretKey() == nil {
		t.Fatal("empty secret key accepted")
	}
}

func TestEnvAndFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WINNOW_ADDR": "127.0.0.1:9000", "WINNOW_SECRET_KEY": strings.Repeat("k", 32),
		"WINNOW_DATABASE_URL": "postgres://app:hunter2@db:5432/winnow", "WINNOW_METRICS_TOKEN": "metrics-s3cret"}
	c, err := load(t, env, "--addr", "127.0.0.1:9100")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" {
		t.Fatalf("flag did not override env: %s", c.Addr)
	}
	if c.BaseURL != "http://127.0.0.1:9100" {
		t.Fatalf("base URL = %s", c.BaseURL)
	}
	if err := c.CheckSecretKey(); err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if c.MetricsToken != "metrics-s3cret" {
		t.Fatalf("metrics token = %q", c.MetricsToken)
	}
	if strings.Contains(s, "hunter2") || strings.Contains(s, strings.Repeat("k", 32)) || strings.Contains(s, "metrics-s3cret") {
		t.Fatalf("secret leaked: %s", s)
	}
	if !strings.Contains(s, "app:REDACTED@db:5432") {
		t.Fatalf("database host hidden: %s", s)
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]string{
		"base url":   {"WINNOW_BASE_URL": "ftp://x"},
		"log level":  {"WINNOW_LOG_LEVEL": "loud"},
		"log format": {"WINNOW_LOG_FORMAT": "xml"},
		"proxy CIDR": {"WINNOW_TRUSTED_PROXIES": "10.0.0.0/8, 10.0.0.0/33"},
		"proxy name": {"WINNOW_TRUSTED_PROXIES": "proxy.internal"},
		"role":       {"WINNOW_ROLE": "api"},
		"blob url":   {"WINNOW_BLOB_URL": "uploads-bucket"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := load(t, env); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSecure(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"WINNOW_BASE_URL": "https://winnow.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || c.BaseURL != "https://winnow.example.com" {
		t.Fatalf("secure=%v base=%s", c.Secure(), c.BaseURL)
	}
}

// TestTrustedProxies reads addresses and ranges, and names a wrong entry in its error.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"WINNOW_TRUSTED_PROXIES": " 10.1.2.3/8,192.0.2.7 , ,2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.TrustedProxyPrefixes())
	if got != "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32]" {
		t.Fatalf("prefixes %s", got)
	}
	if c, err := load(t, nil, "--trusted-proxies", "127.0.0.1"); err != nil || fmt.Sprint(c.TrustedProxyPrefixes()) != "[127.0.0.1/32]" {
		t.Fatalf("flag: %v", err)
	}
	if c, _ := load(t, nil); len(c.TrustedProxyPrefixes()) != 0 {
		t.Fatal("a proxy is trusted by default")
	}
	_, err = load(t, map[string]string{"WINNOW_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"})
	if err == nil || !strings.Contains(err.Error(), `WINNOW_TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR range`) {
		t.Fatalf("err = %v", err)
	}
}

// TestRole reads the role from the environment and the flag, defaults to all, and
// says which parts each role runs.
func TestRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		role        string
		web, worker bool
	}{
		{"default", nil, nil, config.RoleAll, true, true},
		{"environment", map[string]string{"WINNOW_ROLE": "web"}, nil, config.RoleWeb, true, false},
		{"flag over environment", map[string]string{"WINNOW_ROLE": "web"}, []string{"--role", "worker"}, config.RoleWorker, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.Role != tt.role || c.ServesWeb() != tt.web || c.RunsWorkers() != tt.worker {
				t.Fatalf("role %q web %v worker %v; want %q %v %v", c.Role, c.ServesWeb(), c.RunsWorkers(), tt.role, tt.web, tt.worker)
			}
		})
	}
}

// TestCommandFlagWins checks that a command's own flag with a setting's name (user
// create's --role, a user's role) replaces the setting's flag instead of clashing.
func TestCommandFlagWins(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	userRole := fs.String("role", "admin", "admin, member or limited")
	c, err := config.Load(fs, []string{"--role", "limited"}, func(k string) string { return map[string]string{"WINNOW_ROLE": "web"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if *userRole != "limited" || c.Role != config.RoleWeb {
		t.Fatalf("command's role %q, config's %q", *userRole, c.Role)
	}
}
