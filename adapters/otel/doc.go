// Package otel reports a cancellation Service over OpenTelemetry: a span
// per use case and per port call, and metrics of requests, transitions,
// effects, review lateness, rules and document inspections. It implements
// the Service's hooks (cancellation.Hook), so the workflow itself never
// imports a telemetry SDK.
//
// # Wiring
//
//	obs, err := otel.New(otel.Options{TracerProvider: tp, MeterProvider: mp})
//	cfg := obs.Instrument(cancellation.Config{ /* Store, ports... */ })
//	svc, err := cancellation.New(cfg)
//
// Instrument wraps the ports (WrapPorts) and adds the Observer to
// Config.Hooks. Each use case (Start, Approve, RunMaintenance, ...) is a
// span named "cancellation.<operation>" (see the cancellation.Op
// constants); each port call made for it is a child client span named
// "cancellation.port <Port>.<Method>", ending with the call's error.
// Transitions and effect attempts are added to the current span as
// events. Spans and metrics carry ids, states, kinds, codes and
// idempotency keys, never a code, a phone number, an email address, a
// reviewer's note or a document.
//
// # Metrics
//
// MetricRequests, MetricTransitions, MetricEffectAttempts,
// MetricEffectFailures, MetricEffectDuration, MetricReviewLateness,
// MetricRuleDuration, MetricInspections, MetricInspectionDuration and
// MetricErasureOverdue, all
// under the instrumentation scope ScopeName; durations are in seconds.
// MetricRequests counts what went through this process: it says how the
// number of requests in each state changed since the process started,
// not how many there are; for that, count them in the Store.
package otel
