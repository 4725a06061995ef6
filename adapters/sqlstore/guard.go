package sqlstore

import (
	"fmt"

	"github.com/accountkit/cancellation"
)

// malformed guards the Store's methods against ids no request can have
// (see cancellation.ValidID): a lookup by one is answered as for any
// unknown id, with an error wrapping cancellation.ErrNotFound, before the
// sqlstore store is touched, so no driver error (nor the id itself, which may
// be megabytes long) comes back. It returns nil when every id is valid.
func malformed(ids ...string) error {
	for _, id := range ids {
		if !cancellation.ValidID(id) {
			return fmt.Errorf("%w: malformed id", cancellation.ErrNotFound)
		}
	}
	return nil
}

// checkNew refuses to create a request whose id or account is malformed,
// with an error wrapping cancellation.ErrInvalidInput that names which.
func checkNew(r *cancellation.Request) error {
	if err := cancellation.CheckID("request id", r.ID()); err != nil {
		return err
	}
	return cancellation.CheckID("account", string(r.Account()))
}
