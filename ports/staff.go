package ports

//go:generate go tool mockgen -typed -destination=mocks/staff.go -package=mocks . StaffDirectory

import (
	"context"
	"slices"
)

// Role is what a staff member may do in the back office.
type Role string

// Roles, from least to most trusted. A senior may do what a reviewer may;
// an admin may do what a senior may. Has applies that order.
const (
	// RoleReviewer reviews requests: claims them, reads their documents,
	// decides them, asks the customer for more.
	RoleReviewer Role = "reviewer"
	// RoleSenior may also decide a request another reviewer has claimed,
	// start and approve staff closures, and override blockers with a
	// recorded justification.
	RoleSenior Role = "senior"
	// RoleAdmin may also reassign claims and retry or give up effects.
	RoleAdmin Role = "admin"
)

// rank orders the roles; an unknown role ranks nowhere.
func (r Role) rank() int {
	switch r {
	case RoleReviewer:
		return 1
	case RoleSenior:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// StaffMember is a person of the platform's staff, as the host's
// StaffDirectory resolves them.
type StaffMember struct {
	// ID is the staff member's stable id, the one the history names.
	ID string
	// Name is shown to other staff (the queue, the history); never to
	// customers.
	Name string
	// Roles are the member's roles. A member without any is refused.
	Roles []Role
	// Account is the member's own customer account, if they have one:
	// nobody decides their own account's request.
	Account AccountID
}

// Has reports whether m holds role r or a role above it.
func (m StaffMember) Has(r Role) bool {
	if r.rank() == 0 {
		return false
	}
	return slices.ContainsFunc(m.Roles, func(h Role) bool { return h.rank() >= r.rank() })
}

// StaffDirectory resolves a staff id to a person with roles: the host's
// identity system for its back office. It returns an error wrapping
// ErrNotFound for an unknown id; the library refuses such an id, and one
// without roles, with cancellation.ErrForbidden. Any other error is an
// outage, and the library fails closed.
type StaffDirectory interface {
	StaffMember(ctx context.Context, id string) (StaffMember, error)
}
