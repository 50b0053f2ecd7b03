package lever

import (
	"context"
	"fmt"
	"net/url"
)

// User is a Lever user (a recruiter, hiring manager or admin), e.g. the
// one writes are performed as.
type User struct {
	// ID is the user id used in perform_as.
	ID string `json:"id"`
	// Name is the user's display name.
	Name string `json:"name"`
	// Username is the user's handle.
	Username string `json:"username"`
	// Email is the user's address.
	Email string `json:"email"`
	// AccessRole is e.g. "super admin", "admin", "team member".
	AccessRole string `json:"accessRole"`
	// CreatedAt is when the user was created.
	CreatedAt Timestamp `json:"createdAt"`
	// DeactivatedAt is set for deactivated users, who should not be used.
	DeactivatedAt Timestamp `json:"deactivatedAt"`
}

// Active reports whether the user is not deactivated.
func (u User) Active() bool { return u.DeactivatedAt.IsZero() }

// ListUsers returns the account's users; a non-empty email filters by it.
func (c *Client) ListUsers(ctx context.Context, email string) ([]User, error) {
	q := url.Values{}
	if email != "" {
		q.Set("email", email)
	}
	u, err := listAll[User](ctx, c, "/users", q, 0)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return u, nil
}
