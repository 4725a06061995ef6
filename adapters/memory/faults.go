package memory

import (
	"context"
	"errors"
	"time"
)

// ErrInjected is the error that an injected failure returns when the test
// that injected it gave no error of its own.
var ErrInjected = errors.New("memory: injected failure")

// faults makes the next n calls of one port fail. The zero value injects
// nothing. It is guarded by the mutex of the type that holds it.
type faults struct {
	outage error // every call fails with it while not nil
	n      int   // the next n calls fail with err
	err    error
}

// failNext arms the next n calls to fail with err, or with ErrInjected when
// err is nil. n <= 0 disarms.
func (f *faults) failNext(n int, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.n, f.err = max(n, 0), err
}

// take returns the error the current call must fail with, or nil, and
// consumes one armed failure.
func (f *faults) take() error {
	if f.outage != nil {
		return f.outage
	}
	if f.n > 0 {
		f.n--
		return f.err
	}
	return nil
}

// wait sleeps for d, or returns ctx.Err() as soon as ctx is done. With d <= 0
// it only reports whether ctx is already done.
func wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
