package cancellation_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// recorder is a hook of every kind that records what it sees.
type recorder struct {
	cancellation.HookDefaults
	mu          sync.Mutex
	transitions []cancellation.TransitionInfo
	effects     []cancellation.EffectAttemptInfo
	rules       []cancellation.RuleEvaluationInfo
	inspections []cancellation.DocumentInspectionInfo
	ops         []string // "begin NAME" and "end NAME: ERR"
}

type opKey struct{}

// add appends v to *list under the recorder's lock.
func add[T any](h *recorder, list *[]T, v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	*list = append(*list, v)
}

func (h *recorder) Transition(_ context.Context, t cancellation.TransitionInfo) {
	add(h, &h.transitions, t)
}

func (h *recorder) EffectAttempt(_ context.Context, a cancellation.EffectAttemptInfo) {
	add(h, &h.effects, a)
}

func (h *recorder) RuleEvaluated(_ context.Context, e cancellation.RuleEvaluationInfo) {
	add(h, &h.rules, e)
}

func (h *recorder) DocumentInspected(_ context.Context, d cancellation.DocumentInspectionInfo) {
	add(h, &h.inspections, d)
}

func (h *recorder) BeginOperation(ctx context.Context, op cancellation.OperationInfo) (context.Context, func(error)) {
	h.mu.Lock()
	h.ops = append(h.ops, "begin "+op.Name)
	h.mu.Unlock()
	return context.WithValue(ctx, opKey{}, op.Name), func(err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		msg := "end " + op.Name
		if err != nil {
			msg += ": error"
		}
		h.ops = append(h.ops, msg)
	}
}

func (h *recorder) snapshot() recorder {
	h.mu.Lock()
	defer h.mu.Unlock()
	return recorder{transitions: slices.Clone(h.transitions), effects: slices.Clone(h.effects),
		rules: slices.Clone(h.rules), inspections: slices.Clone(h.inspections), ops: slices.Clone(h.ops)}
}

func withHooks(hs ...cancellation.Hook) option {
	return func(c *cancellation.Config) { c.Hooks = append(c.Hooks, hs...) }
}

func TestHookTransition_SeesEveryStoredTransitionOnce(t *testing.T) {
	rec := &recorder{}
	f := setup(t, withHooks(rec))
	f.platform.AddAccount(f.account("hk-1", ports.Personal, true))
	r := f.approve(f.toReview("hk-1"))
	require.Equal(t, cancellation.StateCancelled, r.State())

	type move struct {
		from, to cancellation.State
		actor    cancellation.ActorKind
	}
	var got []move
	for _, tr := range rec.snapshot().transitions {
		require.Equal(t, r.ID(), tr.RequestID)
		require.False(t, tr.At.IsZero())
		got = append(got, move{tr.From, tr.To, tr.Actor})
	}
	require.Equal(t, []move{
		{"", cancellation.StateStarted, cancellation.ActorCustomer},
		{cancellation.StateStarted, cancellation.StateConfirmed, cancellation.ActorCustomer},
		{cancellation.StateConfirmed, cancellation.StatePhoneVerified, cancellation.ActorCustomer},
		{cancellation.StatePhoneVerified, cancellation.StateDocumentsUploaded, cancellation.ActorCustomer},
		{cancellation.StateDocumentsUploaded, cancellation.StateInReview, cancellation.ActorCustomer},
		{cancellation.StateInReview, cancellation.StateApproved, cancellation.ActorReviewer},
		{cancellation.StateApproved, cancellation.StateCancelled, cancellation.ActorSystem},
	}, got)
	last := rec.snapshot().transitions[5]
	require.Equal(t, cancellation.EventApproved, last.Event)
	require.Equal(t, r.DueAt(), last.DueAt, "a decision carries the due date, so lateness can be measured")

	// A refused change stores nothing and reports nothing.
	_, err := f.svc.Withdraw(f.ctx, r.Account(), r.ID())
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition)
	require.Len(t, rec.snapshot().transitions, 7)
}

func TestHookEffectAttempt_ReportsFailureThenRetryUnderOneKey(t *testing.T) {
	rec := &recorder{}
	f := setup(t, withHooks(rec))
	f.platform.AddAccount(f.personal("hk-2"))
	r := f.toReview("hk-2")
	f.kit.Notifier.FailNext(1, errors.New("sms gateway down"))
	r = f.approve(r)
	first := rec.snapshot().effects
	var failed *cancellation.EffectAttemptInfo
	for i, a := range first {
		require.Equal(t, r.ID(), a.RequestID)
		require.GreaterOrEqual(t, a.Latency, time.Duration(0))
		if a.Outcome == cancellation.AttemptFailed {
			failed = &first[i]
		}
	}
	require.NotNil(t, failed, "the failed notification is reported: %+v", first)
	require.Equal(t, cancellation.EffectNotify, failed.Kind)
	require.Equal(t, 1, failed.Attempt)
	require.ErrorContains(t, failed.Err, "sms gateway down")
	require.True(t, slices.ContainsFunc(first, func(a cancellation.EffectAttemptInfo) bool {
		return a.Kind == cancellation.EffectCloseAccount && a.Outcome == cancellation.AttemptSucceeded && a.Err == nil
	}))

	f.clock.Advance(time.Hour)
	f.maintain()
	retried := rec.snapshot().effects[len(first):]
	i := slices.IndexFunc(retried, func(a cancellation.EffectAttemptInfo) bool { return a.Key == failed.Key })
	require.GreaterOrEqual(t, i, 0, "maintenance retried the failed effect: %+v", retried)
	require.Equal(t, 2, retried[i].Attempt)
	require.Equal(t, cancellation.AttemptSucceeded, retried[i].Outcome)
}

func TestHookRuleEvaluated_ReportsEachRuleWithOutcomeAndLatency(t *testing.T) {
	rec := &recorder{}
	slow := cancellation.RuleFunc{RuleName: "host_slow", Func: func(ctx context.Context, _ ports.Account) (cancellation.Finding, error) {
		time.Sleep(20 * time.Millisecond)
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}
	f := setup(t, withHooks(rec), func(c *cancellation.Config) { c.ExtraRules = append(c.ExtraRules, slow) })
	f.platform.AddAccount(f.personal("hk-3"))
	f.platform.SetOutage("OrderChecker", errors.New("billing down"))
	rep, err := f.svc.CheckEligibility(f.ctx, "hk-3")
	require.NoError(t, err)
	got := rec.snapshot().rules
	require.Len(t, got, len(rep.Findings), "one report per rule")
	byRule := map[string]cancellation.RuleEvaluationInfo{}
	for _, e := range got {
		byRule[e.Rule] = e
	}
	for _, fd := range rep.Findings {
		e, ok := byRule[fd.Rule]
		require.True(t, ok, "rule %s reported", fd.Rule)
		require.Equal(t, fd.Outcome, e.Outcome, fd.Rule)
	}
	require.GreaterOrEqual(t, byRule["host_slow"].Latency, 20*time.Millisecond)
	require.False(t, byRule["host_slow"].Failed)
	var failed []string
	for _, e := range got {
		if e.Failed {
			failed = append(failed, e.Rule)
			require.Equal(t, cancellation.OutcomeBlocked, e.Outcome)
		}
	}
	require.Len(t, failed, 1, "only the rule over the failing port: %v", failed)
}

func TestHookDocumentInspected_ReportsAcceptedAndRefusedScans(t *testing.T) {
	rec := &recorder{}
	f := setup(t, withHooks(rec))
	f.platform.AddAccount(f.account("hk-4", ports.Personal, true))
	r := f.untilVerified("hk-4")
	grey := docfixtures.JPEG(docfixtures.Greyscale(docfixtures.ColourIDCard(640, 480)), 90)
	_, err := f.upload(r, cancellation.DocumentPassport, grey)
	require.ErrorIs(t, err, cancellation.ErrDocumentRejected)
	_, err = f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	got := rec.snapshot().inspections
	require.Len(t, got, 2)
	require.False(t, got[0].Accepted)
	require.Equal(t, cancellation.DocumentNotColour, got[0].Problem)
	require.NotEmpty(t, got[0].Format)
	require.True(t, got[1].Accepted)
	require.Empty(t, got[1].Problem)
	require.Equal(t, len(colourScan()), got[1].Bytes)
	require.Positive(t, got[1].Latency)
}

func TestHookOperation_WrapsEachUseCaseAndItsContextReachesThePorts(t *testing.T) {
	rec := &recorder{}
	var seen []any
	var mu sync.Mutex
	probe := cancellation.RuleFunc{RuleName: "host_probe", Func: func(ctx context.Context, _ ports.Account) (cancellation.Finding, error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ctx.Value(opKey{}))
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}
	f := setup(t, withHooks(rec), func(c *cancellation.Config) { c.ExtraRules = append(c.ExtraRules, probe) })
	f.platform.AddAccount(f.personal("hk-5"))
	r := f.start("hk-5")
	_, err := f.svc.Withdraw(f.ctx, "hk-5", "can_unknown")
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	_, err = f.svc.Withdraw(f.ctx, "hk-5", r.ID())
	require.NoError(t, err)
	require.Equal(t, []string{
		"begin start", "end start",
		"begin withdraw", "end withdraw: error",
		"begin withdraw", "end withdraw",
	}, rec.snapshot().ops)
	require.Equal(t, []any{cancellation.OpStart}, seen, "the rule ran with the hook's context")
}

// panicker panics in every hook.
type panicker struct{ cancellation.HookDefaults }

func (panicker) Transition(context.Context, cancellation.TransitionInfo)        { panic("transition") }
func (panicker) EffectAttempt(context.Context, cancellation.EffectAttemptInfo)  { panic("effect") }
func (panicker) RuleEvaluated(context.Context, cancellation.RuleEvaluationInfo) { panic("rule") }
func (panicker) DocumentInspected(context.Context, cancellation.DocumentInspectionInfo) {
	panic("inspection")
}
func (panicker) BeginOperation(context.Context, cancellation.OperationInfo) (context.Context, func(error)) {
	panic("operation")
}

type logKey struct{}

func TestHooks_APanickingHookBreaksNothingAndIsLoggedWithItsContext(t *testing.T) {
	rec := &recorder{}
	var buf bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil)
	f := setup(t, withHooks(panicker{}, rec), func(c *cancellation.Config) { c.Logger = slog.New(ctxHandler{h}) })
	f.ctx = context.WithValue(context.Background(), logKey{}, "trace-42")
	f.platform.AddAccount(f.account("hk-6", ports.Personal, true))
	r := f.approve(f.toReview("hk-6"))
	require.Equal(t, cancellation.StateCancelled, r.State(), "the workflow went on")
	require.Len(t, rec.snapshot().transitions, 7, "the hook after the panicking one still sees everything")
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, kind := range []string{"Transition", "EffectAttempt", "RuleEvaluated", "DocumentInspected", "BeginOperation"} {
		require.Contains(t, out, "hook="+kind, "a panic in %s is logged", kind)
	}
	require.Contains(t, out, "trace=trace-42", "the log call took the caller's context")
	require.Contains(t, out, "level=ERROR")
}

func TestNew_RefusesANilHook(t *testing.T) {
	t.Parallel()
	cfg := newFixture(t).cfg
	cfg.Hooks = []cancellation.Hook{nil}
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "Hooks[0]")
}

// ctxHandler adds the context's logKey value to each record, to show that
// the library logs with the caller's context.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if v, ok := ctx.Value(logKey{}).(string); ok {
		r.AddAttrs(slog.String("trace", v))
	}
	return h.Handler.Handle(ctx, r)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
