package jobs

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// TestDeliveryJobsAsRiverWrites: the processing jobs intake writes itself (riverRows)
// read back through River exactly as the job River's InsertManyFastTx writes for the
// same delivery, on both engines, in batches that take several statements.
func TestDeliveryJobsAsRiverWrites(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		ctx := t.Context()
		db := e.Open(t)
		store, inserter := newStore(t, db, nil)
		org := &winnow.Org{Name: "Acme"}
		if err := store.CreateOrg(ctx, org); err != nil {
			t.Fatal(err)
		}
		ours := make([]*winnow.LeverDelivery, 2*riverRowsChunk+7)
		for i := range ours {
			ours[i] = &winnow.LeverDelivery{ID: "ours-" + strconv.Itoa(i),
				OrgID: org.ID, Event: "applicationCreated"}
		}
		priorities := make([]int, len(ours))
		for i := range priorities {
			priorities[i] = i % 4 // 0: River's default, as for River's own insert below
		}
		theirs := &winnow.LeverDelivery{ID: "theirs", OrgID: org.ID, Event: "candidateStageChange"}
		params := make([]river.InsertManyParams, len(ours))
		for i, d := range ours {
			params[i] = deliveryParams(d, priorities[i])
		}
		fx := newRiverRows(inserter, river.MaxAttemptsDefault)
		before := time.Now().Add(-time.Second)
		err := store.WithTx(ctx, func(tx *sqlstore.Tx) error {
			if _, err := inserter.InsertManyFastTx(ctx, tx.SQL(), []river.InsertManyParams{deliveryParams(theirs, 0)}); err != nil {
				return err
			}
			return fx.insert(ctx, tx.SQL(), params)
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := inserter.JobList(ctx, river.NewJobListParams().Kinds(LeverDeliveryArgs{}.Kind()).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		byDelivery := make(map[string]*rivertype.JobRow)
		for _, j := range res.Jobs {
			var a LeverDeliveryArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				t.Fatalf("job %d args %s: %v", j.ID, j.EncodedArgs, err)
			}
			byDelivery[a.DeliveryID] = j
		}
		if len(byDelivery) != len(ours)+1 {
			t.Fatalf("%d jobs, want %d", len(byDelivery), len(ours)+1)
		}
		want := byDelivery[theirs.ID]
		for i, d := range ours {
			got := byDelivery[d.ID]
			if got == nil {
				t.Fatalf("no job for delivery %s", d.ID)
			}
			var a LeverDeliveryArgs
			if err := json.Unmarshal(got.EncodedArgs, &a); err != nil || a != (LeverDeliveryArgs{OrgID: d.OrgID, DeliveryID: d.ID, Event: d.Event}) {
				t.Fatalf("args %s (%v), want those of delivery %s", got.EncodedArgs, err, d.ID)
			}
			if wantPriority := max(priorities[i], want.Priority); got.Priority != wantPriority {
				t.Fatalf("job of delivery %d has priority %d, want %d", i, got.Priority, wantPriority)
			}
			if got.Kind != want.Kind || got.MaxAttempts != want.MaxAttempts ||
				got.Queue != want.Queue || got.State != want.State || got.Attempt != want.Attempt ||
				!slices.Equal(got.Tags, want.Tags) || !bytes.Equal(got.UniqueKey, want.UniqueKey) ||
				!slices.Equal(got.UniqueStates, want.UniqueStates) || !jsonEqual(t, got.Metadata, want.Metadata) {
				t.Fatalf("job\n%+v\nwant as River writes it\n%+v", got, want)
			}
			if got.CreatedAt.Before(before) || got.ScheduledAt.Before(before) || got.ScheduledAt.After(time.Now()) {
				t.Fatalf("created %s, scheduled %s: want the insert's time", got.CreatedAt, got.ScheduledAt)
			}
		}
	})
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
