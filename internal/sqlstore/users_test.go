package sqlstore_test

import (
	"reflect"
	"testing"

	"winnow"
)

func testUsers(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	bob := &winnow.User{OrgID: org.ID, Email: " Bob@Example.com ", Name: "Bob", Role: winnow.RoleMember, PasswordHash: "h1"}
	if err := env.Store.CreateUser(ctx, bob); err != nil {
		t.Fatalf("create: %v", err)
	}
	if bob.ID == "" || bob.Email != "bob@example.com" || !bob.CreatedAt.Equal(env.Clock.Now().Truncate(1000)) {
		t.Fatalf("created user = %+v", bob)
	}
	mustUser(t, env, org, winnow.RoleLimited) // u-…@example.com sorts last
	alice := &winnow.User{OrgID: org.ID, Email: "alice@example.com", Name: "Alice", Role: winnow.RoleAdmin, PasswordHash: "h2"}
	if err := env.Store.CreateUser(ctx, alice); err != nil {
		t.Fatalf("create: %v", err)
	}

	got, err := env.Store.FindUserByID(ctx, org.ID, bob.ID)
	if err != nil || !reflect.DeepEqual(got, bob) {
		t.Fatalf("FindUserByID = %+v, %v; want %+v", got, err, bob)
	}
	got, err = env.Store.FindUserByEmail(ctx, "  BOB@example.COM")
	if err != nil || !reflect.DeepEqual(got, bob) {
		t.Fatalf("FindUserByEmail = %+v, %v; want %+v", got, err, bob)
	}
	list, err := env.Store.ListUsers(ctx, org.ID)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var emails []string
	for _, u := range list {
		emails = append(emails, u.Email)
	}
	if len(list) != 3 || list[0].Email != "alice@example.com" || list[1].Email != "bob@example.com" {
		t.Fatalf("ListUsers emails = %v, want alice, bob, then the random one", emails)
	}

	other := mustOrg(t, env)
	tests := []struct {
		name string
		run  func() error
		code string
	}{
		{"unknown id", func() error { _, err := env.Store.FindUserByID(ctx, org.ID, "nope"); return err }, winnow.ENOTFOUND},
		{"unknown email", func() error { _, err := env.Store.FindUserByEmail(ctx, "carol@example.com"); return err }, winnow.ENOTFOUND},
		{"malformed email lookup", func() error { _, err := env.Store.FindUserByEmail(ctx, "not an email"); return err }, winnow.ENOTFOUND},
		{"duplicate email in same org", func() error {
			return env.Store.CreateUser(ctx, &winnow.User{OrgID: org.ID, Email: "bob@example.com", Role: winnow.RoleMember, PasswordHash: "x"})
		}, winnow.ECONFLICT},
		{"duplicate email in another org, other case", func() error {
			return env.Store.CreateUser(ctx, &winnow.User{OrgID: other.ID, Email: "BOB@example.com", Role: winnow.RoleAdmin, PasswordHash: "x"})
		}, winnow.ECONFLICT},
		{"unknown org", func() error {
			return env.Store.CreateUser(ctx, &winnow.User{OrgID: "nope", Email: "dan@example.com", Role: winnow.RoleAdmin, PasswordHash: "x"})
		}, winnow.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), tt.code) })
	}
	if n := count(t, env, "users", ""); n != 3 {
		t.Fatalf("users = %d, want 3", n)
	}
}

func testUserValidation(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	valid := func() *winnow.User {
		return &winnow.User{OrgID: org.ID, Email: "v@example.com", Name: "V", Role: winnow.RoleMember, PasswordHash: "h"}
	}
	tests := []struct {
		name string
		edit func(*winnow.User)
	}{
		{"no email", func(u *winnow.User) { u.Email = "" }},
		{"bad email", func(u *winnow.User) { u.Email = "v at example" }},
		{"no org", func(u *winnow.User) { u.OrgID = "" }},
		{"bad role", func(u *winnow.User) { u.Role = "owner" }},
		{"no password", func(u *winnow.User) { u.PasswordHash = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := valid()
			tt.edit(u)
			wantCode(t, env.Store.CreateUser(t.Context(), u), winnow.EINVALID)
			if u.ID != "" {
				t.Fatalf("a rejected user got an ID")
			}
		})
	}
	if n := count(t, env, "users", ""); n != 0 {
		t.Fatalf("users = %d, want 0", n)
	}
}
