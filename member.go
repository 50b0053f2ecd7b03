package winnow

import "context"

// KeepsAnAdmin checks that the org still has an admin after target becomes role to
// (to is empty when target is removed). admins are the IDs of the org's admins now.
// Without an admin nobody could manage Settings, invite people or reconnect Lever.
func KeepsAnAdmin(admins []string, target *User, to Role) error {
	if !target.IsAdmin() || to == RoleAdmin {
		return nil
	}
	for _, id := range admins {
		if id != target.ID {
			return nil
		}
	}
	name := target.Name
	if name == "" {
		name = target.Email
	}
	if to == "" {
		return Errorf(ECONFLICT, "%s is the last admin and cannot be removed: make another member admin first.", name)
	}
	return Errorf(ECONFLICT, "%s is the last admin and must stay one: make another member admin first.", name)
}

// MayRemove checks that actor may remove target from the org: admins remove others, not
// themselves (another admin does that), so that nobody locks themselves out by a slip.
func (u *User) MayRemove(target *User) error {
	switch {
	case !u.IsAdmin():
		return Errorf(EFORBIDDEN, "Only admins remove members.")
	case u.OrgID != target.OrgID:
		return Errorf(ENOTFOUND, "Member not found.")
	case u.ID == target.ID:
		return Errorf(EINVALID, "You cannot remove yourself; another admin can.")
	}
	return nil
}

// MaxUserNameLength is the longest name a member may give themselves.
const MaxUserNameLength = 200

// MemberService changes the org's members. Every method keeps the org with at least
// one admin (KeepsAnAdmin), checked in the change's own transaction so that two admins
// demoting each other at once cannot leave none.
type MemberService interface {
	// ChangeRole gives the org's user id the role and returns them.
	ChangeRole(ctx context.Context, orgID, id string, role Role) (*User, error)
	// RemoveUser deletes the org's user id: their sessions end and they leave every job
	// team. Their reviews and timeline entries stay, by "a former member".
	RemoveUser(ctx context.Context, orgID, id string) error
	// RenameUser sets the user's own name.
	RenameUser(ctx context.Context, orgID, id, name string) error
	// SetPassword stores a new password hash for the user and ends their other
	// sessions, keeping the one whose token hash is keep.
	SetPassword(ctx context.Context, orgID, id, hash, keep string) error
	// RevokeInvite ends a pending invitation of the org: its link stops working.
	RevokeInvite(ctx context.Context, orgID, id string) error
}
