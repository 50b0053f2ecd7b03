package sqlstore_test

import (
	"reflect"
	"strings"
	"testing"

	"winnow"
)

func testOrgs(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	o := &winnow.Org{Name: "  Acme Corp  "}
	if err := env.Store.CreateOrg(ctx, o); err != nil {
		t.Fatalf("create: %v", err)
	}
	if o.ID == "" || o.Name != "Acme Corp" || !o.CreatedAt.Equal(env.Clock.Now().Truncate(1000)) {
		t.Fatalf("created org = %+v", o)
	}
	byID, err := env.Store.FindOrgByID(ctx, o.ID)
	if err != nil {
		t.Fatalf("find by id: %v", err)
	}
	byName, err := env.Store.FindOrgByName(ctx, "Acme Corp")
	if err != nil {
		t.Fatalf("find by name: %v", err)
	}
	for _, got := range []*winnow.Org{byID, byName} {
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("found %+v, want %+v", got, o)
		}
	}

	if err := env.Store.SetOrgReplyTo(ctx, o.ID, "  Jobs@Acme.example "); err != nil {
		t.Fatalf("set reply-to: %v", err)
	}
	if got, err := env.Store.FindOrgByID(ctx, o.ID); err != nil || got.ReplyTo != "jobs@acme.example" {
		t.Fatalf("after SetOrgReplyTo: %+v, %v; want reply-to jobs@acme.example", got, err)
	}
	if err := env.Store.SetOrgReplyTo(ctx, o.ID, "not an address"); winnow.ErrorCode(err) != winnow.EINVALID {
		t.Fatalf("bad reply-to: %v, want EINVALID", err)
	}
	if err := env.Store.SetOrgReplyTo(ctx, "nope", "a@b.example"); winnow.ErrorCode(err) != winnow.ENOTFOUND {
		t.Fatalf("reply-to of an unknown org: %v, want ENOTFOUND", err)
	}
	if err := env.Store.SetOrgReplyTo(ctx, o.ID, ""); err != nil {
		t.Fatalf("clear reply-to: %v", err)
	}
	o.ReplyTo = ""

	tests := []struct {
		name string
		run  func() error
		code string
	}{
		{"unknown id", func() error { _, err := env.Store.FindOrgByID(ctx, "nope"); return err }, winnow.ENOTFOUND},
		{"unknown name", func() error { _, err := env.Store.FindOrgByName(ctx, "Acme"); return err }, winnow.ENOTFOUND},
		{"duplicate name", func() error { return env.Store.CreateOrg(ctx, &winnow.Org{Name: "Acme Corp"}) }, winnow.ECONFLICT},
		{"empty name", func() error { return env.Store.CreateOrg(ctx, &winnow.Org{Name: " "}) }, winnow.EINVALID},
		{"long name", func() error { return env.Store.CreateOrg(ctx, &winnow.Org{Name: strings.Repeat("x", 201)}) }, winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), tt.code) })
	}
	if n := count(t, env, "orgs", ""); n != 1 {
		t.Fatalf("orgs = %d, want 1: failed creates must write nothing", n)
	}
}
