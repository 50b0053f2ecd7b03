package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/dbtest"
)

// rowsBareArgs is a job kind with no options of its own: River's defaults apply.
type rowsBareArgs struct {
	Name string `json:"name"`
	Text string `json:"text,omitempty"`
}

func (rowsBareArgs) Kind() string { return "rows_test_bare" }

// rowsKindOptsArgs is a job kind whose InsertOpts set what explicit options may
// override.
type rowsKindOptsArgs struct {
	Name string `json:"name"`
}

func (rowsKindOptsArgs) Kind() string { return "rows_test_kind_opts" }

func (rowsKindOptsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 7, Priority: 3, Tags: []string{"kind_tag", "kind-tag-2"},
		Metadata: []byte(`{"from":"kind"}`)}
}

// rowsScheduledAt is when rowsScheduledKindArgs jobs run unless told otherwise: not
// on a millisecond, to see each engine's rounding.
var rowsScheduledAt = time.Now().Add(72 * time.Hour).Truncate(time.Second).Add(123456789)

// rowsScheduledKindArgs is a job kind scheduled by its own InsertOpts.
type rowsScheduledKindArgs struct {
	Name string `json:"name"`
}

func (rowsScheduledKindArgs) Kind() string { return "rows_test_scheduled_kind" }

func (rowsScheduledKindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{ScheduledAt: rowsScheduledAt, Priority: 2}
}

// rowsOddKeysArgs is a job kind unique by args whose keys River must sort and write
// out with care: out of order, beyond ASCII, escaped by encoding/json, holding gjson
// path syntax, and with nested values kept as they encode.
type rowsOddKeysArgs struct {
	B      string            `json:"b"`
	A      int               `json:"a"`
	Accent string            `json:"é"`
	Angle  string            `json:"<x>"`
	Path   string            `json:"p.q"`
	Upper  []string          `json:"Z"`
	Nested map[string]string `json:"nested"`
	When   time.Time         `json:"when"`
}

func (rowsOddKeysArgs) Kind() string { return "rows_test_odd_keys" }

func (rowsOddKeysArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// rowsEmptyUniqueArgs is a job kind unique by args that has none.
type rowsEmptyUniqueArgs struct{}

func (rowsEmptyUniqueArgs) Kind() string { return "rows_test_empty_unique" }

func (rowsEmptyUniqueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// rowsUniqueFieldArgs is a job kind unique by one tagged field of its args, which
// riverRows leaves to River.
type rowsUniqueFieldArgs struct {
	Name string `json:"name" river:"unique"`
	Text string `json:"text"`
}

func (rowsUniqueFieldArgs) Kind() string { return "rows_test_unique_field" }

func (rowsUniqueFieldArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// rowsCase is a job to insert both ways, and whether riverRows writes it itself.
type rowsCase struct {
	name   string
	params river.InsertManyParams
	ours   bool
}

// rowsCases is one job of every kind the planners and intake emit, as they emit it,
// and jobs that pin River's precedence of options (explicit InsertOpts over the
// args' InsertOpts() over the client's defaults).
func rowsCases(now time.Time) []rowsCase {
	due := now.Add(50 * time.Hour).Add(987654321)
	deadline := now.Add(7 * 24 * time.Hour)
	emails := sendParams([]*winnow.Email{
		{ID: "em-invite", OrgID: "org-1", ApplicantID: "app-1", Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailQueued},
		{ID: "em-remind", OrgID: "org-1", ApplicantID: "app-1", Kind: winnow.EmailReminder, Seq: 2, Status: winnow.EmailScheduled,
			DueAt: due, Deadline: &deadline},
		{ID: "em-member", OrgID: "org-1", InviteID: "inv-1", Kind: winnow.EmailMemberInvite, Status: winnow.EmailQueued},
	})
	writes := leverWriteParams([]*winnow.LeverWrite{
		{ID: "w-1", OrgID: "org-1", ApplicantID: "app-1", OpportunityID: "opp-1", Seq: 1},
		{ID: "w-2", OrgID: "org-1", ApplicantID: "app-1", OpportunityID: "opp-1", Seq: 2},
		{ID: "w-3", OrgID: "org-2", OpportunityID: "opp-2", Seq: 1},
	})
	d := &winnow.LeverDelivery{ID: "del-1", OrgID: "org-1", Event: winnow.LeverApplicationCreated}
	past := now.Add(-time.Hour).Add(555555)
	return []rowsCase{
		// What the planners emit. Send and opt-out jobs are unique by args.
		{"invitation email", emails[0], true},
		{"reminder", emails[1], true},
		{"member invitation email", emails[2], true},
		{"opt-out", optOutParams(&winnow.Applicant{ID: "app-1", OrgID: "org-1", Deadline: deadline}), true},
		{"lever write", writes[0], true},
		{"lever write of another org", writes[1], true},
		{"lever delivery, default priority", deliveryParams(d, 0), true},
		{"lever delivery, paced", deliveryParams(&winnow.LeverDelivery{ID: "del-2", OrgID: "org-2", Event: "candidateStageChange"}, 4), true},
		// River's precedence of options.
		{"client defaults", river.InsertManyParams{Args: rowsBareArgs{Name: "bare", Text: `<a href="x">&é` + "\u2028\t"}}, true},
		{"empty options", river.InsertManyParams{Args: rowsBareArgs{Name: "empty"}, InsertOpts: &river.InsertOpts{}}, true},
		{"kind options", river.InsertManyParams{Args: rowsKindOptsArgs{Name: "kind"}}, true},
		{"explicit over kind", river.InsertManyParams{Args: rowsKindOptsArgs{Name: "explicit"},
			InsertOpts: &river.InsertOpts{MaxAttempts: 2, Tags: []string{}, Metadata: []byte(`{"b": [1, 2], "a": "x"}`)}}, true},
		{"explicit priority, past schedule", river.InsertManyParams{Args: rowsKindOptsArgs{Name: "past"},
			InsertOpts: &river.InsertOpts{Priority: 4, ScheduledAt: past}}, true},
		{"kind schedule", river.InsertManyParams{Args: rowsScheduledKindArgs{Name: "kind-scheduled"}}, true},
		{"explicit schedule over kind", river.InsertManyParams{Args: rowsScheduledKindArgs{Name: "explicit-scheduled"},
			InsertOpts: &river.InsertOpts{ScheduledAt: due, Priority: 1}}, true},
		// What riverRows leaves to River.
		{"another queue", river.InsertManyParams{Args: rowsBareArgs{Name: "queue"}, InsertOpts: &river.InsertOpts{Queue: "other"}}, false},
		{"pending", river.InsertManyParams{Args: rowsBareArgs{Name: "pending"}, InsertOpts: &river.InsertOpts{Pending: true}}, false},
		// Uniqueness by args: River's key of the args' sorted keys.
		{"explicit unique", river.InsertManyParams{Args: rowsBareArgs{Name: "unique", Text: `"q" <&>`},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}}, true},
		{"unique, odd keys", river.InsertManyParams{Args: rowsOddKeysArgs{B: `b"},{"a":[1,`, A: -1, Accent: "é\u00e9\\", Angle: "<>",
			Path: "p", Upper: []string{"z]", "{y"}, Nested: map[string]string{"y": `"}`, "x,": "2\n"}, When: past}}, true},
		{"unique, no args", river.InsertManyParams{Args: rowsEmptyUniqueArgs{}}, true},
		{"unique, kind options over empty explicit ones", river.InsertManyParams{Args: rowsOddKeysArgs{B: "explicit"},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{}, Priority: 2}}, true},
		// Other uniqueness, left to River.
		{"unique by a field", river.InsertManyParams{Args: rowsUniqueFieldArgs{Name: "field", Text: "t"}}, false},
		{"unique by args and queue", river.InsertManyParams{Args: rowsBareArgs{Name: "unique-queue"},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByQueue: true}}}, false},
		{"unique by args and period", river.InsertManyParams{Args: rowsBareArgs{Name: "unique-period"},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Hour}}}, false},
		{"unique by args in given states", river.InsertManyParams{Args: rowsBareArgs{Name: "unique-states"},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true,
				ByState: append(rivertype.UniqueOptsByStateDefault(), rivertype.JobStateCancelled)}}}, false},
		{"explicit uniqueness over the kind's", river.InsertManyParams{Args: rowsOddKeysArgs{B: "by-kind"},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ExcludeKind: true, ByArgs: true}}}, false},
	}
}

// TestRiverRowsAsRiverWrites: every job riverRows writes, of every kind the planners
// emit, reads back through River as the job River's InsertManyTx writes for the same
// params, on both engines: every field but the ID and the times, which are the
// insert's for available jobs and the requested one for scheduled jobs. It fails if
// River changes how it resolves options, and if riverRows stops writing the jobs it
// should (the comparison would then be River's with itself).
func TestRiverRowsAsRiverWrites(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		ctx := t.Context()
		cases := rowsCases(time.Now())
		params := make([]river.InsertManyParams, len(cases))
		for i, c := range cases {
			params[i] = c.params
		}

		oursDB, riversDB := e.Open(t), e.Open(t)
		oursClient, riversClient := rowsInserter(t, oursDB.RiverDriver()), rowsInserter(t, riversDB.RiverDriver())
		rows := newRiverRows(oursClient, river.MaxAttemptsDefault)
		for _, c := range cases {
			if _, ours, err := rows.resolve(c.params); err != nil || ours != c.ours {
				t.Fatalf("%s: riverRows writes it itself: %t (%v), want %t", c.name, ours, err, c.ours)
			}
		}

		before := time.Now()
		inTx(t, oursDB.SQL(), func(tx *sql.Tx) error { return rows.insert(ctx, tx, params) })
		inTx(t, riversDB.SQL(), func(tx *sql.Tx) error {
			_, err := riversClient.InsertManyTx(ctx, tx, params)
			return err
		})
		after := time.Now()

		ours, theirs := rowsByArgs(t, ctx, oursClient), rowsByArgs(t, ctx, riversClient)
		if len(ours) != len(cases) || len(theirs) != len(cases) {
			t.Fatalf("%d jobs written here and %d by River, want %d", len(ours), len(theirs), len(cases))
		}
		for i, c := range cases {
			encoded, err := json.Marshal(c.params.Args)
			if err != nil {
				t.Fatal(err)
			}
			key := rowKey(t, c.params.Args.Kind(), encoded)
			want, got := theirs[key], ours[key]
			if want == nil || got == nil {
				t.Fatalf("%s: no job with args %s written here (%t) or by River (%t)", c.name, encoded, got != nil, want != nil)
			}
			var requested time.Time // zero: none, the insert's time
			if c.params.InsertOpts != nil {
				requested = c.params.InsertOpts.ScheduledAt
			}
			if a, ok := c.params.Args.(river.JobArgsWithInsertOpts); ok && requested.IsZero() {
				requested = a.InsertOpts().ScheduledAt
			}
			for who, j := range map[string]*rivertype.JobRow{"here": got, "by River": want} {
				checkRowTimes(t, c.name+", written "+who, j, requested, before, after)
			}
			if !requested.IsZero() && !got.ScheduledAt.Equal(want.ScheduledAt) {
				t.Errorf("%s: scheduled at %s, River's at %s", c.name, got.ScheduledAt, want.ScheduledAt)
			}
			g, w := comparableRow(t, got), comparableRow(t, want)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s (case %d): job written here\n%+v\nwant as River writes it\n%+v", c.name, i, g, w)
			}
			// The unique columns as stored, not as River reads them back.
			gk, gs := rawUnique(t, e, oursDB.SQL(), got.ID)
			wk, ws := rawUnique(t, e, riversDB.SQL(), want.ID)
			if gk != wk || gs != ws {
				t.Errorf("%s: unique key %q, states %v written here; River's %q, %v", c.name, gk, gs, wk, ws)
			}
			if row, _, _ := rows.resolve(c.params); c.ours && (row.uniqueKey != nil) != (wk != "") {
				t.Errorf("%s: riverRows computes a unique key: %t; River wrote %q", c.name, row.uniqueKey != nil, wk)
			}
		}
	})
}

// rawUnique is the unique key (in hex) and unique states (as an integer) of job id as
// stored in db, on engine e.
func rawUnique(t *testing.T, e dbtest.Engine, db *sql.DB, id int64) (string, sql.NullInt64) {
	t.Helper()
	q := `SELECT coalesce(hex(unique_key), ''), unique_states FROM river_job WHERE id = ?`
	if e != dbtest.SQLite {
		q = `SELECT coalesce(upper(encode(unique_key, 'hex')), ''), unique_states::integer FROM river_job WHERE id = $1`
	}
	var key string
	var states sql.NullInt64
	if err := db.QueryRowContext(t.Context(), q, id).Scan(&key, &states); err != nil {
		t.Fatal(err)
	}
	return key, states
}

// rowsInserter is NewInserter's client on driver.
func rowsInserter(t testing.TB, driver riverdriver.Driver[*sql.Tx]) *Client {
	t.Helper()
	c, err := NewInserter(driver, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inTx runs fn in a transaction of db and commits it.
func inTx(t *testing.T, db *sql.DB, fn func(tx *sql.Tx) error) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// rowsByArgs lists every job through client, by kind and encoded args.
func rowsByArgs(t *testing.T, ctx context.Context, client *Client) map[string]*rivertype.JobRow {
	t.Helper()
	res, err := client.JobList(ctx, river.NewJobListParams().First(1000).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending))
	if err != nil {
		t.Fatal(err)
	}
	byArgs := make(map[string]*rivertype.JobRow, len(res.Jobs))
	for _, j := range res.Jobs {
		byArgs[rowKey(t, j.Kind, j.EncodedArgs)] = j
	}
	return byArgs
}

// rowKey is kind and args in one form (PostgreSQL's jsonb orders keys its way).
func rowKey(t *testing.T, kind string, args []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		t.Fatalf("%s args %s: %v", kind, args, err)
	}
	canonical, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return kind + " " + string(canonical)
}

// checkRowTimes checks that job j was created at the insert, between before and after
// (to the second: SQLite's clock and the client's may round differently), and is
// scheduled then too, or at requested (to the millisecond SQLite keeps).
func checkRowTimes(t *testing.T, name string, j *rivertype.JobRow, requested, before, after time.Time) {
	t.Helper()
	within := func(at time.Time) bool {
		return !at.Before(before.Add(-time.Second)) && !at.After(after.Add(time.Second))
	}
	if !within(j.CreatedAt) {
		t.Errorf("%s: created at %s, want between %s and %s", name, j.CreatedAt, before, after)
	}
	if requested.IsZero() {
		if !within(j.ScheduledAt) {
			t.Errorf("%s: scheduled at %s, want the insert's time, between %s and %s", name, j.ScheduledAt, before, after)
		}
		return
	}
	if d := j.ScheduledAt.Sub(requested).Abs(); d > time.Millisecond/2 {
		t.Errorf("%s: scheduled at %s, want %s", name, j.ScheduledAt, requested)
	}
}

// comparableRow is j without its ID and times, and with its metadata in one form.
// River's SQLite driver adds a random nonce to the metadata of the jobs its
// returning insert writes, only to tell them from existing rows in what its
// statement returns; it is left out (riverRows writes none).
func comparableRow(t *testing.T, j *rivertype.JobRow) rivertype.JobRow {
	t.Helper()
	c := *j
	c.ID, c.CreatedAt, c.ScheduledAt = 0, time.Time{}, time.Time{}
	var metadata map[string]any
	if err := json.Unmarshal(j.Metadata, &metadata); err != nil {
		t.Fatalf("job %d metadata %s: %v", j.ID, j.Metadata, err)
	}
	delete(metadata, riverdriver.UniqueInsertMetadataKey)
	m, err := json.Marshal(metadata)
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata = m
	return c
}
