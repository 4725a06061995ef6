package cancellation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// withEvents wires an EventPublisher.
func withEvents(p ports.EventPublisher) option {
	return func(c *cancellation.Config) { c.Events = p }
}

// movesOf returns the events of h that move the state machine,
// which are the ones published.
func movesOf(h []cancellation.Event) []cancellation.Event {
	var out []cancellation.Event
	for _, e := range h {
		if e.Seq == 1 || e.Data["from"] != "" {
			out = append(out, e)
		}
	}
	return out
}

// publishEffects returns the keys of r's publish effects.
func publishEffects(r *cancellation.Request) []string {
	var keys []string
	for _, e := range r.Effects() {
		if e.Kind == cancellation.EffectPublishEvent {
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// recordingPublisher records the id of every call, then calls next.
type recordingPublisher struct {
	next ports.EventPublisher
	mu   sync.Mutex
	ids  []string
}

func (p *recordingPublisher) Publish(ctx context.Context, e ports.CloudEvent) error {
	p.mu.Lock()
	p.ids = append(p.ids, e.ID)
	p.mu.Unlock()
	return p.next.Publish(ctx, e)
}

func (p *recordingPublisher) attempted() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ids)
}

// droppingPublisher delivers each event, then reports a failure the first
// time it sees its id, as a broker whose acknowledgement was lost.
type droppingPublisher struct {
	next *memory.EventPublisher
	mu   sync.Mutex
	seen map[string]bool
}

func (p *droppingPublisher) Publish(ctx context.Context, e ports.CloudEvent) error {
	if err := p.next.Publish(ctx, e); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen[e.ID] {
		p.seen[e.ID] = true
		return fmt.Errorf("acknowledgement of %s lost", e.ID)
	}
	return nil
}

func TestEventsPublishedForEveryTransitionAsCloudEvents(t *testing.T) {
	pub := memory.NewEventPublisher()
	f := setup(t, withEvents(pub), func(c *cancellation.Config) { c.EventSource = "https://platform.example/cancellation" })
	f.personal("acct-ev")
	r := f.approve(f.toReview("acct-ev"))
	require.Equal(t, cancellation.StateCancelled, r.State())

	want := movesOf(f.history(r.ID()))
	require.Equal(t, []cancellation.EventType{"started", "confirmed", "phone_verified", "in_review", "approved", "cancelled"}, eventTypes(want))
	sent := pub.Sent()
	require.Len(t, sent, len(want), "one event per transition, each delivered once")
	byID := map[string]ports.CloudEvent{}
	for _, e := range sent {
		byID[e.ID] = e
	}
	for _, h := range want {
		id := fmt.Sprintf("%s/event/%d", r.ID(), h.Seq)
		e, ok := byID[id]
		require.True(t, ok, "no event %s for %s", id, h.Type)
		require.Equal(t, "1.0", e.SpecVersion)
		require.Equal(t, "https://platform.example/cancellation", e.Source)
		require.Equal(t, "cancellation."+string(h.Type), e.Type)
		require.Equal(t, r.ID(), e.Subject)
		require.True(t, h.At.Equal(e.Time), "time of %s", h.Type)
		require.Equal(t, "application/json", e.DataContentType)
		require.Equal(t, fmt.Sprintf("%010d", h.Seq), e.Sequence)
		var v cancellation.RequestView
		require.NoError(t, json.Unmarshal(e.Data, &v))
		require.Equal(t, r.ID(), v.ID)
		require.Equal(t, cancellation.State(h.Type), v.State, "the data is the view after the transition")
		require.Equal(t, 1, pub.Deliveries(id))
	}
	// The data is the customer-safe view: no reviewer, no note.
	approved := byID[fmt.Sprintf("%s/event/%d", r.ID(), lastOf(t, f.stored(r.ID()), cancellation.EventApproved).Seq)]
	require.NotContains(t, string(approved.Data), staff.ID)
	require.NotContains(t, string(approved.Data), "looks fine")
	require.Contains(t, string(approved.Data), `"approved":true`)

	// Once delivered, an event's data is not kept in the request.
	for _, e := range f.stored(r.ID()).Effects() {
		if e.Kind == cancellation.EffectPublishEvent {
			require.True(t, e.Done())
			require.Empty(t, e.Event.Data, "%s", e.Key)
			require.Equal(t, e.Key, e.Event.ID)
		}
	}
}

func TestEventsWireFormatIsCloudEventsJSON(t *testing.T) {
	pub := memory.NewEventPublisher()
	f := setup(t, withEvents(pub))
	f.personal("acct-wire")
	r := f.start("acct-wire")
	sent := pub.Sent()
	require.Len(t, sent, 1)
	b, err := json.Marshal(sent[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "1.0", m["specversion"])
	require.Equal(t, r.ID()+"/event/1", m["id"])
	require.Equal(t, cancellation.DefaultEventSource, m["source"])
	require.Equal(t, "cancellation.started", m["type"])
	require.Equal(t, r.ID(), m["subject"])
	require.Equal(t, "application/json", m["datacontenttype"])
	require.Equal(t, "0000000001", m["sequence"], "the CloudEvents sequence extension")
	ts, ok := m["time"].(string)
	require.True(t, ok)
	_, err = time.Parse(time.RFC3339, ts)
	require.NoError(t, err, "time is RFC 3339")
	data, ok := m["data"].(map[string]any)
	require.True(t, ok, "data is a JSON object, not a string")
	require.Equal(t, "started", data["state"])
}

func TestEventsWithoutPublisherRecordNoEffects(t *testing.T) {
	f := setup(t)
	f.personal("acct-none")
	r := f.approve(f.toReview("acct-none"))
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Empty(t, publishEffects(f.stored(r.ID())))
}

func TestEventsConfigRefusesABadSource(t *testing.T) {
	t.Parallel()
	cfg := memory.NewKit(t0).Config()
	cfg.EventSource = "http://[::1"
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "EventSource")
}

func TestEventsFailingPublisherDeliveredLaterByMaintenanceUnderTheSameIDs(t *testing.T) {
	pub := memory.NewEventPublisher()
	rec := &recordingPublisher{next: pub}
	f := setup(t, withEvents(rec))
	f.personal("acct-down")
	pub.FailNext(1_000_000, nil) // the broker is down for the whole workflow
	r := f.approve(f.toReview("acct-down"))
	require.Equal(t, cancellation.StateCancelled, r.State(), "a failing publisher holds up nothing")
	require.Empty(t, pub.Sent())

	stored := f.stored(r.ID())
	keys := publishEffects(stored)
	require.Len(t, keys, len(movesOf(f.history(r.ID()))))
	var pending []string
	for _, e := range stored.PendingEffects() {
		pending = append(pending, e.Key)
	}
	require.ElementsMatch(t, keys, pending, "every event waits, nothing else does")
	tried := rec.attempted()
	require.ElementsMatch(t, keys, tried, "each event was tried once, inline, under its effect's key")

	pub.FailNext(0, nil) // the broker is back
	f.clock.Advance(2 * time.Hour)
	rep := f.maintain()
	require.Equal(t, len(keys), rep.EffectsDone)
	sent := pub.Sent()
	require.Len(t, sent, len(keys), "no event lost, none sent twice")
	for _, e := range sent {
		require.NotEmpty(t, e.Data, "a retried event carries its data: %s", e.ID)
	}
	for _, k := range keys {
		require.Equal(t, 1, pub.Deliveries(k), "event %s", k)
		require.Equal(t, 2, pub.Count(k), "event %s: retried under the same id", k)
	}
	for _, id := range rec.attempted() {
		require.Contains(t, keys, id, "no event is ever sent under another id")
	}
	require.Empty(t, f.stored(r.ID()).PendingEffects())
}

// TestEventsPublisherKilledMidWayDeliveredByAReplica: the replica that
// recorded the transitions dies while publishing (every call fails); another
// replica's maintenance delivers every event once, under the ids the first
// one tried.
func TestEventsPublisherKilledMidWayDeliveredByAReplica(t *testing.T) {
	broker := memory.NewEventPublisher()
	first := &recordingPublisher{next: publisherFunc(func(ctx context.Context, e ports.CloudEvent) error {
		return fmt.Errorf("process killed while publishing %s", e.ID)
	})}
	f := setup(t, withEvents(first))
	f.personal("acct-kill")
	r := f.toReview("acct-kill")
	require.Empty(t, broker.Sent())

	cfg := f.cfg
	cfg.Events = broker
	replica, err := cancellation.New(cfg)
	require.NoError(t, err)
	f.clock.Advance(2 * time.Hour) // past the leases and the backoff
	_, err = replica.RunMaintenance(f.ctx)
	require.NoError(t, err)

	tried := first.attempted()
	require.NotEmpty(t, tried)
	var got []string
	for _, e := range broker.Sent() {
		got = append(got, e.ID)
	}
	require.ElementsMatch(t, tried, got, "every event the dead replica tried is delivered once, under the same id")
	require.ElementsMatch(t, publishEffects(f.stored(r.ID())), got)
}

func TestEventsLostAcknowledgementRetriedWithoutASecondDelivery(t *testing.T) {
	broker := memory.NewEventPublisher()
	f := setup(t, withEvents(&droppingPublisher{next: broker, seen: map[string]bool{}}))
	f.personal("acct-drop")
	r := f.start("acct-drop")
	id := r.ID() + "/event/1"
	require.Equal(t, 1, broker.Deliveries(id))
	require.Len(t, f.stored(r.ID()).PendingEffects(), 1, "the lost acknowledgement leaves the effect pending")

	f.clock.Advance(time.Hour)
	f.maintain()
	require.Equal(t, 2, broker.Count(id), "retried with the same id")
	require.Equal(t, 1, broker.Deliveries(id), "and delivered once")
	require.Empty(t, f.stored(r.ID()).PendingEffects())
}

func TestEventsEveryEndIsPublished(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(f *fixture, r *cancellation.Request)
		want cancellation.EventType
	}{
		{"Withdrawn", func(f *fixture, r *cancellation.Request) {
			_, err := f.svc.Withdraw(f.ctx, r.Account(), r.ID())
			require.NoError(f.t, err)
		}, cancellation.EventWithdrawn},
		{"Expired", func(f *fixture, r *cancellation.Request) {
			f.clock.Advance(8 * 24 * time.Hour)
			f.maintain()
		}, cancellation.EventExpired},
		{"Rejected", func(f *fixture, r *cancellation.Request) {
			r = f.verifyPhone(f.confirm(r))
			r = f.submit(r)
			_, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonNotEligible}, "")
			require.NoError(f.t, err)
		}, cancellation.EventRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := memory.NewEventPublisher()
			f := setup(t, withEvents(pub))
			f.personal("acct-end")
			r := f.start("acct-end")
			tc.end(f, r)
			sent := pub.Sent()
			require.Equal(t, "cancellation."+string(tc.want), sent[len(sent)-1].Type)
			require.Len(t, sent, len(movesOf(f.history(r.ID()))))
		})
	}
}

// publisherFunc adapts a function to ports.EventPublisher.
type publisherFunc func(ctx context.Context, e ports.CloudEvent) error

func (p publisherFunc) Publish(ctx context.Context, e ports.CloudEvent) error { return p(ctx, e) }

func TestEventsDocumentsAndCoolingOffArePublished(t *testing.T) {
	pub := memory.NewEventPublisher()
	f := setup(t, withEvents(pub), withMode(cancellation.CoolingOff(24*time.Hour)))
	f.account("acct-cool-ev", ports.Personal, true)
	r := f.approve(f.toReview("acct-cool-ev"))
	require.Equal(t, cancellation.StateScheduled, r.State())
	f.clock.Advance(25 * time.Hour)
	f.maintain()
	sent := pub.Sent()
	// Approval and scheduling share a write and are published at once:
	// receivers order by the sequence attribute.
	slices.SortFunc(sent, func(a, b ports.CloudEvent) int { return strings.Compare(a.Sequence, b.Sequence) })
	var types []string
	for _, e := range sent {
		types = append(types, strings.TrimPrefix(e.Type, "cancellation."))
	}
	require.Equal(t, []string{"started", "confirmed", "phone_verified", "documents_uploaded", "in_review", "approved", "scheduled", "cancelled"}, types)
	for _, e := range pub.Sent() {
		if e.Type == "cancellation.scheduled" {
			var v cancellation.RequestView
			require.NoError(t, json.Unmarshal(e.Data, &v))
			require.False(t, v.ScheduledFor.IsZero(), "the scheduled event's view names the closing time")
		}
	}
}
