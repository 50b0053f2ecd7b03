package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"winnow/internal/dbtest"
)

// runBench runs `winnow bench` with args, as a user would with only the test
// PostgreSQL server in the environment, and returns what it printed on stdout.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	getenv := func(k string) string {
		if k == dbtest.EnvPostgresURL {
			return os.Getenv(k)
		}
		return ""
	}
	if err := run(context.Background(), append([]string{"bench"}, args...), nil, &out, &errs, getenv); err != nil {
		t.Fatalf("bench %v: %v\n%s\n%s", args, err, out.String(), errs.String())
	}
	return out.String()
}
