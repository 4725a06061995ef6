package cancellation

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accountkit/cancellation/ports"
)

// Stuck effects. Effects are retried for ever with backoff (RetryPolicy
// has no cap on attempts), so none "exhausts" its retries: an effect is
// stuck once it has kept failing for Config.AttentionAfter or longer (the
// same threshold that flags its request with NeedsAttention). Staff list
// them with StuckEffects; an admin retries one now with RetryEffect or
// gives it up with GiveUpEffect.

// DefaultStuckLimit and MaxStuckLimit bound a page of StuckEffects.
const (
	DefaultStuckLimit = 50
	MaxStuckLimit     = 500
)

// MaxGiveUpReason is the longest reason GiveUpEffect accepts, in
// characters.
const MaxGiveUpReason = 1000

// Events of staff's work on effects. Their actor is the staff member.
const (
	// EventEffectRetried: an admin asked for an effect to be retried now.
	// Data: "effect" (its key), "kind".
	EventEffectRetried EventType = "effect_retried"
	// EventEffectGivenUp: an admin gave an effect up. Data: "effect",
	// "kind", "reason".
	EventEffectGivenUp EventType = "effect_given_up"
)

// The use cases of staff's work on effects and of a customer's past
// requests, as a HookOperation sees them.
const (
	OpStuckEffects = "stuck_effects"
	OpRetryEffect  = "retry_effect"
	OpGiveUpEffect = "give_up_effect"
	OpPastRequests = "past_requests"
)

// StuckEffect is an effect that has kept failing for Config.AttentionAfter
// or longer, as staff see it: LastError is the port's raw error, for staff
// only.
type StuckEffect struct {
	RequestID    string
	Account      ports.AccountID
	RequestState State
	// Key is the effect's idempotency key, which RetryEffect and
	// GiveUpEffect name.
	Key           string
	Kind          EffectKind
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	// FailingSince is when its current run of failures began.
	FailingSince time.Time
}

// StuckOptions selects a page of StuckEffects.
type StuckOptions struct {
	// Limit caps the requests a page covers (each brings all its stuck
	// effects): DefaultStuckLimit when 0, at most MaxStuckLimit.
	Limit int
	// After is the Next of the previous page; empty for the first page.
	After string
}

// StuckPage is one page of stuck effects, the longest failing first.
type StuckPage struct {
	Effects []StuckEffect
	// Next continues after this page (StuckOptions.After); empty on the
	// last page.
	Next string
}

// StuckEffects lists the stuck effects of every request, those failing
// longest first, for any staff member with the reviewer role (reviewers
// see what keeps a request they decided from finishing; only admins act
// on it). The Store finds them through its index of FailingSince
// (Query.FailingBefore), so a page costs what it returns. A given-up or
// done effect is not stuck. A malformed After is refused with a
// ValidationError.
func (s *Service) StuckEffects(ctx context.Context, rv Reviewer, opt StuckOptions) (_ StuckPage, err error) {
	defer s.hooks.operation(&ctx, OpStuckEffects)(&err)
	if _, err := s.authorize(ctx, "list stuck effects", rv, ports.RoleReviewer); err != nil {
		return StuckPage{}, err
	}
	limit, after, err := pageOptions(opt.Limit, DefaultStuckLimit, MaxStuckLimit, opt.After, "StuckEffects")
	if err != nil {
		return StuckPage{}, err
	}
	opt.Limit = limit
	threshold := s.now().Add(-s.cfg.AttentionAfter)
	q := Query{FailingBefore: threshold, OrderByFailing: true, After: after, Limit: opt.Limit + 1}
	rs, err := s.queueList(ctx, q)
	if err != nil {
		return StuckPage{}, err
	}
	var page StuckPage
	if len(rs) > opt.Limit {
		rs = rs[:opt.Limit]
		page.Next = encodeCursor(q.Cursor(rs[len(rs)-1]))
	}
	for _, r := range rs {
		page.Effects = append(page.Effects, r.stuckEffects(threshold)...)
	}
	return page, nil
}

// stuckEffects returns r's effects failing since threshold or before.
func (r *Request) stuckEffects(threshold time.Time) []StuckEffect {
	var out []StuckEffect
	for _, e := range r.d.Effects {
		if !e.open() || e.FailingSince.IsZero() || e.FailingSince.After(threshold) {
			continue
		}
		out = append(out, StuckEffect{RequestID: r.ID(), Account: r.Account(), RequestState: r.State(),
			Key: e.Key, Kind: e.Kind, Attempts: e.Attempts, LastError: e.LastError,
			NextAttemptAt: e.NextAttemptAt, FailingSince: e.FailingSince})
	}
	return out
}

// FailingSince returns when the longest current run of failures of an
// effect still to be carried out began: zero when none is failing (a
// given-up effect no longer counts). Stores index it for
// Query.FailingBefore.
func (r *Request) FailingSince() time.Time {
	var t time.Time
	for _, e := range r.d.Effects {
		if e.open() && !e.FailingSince.IsZero() && (t.IsZero() || e.FailingSince.Before(t)) {
			t = e.FailingSince
		}
	}
	return t
}

// RetryEffect, for an admin, retries a failing effect of a request now,
// whatever its backoff: with EffectsInline the call carries it out and
// returns the request with its outcome; with EffectsDeferred the runner
// (Service.Run) is woken for it, or the next RunMaintenance pass does it.
// It records EventEffectRetried naming the admin.
//
// A given-up purge_documents effect is revived by it (failing or not):
// the documents it would delete are still in the DocumentStore, so the
// request never settles and Config.RecordRetention never deletes it
// until they are purged. The revival clears the give-up and records
// EventEffectRetried with "revived" "true"; one given up before the
// documents' retention ended is carried out when it ends, not earlier.
// Other given-up effects stay given up.
//
// An empty key is a ValidationError; an unknown request or key is
// ErrNotFound; an effect that is done, given up (other than
// purge_documents), not failing, or being carried out right now is refused
// with an EffectRefusedError (ErrEffectRefused, which wraps ErrConflict)
// saying which, and nothing changes. A staff member without the admin role
// gets ErrForbidden.
func (s *Service) RetryEffect(ctx context.Context, rv Reviewer, requestID, key string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpRetryEffect)(&err)
	if err := checkEffectKey(key); err != nil {
		return nil, err
	}
	m, err := s.authorize(ctx, "retry effect", rv, ports.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var kind EffectKind
	r, err := s.mutate(ctx, staff, requestID, func(r *Request, ec effectCtx) error {
		data := map[string]string{"effect": key}
		e := r.effect(key)
		if e != nil && e.Kind == EffectPurgeDocuments && e.GivenUp() && !e.Done() {
			// The documents are still held: purging them is always
			// wanted, and only then does the record settle.
			e.GivenUpAt, e.GivenUpBy, e.GivenUpReason = time.Time{}, "", ""
			data["revived"] = "true"
		}
		e, err := r.adminEffect(key, ec.now)
		if err != nil {
			return err
		}
		if e.FailingSince.IsZero() && data["revived"] == "" {
			return &EffectRefusedError{RequestID: r.ID(), Key: key, Reason: EffectNotFailing}
		}
		kind = e.Kind
		data["kind"] = string(e.Kind)
		if ec.now.Before(e.NotBefore) {
			// A purge given up before the documents' retention ended is
			// revived for when it ends, not carried out early.
			r.record(ec.now, staffActor(m), EventEffectRetried, data)
			return nil
		}
		e.NextAttemptAt = ec.now
		// Inline: this call holds it and carries it out below;
		// deferred: unclaimed and due, so the runner is woken for it.
		e.LeaseOwner, e.LeaseUntil = ec.owner, ec.lease
		r.record(ec.now, staffActor(m), EventEffectRetried, data)
		return nil
	})
	if err == nil {
		s.hooks.effectAdmin(ctx, EffectAdminInfo{RequestID: requestID, Key: key, Kind: kind, Action: EffectActionRetried, Staff: m.ID})
	}
	return r, err
}

// GiveUpEffect, for an admin, gives up an effect of a request with a
// reason (required, at most MaxGiveUpReason characters): it is never
// attempted again, and it is recorded in the history as
// EventEffectGivenUp naming the admin and the reason. The request's state
// does not change, and nothing that would have followed the effect's
// success happens: a given-up close_account never marks the request
// cancelled nor the account closed (the request stays approved or
// scheduled, the account's active request, and is flagged NeedsAttention
// if it was not, for staff to resolve); a given-up data_export of an
// active request leaves its closing waiting for the export, as the
// customer asked, until the customer waives it (WaiveDataExport), and
// flags the request NeedsAttention; a given-up purge_documents leaves
// the documents unmarked as purged; a given-up notify or publish_event
// is not delivered (RetryEffect revives a given-up purge_documents: the
// documents are still held, and the request is kept until they are
// purged). An empty key or a missing or overlong reason is a
// ValidationError; an unknown request or key is ErrNotFound; an effect
// done, given up already or being carried out right now is refused with an
// EffectRefusedError (ErrEffectRefused, which wraps ErrConflict) saying
// which, and nothing changes. A staff member without the admin role gets
// ErrForbidden.
func (s *Service) GiveUpEffect(ctx context.Context, rv Reviewer, requestID, key, reason string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpGiveUpEffect)(&err)
	if err := checkEffectKey(key); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, invalid("reason", "giving up an effect needs a reason")
	case !utf8.ValidString(reason):
		return nil, invalid("reason", "not valid UTF-8")
	}
	if err := checkText("reason", reason, MaxGiveUpReason); err != nil {
		return nil, err
	}
	m, err := s.authorize(ctx, "give up effect", rv, ports.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var kind EffectKind
	r, err := s.mutate(ctx, staff, requestID, func(r *Request, ec effectCtx) error {
		e, err := r.adminEffect(key, ec.now)
		if err != nil {
			return err
		}
		kind = e.Kind
		e.GivenUpAt, e.GivenUpBy, e.GivenUpReason = ec.now, m.ID, reason
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
		r.record(ec.now, staffActor(m), EventEffectGivenUp, map[string]string{"effect": key, "kind": string(e.Kind), "reason": reason})
		since := e.FailingSince
		if since.IsZero() {
			since = ec.now
		}
		switch {
		case e.Kind == EffectCloseAccount:
			r.flagAttention(ec.now, since, 0, fmt.Sprintf("closing the account was given up by %s: %s", m.ID, reason))
		case e.Kind == EffectDataExport && r.d.Export.pending() && Active(r.d.State):
			// Closing still waits for the export the customer asked for:
			// without a person it would wait for ever.
			r.flagAttention(ec.now, since, 0, fmt.Sprintf("the data export was given up by %s: %s; the account is closed only once the customer waives it (WaiveDataExport)", m.ID, reason))
		}
		return nil
	})
	if err == nil {
		s.givenUp.Add(1)
		s.hooks.effectAdmin(ctx, EffectAdminInfo{RequestID: requestID, Key: key, Kind: kind, Action: EffectActionGivenUp, Staff: m.ID})
	}
	return r, err
}

// adminEffect returns r's effect key for an admin's action at now: one
// still to be carried out and not held by a running attempt.
func (r *Request) adminEffect(key string, now time.Time) (*Effect, error) {
	e := r.effect(key)
	switch {
	case e == nil:
		return nil, fmt.Errorf("%w: request %s has no effect %q", ErrNotFound, r.ID(), key)
	case e.Done():
		return nil, &EffectRefusedError{RequestID: r.ID(), Key: key, Reason: EffectIsDone}
	case e.GivenUp():
		return nil, &EffectRefusedError{RequestID: r.ID(), Key: key, Reason: EffectIsGivenUp}
	case e.LeaseOwner != "" && now.Before(e.LeaseUntil):
		return nil, &EffectRefusedError{RequestID: r.ID(), Key: key, Reason: EffectInProgress, Until: e.LeaseUntil}
	}
	return e, nil
}

// checkEffectKey checks the key an admin names.
func checkEffectKey(key string) error {
	if strings.TrimSpace(key) == "" || len(key) > 512 || !utf8.ValidString(key) {
		return invalid("key", "name the effect by its key (StuckEffect.Key), at most 512 bytes of UTF-8")
	}
	return nil
}

// ErrEffectRefused is wrapped by an EffectRefusedError: the effect's
// state does not allow an admin's RetryEffect or GiveUpEffect. It wraps
// ErrConflict.
var ErrEffectRefused = fmt.Errorf("%w: the effect's state does not allow this", ErrConflict)

// EffectRefusal says why an admin's action on an effect was refused.
type EffectRefusal string

// Effect refusals.
const (
	// EffectIsDone: the effect was carried out.
	EffectIsDone EffectRefusal = "done"
	// EffectIsGivenUp: the effect was given up already.
	EffectIsGivenUp EffectRefusal = "given_up"
	// EffectNotFailing: RetryEffect on an effect that has not failed; it
	// is carried out when due.
	EffectNotFailing EffectRefusal = "not_failing"
	// EffectInProgress: an attempt holds the effect until Until.
	EffectInProgress EffectRefusal = "in_progress"
)

// EffectRefusedError refuses RetryEffect or GiveUpEffect because of the
// effect's state (Reason). It matches ErrEffectRefused and ErrConflict.
type EffectRefusedError struct {
	RequestID string
	Key       string
	Reason    EffectRefusal
	// Until is when the running attempt's lease ends (EffectInProgress).
	Until time.Time
}

func (e *EffectRefusedError) Error() string {
	switch e.Reason {
	case EffectIsDone:
		return fmt.Sprintf("cancellation: effect %s of request %s is done", e.Key, e.RequestID)
	case EffectIsGivenUp:
		return fmt.Sprintf("cancellation: effect %s of request %s was given up", e.Key, e.RequestID)
	case EffectNotFailing:
		return fmt.Sprintf("cancellation: effect %s of request %s is not failing: it is carried out when due", e.Key, e.RequestID)
	case EffectInProgress:
		return fmt.Sprintf("cancellation: effect %s of request %s is being carried out until %s", e.Key, e.RequestID, e.Until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("cancellation: effect %s of request %s: %s", e.Key, e.RequestID, e.Reason)
}

// Unwrap returns ErrEffectRefused.
func (e *EffectRefusedError) Unwrap() error { return ErrEffectRefused }

// staffActor is the actor of a staff member's event.
func staffActor(m ports.StaffMember) Actor { return Actor{Kind: ActorReviewer, ID: validText(m.ID)} }

// countStuck counts the effects stuck at now, through the Store's index.
func (s *Service) countStuck(ctx context.Context) (int, error) {
	threshold := s.now().Add(-s.cfg.AttentionAfter)
	q := Query{FailingBefore: threshold, OrderByFailing: true, Limit: s.batch}
	n := 0
	for {
		rs, err := s.queueList(ctx, q)
		if err != nil {
			return n, fmt.Errorf("cancellation: counting stuck effects: %w", err)
		}
		for _, r := range rs {
			n += len(r.stuckEffects(threshold))
		}
		if len(rs) < s.batch {
			return n, nil
		}
		q.After = q.Cursor(rs[len(rs)-1])
	}
}

// pageOptions checks the page size limit of op (def when 0, at most
// most) and reads its After, a Next that op returned.
func pageOptions(limit, def, most int, after, op string) (int, Cursor, error) {
	switch {
	case limit < 0 || limit > most:
		return 0, Cursor{}, invalid("limit", fmt.Sprintf("the page size is 1 to %d", most))
	case limit == 0:
		limit = def
	}
	c, err := decodeCursor(after)
	if err != nil {
		return 0, Cursor{}, invalid("after", "not a cursor returned as Next by "+op)
	}
	return limit, c, nil
}

// HookEffectAdmin observes effects that become stuck and staff's work on
// them: EffectAdmin is called once when a failed attempt finds an effect
// failing for Config.AttentionAfter or longer (EffectActionStuck; again
// only after a success and a new run of failures), and after each stored
// RetryEffect and GiveUpEffect.
type HookEffectAdmin interface {
	Hook
	EffectAdmin(ctx context.Context, a EffectAdminInfo)
}

// EffectAction is what happened to an effect, for HookEffectAdmin.
type EffectAction string

// Effect actions.
const (
	EffectActionStuck   EffectAction = "stuck"
	EffectActionRetried EffectAction = "retried"
	EffectActionGivenUp EffectAction = "given_up"
)

// EffectAdminInfo is one EffectAdmin observation.
type EffectAdminInfo struct {
	RequestID string
	Key       string
	Kind      EffectKind
	Action    EffectAction
	// Staff is the admin's id for EffectActionRetried and
	// EffectActionGivenUp; empty for EffectActionStuck.
	Staff string
}

// effectAdmin reports a to the HookEffectAdmin hooks.
func (h *hookSet) effectAdmin(ctx context.Context, a EffectAdminInfo) {
	if h == nil {
		return
	}
	for _, o := range h.admins {
		func() {
			defer h.guard(ctx, "EffectAdmin")
			o.EffectAdmin(ctx, a)
		}()
	}
}

// reportStuck tells the HookEffectAdmin hooks of the effects that the
// change from before to after found stuck.
func (s *Service) reportStuck(ctx context.Context, before, after *Request) {
	if s.hooks == nil || len(s.hooks.admins) == 0 {
		return
	}
	for _, e := range after.d.Effects {
		if e.StuckAt.IsZero() {
			continue
		}
		if old := before.findEffect(e.Key); old != nil && old.StuckAt.IsZero() {
			s.hooks.effectAdmin(ctx, EffectAdminInfo{RequestID: after.ID(), Key: e.Key, Kind: e.Kind, Action: EffectActionStuck})
		}
	}
}
