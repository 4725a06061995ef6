package cancellation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Hook is implemented by every observer of a Service, set in Config.Hooks.
// A hook implements any of the optional interfaces HookOperation,
// HookTransition, HookEffectAttempt, HookRuleEvaluated,
// HookDocumentInspected, HookErasureOverdue and HookEffectAdmin; the
// Service detects them by type assertion, so new kinds of hook never
// break an existing one. Embed HookDefaults to
// implement Hook.
//
// Hooks are called synchronously, on the goroutine doing the work, and
// may be called concurrently: keep them quick and safe for concurrent
// use. A hook that panics is recovered and logged (Config.Logger, at
// error level) and the workflow goes on as if it had returned. A hook
// gets copies and cannot change what it observes; only the context that a
// HookOperation returns is used, so it must not be cancelled sooner than
// the one it was given. Hooks see ids, states, kinds,
// codes and durations, never a one-time code, a contact, a reviewer's
// note or a document's bytes; an effect's error is the port's own.
type Hook interface {
	// IsHook marks a hook; it returns true.
	IsHook() bool
}

// HookDefaults implements Hook; embed it in a hook's type.
type HookDefaults struct{}

// IsHook returns true.
func (HookDefaults) IsHook() bool { return true }

// HookOperation observes each use case of a Service (Start, Approve,
// RunMaintenance, ...). BeginOperation is called when the use case starts;
// the context it returns is the one the use case goes on with (a tracing
// hook returns one carrying its span, so that port calls nest under it),
// and the function it returns is called once when the use case returns,
// with its error (nil on success). With several such hooks, each begins
// with the context the one before returned, and they end in reverse order.
type HookOperation interface {
	Hook
	BeginOperation(ctx context.Context, op OperationInfo) (context.Context, func(err error))
}

// OperationInfo names a use case.
type OperationInfo struct {
	// Name is the use case: one of the Op constants.
	Name string
}

// The use cases a HookOperation sees, named after the Service methods.
const (
	OpCheckEligibility = "check_eligibility"
	OpStart            = "start"
	OpGet              = "get"
	OpConfirm          = "confirm"
	OpConsent          = "consent"
	OpSendCode         = "send_code"
	OpVerifyCode       = "verify_code"
	OpUploadDocument   = "upload_document"
	OpSubmit           = "submit"
	OpWithdraw         = "withdraw"
	OpQueue            = "queue"
	OpReview           = "review"
	OpReviewDocument   = "review_document"
	OpApprove          = "approve"
	OpReject           = "reject"
	OpClaim            = "claim"
	OpRenewClaim       = "renew_claim"
	OpReleaseClaim     = "release_claim"
	OpReassign         = "reassign"
	OpRunMaintenance   = "run_maintenance"
	OpReceipt          = "receipt"
	OpExtendErasure    = "extend_erasure"
	OpWaiveDataExport  = "waive_data_export"
	OpCloseMembers     = "close_members"
	OpRecentlyClosed   = "recently_closed"
	OpAskForMore       = "ask_for_more"
	// Staff closures (see Service.StartStaffClosure).
	OpStartStaffClosure   = "start_staff_closure"
	OpAddStaffEvidence    = "add_staff_evidence"
	OpApproveStaffClosure = "approve_staff_closure"
	OpDeclineStaffClosure = "decline_staff_closure"
	OpReviewEvidence      = "review_evidence"
	OpStaffClosures       = "staff_closures"
)

// HookTransition observes every change of a request's state, once it is
// stored: Transition is called after the Store write that made it, so a
// change that lost a race or failed to store is never reported.
type HookTransition interface {
	Hook
	Transition(ctx context.Context, t TransitionInfo)
}

// TransitionInfo is one stored change of a request's state.
type TransitionInfo struct {
	RequestID string
	// From is empty for a request just started.
	From, To State
	// Event is the type of the history event that recorded the change.
	Event EventType
	// Actor says who caused it: the customer, a reviewer or the library.
	Actor ActorKind
	// At is when it happened, by the Service's clock.
	At time.Time
	// DueAt is when the review is (or was) due; zero before submission.
	DueAt time.Time
}

// HookEffectAttempt observes every attempt at an effect (a notification,
// the account's closing, the purge of documents), inline after a
// transition or by maintenance.
type HookEffectAttempt interface {
	Hook
	EffectAttempt(ctx context.Context, a EffectAttemptInfo)
}

// AttemptOutcome is how an effect attempt ended.
type AttemptOutcome string

// Effect attempt outcomes.
const (
	AttemptSucceeded AttemptOutcome = "succeeded"
	AttemptFailed    AttemptOutcome = "failed"
)

// EffectAttemptInfo is one attempt at an effect.
type EffectAttemptInfo struct {
	RequestID string
	// Key is the effect's idempotency key, the same on every attempt.
	Key  string
	Kind EffectKind
	// Attempt counts from 1.
	Attempt int
	Outcome AttemptOutcome
	// Err is the port's error when the attempt failed (nil otherwise).
	Err     error
	Latency time.Duration
}

// HookRuleEvaluated observes each rule's evaluation in an eligibility
// check (at start, confirmation, submission, approval and closing, and
// in CheckEligibility).
type HookRuleEvaluated interface {
	Hook
	RuleEvaluated(ctx context.Context, e RuleEvaluationInfo)
}

// RuleEvaluationInfo is one rule's result in one evaluation.
type RuleEvaluationInfo struct {
	Rule    string
	Outcome Outcome
	// Failed is true when the rule could not be evaluated (an error, a
	// panic, a timeout): its finding is then blocked, failing closed.
	Failed bool
	// Latency is the time from the evaluation's start to the rule's
	// answer, or to the deadline for a rule that did not answer.
	Latency time.Duration
}

// HookDocumentInspected observes each inspection of an uploaded identity
// document (InspectDocument, called by Service.UploadDocument).
type HookDocumentInspected interface {
	Hook
	DocumentInspected(ctx context.Context, d DocumentInspectionInfo)
}

// DocumentInspectionInfo is the result of one inspection.
type DocumentInspectionInfo struct {
	// Accepted is true when the scan passed; Problem is then empty.
	Accepted bool
	// Format is the format sniffed from the bytes (empty when unknown).
	Format DocumentFormat
	// Problem is the reason for a refusal.
	Problem DocumentProblem
	Bytes   int
	Latency time.Duration
}

// hookSet holds a Service's hooks by kind. Its methods are what the
// workflow calls; a nil *hookSet observes nothing.
type hookSet struct {
	log             *slog.Logger
	operations      []HookOperation
	transitionHooks []HookTransition
	effects         []HookEffectAttempt
	rules           []HookRuleEvaluated
	inspections     []HookDocumentInspected
	erasure         []HookErasureOverdue
	admins          []HookEffectAdmin
}

// newHookSet sorts hooks by the interfaces they implement; it returns nil
// when none observes anything, and an error naming a nil hook.
func newHookSet(hooks []Hook, log *slog.Logger) (*hookSet, error) {
	h := &hookSet{log: log}
	some := false
	for i, x := range hooks {
		if x == nil {
			return nil, invalid("config", fmt.Sprintf("Hooks[%d] is nil", i))
		}
		if o, ok := x.(HookOperation); ok {
			h.operations, some = append(h.operations, o), true
		}
		if o, ok := x.(HookTransition); ok {
			h.transitionHooks, some = append(h.transitionHooks, o), true
		}
		if o, ok := x.(HookEffectAttempt); ok {
			h.effects, some = append(h.effects, o), true
		}
		if o, ok := x.(HookRuleEvaluated); ok {
			h.rules, some = append(h.rules, o), true
		}
		if o, ok := x.(HookDocumentInspected); ok {
			h.inspections, some = append(h.inspections, o), true
		}
		if o, ok := x.(HookErasureOverdue); ok {
			h.erasure, some = append(h.erasure, o), true
		}
		if o, ok := x.(HookEffectAdmin); ok {
			h.admins, some = append(h.admins, o), true
		}
	}
	if !some {
		return nil, nil
	}
	return h, nil
}

// guard recovers a hook's panic and logs it.
func (h *hookSet) guard(ctx context.Context, kind string) {
	if p := recover(); p != nil {
		h.log.ErrorContext(ctx, "cancellation: a hook panicked; the workflow goes on", "hook", kind, "panic", fmt.Sprint(p))
	}
}

// operation begins a use case for the HookOperation hooks and returns the
// function that ends it; use it as
//
//	defer s.hooks.operation(&ctx, OpApprove)(&err)
//
// so that the use case goes on with the hooks' context and its error (a
// named result) reaches them.
func (h *hookSet) operation(ctx *context.Context, name string) func(*error) {
	if h == nil || len(h.operations) == 0 {
		return func(*error) {}
	}
	ends := make([]func(error), 0, len(h.operations))
	for _, o := range h.operations {
		func() {
			defer h.guard(*ctx, "BeginOperation")
			c, end := o.BeginOperation(*ctx, OperationInfo{Name: name})
			if c != nil {
				*ctx = c
			}
			if end != nil {
				ends = append(ends, end)
			}
		}()
	}
	c := *ctx
	return func(errp *error) {
		var err error
		if errp != nil {
			err = *errp
		}
		for i := len(ends) - 1; i >= 0; i-- {
			func() {
				defer h.guard(c, "operation end")
				ends[i](err)
			}()
		}
	}
}

// transitions reports the state changes among r's events not yet stored:
// call it right after the Store write, before markStored.
func (h *hookSet) transitions(ctx context.Context, r *Request) {
	if h == nil || len(h.transitionHooks) == 0 {
		return
	}
	for _, e := range r.newEvents() {
		from, moved := e.Data["from"]
		if !moved && e.Type != EventStarted {
			continue
		}
		t := TransitionInfo{RequestID: r.ID(), From: State(from), To: e.State, Event: e.Type, Actor: e.Actor.Kind, At: e.At, DueAt: r.DueAt()}
		if t.To == "" { // events of a request read back from before states were recorded
			t.To = r.State()
		}
		for _, o := range h.transitionHooks {
			func() {
				defer h.guard(ctx, "Transition")
				o.Transition(ctx, t)
			}()
		}
	}
}

// effect reports an effect attempt that began at start and ended with
// *errp; use it as the first deferred call of the attempt.
func (h *hookSet) effect(ctx context.Context, requestID string, e Effect, start time.Time, errp *error) {
	if h == nil || len(h.effects) == 0 {
		return
	}
	a := EffectAttemptInfo{RequestID: requestID, Key: e.Key, Kind: e.Kind, Attempt: e.Attempts + 1, Outcome: AttemptSucceeded, Latency: time.Since(start)}
	if errp != nil && *errp != nil {
		a.Outcome, a.Err = AttemptFailed, *errp
	}
	for _, o := range h.effects {
		func() {
			defer h.guard(ctx, "EffectAttempt")
			o.EffectAttempt(ctx, a)
		}()
	}
}

// rule reports one rule's finding.
func (h *hookSet) rule(ctx context.Context, f Finding, latency time.Duration) {
	if h == nil || len(h.rules) == 0 {
		return
	}
	e := RuleEvaluationInfo{Rule: f.Rule, Outcome: f.Outcome, Failed: f.Error != "", Latency: latency}
	for _, o := range h.rules {
		func() {
			defer h.guard(ctx, "RuleEvaluated")
			o.RuleEvaluated(ctx, e)
		}()
	}
}

// inspect runs InspectDocument and reports it.
func (h *hookSet) inspect(ctx context.Context, data []byte, limits DocumentLimits) (DocumentFacts, error) {
	if h == nil || len(h.inspections) == 0 {
		return InspectDocument(data, limits)
	}
	start := time.Now()
	facts, err := InspectDocument(data, limits)
	d := DocumentInspectionInfo{Accepted: err == nil, Format: facts.Format, Bytes: len(data), Latency: time.Since(start)}
	var de *DocumentError
	if errors.As(err, &de) {
		d.Problem = de.Problem
		if d.Format == "" {
			d.Format = de.Facts.Format
		}
	}
	for _, o := range h.inspections {
		func() {
			defer h.guard(ctx, "DocumentInspected")
			o.DocumentInspected(ctx, d)
		}()
	}
	return facts, err
}

// erasureOverdue reports a request maintenance has just flagged past its
// erasure deadline (once its write is stored).
func (h *hookSet) erasureOverdue(ctx context.Context, r *Request, at time.Time) {
	if h == nil || len(h.erasure) == 0 {
		return
	}
	e := ErasureOverdueInfo{RequestID: r.ID(), State: r.State(), DueAt: r.ErasureDueAt(), Extended: r.d.ErasureExtension != nil, At: at}
	for _, o := range h.erasure {
		func() {
			defer h.guard(ctx, "ErasureOverdue")
			o.ErasureOverdue(ctx, e)
		}()
	}
}
