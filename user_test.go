package winnow_test

import (
	"strings"
	"testing"

	"winnow"
)

// TestRefuseInvite names a member of the org as one, and refuses anyone else without a
// word about the org they belong to.
func TestRefuseInvite(t *testing.T) {
	t.Parallel()
	u := &winnow.User{ID: "u1", OrgID: "org-a", Email: "grace@acme.test"}
	tests := []struct {
		name, orgID, want string
	}{
		{"member of the org", "org-a", "grace@acme.test is already a member of this organization."},
		{"account in another org", "org-b", winnow.MsgNotInvitable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := u.RefuseInvite(tt.orgID)
			if winnow.ErrorCode(err) != winnow.ECONFLICT || winnow.ErrorMessage(err) != tt.want {
				t.Fatalf("err = %v, want conflict %q", err, tt.want)
			}
		})
	}
	if msg := winnow.MsgNotInvitable; strings.Contains(msg, "account") || strings.Contains(msg, "already") || strings.Contains(msg, "organization") {
		t.Fatalf("the refusal hints at another org: %q", msg)
	}
}
