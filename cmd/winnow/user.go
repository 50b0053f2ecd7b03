package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"winnow"
	"winnow/internal/password"
	"winnow/internal/sqlstore"
)

func userCreateCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow user create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	org := fs.String("org", "", "organization name; created if it does not exist (required)")
	email := fs.String("email", "", "the user's email address, used to sign in (required)")
	name := fs.String("name", "", "the user's name")
	pwFile := fs.String("password-file", "", `file holding the password, or "-" for standard input (required)`)
	roleName := fs.String("role", "admin", "admin, member or limited")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: winnow user create --org NAME --email E --password-file F [--role admin]\n\nCreates a user, and the organization if new. The password is read from a file so it never appears in shell history.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	if *org == "" || *email == "" || *pwFile == "" {
		fs.Usage()
		return errors.New("--org, --email and --password-file are required")
	}
	role, err := winnow.ParseRole(*roleName)
	if err != nil {
		return errors.New(winnow.ErrorMessage(err))
	}
	pw, err := readPassword(*pwFile, e.stdin)
	if err != nil {
		return err
	}
	if err := winnow.ValidatePassword(pw); err != nil {
		return errors.New(winnow.ErrorMessage(err))
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	db, store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, o, created, err := createUser(ctx, store, *org, &winnow.User{Email: *email, Name: *name, Role: role, PasswordHash: hash})
	if err != nil {
		return errors.New(winnow.ErrorMessage(err))
	}
	where := "the existing organization"
	if created {
		where = "the new organization"
	}
	fmt.Fprintf(e.stdout, "created %s %s in %s %q; sign in at %s/login\n", strings.ToLower(role.Label()), u.Email, where, o.Name, cfg.BaseURL)
	return nil
}

// createUser finds the org by name (ignoring case) or creates it, and adds the user to
// it; created reports whether the org is new.
func createUser(ctx context.Context, store *sqlstore.Store, orgName string, u *winnow.User) (_ *winnow.User, _ *winnow.Org, created bool, err error) {
	o, err := store.FindOrgByName(ctx, orgName)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		o, created = &winnow.Org{Name: orgName}, true
		err = store.CreateOrg(ctx, o)
	}
	if err != nil {
		return nil, nil, false, err
	}
	u.OrgID = o.ID
	if err := store.CreateUser(ctx, u); err != nil {
		return nil, nil, false, err
	}
	return u, o, created, nil
}

func readPassword(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
