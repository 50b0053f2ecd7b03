package jobs

import (
	"testing"

	"winnow"
)

// TestLeverWriteParams checks that a transition's writes get one job, naming the last
// of them, per opportunity, in the order the opportunities first appear.
func TestLeverWriteParams(t *testing.T) {
	w := func(id, opp string, seq int) *winnow.LeverWrite {
		return &winnow.LeverWrite{ID: id, OrgID: "org", ApplicantID: "a-" + opp, OpportunityID: opp, Seq: seq}
	}
	params := leverWriteParams([]*winnow.LeverWrite{w("t1", "o1", 4), w("n1", "o1", 5), w("t2", "o2", 1), w("s1", "o1", 6), w("n2", "o2", 2)})
	var got []LeverWriteArgs
	for _, p := range params {
		args, ok := p.Args.(LeverWriteArgs)
		if !ok || p.InsertOpts == nil || p.InsertOpts.MaxAttempts != leverMaxAttempts ||
			len(p.InsertOpts.Tags) != 1 || p.InsertOpts.Tags[0] != LeverOrgTag("org") {
			t.Fatalf("params %+v", p)
		}
		got = append(got, args)
	}
	want := []LeverWriteArgs{
		{OrgID: "org", WriteID: "s1", OpportunityID: "o1", ApplicantID: "a-o1", Seq: 6},
		{OrgID: "org", WriteID: "n2", OpportunityID: "o2", ApplicantID: "a-o2", Seq: 2},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if params := leverWriteParams(nil); len(params) != 0 {
		t.Fatalf("no writes: %+v", params)
	}
}
