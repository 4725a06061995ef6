package memory

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/accountkit/cancellation/ports"
)

// Compile-time checks.
var (
	_ ports.Notifier  = (*Notifier)(nil)
	_ ports.OTPSender = (*OTPSender)(nil)
	_ ports.InProcess = (*Notifier)(nil)
	_ ports.InProcess = (*OTPSender)(nil)
)

// Notifier is an in-memory [ports.Notifier] that records every notification
// it delivers, in order, instead of sending it: for tests, examples and
// demos. It delivers each IdempotencyKey once: a later Notify with a key it
// has delivered returns nil and records nothing. The zero value is ready to
// use and all methods are safe for concurrent use. Its [Outbox] tells what
// was delivered and injects failures.
type Notifier struct {
	Outbox[ports.Notification]
}

// NewNotifier returns an empty Notifier.
func NewNotifier() *Notifier { return &Notifier{} }

// Notify implements [ports.Notifier]. It returns ctx.Err() if ctx is done,
// and the error armed by FailNext, without delivering.
func (n *Notifier) Notify(ctx context.Context, msg ports.Notification) error {
	return n.deliver(ctx, msg.IdempotencyKey, msg)
}

// OTPSender is an in-memory [ports.OTPSender] that records every one-time
// code it delivers, in order, instead of sending an SMS: for tests, examples
// and demos, which read the code a person would receive with LastCode. It
// delivers each IdempotencyKey once: a later SendCode with a key it has
// delivered returns nil and records nothing. The zero value is ready to use
// and all methods are safe for concurrent use. Its [Outbox] tells what was
// delivered and injects failures.
type OTPSender struct {
	Outbox[ports.OTPMessage]
}

// NewOTPSender returns an empty OTPSender.
func NewOTPSender() *OTPSender { return &OTPSender{} }

// SendCode implements [ports.OTPSender]. It returns ctx.Err() if ctx is
// done, and the error armed by FailNext, without delivering.
func (s *OTPSender) SendCode(ctx context.Context, msg ports.OTPMessage) error {
	return s.deliver(ctx, msg.IdempotencyKey, msg)
}

// LastCode returns the last code delivered to phone, and false when none
// was.
func (s *OTPSender) LastCode(phone string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range slices.Backward(s.sent) {
		if m.Phone == phone {
			return m.Code, true
		}
	}
	return "", false
}

// Outbox records the messages M that a [Notifier] or an [OTPSender]
// delivers, once per idempotency key, and makes deliveries fail on demand.
// Its zero value is empty and ready to use, and it is safe for concurrent
// use.
type Outbox[M any] struct {
	mu       sync.Mutex
	sent     []M
	keys     map[string]keyCount // by idempotency key
	attempts int
	faults   faults
	observer func(M)
}

// InProcess implements [ports.InProcess]: a delivery is recorded in the
// caller's process, holding the outbox's mutex only to record it, unless
// an OnDeliver observer is set, whose code may block; it reports true
// while none is. Injected failures answer at once, and do not change it.
// A type that embeds a Notifier or an OTPSender inherits InProcess, and
// must declare its own if it delivers in a way that may block (see
// [ports.InProcess]).
func (o *Outbox[M]) InProcess() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.observer == nil
}

// keyCount counts the calls with one idempotency key and its deliveries.
type keyCount struct{ calls, delivered int }

// deliver records a copy of m under key unless key was delivered already,
// counts the call, and calls the observer, outside the lock, after a
// delivery.
func (o *Outbox[M]) deliver(ctx context.Context, key string, m M) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	if o.keys == nil {
		o.keys = make(map[string]keyCount)
	}
	o.attempts++
	c := o.keys[key]
	c.calls++
	err := o.faults.take()
	first := err == nil && c.delivered == 0 // a repeat is not delivered again
	if first {
		c.delivered++
	}
	o.keys[key] = c
	if !first {
		o.mu.Unlock()
		return err
	}
	o.sent = append(o.sent, cloneMessage(m))
	observe := o.observer
	o.mu.Unlock()
	if observe != nil {
		observe(cloneMessage(m))
	}
	return nil
}

// Sent returns a copy of every message delivered, in delivery order.
func (o *Outbox[M]) Sent() []M {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]M, len(o.sent))
	for i, m := range o.sent {
		out[i] = cloneMessage(m)
	}
	return out
}

// Deliveries returns how many messages with key were delivered: 0 or 1,
// since a key is delivered once.
func (o *Outbox[M]) Deliveries(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.keys[key].delivered
}

// Count returns how many calls carried key: the delivery, repeats that were
// not delivered again and injected failures, but not calls whose context
// was already done. A count above Deliveries(key) shows a retry.
func (o *Outbox[M]) Count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.keys[key].calls
}

// Attempts returns how many calls were made with any key, counted as Count
// counts them.
func (o *Outbox[M]) Attempts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.attempts
}

// FailNext makes the next n calls fail with err, or with [ErrInjected] when
// err is nil, without delivering; the calls after them succeed again.
// FailNext(0, nil) disarms. Calls whose context is already done do not
// count.
func (o *Outbox[M]) FailNext(n int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults.failNext(n, err)
}

// OnDeliver sets a function called with a copy of each message delivered
// from then on (nil removes it), e.g. to print codes and notifications in a
// demo. It is called after the message is recorded, outside any lock, on
// the goroutine of the delivering call: concurrent deliveries may reach it
// in another order than Sent's.
func (o *Outbox[M]) OnDeliver(f func(M)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.observer = f
}

// cloneMessage copies m deeply enough that neither the caller nor the
// outbox can change the other's copy: a notification's Data map and an
// event's Data are copied.
func cloneMessage[M any](m M) M {
	// Through a pointer, not a copy of m in an interface: m stays where
	// it is, and only what it refers to is copied.
	switch p := any(&m).(type) {
	case *ports.Notification:
		p.Data = maps.Clone(p.Data)
	case *ports.CloudEvent:
		p.Data = slices.Clone(p.Data)
	}
	return m
}
