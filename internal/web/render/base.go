package render

import "winnow"

// Base is embedded in every page's data: who is signed in, which section is active, and
// a one-time notice.
type Base struct {
	Title  string
	User   *winnow.User
	Org    *winnow.Org
	Nav    string // "jobs", "applicants" or "settings"
	Notice string
	// LeverBanner asks an admin to reconnect Lever: the org's connection needs it.
	LeverBanner bool
}

// IsAdmin reports whether the signed-in user is an admin, for showing Settings.
func (b Base) IsAdmin() bool { return b.User != nil && b.User.IsAdmin() }
