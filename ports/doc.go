// Package ports declares the interfaces that a host platform implements so
// that the cancellation workflow can read its accounts, orders, balances,
// bindings, sub-users, API keys, complaints and data holdings, send one-time
// codes and notifications, store identity documents and finally close the
// account.
//
// Every port is small, takes a [context.Context] first and exchanges plain
// data types. Each doc comment states the contract: what an empty result
// means, which errors come back, whether the implementation must be safe for
// concurrent use (all of them must) and whether a call must be idempotent.
//
// Every port returns an error (normally ctx.Err()) when its context is
// done: the workflow bounds each eligibility rule with a timeout and counts
// on the port to give up.
//
// Checker ports (OrderChecker, BalanceChecker, ...) return the items that
// stand in the way of cancellation. An empty slice and a nil error mean
// "nothing found". An error means "could not tell": the workflow then fails
// closed and blocks the application for that rule, so a checker must never
// hide an outage behind an empty result. A checker asked about an account it
// does not know returns an empty result. Within one account, an item's Ref
// (an API key's ID) is unique and stable across calls: consents bind a
// fingerprint of the items, so a Ref that changes on every call would make
// the customer consent again. Callers may modify the slices returned.
//
// A port that answers in the host's process without blocking (an in-memory
// cache, a map) may also implement the optional interface InProcess: the
// workflow then runs the eligibility rules over it on the caller's
// goroutine, one after another, instead of handing them to other
// goroutines (unless they were slow the last time), and so the effects
// (notifications, the close) when every port they call does. There a port
// that ignores its context holds up the caller, so only ports that never
// block implement it, and a type that embeds one and overrides a method
// with a call that may block declares its own InProcess returning false.
//
// Two ports are optional: an EventPublisher receives a CloudEvent for each
// transition, and a VerificationService (a managed SMS verification
// service) may replace the OTPSender.
//
// Package ports imports only the standard library, so hosts can implement it
// without pulling in the rest of the library. Conformance suites for every
// port live in package portstest, and gomock mocks in package mocks.
package ports
