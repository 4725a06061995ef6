package cancellation

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, start+timeout) that starts
// no timer until it must. A port or rule that answers at once reads at
// most Err, which compares the monotonic clock with the deadline; only
// Done, and Value (through which the context package finds the context
// to cancel children with and the cause), make it a real
// context.WithDeadline, which from then on answers everything. A
// context.WithTimeout per effect and per evaluation cost a timer each,
// started and stopped around calls that never waited on it: about a
// microsecond and two allocations a time.
//
// Its error, once it has one, never changes: the first of the parent's
// error, the deadline passing and cancel, as for context.WithDeadline,
// with one difference: when both the deadline and the parent's end have
// passed before anyone asked, it cannot tell which came first and
// answers the parent's error.
type lazyDeadline struct {
	parent   context.Context
	start    time.Time // with a monotonic reading
	timeout  time.Duration
	deadline time.Time // start+timeout

	err   atomic.Pointer[error]           // the first error seen, then kept
	inner atomic.Pointer[context.Context] // the real context, once one is needed

	mu     sync.Mutex         // held to make inner, and by stop
	cancel context.CancelFunc // inner's
}

// withLazyDeadline returns a context that ends timeout after start (a
// time.Now reading) and a function that cancels it, as
// context.WithDeadline(parent, start.Add(timeout)) does.
func withLazyDeadline(parent context.Context, start time.Time, timeout time.Duration) (context.Context, context.CancelFunc) {
	c := &lazyDeadline{parent: parent, start: start, timeout: timeout, deadline: start.Add(timeout)}
	return c, c.stop
}

// real returns the context.WithDeadline that answers for c, making it
// first. Made after c has an error, it has the same one, and the same
// cause: the parent's is the parent's, c's own deadline or cancel ends it
// at once with DeadlineExceeded or Canceled, apart from what the parent
// did since.
func (c *lazyDeadline) real() context.Context {
	if in := c.inner.Load(); in != nil {
		return *in
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in := c.inner.Load(); in != nil {
		return *in
	}
	var (
		in     context.Context
		cancel context.CancelFunc
	)
	switch e := c.err.Load(); e {
	case &deadlineExceeded:
		// Past c's own deadline: ended with it, whatever the parent did
		// since (a cause of its own must not show through).
		in, cancel = context.WithDeadline(context.WithoutCancel(c.parent), c.deadline)
	case &canceled:
		// Cancelled first: Canceled, whatever the parent did since.
		in, cancel = context.WithCancel(context.WithoutCancel(c.parent))
		cancel()
	default:
		// No error yet, or the parent's, which the parent keeps, with its
		// cause.
		in, cancel = context.WithDeadline(c.parent, c.deadline)
	}
	c.cancel = cancel
	c.inner.Store(&in)
	return in
}

// Deadline returns the earlier of the parent's deadline and c's.
func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done returns the real context's channel.
func (c *lazyDeadline) Done() <-chan struct{} { return c.real().Done() }

// Err returns the parent's error, DeadlineExceeded past the deadline, or
// Canceled after cancel: the first of them, kept (the real context's,
// once there is one and c had none before it).
func (c *lazyDeadline) Err() error { return c.errAt(-1) }

// errAt is Err with elapsed, when not negative, the time since start that
// the caller has just read: no clock is read again.
func (c *lazyDeadline) errAt(elapsed time.Duration) error {
	if e := c.err.Load(); e != nil {
		return *e
	}
	if in := c.inner.Load(); in != nil {
		return (*in).Err()
	}
	if err := c.parent.Err(); err != nil {
		return c.latchNew(err)
	}
	if elapsed < 0 {
		elapsed = time.Since(c.start)
	}
	if elapsed < c.timeout {
		return nil
	}
	return c.latch(&deadlineExceeded)
}

// The errors a lazyDeadline keeps without allocating.
var deadlineExceeded, canceled = context.DeadlineExceeded, context.Canceled

// latchNew is latch of a new error, apart so that only it allocates.
func (c *lazyDeadline) latchNew(err error) error { return c.latch(&err) }

// latch keeps *err as c's error unless it has one, and returns c's error.
func (c *lazyDeadline) latch(err *error) error {
	c.err.CompareAndSwap(nil, err)
	return *c.err.Load()
}

// Value answers from the real context, so that the context package finds
// it (for context.Cause and for children it cancels).
func (c *lazyDeadline) Value(key any) any { return c.real().Value(key) }

// stop cancels c (a no-op once it has an error) and releases its timer.
// Without a timer it first looks for the error c had already, unread (the
// parent's, the deadline's), which a context.WithDeadline would have been
// told of: cancel must not turn it into Canceled.
func (c *lazyDeadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner.Load() != nil {
		c.cancel()
		return
	}
	if c.errAt(-1) == nil {
		c.latch(&canceled)
	}
}

// errAt is ctx.Err(), answered without reading the clock when ctx is a
// lazyDeadline and elapsed is the time since its start just read.
func errAt(ctx context.Context, elapsed time.Duration) error {
	if c, ok := ctx.(*lazyDeadline); ok {
		return c.errAt(elapsed)
	}
	return ctx.Err()
}

// String names c as context.WithDeadline's String does.
func (c *lazyDeadline) String() string {
	return "cancellation.withLazyDeadline(" + c.deadline.String() + ")"
}

// uncancelled is context.WithoutCancel(ctx), or ctx itself when nothing
// can cancel it (Done is nil, as for the context settle works under):
// wrapping it again would only cost an allocation per effect.
func uncancelled(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
