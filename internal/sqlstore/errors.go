package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"winnow"
)

// violation is the kind of constraint a failed statement broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// constraintError tells whether err is a unique or foreign-key violation on either
// engine and returns text naming the constraint (PostgreSQL's constraint name, or
// SQLite's message, which lists the columns) so callers can say which value clashed.
func constraintError(err error) (violation, string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return uniqueViolation, pe.ConstraintName
		case "23503":
			return foreignKeyViolation, pe.ConstraintName
		}
		return noViolation, ""
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation, se.Error()
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation, se.Error()
		}
	}
	return noViolation, ""
}

// isUnique reports whether err is a unique violation whose constraint text mentions
// any of the given column or constraint names (or any unique violation when none is
// given).
func isUnique(err error, names ...string) bool {
	v, c := constraintError(err)
	if v != uniqueViolation {
		return false
	}
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if strings.Contains(c, n) {
			return true
		}
	}
	return false
}

// isForeignKey reports whether err is a foreign-key violation.
func isForeignKey(err error) bool {
	v, _ := constraintError(err)
	return v == foreignKeyViolation
}

// lookupErr turns sql.ErrNoRows into an ENOTFOUND error with the person-readable msg
// and wraps any other error with op.
func lookupErr(err error, msg, op string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return winnow.Errorf(winnow.ENOTFOUND, "%s", msg)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Person-readable not-found messages, shared by the methods that look things up.
const (
	msgOrgNotFound       = "Organization not found."
	msgUserNotFound      = "User not found."
	msgSessionNotFound   = "Session not found or expired."
	msgInviteNotFound    = "This invitation is invalid, has expired or was already used."
	msgFunnelNotFound    = "Job not found."
	msgApplicantNotFound = "Candidate not found."
)
