package httpapi

import (
	"errors"
	"net/http"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// ErrUnauthenticated is what an Authenticator returns (or wraps) when the
// request carries no credentials or credentials it does not accept: the
// handler answers 401 with a WWW-Authenticate challenge. Any other error
// of an Authenticator answers 503, its text kept out of the response.
var ErrUnauthenticated = errors.New("httpapi: unauthenticated")

// Principal is who is calling: a customer account, or a reviewer. Exactly
// one of Account and Reviewer is set; build it with Customer or Staff.
type Principal struct {
	// Account is the customer's account: customer endpoints act on it
	// and reach only its requests.
	Account ports.AccountID
	// Reviewer is set for reviewers, who reach the /v1/reviews endpoints.
	// Reviewer.Account, the reviewer's own customer account if any, keeps
	// them from deciding their own request (cancellation.ErrSelfReview).
	Reviewer *cancellation.Reviewer
}

// Customer returns the principal of a customer account.
func Customer(account ports.AccountID) Principal { return Principal{Account: account} }

// Staff returns the principal of a reviewer.
func Staff(rv cancellation.Reviewer) Principal { return Principal{Reviewer: &rv} }

// scope is the principal's name for Idempotency-Key records: keys of two
// callers never meet.
func (p Principal) scope() string {
	if p.Reviewer != nil {
		return "reviewer:" + p.Reviewer.ID
	}
	return "account:" + string(p.Account)
}

// valid reports whether exactly one kind of principal is set, with an id.
func (p Principal) valid() bool {
	if p.Reviewer != nil {
		return p.Account == "" && p.Reviewer.ID != ""
	}
	return p.Account != ""
}

// Authenticator turns a request into its principal. The host implements
// it over its own sessions or tokens; it must not read the body. It
// returns an error wrapping ErrUnauthenticated for missing or refused
// credentials.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Principal, error) { return f(r) }

// BearerTokens is an Authenticator over a fixed table of bearer tokens
// (Authorization: Bearer <token>), for development servers and tests.
// Production hosts verify their own tokens or sessions.
type BearerTokens map[string]Principal

// Authenticate looks the bearer token up.
func (b BearerTokens) Authenticate(r *http.Request) (Principal, error) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || !equalFoldASCII(h[:len(prefix)], prefix) {
		return Principal{}, ErrUnauthenticated
	}
	p, ok := b[h[len(prefix):]]
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
