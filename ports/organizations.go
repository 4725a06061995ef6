package ports

//go:generate go tool mockgen -typed -destination=mocks/organizations.go -package=mocks . OrganizationDirectory

import "context"

// OrganizationID identifies an organisation on the host platform: a group
// of customer accounts with admins.
type OrganizationID string

// OrganizationDirectory knows which accounts belong to an organisation and
// which of them are its admins.
//
// Members returns every member account of the organisation (admins
// included), or an error wrapping ErrNotFound for an unknown organisation.
// IsAdmin reports whether the account is an admin of the organisation
// (false, not an error, for an account that is not a member). Any other
// error is an outage, and the library fails closed. It must be safe for
// concurrent use.
type OrganizationDirectory interface {
	Members(ctx context.Context, org OrganizationID) ([]AccountID, error)
	IsAdmin(ctx context.Context, org OrganizationID, account AccountID) (bool, error)
}
