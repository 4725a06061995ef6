package otel

import (
	"context"
	"errors"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/accountkit/cancellation"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/accountkit/cancellation"

// Options configures an Observer.
type Options struct {
	// TracerProvider defaults to the global one (otel.GetTracerProvider).
	TracerProvider trace.TracerProvider
	// MeterProvider defaults to the global one (otel.GetMeterProvider).
	MeterProvider metric.MeterProvider
}

// Observer turns the workflow's hooks into spans and metrics. It
// implements every cancellation hook: set it in Config.Hooks, or call
// Instrument, which also wraps the ports. It is safe for concurrent use.
type Observer struct {
	cancellation.HookDefaults
	tracer trace.Tracer

	requests        metric.Int64UpDownCounter
	transitions     metric.Int64Counter
	effectAttempts  metric.Int64Counter
	effectFailures  metric.Int64Counter
	effectDuration  metric.Float64Histogram
	effectAdmin     metric.Int64Counter
	reviewLateness  metric.Float64Histogram
	ruleDuration    metric.Float64Histogram
	inspections     metric.Int64Counter
	inspectDuration metric.Float64Histogram
	erasureOverdue  metric.Int64Counter
}

// The metrics an Observer records. Durations are in seconds.
const (
	// MetricRequests is the net number of requests that entered each
	// state (attribute state) through this process: +1 on entering, -1
	// on leaving. Summed over replicas since their start it is the change
	// of the number of requests in each state.
	MetricRequests = "cancellation.requests"
	// MetricTransitions counts stored transitions (from, to, event,
	// actor).
	MetricTransitions = "cancellation.transitions"
	// MetricEffectAttempts counts effect attempts (kind, outcome).
	MetricEffectAttempts = "cancellation.effect.attempts"
	// MetricEffectFailures counts failed effect attempts (kind), each
	// retried later under the same idempotency key.
	MetricEffectFailures = "cancellation.effect.failures"
	// MetricEffectDuration is the latency of effect attempts (kind,
	// outcome).
	MetricEffectDuration = "cancellation.effect.duration"
	// MetricEffectAdmin counts effects that became stuck (failing for
	// Config.AttentionAfter) and staff's retries and give-ups (kind,
	// action: stuck, retried, given_up).
	MetricEffectAdmin = "cancellation.effect.admin"
	// MetricReviewLateness is, for each decision on a request in review
	// (to: approved or rejected), how long after its due date it was
	// made: 0 when on time.
	MetricReviewLateness = "cancellation.review.lateness"
	// MetricRuleDuration is the latency of each rule's evaluation (rule,
	// outcome, failed).
	MetricRuleDuration = "cancellation.rule.duration"
	// MetricInspections counts document inspections (accepted, format,
	// problem).
	MetricInspections = "cancellation.document.inspections"
	// MetricInspectionDuration is the latency of document inspections
	// (accepted, format).
	MetricInspectionDuration = "cancellation.document.inspection.duration"
	// MetricErasureOverdue counts requests found still undecided past their
	// erasure deadline (state, extended), each once per deadline: the
	// same count as MaintenanceReport.ErasureOverdue.
	MetricErasureOverdue = "cancellation.erasure.overdue"
)

// New returns an Observer over the providers of opts.
func New(opts Options) (*Observer, error) {
	tp, mp := opts.TracerProvider, opts.MeterProvider
	if tp == nil {
		tp = gotel.GetTracerProvider()
	}
	if mp == nil {
		mp = gotel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	o := &Observer{tracer: tp.Tracer(ScopeName)}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{count}"))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"))
		errs = append(errs, err)
		return h
	}
	var err error
	o.requests, err = m.Int64UpDownCounter(MetricRequests, metric.WithDescription("Requests that entered (+1) or left (-1) each state."), metric.WithUnit("{request}"))
	errs = append(errs, err)
	o.transitions = counter(MetricTransitions, "Stored state transitions of cancellation requests.")
	o.effectAttempts = counter(MetricEffectAttempts, "Attempts at effects: notifications, account closings, document purges.")
	o.effectFailures = counter(MetricEffectFailures, "Failed effect attempts, retried under the same idempotency key.")
	o.effectDuration = seconds(MetricEffectDuration, "Latency of effect attempts.")
	o.effectAdmin = counter(MetricEffectAdmin, "Effects that became stuck, and staff's retries and give-ups of effects.")
	o.reviewLateness = seconds(MetricReviewLateness, "Time past the review's due date at the decision (0 when on time).")
	o.ruleDuration = seconds(MetricRuleDuration, "Latency of eligibility rules.")
	o.inspections = counter(MetricInspections, "Identity document inspections.")
	o.inspectDuration = seconds(MetricInspectionDuration, "Latency of identity document inspections.")
	o.erasureOverdue = counter(MetricErasureOverdue, "Requests found still undecided past their erasure deadline (GDPR Art. 12(3)).")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// Instrument returns cfg with its ports wrapped (WrapPorts) and o added
// to its hooks: one call gives a Service spans for its use cases and port
// calls, and every metric.
func (o *Observer) Instrument(cfg cancellation.Config) cancellation.Config {
	cfg = o.WrapPorts(cfg)
	cfg.Hooks = append(append([]cancellation.Hook(nil), cfg.Hooks...), o)
	return cfg
}

// BeginOperation starts a span per use case ("cancellation.approve", ...)
// that the use case's port calls nest under; it implements
// cancellation.HookOperation.
func (o *Observer) BeginOperation(ctx context.Context, op cancellation.OperationInfo) (context.Context, func(error)) {
	ctx, span := o.tracer.Start(ctx, "cancellation."+op.Name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("cancellation.operation", op.Name)))
	return ctx, func(err error) {
		endSpan(span, err)
	}
}

// Transition counts the transition, moves the request between the
// state gauges, records review lateness for a decision and adds an event
// to the current span; it implements cancellation.HookTransition.
func (o *Observer) Transition(ctx context.Context, t cancellation.TransitionInfo) {
	o.transitions.Add(ctx, 1, metric.WithAttributes(
		attribute.String("from", string(t.From)), attribute.String("to", string(t.To)),
		attribute.String("event", string(t.Event)), attribute.String("actor", string(t.Actor))))
	if t.From != "" {
		o.requests.Add(ctx, -1, metric.WithAttributes(attribute.String("state", string(t.From))))
	}
	o.requests.Add(ctx, 1, metric.WithAttributes(attribute.String("state", string(t.To))))
	if t.From == cancellation.StateInReview && !t.DueAt.IsZero() && (t.To == cancellation.StateApproved || t.To == cancellation.StateRejected) {
		late := max(t.At.Sub(t.DueAt), 0)
		o.reviewLateness.Record(ctx, late.Seconds(), metric.WithAttributes(attribute.String("to", string(t.To))))
	}
	trace.SpanFromContext(ctx).AddEvent("cancellation.transition", trace.WithAttributes(
		attribute.String("cancellation.request_id", t.RequestID),
		attribute.String("cancellation.from", string(t.From)), attribute.String("cancellation.to", string(t.To)),
		attribute.String("cancellation.actor", string(t.Actor))))
}

// EffectAttempt counts the attempt (and its failure) and records its
// latency; it implements cancellation.HookEffectAttempt.
func (o *Observer) EffectAttempt(ctx context.Context, a cancellation.EffectAttemptInfo) {
	kind := attribute.String("kind", string(a.Kind))
	attrs := metric.WithAttributes(kind, attribute.String("outcome", string(a.Outcome)))
	o.effectAttempts.Add(ctx, 1, attrs)
	o.effectDuration.Record(ctx, a.Latency.Seconds(), attrs)
	if a.Outcome == cancellation.AttemptFailed {
		o.effectFailures.Add(ctx, 1, metric.WithAttributes(kind))
	}
	trace.SpanFromContext(ctx).AddEvent("cancellation.effect", trace.WithAttributes(
		attribute.String("cancellation.request_id", a.RequestID), attribute.String("cancellation.effect_key", a.Key),
		kind, attribute.Int("cancellation.attempt", a.Attempt), attribute.String("cancellation.outcome", string(a.Outcome))))
}

// EffectAdmin counts an effect that became stuck, or an admin's retry or
// give-up, and adds an event to the current span; it implements
// cancellation.HookEffectAdmin.
func (o *Observer) EffectAdmin(ctx context.Context, a cancellation.EffectAdminInfo) {
	kind, action := attribute.String("kind", string(a.Kind)), attribute.String("action", string(a.Action))
	o.effectAdmin.Add(ctx, 1, metric.WithAttributes(kind, action))
	trace.SpanFromContext(ctx).AddEvent("cancellation.effect_admin", trace.WithAttributes(
		attribute.String("cancellation.request_id", a.RequestID), attribute.String("cancellation.effect_key", a.Key), kind, action))
}

// RuleEvaluated records the rule's latency; it implements
// cancellation.HookRuleEvaluated.
func (o *Observer) RuleEvaluated(ctx context.Context, e cancellation.RuleEvaluationInfo) {
	o.ruleDuration.Record(ctx, e.Latency.Seconds(), metric.WithAttributes(
		attribute.String("rule", e.Rule), attribute.String("outcome", string(e.Outcome)), attribute.Bool("failed", e.Failed)))
}

// DocumentInspected counts the inspection and records its latency; it
// implements cancellation.HookDocumentInspected.
func (o *Observer) DocumentInspected(ctx context.Context, d cancellation.DocumentInspectionInfo) {
	accepted, format := attribute.Bool("accepted", d.Accepted), attribute.String("format", string(d.Format))
	o.inspections.Add(ctx, 1, metric.WithAttributes(accepted, format, attribute.String("problem", string(d.Problem))))
	o.inspectDuration.Record(ctx, d.Latency.Seconds(), metric.WithAttributes(accepted, format))
}

// ErasureOverdue counts a request past its erasure deadline and adds an
// event to the current span; it implements
// cancellation.HookErasureOverdue.
func (o *Observer) ErasureOverdue(ctx context.Context, e cancellation.ErasureOverdueInfo) {
	o.erasureOverdue.Add(ctx, 1, metric.WithAttributes(attribute.String("state", string(e.State)), attribute.Bool("extended", e.Extended)))
	trace.SpanFromContext(ctx).AddEvent("cancellation.erasure_overdue", trace.WithAttributes(
		attribute.String("cancellation.request_id", e.RequestID), attribute.String("cancellation.state", string(e.State))))
}

// endSpan ends span with err's status.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

var (
	_ cancellation.HookOperation         = (*Observer)(nil)
	_ cancellation.HookTransition        = (*Observer)(nil)
	_ cancellation.HookEffectAttempt     = (*Observer)(nil)
	_ cancellation.HookRuleEvaluated     = (*Observer)(nil)
	_ cancellation.HookDocumentInspected = (*Observer)(nil)
	_ cancellation.HookErasureOverdue    = (*Observer)(nil)
	_ cancellation.HookEffectAdmin       = (*Observer)(nil)
)
