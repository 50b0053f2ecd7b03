package leversandbox_test

import (
	"path/filepath"
	"testing"

	"winnow/internal/leversandbox"
)

// TestLookupsAfterRestart: an opportunity is found by ID and an applicant's address
// finds their contact again, before and after a restart from the state file (whose
// state arrives without the sandbox's indexes), among many applications.
func TestLookupsAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sandbox.json")
	s1 := openStateFile(t, path)
	posting, err := s1.CreatePosting(leversandbox.PostingInput{Text: "Test posting"})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(s *leversandbox.Server, email string) leversandbox.Application {
		t.Helper()
		a, err := s.Apply(leversandbox.ApplyInput{PostingID: posting, Name: "Ada", Email: email})
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := s.Opportunity(a.OpportunityID); !ok || st.ID != a.OpportunityID {
			t.Fatalf("opportunity %s not found just after applying", a.OpportunityID)
		}
		return a
	}
	var first []leversandbox.Application
	for i := range 50 {
		first = append(first, apply(s1, "ada"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com"))
	}
	if again := apply(s1, "adaaa@example.com"); again.ContactID != first[0].ContactID {
		t.Fatalf("the same address got contact %s, want %s", again.ContactID, first[0].ContactID)
	}
	if other := apply(s1, "grace@example.com"); other.ContactID == first[0].ContactID {
		t.Fatal("another address got the first applicant's contact")
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStateFile(t, path)
	defer s2.Close()
	for _, a := range first {
		if _, ok := s2.Opportunity(a.OpportunityID); !ok {
			t.Fatalf("opportunity %s lost across the restart", a.OpportunityID)
		}
	}
	if again := apply(s2, "adabb@example.com"); again.ContactID != first[27].ContactID {
		t.Fatalf("after the restart the same address got contact %s, want %s", again.ContactID, first[27].ContactID)
	}
	if _, ok := s2.Opportunity("no-such-opportunity"); ok {
		t.Fatal("an unknown opportunity was found")
	}
}

// openStateFile starts a sandbox that keeps its state in path, reading what is there.
func openStateFile(t *testing.T, path string) *leversandbox.Server {
	t.Helper()
	s, err := leversandbox.New(leversandbox.Options{StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
