package api_test

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/keyring"
	"winnow/internal/sqlstore"
	"winnow/internal/web/api"
)

// TestMain removes the template databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

// apiWorld is an API handler on a migrated database with one org, its admin and an
// API token, serving the job routes as internal/web/routes.go mounts them.
type apiWorld struct {
	mux   *http.ServeMux
	token string
}

// newAPIWorld builds the world on the database at dbURL.
func newAPIWorld(tb testing.TB, dbURL string) *apiWorld {
	tb.Helper()
	ctx := context.Background()
	db := dbtest.MustOpen(tb, dbURL)
	store := sqlstore.NewStore(db, nil, nil)
	kr, err := keyring.New("fuzz-secret-key-0123456789abcdef-0123456789")
	if err != nil {
		tb.Fatal(err)
	}
	org := &winnow.Org{Name: "Acme"}
	if err := store.CreateOrg(ctx, org); err != nil {
		tb.Fatal(err)
	}
	admin := &winnow.User{OrgID: org.ID, Email: "admin@acme.test", Name: "Admin", Role: winnow.RoleAdmin, PasswordHash: "x"}
	if err := store.CreateUser(ctx, admin); err != nil {
		tb.Fatal(err)
	}
	tok := keyring.Token()
	if err := store.CreateAPIToken(ctx, &winnow.APIToken{OrgID: org.ID, Name: "fuzz", TokenHash: kr.Hash(tok), CreatedBy: admin.ID}); err != nil {
		tb.Fatal(err)
	}
	h := &api.Handler{Funnels: store, Applicants: store, Answers: store, Reviews: store, Tokens: store, Invitations: store,
		Users: store, Keyring: kr, Clock: winnow.SystemClock{}, Logger: slog.New(slog.DiscardHandler), BaseURL: "https://winnow.test"}
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/jobs", h.Authenticate(h.CreateFunnel))
	mux.Handle("GET /api/v1/jobs/{id}", h.Authenticate(h.GetFunnel))
	mux.Handle("PUT /api/v1/jobs/{id}", h.Authenticate(h.UpdateFunnel))
	return &apiWorld{mux: mux, token: tok}
}

// call serves one JSON request and returns the status and the body decoded.
func (w *apiWorld) call(t *testing.T, method, path string, body []byte) (int, any) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s answered %d for the body %q:\n%s", method, path, rec.Code, body, rec.Body)
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not JSON: %v\n%s", method, path, rec.Code, err, rec.Body)
	}
	return rec.Code, v
}

// checkCreateJob posts body as a new job. Whatever the body, the API must answer
// without a panic or a 5xx; a job it accepts must read back exactly as the creation
// answered it, and that read-back must be accepted as a replacement of itself.
func checkCreateJob(t *testing.T, w *apiWorld, body []byte) {
	status, created := w.call(t, "POST", "/api/v1/jobs", body)
	if status != http.StatusCreated {
		if status < 400 {
			t.Fatalf("POST answered %d without creating", status)
		}
		return
	}
	obj, _ := created.(map[string]any)
	id, _ := obj["id"].(string)
	if id == "" {
		t.Fatalf("a created job has no id: %v", created)
	}
	path := "/api/v1/jobs/" + url.PathEscape(id)
	status, read := w.call(t, "GET", path, nil)
	if status != http.StatusOK || !reflect.DeepEqual(read, created) {
		t.Fatalf("read back (%d) differs from what was created\n got %v\nwant %v\nbody %q", status, read, created, body)
	}
	again, err := json.Marshal(read)
	if err != nil {
		t.Fatal(err)
	}
	status, replaced := w.call(t, "PUT", path, again)
	if status != http.StatusOK {
		t.Fatalf("writing back the job as read answered %d: %v\nbody %q", status, replaced, body)
	}
	r, _ := replaced.(map[string]any)
	delete(r, "updatedAt")
	delete(obj, "updatedAt")
	if !reflect.DeepEqual(r, obj) {
		t.Fatalf("writing back the job as read changed it\n got %v\nwant %v", r, obj)
	}
}

// fuzzing reports whether the test binary runs with -fuzz.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// FuzzCreateJob sends bodies to POST /api/v1/jobs: random bodies never panic and never
// get a 5xx, and anything accepted is stored and read back equal (see checkCreateJob).
// The seed corpus in testdata/fuzz/FuzzCreateJob runs with every `go test`, on SQLite
// and on PostgreSQL when WINNOW_TEST_POSTGRES_URL is set. Fuzzing itself runs on SQLite
// only, without fsync, so that a few seconds try thousands of bodies.
func FuzzCreateJob(f *testing.F) {
	var worlds []*apiWorld
	for _, e := range dbtest.Available() {
		switch {
		case e == dbtest.SQLite:
			worlds = append(worlds, newAPIWorld(f, e.URL(f)+"?_pragma=synchronous(OFF)"))
		case !fuzzing():
			worlds = append(worlds, newAPIWorld(f, e.URL(f)))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, w := range worlds {
			checkCreateJob(t, w, body)
		}
	})
}
