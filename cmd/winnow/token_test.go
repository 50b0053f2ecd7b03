package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestTokenCreate makes a token with the command, uses it on the API of a running
// server sharing the database, and checks the command's refusals.
func TestTokenCreate(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		env := testEnv(t, e.URL(t))
		m := MustStart(t, env)
		admin := MustUser(t, m, "Acme Corp", "admin@acme.test", winnow.RoleAdmin)
		getenv := func(k string) string { return env[k] }

		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"token", "create", "--org", "Acme Corp", "--name", "CI pipeline"}, nil, &out, &errOut, getenv)
		if err != nil {
			t.Fatalf("token create: %v\n%s", err, errOut.String())
		}
		token := strings.TrimSpace(out.String())
		if len(token) < 40 || strings.ContainsAny(token, " \n") || !strings.Contains(errOut.String(), "shown only this once") {
			t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
		}
		if s, raw, _ := newAPIClient(t, m, token).call("GET", "/api/v1/jobs", "", nil); s != 200 {
			t.Fatalf("API with the new token: %d %s", s, raw)
		}
		tokens, err := m.Store.ListAPITokens(context.Background(), admin.OrgID)
		if err != nil || len(tokens) != 1 || tokens[0].Name != "CI pipeline" || tokens[0].CreatedBy != "" || tokens[0].TokenHash == token {
			t.Fatalf("stored tokens %+v, %v", tokens, err)
		}

		refusals := []struct {
			name string
			args []string
			env  map[string]string
			want string
		}{
			{"no org", []string{"token", "create", "--name", "x"}, nil, "--org and --name are required"},
			{"no name", []string{"token", "create", "--org", "Acme Corp"}, nil, "--org and --name are required"},
			{"unknown org", []string{"token", "create", "--org", "Nobody", "--name", "x"}, nil, `no organization is called "Nobody"`},
			{"no secret key", []string{"token", "create", "--org", "Acme Corp", "--name", "x"}, map[string]string{"WINNOW_SECRET_KEY": ""}, "WINNOW_SECRET_KEY"},
			{"unknown subcommand", []string{"token", "list"}, nil, `try "winnow token create --help"`},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), c.args, nil, &out, &errOut, func(k string) string {
					if v, ok := c.env[k]; ok {
						return v
					}
					return env[k]
				})
				if err == nil || !strings.Contains(err.Error(), c.want) || out.Len() != 0 {
					t.Fatalf("err = %v, stdout %q; want an error with %q", err, out.String(), c.want)
				}
			})
		}
		if tokens, _ := m.Store.ListAPITokens(context.Background(), admin.OrgID); len(tokens) != 1 {
			t.Fatalf("refused commands made tokens: %d", len(tokens))
		}
	})
}
