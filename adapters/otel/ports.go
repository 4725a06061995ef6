package otel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// WrapPorts returns cfg with each port given (the AccountDirectory, the
// eight checkers, OTP, Notifier, Documents, Closer, Verifier, Staff and
// Events) wrapped in a decorator that makes a client span per call
// ("cancellation.port Notifier.Notify", ...), ending with the call's error.
// Spans carry ids and idempotency keys, never a phone number, a code or a
// message. Nil ports stay
// nil, so cancellation.New still names them; checkers that are
// cancellation.NotApplicable stay as they are, so that their rules still
// pass as not applicable (a decorator would hide it, and they make no call
// to trace); the Store, Clock, Calendar and any port this package does not
// know are left as they are.
//
// The decorators do not implement ports.InProcess, even over a port that
// does: ending a span hands it to the span processor, whose exporter may
// block (a synchronous one exports on the spot), so a rule over a traced
// port runs on a goroutine of its own rather than on the caller's.
func (o *Observer) WrapPorts(cfg cancellation.Config) cancellation.Config {
	t := o.tracer
	if cfg.Accounts != nil {
		cfg.Accounts = directory{t, cfg.Accounts}
	}
	c := &cfg.Checkers
	wrapChecker(&c.Orders, func(p ports.OrderChecker) ports.OrderChecker { return orders{t, p} })
	wrapChecker(&c.Balances, func(p ports.BalanceChecker) ports.BalanceChecker { return balances{t, p} })
	wrapChecker(&c.Authorizations, func(p ports.AuthorizationStore) ports.AuthorizationStore { return authorizations{t, p} })
	wrapChecker(&c.SubUsers, func(p ports.SubUserStore) ports.SubUserStore { return subUsers{t, p} })
	wrapChecker(&c.APIKeys, func(p ports.APIKeyStore) ports.APIKeyStore { return apiKeys{t, p} })
	wrapChecker(&c.Data, func(p ports.DataInventory) ports.DataInventory { return data{t, p} })
	wrapChecker(&c.Complaints, func(p ports.ComplaintChecker) ports.ComplaintChecker { return complaints{t, p} })
	wrapChecker(&c.Matters, func(p ports.MatterChecker) ports.MatterChecker { return matters{t, p} })
	wrap(&cfg.OTP, func(p ports.OTPSender) ports.OTPSender { return otp{t, p} })
	wrap(&cfg.Notifier, func(p ports.Notifier) ports.Notifier { return notifier{t, p} })
	wrap(&cfg.Documents, func(p ports.DocumentStore) ports.DocumentStore { return documents{t, p} })
	wrap(&cfg.Closer, func(p ports.AccountCloser) ports.AccountCloser { return closer{t, p} })
	wrap(&cfg.Verifier, func(p ports.VerificationService) ports.VerificationService { return verifier{t, p} })
	wrap(&cfg.Staff, func(p ports.StaffDirectory) ports.StaffDirectory { return staff{t, p} })
	wrap(&cfg.Events, func(p ports.EventPublisher) ports.EventPublisher { return publisher{t, p} })
	return cfg
}

// wrap replaces a non-nil port with its decorator.
func wrap[P comparable](p *P, wrap func(P) P) {
	var zero P
	if *p != zero {
		*p = wrap(*p)
	}
}

// wrapChecker is wrap for a checker, which it leaves as it is when it is
// cancellation.NotApplicable.
func wrapChecker[P comparable](p *P, wrapper func(P) P) {
	switch any(*p).(type) {
	case cancellation.NotApplicable, *cancellation.NotApplicable:
		return
	}
	wrap(p, wrapper)
}

// traced runs call inside a client span named for the port's method.
func traced[T any](ctx context.Context, t trace.Tracer, method string, attrs []attribute.KeyValue, call func(context.Context) (T, error)) (T, error) {
	ctx, span := t.Start(ctx, "cancellation.port "+method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(attrs, attribute.String("cancellation.port", method))...))
	v, err := call(ctx)
	endSpan(span, err)
	return v, err
}

// tracedErr is traced for a call that returns only an error.
func tracedErr(ctx context.Context, t trace.Tracer, method string, attrs []attribute.KeyValue, call func(context.Context) error) error {
	_, err := traced(ctx, t, method, attrs, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

func account(id ports.AccountID) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("cancellation.account", string(id))}
}

func key(k string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("cancellation.idempotency_key", k)}
}

type directory struct {
	t trace.Tracer
	p ports.AccountDirectory
}

func (d directory) Account(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	return traced(ctx, d.t, "AccountDirectory.Account", account(id), func(ctx context.Context) (ports.Account, error) { return d.p.Account(ctx, id) })
}

type orders struct {
	t trace.Tracer
	p ports.OrderChecker
}

func (c orders) OpenObligations(ctx context.Context, id ports.AccountID) ([]ports.Obligation, error) {
	return traced(ctx, c.t, "OrderChecker.OpenObligations", account(id), func(ctx context.Context) ([]ports.Obligation, error) { return c.p.OpenObligations(ctx, id) })
}

type balances struct {
	t trace.Tracer
	p ports.BalanceChecker
}

func (c balances) UnusedRights(ctx context.Context, id ports.AccountID) ([]ports.Right, error) {
	return traced(ctx, c.t, "BalanceChecker.UnusedRights", account(id), func(ctx context.Context) ([]ports.Right, error) { return c.p.UnusedRights(ctx, id) })
}

type authorizations struct {
	t trace.Tracer
	p ports.AuthorizationStore
}

func (c authorizations) Authorizations(ctx context.Context, id ports.AccountID) ([]ports.Authorization, error) {
	return traced(ctx, c.t, "AuthorizationStore.Authorizations", account(id), func(ctx context.Context) ([]ports.Authorization, error) { return c.p.Authorizations(ctx, id) })
}

type subUsers struct {
	t trace.Tracer
	p ports.SubUserStore
}

func (c subUsers) SubUsers(ctx context.Context, id ports.AccountID) ([]ports.SubUser, error) {
	return traced(ctx, c.t, "SubUserStore.SubUsers", account(id), func(ctx context.Context) ([]ports.SubUser, error) { return c.p.SubUsers(ctx, id) })
}

type apiKeys struct {
	t trace.Tracer
	p ports.APIKeyStore
}

func (c apiKeys) APIKeys(ctx context.Context, id ports.AccountID) ([]ports.APIKey, error) {
	return traced(ctx, c.t, "APIKeyStore.APIKeys", account(id), func(ctx context.Context) ([]ports.APIKey, error) { return c.p.APIKeys(ctx, id) })
}

type data struct {
	t trace.Tracer
	p ports.DataInventory
}

func (c data) DataHoldings(ctx context.Context, id ports.AccountID) ([]ports.DataHolding, error) {
	return traced(ctx, c.t, "DataInventory.DataHoldings", account(id), func(ctx context.Context) ([]ports.DataHolding, error) { return c.p.DataHoldings(ctx, id) })
}

type complaints struct {
	t trace.Tracer
	p ports.ComplaintChecker
}

func (c complaints) OpenCases(ctx context.Context, id ports.AccountID) ([]ports.Case, error) {
	return traced(ctx, c.t, "ComplaintChecker.OpenCases", account(id), func(ctx context.Context) ([]ports.Case, error) { return c.p.OpenCases(ctx, id) })
}

type matters struct {
	t trace.Tracer
	p ports.MatterChecker
}

func (c matters) OpenMatters(ctx context.Context, id ports.AccountID) ([]ports.Matter, error) {
	return traced(ctx, c.t, "MatterChecker.OpenMatters", account(id), func(ctx context.Context) ([]ports.Matter, error) { return c.p.OpenMatters(ctx, id) })
}

type otp struct {
	t trace.Tracer
	p ports.OTPSender
}

// SendCode traces the call; the span carries the idempotency key, never
// the phone or the code.
func (c otp) SendCode(ctx context.Context, msg ports.OTPMessage) error {
	return tracedErr(ctx, c.t, "OTPSender.SendCode", key(msg.IdempotencyKey), func(ctx context.Context) error { return c.p.SendCode(ctx, msg) })
}

type notifier struct {
	t trace.Tracer
	p ports.Notifier
}

// Notify traces the call; the span carries the idempotency key and the
// channel, never the address or the message.
func (c notifier) Notify(ctx context.Context, n ports.Notification) error {
	attrs := append(key(n.IdempotencyKey), attribute.String("cancellation.channel", string(n.Channel)))
	return tracedErr(ctx, c.t, "Notifier.Notify", attrs, func(ctx context.Context) error { return c.p.Notify(ctx, n) })
}

type documents struct {
	t trace.Tracer
	p ports.DocumentStore
}

// The document calls' spans carry no key: a document key names the
// request and the document's hash.

func (c documents) PutDocument(ctx context.Context, k, contentType string, b []byte) error {
	return tracedErr(ctx, c.t, "DocumentStore.PutDocument", nil, func(ctx context.Context) error { return c.p.PutDocument(ctx, k, contentType, b) })
}

func (c documents) GetDocument(ctx context.Context, k string) ([]byte, error) {
	return traced(ctx, c.t, "DocumentStore.GetDocument", nil, func(ctx context.Context) ([]byte, error) { return c.p.GetDocument(ctx, k) })
}

func (c documents) DeleteDocument(ctx context.Context, k string) error {
	return tracedErr(ctx, c.t, "DocumentStore.DeleteDocument", nil, func(ctx context.Context) error { return c.p.DeleteDocument(ctx, k) })
}

type closer struct {
	t trace.Tracer
	p ports.AccountCloser
}

func (c closer) CloseAccount(ctx context.Context, id ports.AccountID, k string) error {
	return tracedErr(ctx, c.t, "AccountCloser.CloseAccount", append(account(id), key(k)...), func(ctx context.Context) error { return c.p.CloseAccount(ctx, id, k) })
}

type verifier struct {
	t trace.Tracer
	p ports.VerificationService
}

// StartVerification traces the call; the span carries the idempotency key,
// never the phone.
func (c verifier) StartVerification(ctx context.Context, v ports.VerificationStart) error {
	return tracedErr(ctx, c.t, "VerificationService.StartVerification", key(v.IdempotencyKey), func(ctx context.Context) error { return c.p.StartVerification(ctx, v) })
}

// CheckVerification traces the call; the span carries the idempotency key
// and the outcome, never the phone or the code.
func (c verifier) CheckVerification(ctx context.Context, v ports.VerificationCheck) (ports.VerificationOutcome, error) {
	ctx, span := c.t.Start(ctx, "cancellation.port VerificationService.CheckVerification", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(key(v.IdempotencyKey), attribute.String("cancellation.port", "VerificationService.CheckVerification"))...))
	out, err := c.p.CheckVerification(ctx, v)
	if err == nil {
		span.SetAttributes(attribute.String("cancellation.verification.outcome", string(out)))
	}
	endSpan(span, err)
	return out, err
}

type staff struct {
	t trace.Tracer
	p ports.StaffDirectory
}

func (c staff) StaffMember(ctx context.Context, id string) (ports.StaffMember, error) {
	attrs := []attribute.KeyValue{attribute.String("cancellation.staff", id)}
	return traced(ctx, c.t, "StaffDirectory.StaffMember", attrs, func(ctx context.Context) (ports.StaffMember, error) { return c.p.StaffMember(ctx, id) })
}

type publisher struct {
	t trace.Tracer
	p ports.EventPublisher
}

// Publish traces the call; the span carries the event's id, type and
// subject (the request id), never its data.
func (c publisher) Publish(ctx context.Context, e ports.CloudEvent) error {
	attrs := []attribute.KeyValue{attribute.String("cancellation.event.id", e.ID), attribute.String("cancellation.event.type", e.Type),
		attribute.String("cancellation.request", e.Subject)}
	return tracedErr(ctx, c.t, "EventPublisher.Publish", attrs, func(ctx context.Context) error { return c.p.Publish(ctx, e) })
}
