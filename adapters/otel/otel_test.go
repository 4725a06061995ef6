package otel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/otel"
	"github.com/accountkit/cancellation/ports"
)

// t0 is a Monday.
var t0 = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

var reviewer = cancellation.Reviewer{ID: "rev-1", Account: "staff-1"}

// telemetry is a Service instrumented into an in-memory span exporter and
// a manual metric reader.
type telemetry struct {
	kit    *memory.Kit
	svc    *cancellation.Service
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	reader := sdkmetric.NewManualReader()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	obs, err := otel.New(otel.Options{TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	kit := memory.NewKit(t0)
	kit.Staff.Put(ports.StaffMember{ID: reviewer.ID, Roles: []ports.Role{ports.RoleSenior}, Account: reviewer.Account})
	svc, err := cancellation.New(obs.Instrument(kit.Config()))
	require.NoError(t, err)
	return &telemetry{kit: kit, svc: svc, spans: spans, reader: reader}
}

// toReview takes a new personal account's request to review.
func (tm *telemetry) toReview(t *testing.T, id ports.AccountID) *cancellation.Request {
	t.Helper()
	ctx := t.Context()
	tm.kit.Platform.AddAccount(ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: "+15550100777", Email: "o@example.com", Locale: "en"})
	r, err := tm.svc.Start(ctx, id)
	require.NoError(t, err)
	rep, err := tm.svc.CheckEligibility(ctx, id)
	require.NoError(t, err)
	_, err = tm.svc.Confirm(ctx, id, r.ID(), cancellation.Confirmation{
		NotesVersion: tm.svc.Notes().Version, Irreversible: true, Consents: rep.Consents(),
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	require.NoError(t, err)
	_, err = tm.svc.SendCode(ctx, id, r.ID())
	require.NoError(t, err)
	code, ok := tm.kit.OTP.LastCode("+15550100777")
	require.True(t, ok)
	_, err = tm.svc.VerifyCode(ctx, id, r.ID(), code)
	require.NoError(t, err)
	r, err = tm.svc.Submit(ctx, id, r.ID())
	require.NoError(t, err)
	return r
}

func (tm *telemetry) metrics(t *testing.T) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tm.reader.Collect(t.Context(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, otel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sum adds the data points of a counter whose attributes include want.
func sum(t *testing.T, data metricdata.Aggregation, want ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := data.(metricdata.Sum[int64])
	require.True(t, ok, "an int64 sum: %T", data)
	var n int64
	for _, dp := range s.DataPoints {
		if hasAll(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

func histogram(t *testing.T, data metricdata.Aggregation, want ...attribute.KeyValue) (count uint64, total float64) {
	t.Helper()
	h, ok := data.(metricdata.Histogram[float64])
	require.True(t, ok, "a float64 histogram: %T", data)
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, want) {
			count += dp.Count
			total += dp.Sum
		}
	}
	return count, total
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func TestObserver_SpansPerUseCaseWithPortCallsNestedUnderThem(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	r := tm.toReview(t, "otel-1")
	tm.kit.Notifier.FailNext(1, errors.New("sms gateway down"))
	tm.spans.Reset()
	_, err := tm.svc.Approve(t.Context(), reviewer, r.ID(), "ok")
	require.NoError(t, err)

	got := tm.spans.GetSpans()
	byName := map[string][]tracetest.SpanStub{}
	for _, s := range got {
		byName[s.Name] = append(byName[s.Name], s)
	}
	require.Len(t, byName["cancellation.approve"], 1, "one span for the use case: %v", names(got))
	approve := byName["cancellation.approve"][0]
	require.Equal(t, codes.Unset, approve.Status.Code)
	for _, port := range []string{"AccountDirectory.Account", "OrderChecker.OpenObligations", "AccountCloser.CloseAccount", "Notifier.Notify"} {
		spans := byName["cancellation.port "+port]
		require.NotEmpty(t, spans, "a span per %s call: %v", port, names(got))
		for _, s := range spans {
			require.Equal(t, approve.SpanContext.SpanID(), s.Parent.SpanID(), "%s nests under the use case", port)
		}
	}
	var failed int
	for _, s := range byName["cancellation.port Notifier.Notify"] {
		if s.Status.Code == codes.Error {
			failed++
			require.Contains(t, s.Status.Description, "sms gateway down")
		}
	}
	require.Equal(t, 1, failed, "the failed notification's span says so")
	var moves []string
	for _, e := range approve.Events {
		if e.Name == "cancellation.transition" {
			for _, a := range e.Attributes {
				if a.Key == "cancellation.to" {
					moves = append(moves, a.Value.AsString())
				}
			}
		}
	}
	require.Equal(t, []string{"approved", "cancelled"}, moves)

	_, err = tm.svc.Withdraw(t.Context(), "otel-1", "can_unknown")
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	last := tm.spans.GetSpans()[len(tm.spans.GetSpans())-1]
	require.Equal(t, "cancellation.withdraw", last.Name)
	require.Equal(t, codes.Error, last.Status.Code, "a failed use case ends its span with the error")
}

func TestObserver_MetricsOfRequestsTransitionsEffectsLatenessAndRules(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	r := tm.toReview(t, "otel-2")
	late := 30 * time.Hour
	tm.kit.Clock.Set(r.DueAt().Add(late))
	tm.kit.Notifier.FailNext(1, errors.New("sms gateway down"))
	_, err := tm.svc.Approve(t.Context(), reviewer, r.ID(), "ok")
	require.NoError(t, err)

	m := tm.metrics(t)
	state := func(s cancellation.State) attribute.KeyValue { return attribute.String("state", string(s)) }
	require.Equal(t, int64(1), sum(t, m[otel.MetricRequests], state(cancellation.StateCancelled)))
	for _, s := range []cancellation.State{cancellation.StateStarted, cancellation.StateConfirmed, cancellation.StateInReview, cancellation.StateApproved} {
		require.Zero(t, sum(t, m[otel.MetricRequests], state(s)), "no request is left in %s", s)
	}
	require.Equal(t, int64(6), sum(t, m[otel.MetricTransitions]), "started, confirmed, phone_verified, in_review, approved, cancelled")
	require.Equal(t, int64(1), sum(t, m[otel.MetricTransitions], attribute.String("to", "approved"), attribute.String("actor", "reviewer")))

	require.Equal(t, int64(1), sum(t, m[otel.MetricEffectAttempts], attribute.String("kind", "notify"), attribute.String("outcome", "failed")))
	require.Equal(t, int64(1), sum(t, m[otel.MetricEffectFailures], attribute.String("kind", "notify")))
	require.Equal(t, int64(1), sum(t, m[otel.MetricEffectAttempts], attribute.String("kind", "close_account"), attribute.String("outcome", "succeeded")))
	n, _ := histogram(t, m[otel.MetricEffectDuration])
	require.Equal(t, uint64(sum(t, m[otel.MetricEffectAttempts])), n, "a latency per attempt")

	n, total := histogram(t, m[otel.MetricReviewLateness], attribute.String("to", "approved"))
	require.Equal(t, uint64(1), n)
	require.InDelta(t, late.Seconds(), total, 1)

	// Eligibility ran at start, in CheckEligibility, at confirmation, at
	// submission and at approval: five evaluations of each rule.
	rules := len(cancellation.DefaultRules(tm.kit.Config().Checkers))
	n, _ = histogram(t, m[otel.MetricRuleDuration])
	require.Equal(t, uint64(5*rules), n)
	n, _ = histogram(t, m[otel.MetricRuleDuration], attribute.String("rule", cancellation.RuleOpenObligations))
	require.Equal(t, uint64(5), n)
}

func TestObserver_DocumentInspections(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	// The hook path is exercised through the Service: an identity-verified
	// account uploads a greyscale scan, refused, then a colour one.
	tm.kit.Platform.AddAccount(ports.Account{ID: "otel-3", Kind: ports.Personal, IdentityVerified: true, RecoveryPhone: "+15550100778", Email: "p@example.com", Locale: "en"})
	ctx := t.Context()
	r, err := tm.svc.Start(ctx, "otel-3")
	require.NoError(t, err)
	rep, err := tm.svc.CheckEligibility(ctx, "otel-3")
	require.NoError(t, err)
	_, err = tm.svc.Confirm(ctx, "otel-3", r.ID(), cancellation.Confirmation{
		NotesVersion: tm.svc.Notes().Version, Irreversible: true, Consents: rep.Consents(),
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	require.NoError(t, err)
	_, err = tm.svc.SendCode(ctx, "otel-3", r.ID())
	require.NoError(t, err)
	code, _ := tm.kit.OTP.LastCode("+15550100778")
	_, err = tm.svc.VerifyCode(ctx, "otel-3", r.ID(), code)
	require.NoError(t, err)
	_, err = tm.svc.UploadDocument(ctx, "otel-3", r.ID(), cancellation.DocumentPassport, greyscale())
	require.ErrorIs(t, err, cancellation.ErrDocumentRejected)
	_, err = tm.svc.UploadDocument(ctx, "otel-3", r.ID(), cancellation.DocumentPassport, colour())
	require.NoError(t, err)

	m := tm.metrics(t)
	require.Equal(t, int64(1), sum(t, m[otel.MetricInspections], attribute.Bool("accepted", false), attribute.String("problem", "not_colour")))
	require.Equal(t, int64(1), sum(t, m[otel.MetricInspections], attribute.Bool("accepted", true)))
	n, _ := histogram(t, m[otel.MetricInspectionDuration])
	require.Equal(t, uint64(2), n)
}

func TestWrapPorts_KeepsNilPortsNil(t *testing.T) {
	t.Parallel()
	obs, err := otel.New(otel.Options{})
	require.NoError(t, err)
	cfg := obs.WrapPorts(cancellation.Config{})
	require.Nil(t, cfg.Accounts)
	require.Nil(t, cfg.Checkers.Orders)
	require.Nil(t, cfg.Notifier)
	_, err = cancellation.New(cfg)
	require.ErrorContains(t, err, "Notifier is required", "New still names the missing port")
}

// TestWrapPorts_LeavesNotApplicableAsItIs: a checker the host passes as
// cancellation.NotApplicable stays so once wrapped, so that its rule still
// passes with FindingNotApplicable instead of passing as if it had been
// checked and found nothing.
func TestWrapPorts_LeavesNotApplicableAsItIs(t *testing.T) {
	t.Parallel()
	obs, err := otel.New(otel.Options{})
	require.NoError(t, err)
	platform := memory.NewPlatform()
	cfg := obs.WrapPorts(cancellation.Config{Checkers: cancellation.Checkers{
		Orders: platform, Balances: platform, Authorizations: platform, Data: platform, Complaints: platform, Matters: platform,
		SubUsers: cancellation.NotApplicable{},
		APIKeys:  &cancellation.NotApplicable{},
	}})
	require.Equal(t, cancellation.NotApplicable{}, cfg.Checkers.SubUsers)
	require.Equal(t, &cancellation.NotApplicable{}, cfg.Checkers.APIKeys)
	require.NotEqual(t, platform, cfg.Checkers.Orders, "the other checkers are traced")
	for name, c := range map[string]any{"Orders": cfg.Checkers.Orders, "Balances": cfg.Checkers.Balances, "Authorizations": cfg.Checkers.Authorizations,
		"Data": cfg.Checkers.Data, "Complaints": cfg.Checkers.Complaints, "Matters": cfg.Checkers.Matters} {
		_, inProcess := c.(ports.InProcess)
		require.False(t, inProcess, "%s: a traced port may block on its exporter, and does not say it is in process", name)
	}
	rep := cancellation.RuleSet{Rules: cancellation.DefaultRules(cfg.Checkers)}.Evaluate(t.Context(), ports.Account{ID: "acct-na"}, time.Now())
	for _, rule := range []string{cancellation.RuleSubUsers, cancellation.RuleAPIKeys} {
		f, ok := rep.Finding(rule)
		require.True(t, ok, rule)
		require.Equal(t, cancellation.OutcomePass, f.Outcome, rule)
		require.Equal(t, cancellation.FindingNotApplicable, f.Code, rule)
	}
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// TestWrapPorts_VerifierStaffAndEventsAreTraced: the managed verification
// service, the staff directory and the event publisher get a client span
// per call like every other port, ending with the call's error, and no
// span carries the phone, the code or the event's data.
func TestWrapPorts_VerifierStaffAndEventsAreTraced(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	obs, err := otel.New(otel.Options{TracerProvider: tp})
	require.NoError(t, err)
	const phone, secret = "+15550100999", "data-SECRET"
	verifierPort := memory.NewVerifier()
	cfg := obs.WrapPorts(cancellation.Config{
		Verifier: verifierPort,
		Staff:    memory.NewStaffDirectory(ports.StaffMember{ID: "rev-1", Roles: []ports.Role{ports.RoleReviewer}}),
		Events:   memory.NewEventPublisher(),
	})
	ctx := t.Context()
	require.NoError(t, cfg.Verifier.StartVerification(ctx, ports.VerificationStart{Phone: phone, Locale: "en", IdempotencyKey: "vk-1"}))
	code, ok := verifierPort.LastCode(phone)
	require.True(t, ok)
	out, err := cfg.Verifier.CheckVerification(ctx, ports.VerificationCheck{Phone: phone, Code: code, IdempotencyKey: "vk-1/check/1"})
	require.NoError(t, err)
	require.Equal(t, ports.VerificationApproved, out)
	_, err = cfg.Staff.StaffMember(ctx, "rev-1")
	require.NoError(t, err)
	_, err = cfg.Staff.StaffMember(ctx, "rev-gone")
	require.ErrorIs(t, err, ports.ErrNotFound, "the decorator keeps the port's error")
	require.NoError(t, cfg.Events.Publish(ctx, ports.CloudEvent{SpecVersion: "1.0", ID: "ev-1", Source: "test", Type: "cancellation.approved",
		Subject: "can_1", Data: []byte(`{"note":"` + secret + `"}`)}))

	got := spans.GetSpans()
	require.Equal(t, []string{
		"cancellation.port VerificationService.StartVerification",
		"cancellation.port VerificationService.CheckVerification",
		"cancellation.port StaffDirectory.StaffMember",
		"cancellation.port StaffDirectory.StaffMember",
		"cancellation.port EventPublisher.Publish",
	}, names(got))
	attr := func(s tracetest.SpanStub, k string) string {
		for _, a := range s.Attributes {
			if string(a.Key) == k {
				return a.Value.Emit()
			}
		}
		return ""
	}
	require.Equal(t, "vk-1", attr(got[0], "cancellation.idempotency_key"))
	require.Equal(t, "approved", attr(got[1], "cancellation.verification.outcome"))
	require.Equal(t, codes.Unset, got[2].Status.Code)
	require.Equal(t, codes.Error, got[3].Status.Code, "a failed lookup ends its span with the error")
	require.Equal(t, "cancellation.approved", attr(got[4], "cancellation.event.type"))
	require.Equal(t, "can_1", attr(got[4], "cancellation.request"))
	for _, s := range got {
		require.Equal(t, trace.SpanKindClient, s.SpanKind)
		for _, a := range s.Attributes {
			v := a.Value.Emit()
			require.NotContains(t, v, phone, "%s: %s", s.Name, a.Key)
			require.NotContains(t, v, secret, "%s: %s", s.Name, a.Key)
			if code != "" {
				require.NotEqual(t, code, v, "%s: %s", s.Name, a.Key)
			}
		}
	}
}

func TestObserver_CountsRequestsPastTheirErasureDeadline(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	r := tm.toReview(t, "otel-erasure")
	tm.kit.Clock.Set(r.ErasureDueAt().Add(time.Minute))
	rep, err := tm.svc.RunMaintenance(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, rep.ErasureOverdue)
	_, err = tm.svc.RunMaintenance(t.Context())
	require.NoError(t, err)

	m := tm.metrics(t)
	require.Equal(t, int64(1), sum(t, m[otel.MetricErasureOverdue], attribute.String("state", "in_review"), attribute.Bool("extended", false)), "once per request")
}

// TestObserver_CountsStuckRetriedAndGivenUpEffects: an effect that keeps
// failing past AttentionAfter is counted stuck once, and an admin's
// give-up is counted with its kind.
func TestObserver_CountsStuckRetriedAndGivenUpEffects(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	tm.kit.Staff.Put(ports.StaffMember{ID: "adm", Name: "Adam", Roles: []ports.Role{ports.RoleAdmin}})
	r := tm.toReview(t, "otel-stuck")
	tm.kit.Platform.SetOutage(memory.PortAccountCloser, errors.New("closer down"))
	r, err := tm.svc.Approve(t.Context(), reviewer, r.ID(), "ok")
	require.NoError(t, err)
	for range 2 {
		tm.kit.Clock.Advance(cancellation.DefaultAttentionAfter)
		_, err = tm.svc.RunMaintenance(t.Context())
		require.NoError(t, err)
	}
	key := r.ID() + "/close_account"
	_, err = tm.svc.GiveUpEffect(t.Context(), cancellation.Reviewer{ID: "adm"}, r.ID(), key, "written off")
	require.NoError(t, err)

	m := tm.metrics(t)
	close := attribute.String("kind", "close_account")
	require.Equal(t, int64(1), sum(t, m[otel.MetricEffectAdmin], close, attribute.String("action", "stuck")))
	require.Equal(t, int64(1), sum(t, m[otel.MetricEffectAdmin], close, attribute.String("action", "given_up")))
	require.Zero(t, sum(t, m[otel.MetricEffectAdmin], attribute.String("action", "retried")))
}
