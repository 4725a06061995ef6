package cancellation

import (
	"context"
	"sync"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, deadline) that starts no
// timer until it must. A port or rule that answers at once reads at most
// Err, which compares the clock with the deadline; only Done, and Value
// (through which the context package finds the context to cancel
// children with and the cause), make it a real context.WithDeadline,
// which from then on answers everything. A context.WithTimeout per
// effect and per evaluation cost a timer each, started and stopped
// around calls that never waited on it: about a microsecond and two
// allocations a time.
//
// Its error, once it has one, never changes: the first of the parent's
// error, the deadline passing and cancel, as for context.WithDeadline.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	err    error              // the first error seen, then kept
	inner  context.Context    // the real context, once one is needed
	cancel context.CancelFunc // inner's
}

// withLazyDeadline returns a context with the deadline and a function that
// cancels it, as context.WithDeadline does.
func withLazyDeadline(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	c := &lazyDeadline{parent: parent, deadline: deadline}
	return c, c.stop
}

// real returns the context.WithDeadline that answers for c, making it
// first; c.mu must be held. Made after c has an error, it has the same
// one: the parent's is the parent's, a past deadline cancels it at once
// with DeadlineExceeded, and cancel is passed on.
func (c *lazyDeadline) real() context.Context {
	if c.inner == nil {
		c.inner, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.err == context.Canceled {
			c.cancel()
		}
	}
	return c.inner
}

// Deadline returns the earlier of the parent's deadline and c's.
func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done returns the real context's channel.
func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.real().Done()
}

// Err returns the parent's error, DeadlineExceeded past the deadline, or
// Canceled after cancel: the first of them, kept (the real context's,
// once there is one and c had none before it).
func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.inner != nil {
		return c.inner.Err()
	}
	if c.err == nil {
		if err := c.parent.Err(); err != nil {
			c.err = err
		} else if !time.Now().Before(c.deadline) {
			c.err = context.DeadlineExceeded
		}
	}
	return c.err
}

// Value answers from the real context, so that the context package finds
// it (for context.Cause and for children it cancels).
func (c *lazyDeadline) Value(key any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.real().Value(key)
}

// stop cancels c (a no-op once it has an error) and releases its timer.
func (c *lazyDeadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner != nil {
		c.cancel()
		return
	}
	if c.err == nil {
		c.err = context.Canceled
	}
}

// String names c as context.WithDeadline's String does.
func (c *lazyDeadline) String() string {
	return "cancellation.withLazyDeadline(" + c.deadline.String() + ")"
}
