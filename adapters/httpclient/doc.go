// Package httpclient implements every port of package ports over the
// host REST contract, so that a host platform whose billing, IAM, support,
// messaging and storage systems are services reached over HTTP can wire
// them into the cancellation workflow without writing adapters.
//
// The contract is host-openapi.yaml in this directory (also [OpenAPI]):
// one GET per lookup (the account and the eight checkers), a POST with an
// Idempotency-Key header per effect (one-time codes, notifications,
// closing the account), PUT, GET and DELETE for documents, and the
// holidays of the business calendar ([Client.Holidays], read once and
// handed to cancellation.NewCalendar, since IsBusinessDay cannot call a
// service). Money travels as an integer amount of minor units and a
// currency. The Clock port stays local: a remote clock would add latency
// and failure to every transition for no gain.
//
// # Wiring
//
// A [Client] serves one base URL and implements all the ports; a host
// whose ports live in several services creates one Client per service:
//
//	billing, _ := httpclient.New("https://billing.internal/cancellation", opts)
//	iam, _ := httpclient.New("https://iam.internal/cancellation", opts)
//	cfg := cancellation.Config{
//		Accounts: iam,
//		Checkers: cancellation.Checkers{Orders: billing, Balances: billing, APIKeys: iam, ...},
//		Closer:   iam,
//		...
//	}
//
// # Failures
//
// Every attempt is bounded by Options.Timeout and the whole call by the
// caller's context. Every call is retried after a dropped connection, a
// timeout, 408, 429 or 5xx, with exponential backoff and jitter: GETs,
// PUTs and DELETEs are idempotent by HTTP's rules, and each POST carries
// its effect's idempotency key; a call without its account id, document
// key or idempotency key is refused before anything is sent. Errors are
// [*Error] values that wrap [ErrUnavailable] (temporary), [ErrRejected]
// (permanent 4xx) or [ErrBadResponse] (the host broke the contract), and
// [ports.ErrNotFound] for the 404s the ports document (an unknown account
// in the directory and the closer, an unknown document key). A checker
// endpoint answers 200 with no items for an unknown account; a 404 there
// is an error, never "nothing found", so a wrong base URL fails closed.
// Response bodies are read up to a limit and refused beyond it; error
// bodies are never read into an error, and errors name the endpoint's
// path template and status, never a URL, a body or a credential.
package httpclient
