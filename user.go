package winnow

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Role is what a user may do inside their org.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin   Role = "admin"   // everything, including Settings and the Lever connection
	RoleMember  Role = "member"  // creates and edits jobs, reviews every job's applicants
	RoleLimited Role = "limited" // sees and reviews only jobs whose team they are on
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleMember || r == RoleLimited
}

// Label is the role's name as people read it.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Admin"
	case RoleMember:
		return "Member"
	case RoleLimited:
		return "Limited member"
	}
	return string(r)
}

// ParseRole returns the role named s or an EINVALID error.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", Errorf(EINVALID, "Unknown role %q: use admin, member or limited.", s)
	}
	return r, nil
}

// User is a person at an org who signs in to Winnow. Email is unique across the whole
// installation so that signing in needs no org name.
type User struct {
	ID           string
	OrgID        string
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	CreatedAt    time.Time
}

// IsAdmin reports whether the user may manage the org's settings.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// MsgNotInvitable refuses an invitation to an address that has an account in another
// org, without saying so.
const MsgNotInvitable = "This address can't be invited. Ask the person for another address."

// RefuseInvite returns why an admin of org orgID cannot invite u's address, which u
// already signs in with. A member of orgID is named as one. Anyone else has an account
// in another org and cannot join a second one, since an email signs in to one org; the
// refusal does not say why, so that an admin cannot learn who has accounts elsewhere.
func (u *User) RefuseInvite(orgID string) error {
	if u.OrgID == orgID {
		return Errorf(ECONFLICT, "%s is already a member of this organization.", u.Email)
	}
	return &Error{Code: ECONFLICT, Message: MsgNotInvitable}
}

// NormalizeEmail trims and lower-cases an address and checks that it is one.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", Errorf(EINVALID, "Email address is required.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", Errorf(EINVALID, "%q is not a valid email address.", s)
	}
	return s, nil
}

// Validate normalises the user's fields and reports whether the user can be stored.
func (u *User) Validate() error {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	u.Email = email
	u.Name = strings.TrimSpace(u.Name)
	switch {
	case u.OrgID == "":
		return Errorf(EINVALID, "A user must belong to an organization.")
	case !u.Role.Valid():
		return Errorf(EINVALID, "Unknown role %q: use admin, member or limited.", u.Role)
	case u.PasswordHash == "":
		return Errorf(EINVALID, "A password is required.")
	case tooLong(u.Name, MaxNameLength):
		return Errorf(EINVALID, "Name must be at most %d characters.", MaxNameLength)
	}
	return nil
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// ValidatePassword reports whether a new password is acceptable.
func ValidatePassword(p string) error {
	if len([]rune(p)) < MinPasswordLength {
		return Errorf(EINVALID, "Password must be at least %d characters.", MinPasswordLength)
	}
	if len(p) > 512 {
		return Errorf(EINVALID, "Password must be at most 512 bytes.")
	}
	return nil
}

// UserService stores users.
type UserService interface {
	// CreateUser stores a new user and fills in ID and CreatedAt. An email already in use
	// gives an ECONFLICT error.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns the org's user or ENOTFOUND.
	FindUserByID(ctx context.Context, orgID, id string) (*User, error)
	// FindUserByEmail returns the user with this address in any org, or ENOTFOUND. It is
	// the one cross-org lookup, used only to sign in.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns the org's users ordered by email.
	ListUsers(ctx context.Context, orgID string) ([]*User, error)
}
