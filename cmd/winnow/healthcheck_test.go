package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

// TestHealthcheck: the container's health command says healthy for a running server and
// fails for an address where nothing answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	env := testEnv(t, "")
	m := MustStart(t, env)
	_, port, _ := net.SplitHostPort(m.Addr())
	env["WINNOW_ADDR"] = ":" + port
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, nil, &out, &errOut, func(k string) string { return env[k] }); err != nil ||
		strings.TrimSpace(out.String()) != "healthy" {
		t.Fatalf("healthy server: %v %q %q", err, out.String(), errOut.String())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/healthz"
	l.Close()
	if err := run(context.Background(), []string{"healthcheck", "--url", dead}, nil, &out, &errOut, func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("nothing listening: %v", err)
	}
	env["WINNOW_ADDR"] = "127.0.0.1:0"
	if err := run(context.Background(), []string{"healthcheck"}, nil, &out, &errOut, func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "--url") {
		t.Fatalf("port 0: %v", err)
	}
}
