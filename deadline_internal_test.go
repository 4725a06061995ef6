package cancellation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLazyDeadline_AnswersAsWithDeadline shows that withLazyDeadline
// answers as context.WithDeadline does, whether or not anyone asked for
// Done: the deadline, the error past it, after cancel and after the
// parent's, the cause, and the children it cancels.
func TestLazyDeadline_AnswersAsWithDeadline(t *testing.T) {
	t.Parallel()
	type make func(parent context.Context, d time.Time) (context.Context, context.CancelFunc)
	lazy := func(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
		now := time.Now()
		return withLazyDeadline(parent, now, d.Sub(now))
	}
	impls := map[string]make{"std": context.WithDeadline, "lazy": lazy}
	for name, with := range impls {
		for _, done := range []bool{false, true} {
			// touch asks for Done first when done is set, so both paths of
			// the lazy context are checked.
			touch := func(ctx context.Context) {
				if done {
					_ = ctx.Done()
				}
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// Before the deadline: no error; then DeadlineExceeded.
				d := time.Now().Add(20 * time.Millisecond)
				ctx, cancel := with(context.Background(), d)
				touch(ctx)
				if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
					t.Fatalf("Deadline %v %v, want %v", got, ok, d)
				}
				if err := ctx.Err(); err != nil {
					t.Fatalf("before the deadline: %v", err)
				}
				time.Sleep(time.Until(d) + time.Millisecond)
				// A timer fires a little late on a loaded machine.
				for end := time.Now().Add(time.Second); ctx.Err() == nil && time.Now().Before(end); {
					time.Sleep(time.Millisecond)
				}
				if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("past the deadline: %v", err)
				}
				if err := context.Cause(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("cause past the deadline: %v", err)
				}
				cancel() // no change once it has an error
				if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("cancelled past the deadline: %v", err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
					t.Fatal("Done not closed past the deadline")
				}

				// Cancelled: Canceled, Done closed, children cancelled.
				ctx, cancel = with(context.Background(), time.Now().Add(time.Hour))
				touch(ctx)
				child, stopChild := context.WithCancel(ctx)
				defer stopChild()
				cancel()
				if err := ctx.Err(); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled: %v", err)
				}
				<-ctx.Done()
				<-child.Done()

				// Cancelled first, Done asked for after: closed, Canceled.
				ctx, cancel = with(context.Background(), time.Now().Add(time.Hour))
				cancel()
				<-ctx.Done()
				if err := ctx.Err(); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled, then Done: %v", err)
				}

				// The parent's end is the context's, and its deadline when
				// earlier.
				parent, stopParent := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
				ctx, cancel = with(parent, time.Now().Add(2*time.Hour))
				defer cancel()
				touch(ctx)
				if got, _ := ctx.Deadline(); got.After(time.Now().Add(90 * time.Minute)) {
					t.Fatalf("Deadline %v later than the parent's", got)
				}
				stopParent()
				if err := ctx.Err(); !errors.Is(err, context.Canceled) {
					t.Fatalf("parent cancelled: %v", err)
				}
				<-ctx.Done()

				// Values are the parent's.
				type key struct{}
				ctx, cancel = with(context.WithValue(context.Background(), key{}, "v"), time.Now().Add(time.Hour))
				defer cancel()
				if ctx.Value(key{}) != "v" {
					t.Fatal("the parent's value is lost")
				}
			})
		}
	}
}

// TestLazyDeadline_Concurrent is for the race detector: Err, Done, Value
// and cancel from several goroutines at once.
func TestLazyDeadline_Concurrent(t *testing.T) {
	t.Parallel()
	ctx, cancel := withLazyDeadline(context.Background(), time.Now(), 5*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				_ = ctx.Err()
				if i%2 == 0 {
					_ = ctx.Done()
				}
				_ = ctx.Value("k")
			}
		})
	}
	wg.Go(cancel)
	wg.Wait()
	<-ctx.Done()
	if ctx.Err() == nil {
		t.Fatal("no error after cancel")
	}
}
