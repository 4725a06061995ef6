package portstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// Delivery is what the constructors of [TestNotifier] and [TestOTPSender]
// return: the port under test and, if the implementation can tell, how
// often it delivered each key.
type Delivery[P any] struct {
	// Port is the implementation under test.
	Port P
	// Deliveries, if not nil, reports how many messages with key the Port
	// has delivered (sent to the customer, or handed to the provider). It
	// declares that deliveries can be observed, and lets the suite check
	// that a key is delivered exactly once; without it those subtests are
	// skipped.
	Deliveries func(key string) int
}

// TestNotifier checks an implementation of [ports.Notifier]: it accepts
// notifications on both channels, accepts a repeated IdempotencyKey and,
// when Deliveries is given, delivers each key exactly once, even when
// called concurrently. newNotifier returns a fresh Notifier.
func TestNotifier(t *testing.T, f Features, newNotifier func(t *testing.T) Delivery[ports.Notifier]) {
	t.Helper()
	deliverySuite(t, f, newNotifier, ports.Notifier.Notify, func(key string, i int) ports.Notification {
		n := ports.Notification{
			IdempotencyKey: key,
			Channel:        ports.ChannelSMS,
			To:             fmt.Sprintf("+1555010%04d", i),
			Account:        ports.AccountID(fmt.Sprintf("pt-account-%d", i)),
			Template:       pick(i, "review_approved", "review_rejected", "cancelled"),
			Data:           map[string]string{"request": fmt.Sprintf("req-%d", i), "reason": "none"},
			Locale:         pick(i, "en", "zh-CN"),
		}
		if i%2 == 1 {
			n.Channel, n.To = ports.ChannelEmail, fmt.Sprintf("customer%d@example.com", i)
		}
		return n
	})
}

// TestOTPSender checks an implementation of [ports.OTPSender] as
// [TestNotifier] checks a Notifier: a repeated IdempotencyKey is accepted
// and, when Deliveries is given, delivered once. newSender returns a fresh
// OTPSender.
func TestOTPSender(t *testing.T, f Features, newSender func(t *testing.T) Delivery[ports.OTPSender]) {
	t.Helper()
	deliverySuite(t, f, newSender, ports.OTPSender.SendCode, func(key string, i int) ports.OTPMessage {
		return ports.OTPMessage{
			Phone:          fmt.Sprintf("+1555010%04d", i),
			Code:           fmt.Sprintf("%06d", 100003*i%1000000),
			Locale:         pick(i, "en", "zh-CN"),
			ExpiresAt:      base.Add(5 * time.Minute),
			IdempotencyKey: key,
		}
	})
}

// deliverySuite is the suite of a port P that delivers messages M with
// method, once per idempotency key. message(key, i) returns the i-th sample
// message with key.
func deliverySuite[P, M any](
	t *testing.T,
	f Features,
	newDelivery func(t *testing.T) Delivery[P],
	method func(P, context.Context, M) error,
	message func(key string, i int) M,
) {
	t.Helper()
	// newPort returns the delivering method of a new port and its
	// deliveries observer, nil if undeclared.
	newPort := func(t *testing.T) (func(context.Context, M) error, func(string) int) {
		d := newDelivery(t)
		return func(ctx context.Context, m M) error { return method(d.Port, ctx, m) }, d.Deliveries
	}
	// needDeliveries skips a subtest that needs the deliveries observer.
	needDeliveries := func(t *testing.T, deliveries func(string) int) {
		t.Helper()
		if deliveries == nil {
			t.Skip("Deliveries is not declared: how often a key is delivered cannot be observed")
		}
	}

	t.Run("Accepts", func(t *testing.T) {
		send, _ := newPort(t)
		for i := range 4 {
			require.NoError(t, send(t.Context(), message(uniqueName(t, fmt.Sprint(i)), i)))
		}
	})

	t.Run("RepeatedKeyAccepted", func(t *testing.T) {
		send, _ := newPort(t)
		msg := message(uniqueName(t, "k"), 0)
		require.NoError(t, send(t.Context(), msg))
		require.NoError(t, send(t.Context(), msg), "a retry with a delivered key must succeed")
	})

	t.Run("RepeatedKeyDeliveredOnce", func(t *testing.T) {
		send, deliveries := newPort(t)
		needDeliveries(t, deliveries)
		key := uniqueName(t, "k")
		require.NoError(t, send(t.Context(), message(key, 0)))
		require.NoError(t, send(t.Context(), message(key, 0)))
		require.NoError(t, send(t.Context(), message(key, 1)), "the key decides, not the content")
		require.Equal(t, 1, deliveries(key))
	})

	t.Run("DistinctKeysDelivered", func(t *testing.T) {
		send, deliveries := newPort(t)
		needDeliveries(t, deliveries)
		keys := []string{uniqueName(t, "a"), uniqueName(t, "b")}
		for i, key := range keys {
			require.NoError(t, send(t.Context(), message(key, i)))
		}
		for _, key := range keys {
			require.Equal(t, 1, deliveries(key), "key %q", key)
		}
		require.Zero(t, deliveries(uniqueName(t, "never-sent")))
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		send, deliveries := newPort(t)
		key := uniqueName(t, "k")
		require.Error(t, send(cancelledContext(t), message(key, 0)))
		if deliveries == nil {
			return
		}
		require.Zero(t, deliveries(key), "a call that failed must not deliver")
		require.NoError(t, send(t.Context(), message(key, 0)))
		require.Equal(t, 1, deliveries(key), "the retry of a failed call must deliver")
	})

	t.Run("Concurrent", func(t *testing.T) {
		send, deliveries := newPort(t)
		const keys = 4
		concurrently(t, func(g int) error {
			var errs []error
			for c := range callsPerGoroutine {
				i := (g + c) % keys
				errs = append(errs, send(t.Context(), message(uniqueName(t, fmt.Sprint(i)), i)))
			}
			return errors.Join(errs...)
		})
		if deliveries == nil {
			return
		}
		for i := range keys {
			require.Equal(t, 1, deliveries(uniqueName(t, fmt.Sprint(i))), "key %d", i)
		}
	})
}
