package cancellation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// DefaultEventSource is the CloudEvents source of the events a Service
// publishes when Config.EventSource is empty.
const DefaultEventSource = "urn:accountkit:cancellation"

// EventTypePrefix starts the CloudEvents type of every published event:
// "cancellation.approved" for the transition to StateApproved.
const EventTypePrefix = "cancellation."

// EventDataContentType is the content type of a published event's data,
// the customer-safe RequestView in JSON.
const EventDataContentType = "application/json"

// validateEventSource checks a configured CloudEvents source: a
// non-empty URI reference.
func validateEventSource(src string) error {
	if src == "" {
		return nil
	}
	if _, err := url.Parse(src); err != nil {
		return invalid("config", fmt.Sprintf("EventSource %q is not a URI reference: %v", src, err))
	}
	return nil
}

// eventSource is the source of the Service's events.
func (s *Service) eventSource() string {
	if s.cfg.EventSource != "" {
		return s.cfg.EventSource
	}
	return DefaultEventSource
}

// isTransition reports whether e records a move of the state machine:
// Request.move names the state it left in "from", and transition events
// are named after the state they lead to. The first event, started, is a
// transition too.
func isTransition(e Event) bool {
	if !State(e.Type).Valid() {
		return false
	}
	return e.Seq == 1 && e.Type == EventStarted || e.Data["from"] != ""
}

// addEventEffects records one publish effect for each transition event of
// r after sequence number after, when the Service has an EventPublisher:
// the event's CloudEvent is built now, with the customer-safe view of r as
// it is after the change, and stored in the effect, so that every attempt
// publishes the same event under the same id. owner claims the effects
// until lease, as the other effects of a change are claimed.
func (s *Service) addEventEffects(r *Request, after int, owner string, lease time.Time) error {
	if s.cfg.Events == nil {
		return nil
	}
	for _, e := range r.d.History {
		if e.Seq <= after || !isTransition(e) {
			continue
		}
		v := r.View()
		v.State, v.UpdatedAt = State(e.Type), e.At
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("cancellation: encoding event %d of %s: %w", e.Seq, r.ID(), err)
		}
		id := fmt.Sprintf("%s/event/%d", r.ID(), e.Seq)
		r.addEffect(Effect{Key: id, Kind: EffectPublishEvent, Event: &ports.CloudEvent{
			SpecVersion:     ports.CloudEventsSpecVersion,
			ID:              id,
			Source:          s.eventSource(),
			Type:            EventTypePrefix + string(e.Type),
			Subject:         r.ID(),
			Time:            e.At,
			DataContentType: EventDataContentType,
			Data:            data,
			Sequence:        fmt.Sprintf("%010d", e.Seq),
		}}, owner, lease)
	}
	return nil
}

// publish carries out a publish effect through the EventPublisher.
func (s *Service) publish(ctx context.Context, e Effect) error {
	switch {
	case e.Event == nil:
		return errors.New("publish effect without an event")
	case s.cfg.Events == nil:
		// Recorded while a publisher was configured: keep it pending (it
		// is never dropped) until one is configured again.
		return errors.New("no EventPublisher is configured: the event waits for one")
	}
	ev := *e.Event
	ev.Data = slices.Clone(ev.Data)
	return s.cfg.Events.Publish(ctx, ev)
}

// dropDeliveredData drops the data of a published event once it is
// delivered: the view was the receiver's, and the request need not carry
// a copy of itself per transition in every later write. The event's id,
// type and time stay on record.
//
// A delivered notification drops its address (To) for retention: effects
// recorded now hold none (it is read at delivery), but those recorded by
// earlier versions did, and a contact is kept at most until the message is
// delivered (see the retention table in the README).
func dropDeliveredData(e *Effect) {
	// Replaced, not changed in place: copies of the request share them
	// (see Request.Clone).
	if e.Kind == EffectPublishEvent && e.Event != nil && e.Event.Data != nil {
		ev := *e.Event
		ev.Data = nil
		e.Event = &ev
	}
	if e.Notification != nil && e.Notification.To != "" {
		e.withNotification(func(n *ports.Notification) { n.To = "" })
	}
}

// cloneEvent copies a CloudEvent deeply.
func cloneEvent(e *ports.CloudEvent) *ports.CloudEvent {
	if e == nil {
		return nil
	}
	c := *e
	c.Data = slices.Clone(e.Data)
	return &c
}
