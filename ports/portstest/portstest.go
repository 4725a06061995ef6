package portstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Features declares how an implementation departs from the full contract
// that the suites check. The zero value declares nothing: every subtest
// runs. A subtest that a declaration rules out is skipped with t.Skip and a
// reason, so that `go test -v` shows what was not checked.
type Features struct {
	// IgnoresContext declares that the implementation does not look at its
	// context, so a call with a context that is already done may succeed.
	// The CancelledContext subtests are then skipped. Leave it false when
	// you can: the workflow bounds every eligibility rule with a timeout and
	// counts on a port to give up when its context ends.
	IgnoresContext bool
}

// How many goroutines the Concurrent subtests start, and how many calls each
// makes.
const (
	goroutines        = 16
	callsPerGoroutine = 8
)

// skipIfIgnoresContext skips a CancelledContext subtest when f declares
// IgnoresContext.
func skipIfIgnoresContext(t *testing.T, f Features) {
	t.Helper()
	if f.IgnoresContext {
		t.Skip("Features.IgnoresContext is declared: a done context is not checked")
	}
}

// cancelledContext returns a context that is already cancelled.
func cancelledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// concurrently calls f(g) for g in [0, goroutines) on as many goroutines at
// once and reports every error it returns. Run it under -race.
func concurrently(t *testing.T, f func(g int) error) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			if err := f(g); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", g, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// uniqueName returns a name, valid as an account id or document key, that
// no other subtest uses: "pt-" + the subtest's name in lower case with
// every other rune than a letter or a digit replaced by "-", then suffix.
// It lets a host run every suite against one shared backend.
func uniqueName(t *testing.T, suffix string) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return '-'
	}, t.Name())
	return "pt-" + name + "-" + suffix
}

// sameItems compares slices regardless of order (sorted by key) and treats
// a nil slice as equal to an empty one. Times compare with time.Time.Equal.
func sameItems[T any](key func(T) string) cmp.Option {
	return cmp.Options{
		cmpopts.SortSlices(func(a, b T) bool { return key(a) < key(b) }),
		cmpopts.EquateEmpty(),
	}
}

// diffItems returns an error that shows the difference between want and got
// when they do not hold the same items, and nil when they do.
func diffItems[T any](what string, key func(T) string, want, got []T) error {
	if diff := cmp.Diff(want, got, sameItems(key)); diff != "" {
		return fmt.Errorf("%s: items differ (-want +got):\n%s", what, diff)
	}
	return nil
}
