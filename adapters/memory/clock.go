package memory

import (
	"sync"
	"time"

	"github.com/accountkit/cancellation/ports"
)

var _ ports.Clock = (*Clock)(nil)

// Clock is a fake [ports.Clock] that stands still until a test moves it, so
// that tests cross review days, cooling-off periods and code expiries
// without waiting. It is safe for concurrent use. The zero value stands at
// the zero time; use [NewClock].
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that stands at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements [ports.Clock].
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
