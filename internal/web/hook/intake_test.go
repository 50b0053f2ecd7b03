package hook_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/jobs"
	"winnow/internal/keyring"
	"winnow/internal/lever"
	"winnow/internal/sqlstore"
	"winnow/internal/web/hook"
)

// failingEffects fails every plan, as a job queue that is down would.
type failingEffects struct{}

var errQueueDown = errors.New("queue down")

func (failingEffects) ApplicantChanged(context.Context, *sqlstore.Tx, *winnow.Applicant, *winnow.Event) error {
	return errQueueDown
}
func (failingEffects) InviteCreated(context.Context, *sqlstore.Tx, *winnow.Invite, *winnow.Email) error {
	return errQueueDown
}
func (failingEffects) LeverDeliveriesRecorded(context.Context, *sqlstore.Tx, []*winnow.LeverDelivery) error {
	return errQueueDown
}
func (failingEffects) LeverWritesAdded(context.Context, *sqlstore.Tx, []*winnow.LeverWrite) error {
	return errQueueDown
}
func (failingEffects) LeverNeedsReconnecting(context.Context, *sqlstore.Tx, *winnow.LeverConnection, int) error {
	return errQueueDown
}

// batchWorld is the handler with intake through a group-commit batcher on a store
// with effects, and an org whose connection signs with token.
type batchWorld struct {
	h      *hook.Handler
	db     *sqlstore.DB
	store  *sqlstore.Store
	kr     *keyring.Keyring
	orgID  string
	orgKey string
}

func newBatchWorld(t testing.TB, e dbtest.Engine, effects sqlstore.Effects, token string) *batchWorld {
	t.Helper()
	return newBatchWorldOn(t, e.Open(t), effects, token)
}

// newBatchWorldOn is newBatchWorld on the database db.
func newBatchWorldOn(t testing.TB, db *sqlstore.DB, effects sqlstore.Effects, token string) *batchWorld {
	t.Helper()
	ctx := context.Background()
	store := sqlstore.NewStore(db, nil, effects)
	kr, err := keyring.New("intake-secret-key-0123456789abcdef-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	org := &winnow.Org{Name: "Acme"}
	if err := store.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	c, err := store.EnsureLeverConnection(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := kr.Seal(token)
	if err != nil {
		t.Fatal(err)
	}
	c.Mode, c.State, c.APIKey, c.SignatureToken = winnow.LeverAPIKey, winnow.LeverConnected, "sealed", sealed
	if err := store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	b := store.NewIntakeBatcher()
	t.Cleanup(b.Close)
	logger := slog.New(slog.DiscardHandler)
	h := &hook.Handler{Webhooks: &jobs.LeverIntake{Store: store, Deliveries: b, Sealer: kr, Clock: winnow.SystemClock{}, Logger: logger}, Logger: logger}
	return &batchWorld{h: h, db: db, store: store, kr: kr, orgID: org.ID, orgKey: c.OrgKey}
}

// post sends an applicationCreated webhook signed with token and returns the answer.
func (w *batchWorld) post(t *testing.T, token, deliveryToken string) *httptest.ResponseRecorder {
	t.Helper()
	at := time.Now().UnixMilli()
	body := `{"event":"applicationCreated","triggeredAt":` + strconv.FormatInt(at, 10) + `,"token":"` + deliveryToken +
		`","signature":"` + lever.Sign(token, deliveryToken, at) + `","data":{"opportunityId":"o-` + deliveryToken +
		`","applicationId":"a-` + deliveryToken + `"}}`
	req := httptest.NewRequestWithContext(t.Context(), "POST", winnow.LeverWebhookPath+"/"+w.orgKey, strings.NewReader(body))
	req.SetPathValue("orgKey", w.orgKey)
	rec := httptest.NewRecorder()
	w.h.Lever(rec, req)
	return rec
}

func (w *batchWorld) stored(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.db.SQL().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM lever_deliveries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebhookBatchFailureIs503: when the batch holding webhooks cannot commit, every
// one of its requests is answered 503 (Lever retries) and nothing is stored.
func TestWebhookBatchFailureIs503(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := newBatchWorld(t, e, failingEffects{}, "sig-token")
		var wg sync.WaitGroup
		codes := make([]int, 20)
		for i := range codes {
			wg.Go(func() { codes[i] = w.post(t, "sig-token", "tok-"+strconv.Itoa(i)).Code })
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusServiceUnavailable {
				t.Fatalf("request %d answered %d, want 503", i, c)
			}
		}
		if n := w.stored(t); n != 0 {
			t.Fatalf("%d deliveries stored by failed batches", n)
		}
	})
}

// TestWebhookSignatureTokenChanges: the intake reuses the connection it read for a
// moment, yet a signature token saved meanwhile verifies at once, and the one it
// replaced stops verifying once the cached copy has expired.
func TestWebhookSignatureTokenChanges(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := newBatchWorld(t, e, nil, "old-token")
		if rec := w.post(t, "old-token", "t1"); rec.Code != http.StatusOK {
			t.Fatalf("old token: %d %s", rec.Code, rec.Body)
		}
		c, err := w.store.FindLeverConnection(t.Context(), w.orgID)
		if err != nil {
			t.Fatal(err)
		}
		if c.SignatureToken, err = w.kr.Seal("new-token"); err != nil {
			t.Fatal(err)
		}
		if err := w.store.SaveLeverConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if rec := w.post(t, "new-token", "t2"); rec.Code != http.StatusOK {
			t.Fatalf("new token right after saving it: %d %s", rec.Code, rec.Body)
		}
		time.Sleep(1100 * time.Millisecond)
		if rec := w.post(t, "old-token", "t3"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("replaced token a second later: %d %s", rec.Code, rec.Body)
		}
		if n := w.stored(t); n != 2 {
			t.Fatalf("%d deliveries stored, want 2", n)
		}
	})
}
