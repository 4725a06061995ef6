package portstest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// sampleEvent returns the i-th sample CloudEvent with id, shaped as the
// workflow publishes them.
func sampleEvent(id string, i int) ports.CloudEvent {
	state := pick(i, "started", "approved", "cancelled")
	return ports.CloudEvent{
		SpecVersion:     ports.CloudEventsSpecVersion,
		ID:              id,
		Source:          "urn:accountkit:cancellation",
		Type:            "cancellation." + state,
		Subject:         fmt.Sprintf("can_portstest%d", i),
		Time:            base.Add(time.Duration(i) * time.Minute),
		DataContentType: "application/json",
		Data:            json.RawMessage(fmt.Sprintf(`{"id":"can_portstest%d","state":%q}`, i, state)),
		Sequence:        fmt.Sprintf("%010d", i+1),
	}
}

// TestEventPublisher checks an implementation of [ports.EventPublisher]
// as [TestNotifier] checks a Notifier: events are accepted, a repeated
// event ID is accepted again and, when Deliveries is given (counting by
// event ID), delivered once, even when published concurrently; a call
// with a context already done fails. newPublisher returns a fresh
// EventPublisher.
func TestEventPublisher(t *testing.T, f Features, newPublisher func(t *testing.T) Delivery[ports.EventPublisher]) {
	t.Helper()
	deliverySuite(t, f, newPublisher, ports.EventPublisher.Publish, sampleEvent)
}

// TestEventPublisherFaults checks a [ports.EventPublisher] under faults, as
// [TestNotifierFaults] checks a Notifier: the workflow retries a refused
// or lost publication with the same event ID, and when Deliveries is
// given every ID is delivered exactly once in the end; a slow broker or
// receiver is given up on when the context ends.
func TestEventPublisherFaults(t *testing.T, f Features, newPublisher func(t *testing.T) Faulty[ports.EventPublisher]) {
	t.Helper()
	deliveryFaultSuite(t, f, newPublisher, ports.EventPublisher.Publish, func(id string) ports.CloudEvent {
		return sampleEvent(id, 1)
	})
}
