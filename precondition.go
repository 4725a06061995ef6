package cancellation

import (
	"context"
	"errors"
	"fmt"
)

// ErrVersionMismatch: the request is not at the version the caller made
// its change conditional on (see IfVersion). Nothing was changed. See
// VersionMismatchError.
var ErrVersionMismatch = errors.New("cancellation: request is not at the expected version")

// VersionMismatchError is the refusal of a change made conditional with
// IfVersion: the request was at version Got, not Want.
type VersionMismatchError struct {
	ID   string
	Want int64
	Got  int64
}

func (e *VersionMismatchError) Error() string {
	return fmt.Sprintf("%v: request %s is at version %d, not %d", ErrVersionMismatch, e.ID, e.Got, e.Want)
}

// Is reports whether target is ErrVersionMismatch.
func (e *VersionMismatchError) Is(target error) bool { return target == ErrVersionMismatch }

type ifVersionKey struct{}

// IfVersion returns a context that makes the use case it is passed to
// conditional on the request being at version v (Request.Version, the
// HTTP ETag): the check and the write are one optimistic-concurrency step,
// so of two callers sending the same version at most one succeeds and the
// other gets a VersionMismatchError (errors.Is ErrVersionMismatch) with
// nothing changed. A write conflict re-reads the request, and the change
// is never applied again to a newer version. The condition applies
// to the use case's own change only (for UploadDocument, the first write
// it makes), not to the writes that record its effects afterwards.
// Use cases that do not change a request ignore it. Staff activity
// (claiming, renewing, releasing, reassigning, and the recorded views of
// Review and ReviewDocument) changes the version but not what the request
// says: a version from before such writes, and not before the last other
// change, still matches.
func IfVersion(ctx context.Context, v int64) context.Context {
	return context.WithValue(ctx, ifVersionKey{}, v)
}

// wantVersion returns the version set by IfVersion, if any.
func wantVersion(ctx context.Context) (int64, bool) {
	v, ok := ctx.Value(ifVersionKey{}).(int64)
	return v, ok
}

// noPrecondition masks IfVersion for the writes a use case makes after
// its own change (effect outcomes, follow-up records).
func noPrecondition(ctx context.Context) context.Context {
	if _, ok := wantVersion(ctx); !ok {
		return ctx
	}
	return context.WithValue(ctx, ifVersionKey{}, nil)
}

// checkVersion refuses r when ctx makes the change conditional on another
// version.
func checkVersion(ctx context.Context, r *Request) error {
	want, ok := wantVersion(ctx)
	if !ok || r.Version() == want {
		return nil
	}
	if since := r.d.ActivitySince; since > 0 && want >= since && want < r.Version() {
		return nil // only staff activity since the caller's version
	}
	return &VersionMismatchError{ID: r.ID(), Want: want, Got: r.Version()}
}
