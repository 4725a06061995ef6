package cancellation

import (
	"context"
	"errors"
	"fmt"

	"github.com/accountkit/cancellation/ports"
)

// authorize, for operation op, resolves rv through Config.Staff (which New
// requires) and checks that the member holds role need (or a role above
// it). An unknown id or a member without the role is refused with
// ErrForbidden; a directory that fails is an outage (ErrUnavailable), and
// the operation fails closed. The member's own account, as the directory
// knows it, replaces rv.Account: a caller cannot claim not to have one.
func (s *Service) authorize(ctx context.Context, op string, rv Reviewer, need ports.Role) (ports.StaffMember, error) {
	if err := rv.check(); err != nil {
		return ports.StaffMember{}, err
	}
	m, err := s.cfg.Staff.StaffMember(ctx, rv.ID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.StaffMember{}, fmt.Errorf("%w: unknown staff member %q", ErrForbidden, rv.ID)
	case err != nil:
		return ports.StaffMember{}, portUnavailable(op, "StaffDirectory", err)
	case m.ID != rv.ID:
		return ports.StaffMember{}, fmt.Errorf("%w: the staff directory answered %q for staff member %q", ErrForbidden, m.ID, rv.ID)
	case !m.Has(need):
		return ports.StaffMember{}, fmt.Errorf("%w: staff member %q lacks the %s role", ErrForbidden, rv.ID, need)
	}
	return m, nil
}
