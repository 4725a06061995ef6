package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// note returns a notification with key to a demo phone.
func note(key, template string) ports.Notification {
	return ports.Notification{
		IdempotencyKey: key, Channel: ports.ChannelSMS, To: "+15550100001",
		Account: memory.AccountEligible, Template: template,
		Data: map[string]string{"request": "req-1"}, Locale: "en",
	}
}

func TestNotifierRecordsInOrder(t *testing.T) {
	t.Parallel()
	n := memory.NewNotifier()
	want := []ports.Notification{note("k1", "review_approved"), note("k2", "cancelled"), note("k3", "withdrawn")}
	want[1].Channel, want[1].To = ports.ChannelEmail, "acct-eligible@example.com"
	for _, msg := range want {
		require.NoError(t, n.Notify(t.Context(), msg))
	}
	require.Equal(t, want, n.Sent())
	require.Equal(t, 3, n.Attempts())
}

func TestNotifierDeduplicatesByKey(t *testing.T) {
	t.Parallel()
	n := memory.NewNotifier()
	require.NoError(t, n.Notify(t.Context(), note("k1", "review_approved")))
	require.NoError(t, n.Notify(t.Context(), note("k1", "review_approved")))
	require.NoError(t, n.Notify(t.Context(), note("k1", "other content, same key")))
	require.NoError(t, n.Notify(t.Context(), note("k2", "cancelled")))

	require.Equal(t, []ports.Notification{note("k1", "review_approved"), note("k2", "cancelled")}, n.Sent())
	require.Equal(t, 3, n.Count("k1"))
	require.Equal(t, 1, n.Deliveries("k1"))
	require.Equal(t, 1, n.Count("k2"))
	require.Zero(t, n.Count("k3"))
	require.Zero(t, n.Deliveries("k3"))
	require.Equal(t, 4, n.Attempts())
}

func TestNotifierFailNext(t *testing.T) {
	t.Parallel()
	boom := errors.New("sms gateway down")
	n := memory.NewNotifier()
	n.FailNext(2, boom)
	require.ErrorIs(t, n.Notify(t.Context(), note("k1", "cancelled")), boom)
	require.ErrorIs(t, n.Notify(t.Context(), note("k1", "cancelled")), boom)
	require.Empty(t, n.Sent(), "a failed call delivers nothing")
	require.Zero(t, n.Deliveries("k1"))

	require.NoError(t, n.Notify(t.Context(), note("k1", "cancelled")), "the retry succeeds")
	require.Equal(t, []ports.Notification{note("k1", "cancelled")}, n.Sent())
	require.Equal(t, 3, n.Count("k1"))
	require.Equal(t, 1, n.Deliveries("k1"))

	n.FailNext(1, nil)
	require.ErrorIs(t, n.Notify(t.Context(), note("k2", "cancelled")), memory.ErrInjected)
	n.FailNext(5, nil)
	n.FailNext(0, nil)
	require.NoError(t, n.Notify(t.Context(), note("k2", "cancelled")), "FailNext(0, nil) disarms")
}

func TestNotifierDoneContext(t *testing.T) {
	t.Parallel()
	n := memory.NewNotifier()
	n.FailNext(1, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, n.Notify(ctx, note("k1", "cancelled")), context.Canceled)
	require.Zero(t, n.Attempts(), "a call with a done context is not counted")
	require.ErrorIs(t, n.Notify(t.Context(), note("k1", "cancelled")), memory.ErrInjected, "nor does it use up a failure")
}

func TestNotifierCopies(t *testing.T) {
	t.Parallel()
	n := memory.NewNotifier()
	msg := note("k1", "cancelled")
	require.NoError(t, n.Notify(t.Context(), msg))
	msg.Data["request"] = "changed by the caller"
	sent := n.Sent()
	require.Equal(t, "req-1", sent[0].Data["request"])
	sent[0].Data["request"] = "changed by the reader"
	sent[0].To = "changed"
	require.Equal(t, []ports.Notification{note("k1", "cancelled")}, n.Sent())
}

func TestNotifierOnDeliver(t *testing.T) {
	t.Parallel()
	n := memory.NewNotifier()
	var mu sync.Mutex
	var seen []string
	n.OnDeliver(func(msg ports.Notification) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, msg.IdempotencyKey)
		msg.Data["request"] = "changed by the observer"
	})
	require.NoError(t, n.Notify(t.Context(), note("k1", "cancelled")))
	require.NoError(t, n.Notify(t.Context(), note("k1", "cancelled")))
	require.NoError(t, n.Notify(t.Context(), note("k2", "cancelled")))
	n.OnDeliver(nil)
	require.NoError(t, n.Notify(t.Context(), note("k3", "cancelled")))
	require.Equal(t, []string{"k1", "k2"}, seen)
	require.Equal(t, "req-1", n.Sent()[0].Data["request"])
}

// code returns a one-time code message for phone.
func code(key, phone, c string) ports.OTPMessage {
	return ports.OTPMessage{
		Phone: phone, Code: c, Locale: "en", IdempotencyKey: key,
		ExpiresAt: time.Date(2025, time.March, 3, 9, 5, 0, 0, time.UTC),
	}
}

func TestOTPSenderLastCode(t *testing.T) {
	t.Parallel()
	s := memory.NewOTPSender()
	_, ok := s.LastCode("+15550100001")
	require.False(t, ok)

	require.NoError(t, s.SendCode(t.Context(), code("c1", "+15550100001", "111111")))
	require.NoError(t, s.SendCode(t.Context(), code("c2", "+15550100002", "222222")))
	require.NoError(t, s.SendCode(t.Context(), code("c3", "+15550100001", "333333")))
	require.NoError(t, s.SendCode(t.Context(), code("c1", "+15550100001", "999999")), "a repeated key is not delivered")

	got, ok := s.LastCode("+15550100001")
	require.True(t, ok)
	require.Equal(t, "333333", got)
	got, ok = s.LastCode("+15550100002")
	require.True(t, ok)
	require.Equal(t, "222222", got)
	_, ok = s.LastCode("+15550100003")
	require.False(t, ok)

	require.Equal(t, []ports.OTPMessage{
		code("c1", "+15550100001", "111111"),
		code("c2", "+15550100002", "222222"),
		code("c3", "+15550100001", "333333"),
	}, s.Sent())
	require.Equal(t, 2, s.Count("c1"))
	require.Equal(t, 1, s.Deliveries("c1"))
	require.Equal(t, 4, s.Attempts())
}

func TestOTPSenderFailNext(t *testing.T) {
	t.Parallel()
	s := memory.NewOTPSender()
	var delivered []string
	s.OnDeliver(func(m ports.OTPMessage) { delivered = append(delivered, m.Code) })
	s.FailNext(1, nil)
	require.ErrorIs(t, s.SendCode(t.Context(), code("c1", "+15550100001", "111111")), memory.ErrInjected)
	_, ok := s.LastCode("+15550100001")
	require.False(t, ok, "a failed send delivers no code")
	require.NoError(t, s.SendCode(t.Context(), code("c1", "+15550100001", "111111")))
	got, ok := s.LastCode("+15550100001")
	require.True(t, ok)
	require.Equal(t, "111111", got)
	require.Equal(t, []string{"111111"}, delivered)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, s.SendCode(ctx, code("c2", "+15550100001", "222222")), context.Canceled)
	require.Equal(t, 2, s.Attempts())
}

// TestOutboxInProcess: an outbox answers in process until an observer,
// whose code may block, is set, and again once it is removed.
func TestOutboxInProcess(t *testing.T) {
	t.Parallel()
	n, s := memory.NewNotifier(), memory.NewOTPSender()
	require.True(t, n.InProcess())
	require.True(t, s.InProcess())
	n.OnDeliver(func(ports.Notification) {})
	require.False(t, n.InProcess())
	n.FailNext(1, nil)
	require.False(t, n.InProcess())
	n.OnDeliver(nil)
	require.True(t, n.InProcess())
}
