package cancellation_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// skewStore stores another change of the request between a Get and the
// History read that follows it, as a write of another replica or of a
// maintenance worker can.
type skewStore struct {
	cancellation.Store
	between atomic.Pointer[func()]
}

func (s *skewStore) History(ctx context.Context, id string) ([]cancellation.Event, error) {
	if fn := s.between.Swap(nil); fn != nil {
		(*fn)()
	}
	return s.Store.History(ctx, id)
}

// TestHistory_ReadWhileAnotherChangeIsStored: a request read while another
// change of it is stored comes back whole as of the version read, not as
// corrupt (found when maintenance workers closed a request that a reviewer
// was reading).
func TestHistory_ReadWhileAnotherChangeIsStored(t *testing.T) {
	skew := &skewStore{}
	f := setup(t, func(c *cancellation.Config) { skew.Store = c.Store; c.Store = skew })
	r := f.confirm(f.start(f.personal("acct-skew").ID))
	before := f.stored(r.ID())

	send := func() { f.sendCode(r) }
	skew.between.Store(&send)
	got, err := f.svc.Get(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Nil(t, skew.between.Load(), "the History read happened")
	require.Equal(t, before.Version(), got.Version())
	require.Equal(t, before.History(), got.History())

	after := f.stored(r.ID())
	require.Equal(t, before.Version()+1, after.Version(), "the change in between was stored")
	require.Len(t, after.History(), len(before.History())+1)
}
