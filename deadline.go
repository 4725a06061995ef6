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

	// state is nil until c has an error or a real context, then set once
	// for each: the error, the real context, or both (a real context made
	// after the error, ending with it). One pointer for both, so that no
	// error is kept that the real context, made meanwhile, does not have.
	state atomic.Pointer[lazyState]

	mu sync.Mutex // held to make the real context, and by stop
}

// lazyState is what a lazyDeadline has: its error, kept, or its real
// context, which answers from then on, or both.
type lazyState struct {
	err    error
	inner  context.Context
	cancel context.CancelFunc // inner's
}

// The states of a lazyDeadline that ended by itself, kept without
// allocating.
var (
	deadlineExceeded = &lazyState{err: context.DeadlineExceeded}
	canceled         = &lazyState{err: context.Canceled}
)

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
	if st := c.state.Load(); st != nil && st.inner != nil {
		return st.inner
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		st := c.state.Load()
		if st != nil && st.inner != nil {
			return st.inner
		}
		next := &lazyState{}
		switch st {
		case deadlineExceeded:
			// Past c's own deadline: ended with it, whatever the parent
			// did since (a cause of its own must not show through).
			next.inner, next.cancel = context.WithDeadline(context.WithoutCancel(c.parent), c.deadline)
		case canceled:
			// Cancelled first: Canceled, whatever the parent did since.
			next.inner, next.cancel = context.WithCancel(context.WithoutCancel(c.parent))
			next.cancel()
		default:
			// No error yet, or the parent's, which the parent keeps, with
			// its cause.
			next.inner, next.cancel = context.WithDeadline(c.parent, c.deadline)
		}
		if st != nil {
			next.err = st.err
		}
		if c.state.CompareAndSwap(st, next) {
			return next.inner
		}
		// An error was kept meanwhile (Err does not lock): made again to
		// end with it. It happens once: an error, once kept, stays.
		next.cancel()
	}
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
	if st := c.state.Load(); st != nil {
		if st.err != nil {
			return st.err
		}
		return st.inner.Err()
	}
	if err := c.parent.Err(); err != nil {
		return c.latch(&lazyState{err: err})
	}
	if elapsed < 0 {
		elapsed = time.Since(c.start)
	}
	if elapsed < c.timeout {
		return nil
	}
	return c.latch(deadlineExceeded)
}

// latch keeps st as c's state unless c has one, and returns c's error.
func (c *lazyDeadline) latch(st *lazyState) error {
	if c.state.CompareAndSwap(nil, st) {
		return st.err
	}
	return c.errAt(-1) // c has a state now: answered from it
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
	if st := c.state.Load(); st != nil && st.inner != nil {
		st.cancel()
		return
	}
	if c.errAt(-1) == nil {
		c.latch(canceled)
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
