package hook_test

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/jobs"
	"winnow/internal/keyring"
	"winnow/internal/lever"
	"winnow/internal/sqlstore"
	"winnow/internal/web/hook"
)

// TestMain removes the template databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

// fuzzSignatureToken is the signature token of the world's webhook; the seed corpus
// in testdata/fuzz/FuzzLeverWebhook signs some bodies with it.
const fuzzSignatureToken = "fuzz-signature-token-0123456789"

// hookWorld is the webhook handler with the real intake on a migrated database: one
// org with an active Lever connection whose webhook signs with fuzzSignatureToken, and
// River's insert-only client behind the store's effects.
type hookWorld struct {
	mux    *http.ServeMux
	store  *sqlstore.Store
	db     *sqlstore.DB
	orgKey string
}

func newHookWorld(tb testing.TB, dbURL string) *hookWorld {
	tb.Helper()
	ctx := context.Background()
	db := dbtest.MustOpen(tb, dbURL)
	logger := slog.New(slog.DiscardHandler)
	inserter, err := jobs.NewInserter(db.RiverDriver(), logger)
	if err != nil {
		tb.Fatal(err)
	}
	store := sqlstore.NewStore(db, nil, jobs.NewEffects[*sqlstore.Tx](inserter, jobs.LeverPlanner{}))
	kr, err := keyring.New("fuzz-secret-key-0123456789abcdef-0123456789")
	if err != nil {
		tb.Fatal(err)
	}
	org := &winnow.Org{Name: "Acme"}
	if err := store.CreateOrg(ctx, org); err != nil {
		tb.Fatal(err)
	}
	c, err := store.EnsureLeverConnection(ctx, org.ID)
	if err != nil {
		tb.Fatal(err)
	}
	sealed, err := kr.Seal(fuzzSignatureToken)
	if err != nil {
		tb.Fatal(err)
	}
	c.Mode, c.State, c.APIKey = winnow.LeverAPIKey, winnow.LeverConnected, "sealed"
	c.Webhooks = []winnow.LeverWebhook{{ID: "w1", Event: winnow.LeverApplicationCreated, SignatureToken: sealed}}
	if err := store.SaveLeverConnection(ctx, c); err != nil {
		tb.Fatal(err)
	}
	h := &hook.Handler{Webhooks: &jobs.LeverIntake{Store: store, Sealer: kr, Clock: winnow.SystemClock{}, Logger: logger}, Logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+winnow.LeverWebhookPath+"/{orgKey}", h.Lever)
	mux.HandleFunc("POST "+winnow.LeverWebhookPath, h.Lever)
	return &hookWorld{mux: mux, store: store, db: db, orgKey: c.OrgKey}
}

// deliveries counts the stored deliveries and their processing jobs.
func (w *hookWorld) deliveries(t *testing.T) (int, int) {
	t.Helper()
	var d, j int
	q := w.db.SQL()
	if err := q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM lever_deliveries`).Scan(&d); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM river_job WHERE kind = $1`, jobs.LeverDeliveryArgs{}.Kind()).Scan(&j); err != nil {
		t.Fatal(err)
	}
	return d, j
}

// checkWebhook posts body to the org's URL (to 0), the URL that names no org (1) or an
// unknown org's (anything else). Whatever the body, the answer is JSON with one of the
// intake's statuses and never a 5xx; only a body signed with the org's token is
// accepted, and a refused one stores nothing.
func checkWebhook(t *testing.T, w *hookWorld, to uint8, body []byte) {
	path := winnow.LeverWebhookPath + "/" + w.orgKey
	switch to {
	case 0:
	case 1:
		path = winnow.LeverWebhookPath
	default:
		path = winnow.LeverWebhookPath + "/" + strings.Repeat("f", 32)
	}
	beforeD, beforeJ := w.deliveries(t)
	req := httptest.NewRequestWithContext(t.Context(), "POST", path, strings.NewReader(string(body)))
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answered %d with a body that is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	afterD, afterJ := w.deliveries(t)
	switch rec.Code {
	case http.StatusOK:
		ev, err := lever.ParseWebhookEvent(body)
		if err != nil || !lever.VerifySignature(fuzzSignatureToken, ev.Token, ev.TriggeredAt, ev.Signature) || to > 1 {
			t.Fatalf("accepted a body that is not signed for this org (to %d): %q", to, body)
		}
		if afterJ-beforeJ > 1 || afterD-beforeD > 1 || afterJ-beforeJ > afterD-beforeD {
			t.Fatalf("one request stored %d deliveries and %d jobs", afterD-beforeD, afterJ-beforeJ)
		}
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		if afterD != beforeD || afterJ != beforeJ {
			t.Fatalf("a refused request (%d) stored %d deliveries and %d jobs: %q", rec.Code, afterD-beforeD, afterJ-beforeJ, body)
		}
	default:
		t.Fatalf("answered %d for %q:\n%s", rec.Code, body, rec.Body)
	}
}

// fuzzing reports whether the test binary runs with -fuzz.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// signed is a Lever webhook body signed with fuzzSignatureToken.
func signed(event string, at int64, token, data string) []byte {
	return []byte(`{"event":"` + event + `","triggeredAt":` + strconv.FormatInt(at, 10) + `,"token":"` + token +
		`","signature":"` + lever.Sign(fuzzSignatureToken, token, at) + `","data":` + data + `}`)
}

// FuzzLeverWebhook sends bodies to the webhook URLs (see checkWebhook). The seed
// corpus here and in testdata/fuzz/FuzzLeverWebhook runs with every `go test`, on
// SQLite and on PostgreSQL when WINNOW_TEST_POSTGRES_URL is set; fuzzing itself runs on
// SQLite only, without fsync.
func FuzzLeverWebhook(f *testing.F) {
	var worlds []*hookWorld
	for _, e := range dbtest.Available() {
		switch {
		case e == dbtest.SQLite:
			worlds = append(worlds, newHookWorld(f, e.URL(f)+"?_pragma=synchronous(OFF)"))
		case !fuzzing():
			worlds = append(worlds, newHookWorld(f, e.URL(f)))
		}
	}
	f.Add(uint8(0), signed("applicationCreated", 1700000000000, "tok-seed-1", `{"applicationId":"a1","opportunityId":"o1"}`))
	f.Add(uint8(1), signed("candidateStageChange", 1700000000001, "tok-seed-2", `{"opportunityId":"o1","toStageId":"s2","fromStageId":"s1"}`))
	f.Add(uint8(0), signed("candidateArchiveChange", 1700000000002, "tok-seed-3", `{"opportunityId":"o1","toArchived":{"reason":"r","archivedAt":1}}`))
	f.Add(uint8(0), signed("candidateDeleted", 1700000000003, "tok-seed-4", `{"opportunityId":"o1"}`))
	f.Add(uint8(0), signed("candidateHired", 1700000000004, "tok-seed-5", `{}`))
	f.Add(uint8(0), signed("contactCreated", 1700000000005, "tok-seed-6", `{"contactId":"c1"}`))
	f.Add(uint8(2), signed("applicationCreated", 1700000000006, "tok-seed-7", `{"applicationId":"a2","opportunityId":"o2"}`))
	f.Add(uint8(0), []byte(`{"event":"applicationCreated","triggeredAt":1,"token":"t","signature":"00","data":{"opportunityId":"o"}}`))
	f.Add(uint8(0), []byte(`{"event":`))
	f.Add(uint8(1), []byte(``))
	f.Fuzz(func(t *testing.T, to uint8, body []byte) {
		for _, w := range worlds {
			checkWebhook(t, w, to, body)
		}
	})
}
