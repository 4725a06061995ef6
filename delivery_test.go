package cancellation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// notifierFunc adapts a function to ports.Notifier.
type notifierFunc func(ctx context.Context, n ports.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n ports.Notification) error { return f(ctx, n) }

// TestDelivery_AtLeastOnceUnderOneKeyAndTheHostDedupes holds the README's
// delivery promise: an effect is carried out at least once, every attempt
// carries the same idempotency key, and a host that deduplicates by that
// key (as the memory Notifier and Platform do) sees it once, even when the
// answer to a delivered effect is lost and the effect is retried.
func TestDelivery_AtLeastOnceUnderOneKeyAndTheHostDedupes(t *testing.T) {
	var f *fixture
	var mu sync.Mutex
	lost := map[string]bool{}
	f = setup(t, func(c *cancellation.Config) {
		c.Notifier = notifierFunc(func(ctx context.Context, n ports.Notification) error {
			mu.Lock()
			defer mu.Unlock()
			err := f.kit.Notifier.Notify(ctx, n) // the host delivers...
			if err == nil && !lost[n.IdempotencyKey] {
				lost[n.IdempotencyKey] = true
				return errors.New("connection reset") // ...but its answer is lost, once per key
			}
			return err
		})
	})
	a := f.personal("acct-at-least-once")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.NotEmpty(t, r.PendingEffects(), "every notification failed once, as far as the workflow knows")

	f.clock.Advance(time.Hour)
	f.maintain()
	r = f.stored(r.ID())
	require.Empty(t, r.PendingEffects())
	var notified int
	for _, e := range r.Effects() {
		if e.Kind != cancellation.EffectNotify {
			continue
		}
		notified++
		require.Equal(t, 2, e.Attempts, e.Key)
		require.Equal(t, 2, f.kit.Notifier.Count(e.Key), "both attempts carried the key %s", e.Key)
		require.Equal(t, 1, f.kit.Notifier.Deliveries(e.Key), "the host delivered %s once", e.Key)
	}
	require.GreaterOrEqual(t, notified, 3, "the approval's notice and the success SMS and email")
}

// TestDelivery_NotifierThatChangesItsMessageChangesNoStoredRequest: a
// request's copies share their notifications' data (it never changes in
// place), so the Notifier gets a copy of its own: a host that scribbles
// on the message it was given changes nothing on record.
func TestDelivery_NotifierThatChangesItsMessageChangesNoStoredRequest(t *testing.T) {
	var f *fixture
	f = setup(t, func(c *cancellation.Config) {
		c.Notifier = notifierFunc(func(ctx context.Context, n ports.Notification) error {
			for k := range n.Data {
				n.Data[k] = "scribbled"
			}
			n.Data["added-by-host"] = "x"
			return f.kit.Notifier.Notify(ctx, n)
		})
	})
	a := f.personal("acct-scribbling-notifier")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateCancelled, r.State())
	var seen int
	for _, got := range []*cancellation.Request{r, f.stored(r.ID())} {
		for _, e := range got.Effects() {
			if e.Notification == nil {
				continue
			}
			seen++
			require.NotContains(t, e.Notification.Data, "added-by-host", e.Key)
			for k, v := range e.Notification.Data {
				require.NotEqual(t, "scribbled", v, "%s: %s", e.Key, k)
			}
		}
	}
	require.NotZero(t, seen, "the flow notified")
}

func TestDelivery_NotifierThatChangesAnAttachmentChangesNoStoredRequest(t *testing.T) {
	var f *fixture
	f = setup(t, func(c *cancellation.Config) {
		c.Notifier = notifierFunc(func(ctx context.Context, n ports.Notification) error {
			if len(n.Attachments) == 0 {
				return f.kit.Notifier.Notify(ctx, n)
			}
			for _, a := range n.Attachments {
				for i := range a.Content {
					a.Content[i] = '#' // in place: the bytes the port was given
				}
			}
			return errors.New("mail relay down") // kept for a retry
		})
	})
	a := f.personal("acct-scribbling-attachments")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateCancelled, r.State())
	var seen int
	for _, got := range []*cancellation.Request{r, f.stored(r.ID())} {
		for _, e := range got.Effects() {
			if e.Notification == nil {
				continue
			}
			for _, att := range e.Notification.Attachments {
				seen++
				require.NotEqual(t, strings.Repeat("#", len(att.Content)), string(att.Content), "%s: %s", e.Key, att.Filename)
			}
		}
	}
	require.NotZero(t, seen, "a notification kept its attachment for the retry")
}
