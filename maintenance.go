package cancellation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// maxConflictRetries bounds how often a use case re-reads and re-applies
// its change after losing an optimistic-concurrency race.
const maxConflictRetries = 8

// errNoChange tells mutate that the change function had nothing to do.
var errNoChange = errors.New("no change")

// keptError is an error whose change must still be stored: a counted wrong
// code, or a rejection the library made at approval.
type keptError struct{ err error }

func (k keptError) Error() string { return k.err.Error() }
func (k keptError) Unwrap() error { return k.err }

func keep(err error) error { return keptError{err} }

// scope says on whose behalf a change is made: a customer, who may change
// only their own account's requests, or staff (reviewers and the library's
// maintenance), who may change any.
type scope struct {
	account ports.AccountID
	staff   bool
	// contactsOptional lets a change proceed without contacts when the
	// AccountDirectory is down: for maintenance work that notifies nobody.
	contactsOptional bool
	// activity marks staff activity (claims, views), which changes the
	// version but not what the request says (see checkVersion).
	activity bool
}

// customer is the scope of a customer operation.
func customer(account ports.AccountID) scope { return scope{account: account} }

// staff is the scope of reviewer and maintenance operations.
var staff = scope{staff: true}

// mutate applies fn to the request, read once, and stores it with
// optimistic concurrency, re-reading and re-applying only on conflict; then
// it carries out the effects the change claimed. A customer scope must own
// the request (others get ErrNotFound). fn's error aborts without any
// change, unless it is a keptError; fn returns errNoChange only before it
// changes anything.
func (s *Service) mutate(ctx context.Context, sc scope, id string, fn func(*Request, effectCtx) error) (*Request, error) {
	return s.mutateFrom(ctx, sc, id, nil, fn)
}

// mutateFrom is mutate starting from cur, a request the caller has just
// read and hands over (nil: read it): the change works on cur itself, not
// a copy, so the caller must not use cur afterwards.
func (s *Service) mutateFrom(ctx context.Context, sc scope, id string, cur *Request, fn func(*Request, effectCtx) error) (*Request, error) {
	r, err := s.change(ctx, sc, id, cur, cur != nil, fn)
	if r == nil {
		return nil, err
	}
	if s.cfg.Effects == EffectsDeferred {
		return r, err // change woke the runner
	}
	// The caller's IfVersion was for its own change, not for the writes
	// that record effect outcomes.
	return s.settleWithin(noPrecondition(ctx), r), err
}

func (s *Service) mutateOnce(ctx context.Context, sc scope, id string, fn func(*Request, effectCtx) error) (*Request, error) {
	return s.change(ctx, sc, id, nil, false, fn)
}

// change is one change of a request: fn applied to it and stored, the
// events it recorded sealed under the current history key and its history
// cap enforced. It starts from given (cloned, so that a failed write leaves
// the caller's copy as it was, unless owned: the caller hands given over
// and does not use it again) or, when given is nil or stale, from a fresh
// read, which it owns.
func (s *Service) change(ctx context.Context, sc scope, id string, given *Request, owned bool, fn func(*Request, effectCtx) error) (*Request, error) {
	if err := CheckID("id", id); err != nil {
		return nil, err
	}
	if !sc.staff {
		if err := checkAccountID(sc.account); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		var next *Request
		switch {
		case given != nil && attempt == 0 && given.ID() == id && owned:
			next = given
		case given != nil && attempt == 0 && given.ID() == id:
			next = given.Clone()
		default:
			cur, err := s.store.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			next = cur
		}
		if !sc.staff && (next.Account() != sc.account || next.hiddenFromCustomer()) {
			// A declined staff closure is not the customer's to see, not
			// even through a refused change (see hiddenFromCustomer).
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err := s.checkHead(next); err != nil {
			return nil, err
		}
		if err := checkVersion(ctx, next); err != nil {
			return nil, err
		}
		ec, err := s.effectCtx(ctx, next.Account())
		if err != nil && !(sc.contactsOptional && errors.Is(err, ErrUnavailable)) {
			return nil, err
		}
		version, events := next.d.Version, next.HistoryLen()
		ferr := fn(next, ec)
		var kept keptError
		switch {
		case errors.Is(ferr, errNoChange):
			return next, nil
		case errors.As(ferr, &kept):
			ferr = kept.err
		case ferr != nil:
			return nil, ferr
		}
		if err := s.addEventEffects(next, events, ec.owner, ec.lease); err != nil {
			return nil, err
		}
		if err := next.historyRoom(sc.staff, events); err != nil {
			return nil, err
		}
		switch {
		case !sc.activity:
			next.d.ActivitySince = 0
		case next.d.ActivitySince == 0:
			next.d.ActivitySince = version
		}
		next.d.Version = version + 1
		next.seal(s.signKey(), next.d.Version)
		if err := s.issueReceipt(next, ec); err != nil {
			return nil, err
		}
		next.headOK = s // sealed here: its head needs no check
		err = s.store.Update(ctx, next)
		if errors.Is(err, ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.hooks.transitions(ctx, next)
		next.markStored()
		s.wakeIfDue(next)
		return next, ferr
	}
}

// effectCtx reads where notifications go now (the secure phone and email
// may have changed since the request started).
func (s *Service) effectCtx(ctx context.Context, account ports.AccountID) (effectCtx, error) {
	now := s.now()
	ec := effectCtx{now: now, owner: s.instance, lease: now.Add(s.cfg.EffectLease), retention: s.docs.Retention}
	if s.cfg.Effects == EffectsDeferred {
		// Unclaimed, so due at once: the runner (or maintenance) claims them.
		ec.owner, ec.lease = "", time.Time{}
	}
	acct, err := s.cfg.Accounts.Account(ctx, account)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		// A deleted account has nowhere to notify; the change still proceeds.
	case err != nil:
		s.log.WarnContext(ctx, "cancellation: account directory unavailable", "account", account, "error", err)
		return ec, portUnavailable("read account "+string(account), "AccountDirectory", err)
	}
	ec.to = contacts{phone: acct.RecoveryPhone, email: acct.Email, locale: acct.Locale}
	ec.acct, ec.identifierKeys, ec.identifiersUntil = acct, s.cfg.IdentifierKeys, now.Add(s.cfg.IdentifierRetention)
	return ec, nil
}

// settle carries out the effects this instance has claimed on r, records
// their outcomes, and repeats for effects that those outcomes add (closing
// the account adds the success notifications). It returns the latest r and
// how many effects succeeded and failed.
func (s *Service) settle(ctx context.Context, r *Request) (*Request, int, int) {
	var done, failed int
	for round := 0; round < 4; round++ {
		now := s.now()
		// r does not change here (a change below works on a copy): the
		// effects are read where they are, and what a port gets is
		// copied for it in execute.
		var mine []*Effect
		for i := range r.d.Effects {
			if e := &r.d.Effects[i]; e.open() && e.LeaseOwner == s.instance && now.Before(e.LeaseUntil) && !r.effectWaits(*e) {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			break
		}
		results := s.executeAll(ctx, r, mine)
		for _, e := range mine {
			switch err, ok := results[e.Key]; {
			case !ok:
			case err != nil:
				failed++
				s.log.WarnContext(ctx, "cancellation: effect failed", "request", r.ID(), "effect", e.Key, "attempt", e.Attempts+1, "error", err)
			default:
				done++
			}
		}
		if len(results) == 0 {
			break
		}
		// Record the outcomes on the version just written; re-read only
		// if another writer changed it since.
		// r stays as it is, to fall back on: the change goes on from a
		// copy that records its events in r's room (see handOver).
		next, err := s.change(uncancelled(ctx), staff, r.ID(), r.handOver(), true, func(r *Request, ec effectCtx) error {
			return s.applyResults(ctx, r, ec, results)
		})
		if err != nil || next == nil {
			// The outcome is not recorded: the lease expires and maintenance
			// retries with the same idempotency key, which the port dedups.
			s.log.WarnContext(ctx, "cancellation: recording effect outcome failed", "request", r.ID(), "error", err)
			break
		}
		s.reportStuck(ctx, r, next)
		r = next
	}
	return r, done, failed
}

// execute carries out one effect through its port, with a deadline inside
// the lease and regardless of the caller's cancellation.
func (s *Service) execute(ctx context.Context, r *Request, e Effect) (err error) {
	defer s.hooks.effect(ctx, r.ID(), e, time.Now(), &err)
	ctx, cancel := withLazyDeadline(uncancelled(ctx), time.Now(), s.cfg.EffectLease/2)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("port panicked: %v", p)
		}
	}()
	switch e.Kind {
	case EffectNotify:
		if e.Notification == nil {
			return errors.New("notify effect without a notification")
		}
		n := *e.Notification // the port's own copy: it may change it
		n.Data, n.Attachments = cloneMap(n.Data), cloneAttachments(n.Attachments)
		if n.To == "" { // recorded without its address: read it now
			to, err := s.address(ctx, r.Account(), n.Channel)
			if err != nil {
				return err
			}
			n.To = to
		}
		return s.cfg.Notifier.Notify(ctx, n)
	case EffectCloseAccount:
		if r.effectWaits(e) {
			return errors.New("closing waits for the data export")
		}
		return s.cfg.Closer.CloseAccount(ctx, r.Account(), e.Key)
	case EffectDataExport:
		return s.exportData(ctx, r, e)
	case EffectPublishEvent:
		return s.publish(ctx, e)
	case EffectKeepIdentifiers:
		is, ok := s.cfg.Store.(IdentifierStore)
		if !ok {
			return errors.New("the Store does not implement IdentifierStore")
		}
		return is.KeepIdentifiers(ctx, slices.Clone(e.Identifiers))
	case EffectPurgeDocuments:
		keys := slices.Clone(r.d.Reserved)
		for _, d := range r.d.Documents {
			if d.PurgedAt.IsZero() {
				keys = append(keys, d.Key)
			}
		}
		for _, k := range keys {
			if err := s.cfg.Documents.DeleteDocument(ctx, k); err != nil {
				return fmt.Errorf("deleting %s: %w", k, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown effect kind %q", e.Kind)
}

// address reads where a notification on ch goes: the account's recovery
// phone or email as the AccountDirectory has it now. An account it does
// not know or without that address is an error, retried and in time
// flagged for a person: a notification is never reported delivered
// without being sent.
func (s *Service) address(ctx context.Context, account ports.AccountID, ch ports.Channel) (string, error) {
	acct, err := s.cfg.Accounts.Account(ctx, account)
	if err != nil {
		return "", fmt.Errorf("reading the address of %s: %w", account, err)
	}
	to := acct.RecoveryPhone
	if ch == ports.ChannelEmail {
		to = acct.Email
	}
	if to == "" {
		return "", fmt.Errorf("account %s has no %s address", account, ch)
	}
	return to, nil
}

// applyResults records effect outcomes: done, with what follows from it,
// or failed, with the next attempt's time.
func (s *Service) applyResults(ctx context.Context, r *Request, ec effectCtx, results map[string]error) error {
	changed := false
	// Changed in place below; the close's success adds effects (see
	// cancelled): room for them only then. Each success records an event,
	// the close's one more (cancelled) and, the next round, one for each
	// effect it adds, and failures may flag the request for a person:
	// room for those events too, so that the rounds usually copy the
	// history once (an event published for the cancellation, say, is not
	// counted: the history then grows as append grows it).
	extra, events, flagged := 0, 0, 0
	for _, e := range r.d.Effects {
		err, ok := results[e.Key]
		switch {
		case !ok || !e.open():
		case err != nil:
			flagged = 1 // the request flagged for a person, once
		case e.Kind == EffectCloseAccount:
			extra = r.effectsOfCancelled(ec)
			events += 2 + extra // done, cancelled, and the outcomes of what it adds
		case e.Kind == EffectDataExport || e.Kind == EffectPurgeDocuments:
			events += 2 // done, and delivered or purged
		default:
			events++ // done
		}
	}
	r.ownEffects(extra)
	r.reserveEvents(events + flagged)
	// Walk the effects in their recorded order, not the map's, so that the
	// history a retry writes is the same on every run.
	for i := range r.d.Effects {
		e := &r.d.Effects[i]
		key := e.Key
		res, ok := results[key]
		if !ok || !e.open() {
			continue
		}
		changed = true
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
		if res != nil {
			e.Attempts++
			e.LastError = scrubContacts(res.Error())
			e.NextAttemptAt = ec.now.Add(s.cfg.Retry.delay(e.Attempts))
			if e.FailingSince.IsZero() {
				e.FailingSince = ec.now
			}
			if e.StuckAt.IsZero() && ec.now.Sub(e.FailingSince) >= s.cfg.AttentionAfter {
				e.StuckAt = ec.now
			}
			// Effects are retried for ever: past AttentionAfter a person
			// is told, once.
			if r.flagAttention(ec.now, e.FailingSince, s.cfg.AttentionAfter, fmt.Sprintf("effect %s keeps failing: %s", key, e.LastError)) {
				s.log.ErrorContext(ctx, "cancellation: request needs attention", "request", r.ID(), "effect", key, "failing_since", e.FailingSince, "error", e.LastError)
			}
			continue
		}
		e.Attempts++
		e.LastError = ""
		e.FailingSince, e.StuckAt = time.Time{}, time.Time{}
		e.DoneAt = ec.now
		dropDeliveredData(e)
		kind := e.Kind
		r.record(ec.now, systemActor, EventEffectDone, map[string]string{"effect": key})
		switch kind {
		case EffectDataExport:
			r.exportDelivered(ec)
		case EffectCloseAccount:
			if err := r.cancelled(ec); err != nil {
				return err
			}
		case EffectPurgeDocuments:
			for i := range r.d.Documents {
				if r.d.Documents[i].PurgedAt.IsZero() {
					r.d.Documents[i].PurgedAt = ec.now
				}
			}
			r.d.Reserved = nil
			r.record(ec.now, systemActor, EventDocumentsPurged, nil)
		}
	}
	if !changed {
		return errNoChange
	}
	return nil
}

// MaintenanceReport counts what one RunMaintenance pass did.
type MaintenanceReport struct {
	Examined      int // requests that needed attention
	EffectsDone   int // effects carried out
	EffectsFailed int // effect attempts that failed and will be retried
	Expired       int // abandoned applications expired
	Closed        int // scheduled requests whose closing began
	Rejected      int // scheduled requests rejected because eligibility failed at closing
	Overdue       int // reviews newly flagged overdue
	// ClosingDeferred counts ends of scheduled periods that could not be
	// checked because a port failed: retried with backoff, never rejected.
	ClosingDeferred int
	// Flagged counts requests newly flagged for a person (see Attention).
	Flagged int
	// ErasureOverdue counts requests newly found still undecided past
	// their erasure deadline (Request.ErasureOverdue); each is counted
	// once.
	ErasureOverdue int
	// EffectsStuck counts the effects stuck at the end of the pass: failing
	// for Config.AttentionAfter or longer (see Service.StuckEffects),
	// counted through the Store's index whatever the pass examined.
	EffectsStuck int
	// EffectsGivenUp counts the effects given up (Service.GiveUpEffect)
	// through this Service since its previous maintenance pass.
	EffectsGivenUp int
	// IdempotencyPurged counts expired Idempotency-Key records deleted
	// (Stores that implement IdempotencyStore).
	IdempotencyPurged int
	// IdentifiersPurged counts kept identifier hashes deleted at the end
	// of Config.IdentifierRetention (Stores that implement
	// IdentifierStore).
	IdentifiersPurged int
	// ClosureAdmissionsPurged counts organisation-quota admissions deleted
	// once older than the quota's window (Stores that implement
	// ClosureQuotaStore).
	ClosureAdmissionsPurged int
	// RecordsPurged counts ended requests deleted, with their history and
	// receipt, at the end of Config.RecordRetention (Stores that implement
	// RecordPurger).
	RecordsPurged int
}

// maintenanceBatch is how many requests one List call of maintenance reads
// (Service.batch; tests make it smaller).
const maintenanceBatch = 256

// closingStates are the states in which a request's account closing can be
// due: an approved request's close effect, or the end of a scheduled
// period (and then its close effect).
var closingStates = []State{StateApproved, StateScheduled}

// RunMaintenance does the work that time brings, for every request that
// needs it: it retries pending effects with backoff, expires applications
// abandoned before submission, ends cooling-off and settlement periods
// (evaluating eligibility once more; when a port fails it retries that
// with backoff and flags the request for a person after
// Config.AttentionAfter, never rejecting it), flags overdue reviews,
// purges documents past retention and deletes the records of requests
// ended longer than Config.RecordRetention ago (RecordPurger). Service.Run calls it on a timer. It is
// safe to run on every replica at once: each effect is claimed through the
// Store before it is carried out. Call it periodically (every minute, say).
//
// It reads the requests due at its start in batches of maintenanceBatch,
// in NextWake order with keyset paging, so a backlog of any size is worked
// through in bounded memory and a request that keeps failing never hides
// the others. It makes two passes over them: first the requests whose
// account closing is due (approved and scheduled ones), every batch of
// them, then all the others; so a closing never waits for a free worker
// behind another request's work that is not a closing (a notification
// that hangs, say), whatever batch either is in. The error joins the
// failures of individual requests (and the rows the Store could not
// read), which the next pass retries.
func (s *Service) RunMaintenance(ctx context.Context) (_ MaintenanceReport, err error) {
	defer s.hooks.operation(&ctx, OpRunMaintenance)(&err)
	return s.runMaintenance(ctx, ctx, nil)
}

// runMaintenance is RunMaintenance whose started work runs under work and
// takes slots (nil: slots of its own).
func (s *Service) runMaintenance(ctx, work context.Context, slots chan struct{}) (MaintenanceReport, error) {
	var rep MaintenanceReport
	var errs []error
	if err := s.purgeIdempotency(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	if err := s.purgeIdentifiers(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	if err := s.purgeClosures(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	if err := s.purgeRecords(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	// The pool works on a batch while the next one is listed; every way
	// out waits for what it started.
	pool := s.maintenancePool(ctx, slots)
	pool.work = work
	start := s.now()
	// The closing pass starts the requests whose closing is due; the
	// second lists every due request and starts the others (a closing it
	// meets was started by the first pass, or became due after it and is
	// left to the next RunMaintenance).
	closings := Query{States: closingStates, WakeBefore: start, OrderByWake: true}
	if s.listDue(ctx, closings, pool, func(r *Request, now time.Time) bool { return closingRank(r, now) == 0 }, &errs) {
		rest := Query{WakeBefore: start, OrderByWake: true}
		s.listDue(ctx, rest, pool, func(r *Request, now time.Time) bool { return closingRank(r, now) != 0 }, &errs)
	}
	errs = append(errs, pool.wait(&rep)...)
	rep.EffectsGivenUp = int(s.givenUp.Swap(0))
	if ctx.Err() == nil {
		n, err := s.countStuck(ctx)
		rep.EffectsStuck = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// listDue lists the requests q selects in batches and starts on pool those
// that keep says; it reports whether it went through the whole list (not
// stopped by ctx or a List failure).
func (s *Service) listDue(ctx context.Context, q Query, pool *maintenancePool, keep func(*Request, time.Time) bool, errs *[]error) bool {
	q.Limit = s.batch
	for {
		due, err := s.store.List(ctx, q)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("cancellation: listing requests for maintenance: %w", err))
			if !errors.Is(err, ErrCorrupt) {
				return false
			}
		}
		now := s.now()
		pool.run(slices.DeleteFunc(slices.Clone(due), func(r *Request) bool { return !keep(r, now) }))
		if ctx.Err() != nil {
			return false
		}
		// A short page is the last one, unless corrupt rows made it short:
		// then the next page starts after the last good one (and reports
		// the corrupt ones it meets again), until a page has none.
		if len(due) == 0 || (err == nil && len(due) < q.Limit) {
			return true
		}
		q.After = q.Cursor(due[len(due)-1])
	}
}

// maintain does one request's due work in one Store write, then carries
// out the effects it claimed.
func (s *Service) maintain(ctx context.Context, r *Request, rep *MaintenanceReport) error {
	now := s.now()
	var closingReport *Report
	var closingErr error
	if r.State() == StateScheduled && !r.closing() && !now.Before(r.closingDueAt()) {
		acct, err := s.anyAccount(ctx, r.Account())
		switch {
		case errors.Is(err, ErrUnavailable):
			closingErr = err // retried with backoff below: an outage decides nothing
		case err != nil:
			return fmt.Errorf("reading account %s for closing: %w", r.Account(), err)
		default:
			er := s.evaluate(ctx, acct, now)
			closingReport = &er
		}
	}
	var expired, closed, rejected, overdue, deferred, flagged, claimed, erasure bool
	sc := staff
	// Without a closing report nothing this change may do notifies anyone
	// (an expiry, an overdue flag, a deferred closing, claims of effects
	// whose addresses are recorded), so an AccountDirectory outage must not
	// stop it: the deferred closing is recorded with its backoff.
	sc.contactsOptional = closingReport == nil
	next, err := s.change(ctx, sc, r.ID(), r, false, func(r *Request, ec effectCtx) error {
		expired, closed, rejected, overdue, deferred, flagged, claimed, erasure = false, false, false, false, false, false, false, false
		closingDue := r.State() == StateScheduled && !r.closing() && !ec.now.Before(r.closingDueAt())
		switch {
		case !r.expiresAt().IsZero() && !ec.now.Before(r.expiresAt()):
			if err := r.expire(ec); err != nil {
				return err
			}
			expired = true
		case closingDue && closingErr != nil:
			deferred, flagged = true, r.deferClosing(ec.now, closingErr, s.cfg.Retry, s.cfg.AttentionAfter)
		case closingDue && closingReport != nil:
			err := r.closeScheduled(ec, *closingReport)
			switch {
			case errors.Is(err, ErrUnavailable):
				deferred, flagged = true, r.deferClosing(ec.now, err, s.cfg.Retry, s.cfg.AttentionAfter)
			case err != nil && r.State() != StateRejected:
				return err
			default:
				closed, rejected = err == nil, err != nil
			}
		}
		overdue = r.flagOverdue(ec.now)
		erasure = r.flagErasureOverdue(ec.now)
		for i := range r.d.Effects {
			if e := &r.d.Effects[i]; e.open() && !ec.now.Before(e.dueAt()) && !r.effectWaits(*e) {
				r.ownEffects(0) // changed in place
				e = &r.d.Effects[i]
				e.LeaseOwner, e.LeaseUntil = s.instance, ec.now.Add(s.cfg.EffectLease)
				claimed = true
			}
		}
		if !expired && !closed && !rejected && !overdue && !deferred && !claimed && !erasure {
			return errNoChange
		}
		return nil
	})
	if err != nil {
		return err
	}
	count := func(b bool, n *int) {
		if b {
			*n++
		}
	}
	count(expired, &rep.Expired)
	count(closed, &rep.Closed)
	count(rejected, &rep.Rejected)
	count(overdue, &rep.Overdue)
	count(deferred, &rep.ClosingDeferred)
	count(flagged, &rep.Flagged)
	count(erasure, &rep.ErasureOverdue)
	if erasure {
		s.hooks.erasureOverdue(ctx, next, s.now())
		s.log.WarnContext(ctx, "cancellation: request still undecided past its erasure deadline", "request", r.ID(), "erasure_due_at", next.ErasureDueAt())
	}
	if flagged {
		s.log.ErrorContext(ctx, "cancellation: request needs attention", "request", r.ID(), "reason", "the end of the scheduled period could not be checked")
	}
	if !claimed && !closed && !rejected && !expired {
		// This call claimed nothing and made no transition (whose effects,
		// such as its event, it holds): effects this instance holds belong
		// to another of its calls (an inline settle, the runner's woken
		// work), which carries them out.
		return nil
	}
	_, done, failed := s.settle(ctx, next)
	rep.EffectsDone += done
	rep.EffectsFailed += failed
	return nil
}
