package memory

import (
	"context"

	"github.com/accountkit/cancellation/ports"
)

// Compile-time check.
var _ ports.EventPublisher = (*EventPublisher)(nil)

// EventPublisher is an in-memory [ports.EventPublisher] that records every
// event it accepts, in order, instead of sending it to a broker or a
// webhook: for tests, examples and demos. It delivers each event ID once: a
// later Publish with an ID it has delivered returns nil and records
// nothing, as the port's contract asks. The zero value is ready to use and
// all methods are safe for concurrent use. Its [Outbox] tells what was
// delivered (Sent, Deliveries and Count by event ID) and injects failures
// (FailNext).
type EventPublisher struct {
	Outbox[ports.CloudEvent]
}

// NewEventPublisher returns an empty EventPublisher.
func NewEventPublisher() *EventPublisher { return &EventPublisher{} }

// Publish implements [ports.EventPublisher]. It returns ctx.Err() if ctx
// is done, and the error armed by FailNext, without delivering.
func (p *EventPublisher) Publish(ctx context.Context, e ports.CloudEvent) error {
	return p.deliver(ctx, e.ID, e)
}
