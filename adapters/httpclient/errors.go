package httpclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The kinds of failure. Every error of a Client that comes from the host
// is an [*Error] that wraps one of them, so errors.Is tells them apart.
var (
	// ErrUnavailable: the host could not be reached, dropped the
	// connection, did not answer within Options.Timeout, or answered 408,
	// 429 or 5xx. It is temporary: the workflow retries the effect later.
	ErrUnavailable = errors.New("host unavailable")
	// ErrRejected: the host refused the request with a 4xx status other
	// than 408 and 429 (and other than the 404 a port documents as
	// ports.ErrNotFound), or Options.Authorize failed. Repeating the same
	// request will not help: the host or its configuration must change.
	ErrRejected = errors.New("request rejected")
	// ErrBadResponse: the host answered against the contract: a 1xx or 3xx
	// status, a body over the size limit, or JSON that does not decode or
	// lacks a required member.
	ErrBadResponse = errors.New("response breaks the host contract")
)

// Error is a failed call to the host. Its text names the endpoint (the
// method and the contract's path template, without identifiers) and the
// last HTTP status; it never holds a response body, a URL or a credential,
// so it may be logged, and a customer-facing layer shows none of it.
//
// Error wraps its kind (ErrUnavailable, ErrRejected or ErrBadResponse) and
// its cause: [ports.ErrNotFound] for a documented 404, the context's error
// when the caller gave up, or the transport's error.
type Error struct {
	// Endpoint is the method and path template, e.g.
	// "GET /accounts/{accountId}/obligations".
	Endpoint string
	// Status is the HTTP status of the last attempt, 0 when none came back.
	Status int
	// Attempts is how many requests were sent.
	Attempts int

	kind  error
	cause error
}

// Error returns "httpclient: ENDPOINT: status N after K attempts: KIND:
// CAUSE", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "httpclient: %s", e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			b.WriteString(": " + err.Error())
		}
	}
	return b.String()
}

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Temporary reports whether retrying later may succeed: the host was
// unavailable, or the call ran out of time.
func (e *Error) Temporary() bool {
	return errors.Is(e.kind, ErrUnavailable) || errors.Is(e.cause, context.DeadlineExceeded)
}
