package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"winnow"
	"winnow/internal/keyring"
)

// tokenCreateCommand makes an API token for an org and prints it, alone on standard
// output so that scripts can capture it; only its keyed hash is stored.
func tokenCreateCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow token create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	org := fs.String("org", "", "name of the organization the token acts for (required)")
	name := fs.String("name", "", "what the token is for, shown in Settings → API tokens (required)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: winnow token create --org NAME --name LABEL\n\nCreates an API token for the organization and prints it once. Programs send it as\n\"Authorization: Bearer <token>\" to the JSON API under /api/v1. Admins can revoke it in\nSettings → API tokens. Needs the same WINNOW_SECRET_KEY as the server.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*org) == "" || strings.TrimSpace(*name) == "" {
		fs.Usage()
		return errors.New("--org and --name are required")
	}
	if err := cfg.CheckSecretKey(); err != nil {
		return err
	}
	kr, err := keyring.New(cfg.SecretKey)
	if err != nil {
		return err
	}
	db, store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := store.FindOrgByName(ctx, strings.TrimSpace(*org))
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return fmt.Errorf("no organization is called %q; create it with winnow user create", strings.TrimSpace(*org))
	}
	if err != nil {
		return fmt.Errorf("find organization: %w", err)
	}
	token := keyring.Token()
	t := &winnow.APIToken{OrgID: o.ID, Name: *name, TokenHash: kr.Hash(token)}
	if err := store.CreateAPIToken(ctx, t); err != nil {
		if winnow.ErrorCode(err) == winnow.EINVALID {
			return errors.New(winnow.ErrorMessage(err))
		}
		return fmt.Errorf("create token: %w", err)
	}
	fmt.Fprintln(e.stdout, token)
	fmt.Fprintf(e.stderr, "Created API token %q for %q. It is shown only this once: keep it secret.\n", t.Name, o.Name)
	return nil
}
