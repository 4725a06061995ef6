package ports

//go:generate go tool mockgen -typed -destination=mocks/events.go -package=mocks . EventPublisher

import (
	"context"
	"encoding/json"
	"time"
)

// CloudEventsSpecVersion is the CloudEvents version of every [CloudEvent]
// the workflow publishes.
const CloudEventsSpecVersion = "1.0"

// CloudEvent is a CloudEvents 1.0 event in its JSON format
// (https://github.com/cloudevents/spec, structured content mode): what the
// workflow tells the host's other systems about a transition.
//
// The workflow fills every field: SpecVersion "1.0"; ID stable for the
// transition, so every retry carries the same one; Source the Service's
// event source; Type "cancellation." + the event ("cancellation.approved");
// Subject the request id; Time when the transition happened;
// DataContentType "application/json"; Data the customer-safe view of the
// request (cancellation.RequestView) as it was after the transition;
// Sequence the transition's place in the request's history.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time,omitzero"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	// Sequence is the CloudEvents sequence extension attribute: the
	// event's position in the history of its subject, as ten decimal
	// digits, so that the events of one request sort by it as strings.
	// Receivers order by it: events are delivered concurrently and after
	// retries, so they may arrive in another order, and two transitions
	// of one write share their Time.
	Sequence string `json:"sequence,omitempty"`
}

// EventPublisher hands events to the host's other systems: a message
// broker, a webhook, an audit pipeline.
//
// Publish returns nil once the event is accepted for delivery. The
// workflow publishes each event as an effect: at least once, after the
// transition is stored, retried with backoff after a failure or a crash
// until Publish returns nil, always with the same ID. Publish must
// therefore be idempotent by ID: an event whose ID it has accepted before
// is accepted again (nil) without being delivered twice, or the receiver
// deduplicates by ID. It must be safe for concurrent use and return an
// error (normally ctx.Err()) when ctx is done. Events of one request may
// be published concurrently and arrive out of order: receivers order them
// by Sequence.
type EventPublisher interface {
	Publish(ctx context.Context, e CloudEvent) error
}
