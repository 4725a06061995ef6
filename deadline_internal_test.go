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

// TestLazyDeadline_EndsAsWithDeadline covers the orders of events in
// which a lazy context that nobody asked for Done could answer otherwise
// than context.WithDeadline: its error and cause, and its children's,
// must be those of the first of the deadline, the parent's end and
// cancel, even when cancel or the parent's end comes later but before
// anyone looked.
func TestLazyDeadline_EndsAsWithDeadline(t *testing.T) {
	t.Parallel()
	lazy := func(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
		return withLazyDeadline(parent, time.Now(), d)
	}
	impls := map[string]func(context.Context, time.Duration) (context.Context, context.CancelFunc){"std": context.WithTimeout, "lazy": lazy}
	errX := errors.New("x")
	// settle waits until std's timers have surely fired.
	settle := func() { time.Sleep(50 * time.Millisecond) }
	for name, with := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			check := func(what string, ctx context.Context, want error) {
				t.Helper()
				if err := ctx.Err(); err != want {
					t.Errorf("%s: Err %v, want %v", what, err, want)
				}
				if err := context.Cause(ctx); err != want {
					t.Errorf("%s: Cause %v, want %v", what, err, want)
				}
				child, stop := context.WithCancel(ctx)
				defer stop()
				if err := child.Err(); err != want {
					t.Errorf("%s: a child's Err %v, want %v", what, err, want)
				}
			}

			// Past the deadline, unread, then cancelled: DeadlineExceeded.
			ctx, cancel := with(context.Background(), time.Millisecond)
			settle()
			cancel()
			check("cancelled past the deadline", ctx, context.DeadlineExceeded)

			// The parent's earlier deadline passed, unread, then cancelled:
			// the parent's DeadlineExceeded.
			parent, stopParent := context.WithTimeout(context.Background(), time.Millisecond)
			ctx, cancel = with(parent, time.Hour)
			settle()
			cancel()
			check("cancelled past the parent's deadline", ctx, context.DeadlineExceeded)
			stopParent()

			// Past the deadline (read), then the parent cancelled with a
			// cause: the deadline's error stays, and its cause.
			cparent, cancelParent := context.WithCancelCause(context.Background())
			ctx, cancel = with(cparent, time.Millisecond)
			settle()
			_ = ctx.Err()
			cancelParent(errX)
			check("the parent cancelled past the deadline", ctx, context.DeadlineExceeded)
			cancel()

			// Cancelled, then the parent cancelled with a cause: Canceled.
			cparent, cancelParent = context.WithCancelCause(context.Background())
			ctx, cancel = with(cparent, time.Hour)
			cancel()
			cancelParent(errX)
			check("the parent cancelled after cancel", ctx, context.Canceled)

			// The parent cancelled with a cause first: the parent's error
			// and cause.
			cparent, cancelParent = context.WithCancelCause(context.Background())
			ctx, cancel = with(cparent, time.Hour)
			cancelParent(errX)
			cancel()
			if err, cause := ctx.Err(), context.Cause(ctx); err != context.Canceled || cause != errX {
				t.Errorf("the parent cancelled first: %v, %v", err, cause)
			}

			// Made before anyone asked for Done, AfterFunc and children
			// (WithCancel, WithTimeout, WithValue) end at the deadline.
			ctx, cancel = with(context.Background(), 10*time.Millisecond)
			defer cancel()
			ran := make(chan struct{})
			context.AfterFunc(ctx, func() { close(ran) })
			c1, stop1 := context.WithCancel(ctx)
			defer stop1()
			c2, stop2 := context.WithTimeout(ctx, time.Hour)
			defer stop2()
			type key struct{}
			c3 := context.WithValue(ctx, key{}, 1)
			for i, c := range []context.Context{c1, c2, c3} {
				select {
				case <-c.Done():
					if err := c.Err(); err != context.DeadlineExceeded {
						t.Errorf("child %d: %v", i, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("child %d not ended at the deadline", i)
				}
			}
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("AfterFunc did not run at the deadline")
			}
		})
	}
}

// TestLazyDeadline_ConcurrentEndsAgree: whatever the order in which the
// deadline, the parent's cancel, cancel, Err and Done race, once all is
// over the context, its cause (bar the parent's own) and a child agree
// on one error, and it never changes.
func TestLazyDeadline_ConcurrentEndsAgree(t *testing.T) {
	t.Parallel()
	for i := range 200 {
		parent, cancelParent := context.WithCancel(context.Background())
		ctx, cancel := withLazyDeadline(parent, time.Now(), time.Duration(i%3)*50*time.Microsecond)
		var wg sync.WaitGroup
		var first [3]error
		wg.Go(func() { first[0] = ctx.Err() })
		wg.Go(func() { <-ctx.Done(); first[1] = ctx.Err() })
		wg.Go(func() { first[2] = ctx.Err() })
		if i%2 == 0 {
			wg.Go(cancelParent)
		}
		wg.Go(cancel)
		wg.Wait()
		<-ctx.Done()
		err := ctx.Err()
		if err == nil {
			t.Fatal("no error once over")
		}
		for _, e := range first {
			if e != nil && e != err {
				t.Fatalf("%d: read %v, then %v", i, e, err)
			}
		}
		if c := context.Cause(ctx); c != err {
			t.Fatalf("%d: Err %v, Cause %v", i, err, c)
		}
		child, stop := context.WithCancel(ctx)
		if child.Err() != err {
			t.Fatalf("%d: Err %v, a child's %v", i, err, child.Err())
		}
		stop()
		cancelParent()
	}
}
