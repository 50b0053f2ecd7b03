package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
)

// uniqueStep is one insert of a uniqueness scenario: a batch, written by riverRows or
// by River's InsertManyTx, or (finish) the earlier jobs' rows moved to a final state.
type uniqueStep struct {
	byRiver bool
	batch   []river.InsertManyParams
	finish  rivertype.JobState
}

// uniqueJobs is the unique jobs of one candidate as the planners emit them, their
// IDs marked with tag: an invitation email (available), a reminder and the
// opt-out (scheduled).
func uniqueJobs(tag string, now time.Time) []river.InsertManyParams {
	deadline := now.Add(7 * 24 * time.Hour).Truncate(time.Second)
	a := &winnow.Applicant{ID: "app-" + tag, OrgID: "org-1", Deadline: deadline}
	ps := sendParams([]*winnow.Email{
		{ID: "em-" + tag, OrgID: a.OrgID, ApplicantID: a.ID, Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailQueued},
		{ID: "em-" + tag + "-r", OrgID: a.OrgID, ApplicantID: a.ID, Kind: winnow.EmailReminder, Seq: 2,
			Status: winnow.EmailScheduled, DueAt: now.Add(48 * time.Hour), Deadline: &deadline},
	})
	return append(ps, optOutParams(a))
}

// TestRiverRowsUniqueAsRiver: a unique job inserted again, by riverRows or River in
// either order, in one batch or two, is kept once, as River alone keeps it; and one
// whose earlier twin is finalized is inserted again or not as River decides by its
// default unique states (completed holds the key; cancelled and discarded free it).
// Each scenario runs as written on one database and with River alone (each batch
// one InsertManyTx per job, River's way of inserting them in turn) on another, and
// the rows must match, on both engines.
func TestRiverRowsUniqueAsRiver(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		ctx := t.Context()
		now := time.Now()
		writes := func(tag string, n int) []river.InsertManyParams {
			ws := make([]*winnow.LeverWrite, n)
			for i := range ws {
				ws[i] = &winnow.LeverWrite{ID: "w-" + tag + "-" + strconv.Itoa(i), OrgID: "org-1", ApplicantID: "app-" + tag,
					OpportunityID: "opp-1", Seq: 1}
			}
			return leverWriteParams(ws)
		}
		rowsStep := func(ps ...[]river.InsertManyParams) uniqueStep { return uniqueStep{batch: slices.Concat(ps...)} }
		riverStep := func(ps []river.InsertManyParams) uniqueStep { return uniqueStep{byRiver: true, batch: ps} }
		scenarios := []struct {
			name  string
			steps func(jobs []river.InsertManyParams) []uniqueStep
			// rows is how many rows each unique job has at the end.
			rows int
		}{
			{"River, then riverRows", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{riverStep(j), rowsStep(j)}
			}, 1},
			{"riverRows, then River", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(j), riverStep(j)}
			}, 1},
			{"riverRows in two batches", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(j), rowsStep(j)}
			}, 1},
			{"riverRows in two batches, among other jobs", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(writes("a", 3), j), rowsStep(writes("b", riverRowsChunk), j, writes("c", 1))}
			}, 1},
			{"after completed", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(j), {finish: rivertype.JobStateCompleted}, rowsStep(j)}
			}, 1},
			{"after cancelled", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(j), {finish: rivertype.JobStateCancelled}, rowsStep(j)}
			}, 2},
			{"after discarded", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{riverStep(j), {finish: rivertype.JobStateDiscarded}, rowsStep(j)}
			}, 2},
			{"after discarded, twice", func(j []river.InsertManyParams) []uniqueStep {
				return []uniqueStep{rowsStep(j), {finish: rivertype.JobStateDiscarded}, rowsStep(j), riverStep(j), rowsStep(j)}
			}, 2},
		}
		for i, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				oursDB, riversDB := e.Open(t), e.Open(t)
				oursClient, riversClient := rowsInserter(t, oursDB.RiverDriver()), rowsInserter(t, riversDB.RiverDriver())
				rows := newRiverRows(oursClient, river.MaxAttemptsDefault)
				jobs := uniqueJobs(strconv.Itoa(i), now)
				for _, step := range sc.steps(jobs) {
					if step.finish != "" {
						finishJobs(t, e, oursDB.SQL(), step.finish)
						finishJobs(t, e, riversDB.SQL(), step.finish)
						continue
					}
					inTx(t, oursDB.SQL(), func(tx *sql.Tx) error {
						if step.byRiver {
							_, err := oursClient.InsertManyTx(ctx, tx, step.batch)
							return err
						}
						return rows.insert(ctx, tx, step.batch)
					})
					inTx(t, riversDB.SQL(), func(tx *sql.Tx) error {
						for _, p := range step.batch {
							if _, err := riversClient.InsertManyTx(ctx, tx, []river.InsertManyParams{p}); err != nil {
								return err
							}
						}
						return nil
					})
				}
				ours, theirs := uniqueRows(t, ctx, oursClient), uniqueRows(t, ctx, riversClient)
				if !reflect.DeepEqual(ours, theirs) {
					t.Errorf("rows written here:\n%v\nwant as River alone writes them:\n%v", ours, theirs)
				}
				for _, p := range jobs {
					if n := len(ours[rowKey(t, p.Args.Kind(), mustJSON(t, p.Args))]); n != sc.rows {
						t.Errorf("%s job %+v: %d rows, want %d", p.Args.Kind(), p.Args, n, sc.rows)
					}
				}
			})
		}

		// A batch that holds one unique job twice, in one statement or two: River's
		// InsertManyTx refuses it (its SQLite driver checks; on PostgreSQL its upsert
		// cannot touch a row twice in a statement), and so does riverRows, leaving
		// the transaction to the caller to roll back.
		t.Run("twice in a batch", func(t *testing.T) {
			db := e.Open(t)
			client := rowsInserter(t, db.RiverDriver())
			rows := newRiverRows(client, river.MaxAttemptsDefault)
			jobs := uniqueJobs("twice", now)
			for _, batch := range [][]river.InsertManyParams{
				slices.Concat(jobs, writes("twice", 2), jobs[:1]),
				slices.Concat(jobs, writes("chunks", riverRowsChunk), jobs[2:]),
			} {
				for _, byRiver := range []bool{true, false} {
					tx, err := db.SQL().BeginTx(ctx, nil)
					if err != nil {
						t.Fatal(err)
					}
					if byRiver {
						_, err = client.InsertManyTx(ctx, tx, batch)
					} else {
						err = rows.insert(ctx, tx, batch)
					}
					_ = tx.Rollback()
					if err == nil {
						t.Errorf("a batch of %d jobs holding one unique job twice: inserted (by River: %t)", len(batch), byRiver)
					}
					if !byRiver && !errors.Is(err, errRiverUniqueRepeated) {
						t.Errorf("riverRows: %v, want %v", err, errRiverUniqueRepeated)
					}
				}
			}
		})
	})
}

// mustJSON is v encoded.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// finishJobs moves every job in db to state, finalized now, as a worker or a
// cancellation would.
func finishJobs(t *testing.T, e dbtest.Engine, db *sql.DB, state rivertype.JobState) {
	t.Helper()
	q := `UPDATE river_job SET state = ?, finalized_at = datetime('now', 'subsec'), attempt = 1, attempted_at = datetime('now', 'subsec')`
	if e != dbtest.SQLite {
		q = `UPDATE river_job SET state = $1::river_job_state, finalized_at = now(), attempt = 1, attempted_at = now()`
	}
	if _, err := db.ExecContext(t.Context(), q, string(state)); err != nil {
		t.Fatal(err)
	}
}

// uniqueRows lists every job through client, in any state, by kind and encoded args:
// each as comparableRow has it (without its finalized time either), in order of ID.
func uniqueRows(t *testing.T, ctx context.Context, client *Client) map[string][]string {
	t.Helper()
	res, err := client.JobList(ctx, river.NewJobListParams().First(1000).OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		States(rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
			rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled))
	if err != nil {
		t.Fatal(err)
	}
	byArgs := make(map[string][]string)
	for _, j := range res.Jobs {
		c := comparableRow(t, j)
		c.FinalizedAt, c.AttemptedAt = nil, nil
		k := rowKey(t, j.Kind, j.EncodedArgs)
		byArgs[k] = append(byArgs[k], fmt.Sprintf("%+v", c))
	}
	return byArgs
}

// TestRiverArgsFields: encoded args split into their top-level members, values kept
// as encoded; anything but a compact object is refused (riverRows then leaves the
// job to River).
func TestRiverArgsFields(t *testing.T) {
	for _, c := range []struct {
		encoded string
		want    []string // key=value
		ok      bool
	}{
		{`{}`, nil, true},
		{`{"b":1,"a":"x"}`, []string{`b=1`, `a="x"`}, true},
		{`{"a":{"c":[1,"]},{"],"d":null},"\u003ck\u003e":"\"}","é":[]}`,
			[]string{`a={"c":[1,"]},{"],"d":null}`, `<k>="\"}"`, `é=[]`}, true},
		{`{"a": 1}`, nil, false},
		{`{"a":1,}`, nil, false},
		{`{"a":}`, nil, false},
		{`{"a":1`, nil, false},
		{`[]`, nil, false},
		{`null`, nil, false},
		{`"{}"`, nil, false},
	} {
		fields, ok := riverArgsFields([]byte(c.encoded))
		var got []string
		for _, f := range fields {
			got = append(got, f.key+"="+string(f.value))
		}
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("riverArgsFields(%s) = %q, %t; want %q, %t", c.encoded, got, ok, c.want, c.ok)
		}
	}
}
