package cancellation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Config wires a Service. Store, Accounts, every Checkers port, OTP (or
// Verifier), Notifier, Documents, Closer and Staff are required; the rest have
// defaults or are optional.
type Config struct {
	Store    Store
	Accounts ports.AccountDirectory
	// Checkers are the ports DefaultRules reads (seed notes 1 to 9).
	Checkers Checkers
	// ExtraRules are the host's own preconditions, evaluated with the
	// default rules.
	ExtraRules []Rule
	// RuleConcurrency and RuleTimeout bound the evaluation; see RuleSet.
	RuleConcurrency int
	RuleTimeout     time.Duration

	// OTP delivers the one-time codes the library draws. Set it or
	// Verifier, not both.
	OTP ports.OTPSender
	// Verifier, instead of OTP, is a managed verification service that
	// draws, sends and checks the codes itself: the library never sees
	// the code sent nor stores anything of it, while its attempt limit,
	// resend cooldown, daily cap and code lifetime (VerificationPolicy)
	// still apply before the service is called (see managedotp.go).
	Verifier  ports.VerificationService
	Notifier  ports.Notifier
	Documents ports.DocumentStore
	Closer    ports.AccountCloser
	// Exporter, if not nil, prepares an export of the customer's data that
	// the notes step offers (Confirmation.DataExport); see export.go.
	Exporter ports.DataExporter
	// Organizations, if not nil, lets an organisation's admin start
	// closing member accounts (Service.CloseMembers) under MemberQuota;
	// the Store must implement ClosureQuotaStore.
	Organizations ports.OrganizationDirectory
	// MemberQuota bounds the member closures per organisation (default
	// 10% of its members, at least one, per rolling 30 days).
	MemberQuota MemberQuota
	// MemberClosures says what CloseMembers opens for each member: a
	// request the member completes (MemberSteps, the default) or a staff
	// closure two seniors approve (MemberStaffClosures).
	MemberClosures MemberClosureMode
	// Staff resolves the staff ids of the back office (reviewers, seniors,
	// admins) to people with roles; see staff.go.
	Staff ports.StaffDirectory
	// ClaimDuration is how long a reviewer's claim on a request lasts
	// unless renewed (default DefaultClaimDuration); see claims.go.
	ClaimDuration time.Duration

	// Events, if not nil, receives a CloudEvent for each transition of
	// every request, delivered as an effect: at least once, with a stable
	// id (see events.go). Without it no event effect is recorded.
	Events ports.EventPublisher
	// EventSource is the CloudEvents source of the events (default
	// DefaultEventSource), a URI reference naming this deployment.
	EventSource string

	// Clock defaults to the system clock.
	Clock ports.Clock
	// Calendar defaults to NewCalendar(time.UTC): Monday to Friday.
	Calendar ports.BusinessCalendar
	// Notes defaults to DefaultNotes().
	Notes *Notes
	// NotesTranslations are Notes in other languages (set Notes.Language):
	// Confirm accepts the version of any of them. With neither Notes nor
	// NotesTranslations set, the Service offers DefaultTranslations().
	NotesTranslations []Notes

	Verification   VerificationPolicy
	DocumentPolicy DocumentPolicy
	// ClosingMode defaults to Immediate.
	ClosingMode ClosingMode
	// ExpireAfter is how long an application may sit idle before
	// submission (or, returned to the customer, before submitting again)
	// until maintenance expires it (default 7 days).
	ExpireAfter time.Duration
	// MaxReturns is how often a reviewer may return a request to the
	// customer (Service.AskForMore); 0 means DefaultMaxReturns, and at
	// most MaxReturnsLimit is accepted.
	MaxReturns int
	// MaintenanceConcurrency bounds the requests whose due work one
	// RunMaintenance call, or one Service.Run (its passes and its woken
	// work together), does at once (default DefaultMaintenanceConcurrency),
	// so that a slow port on one request does not delay the others;
	// requests whose account closing is due start first, whatever batch of
	// the pass they are in.
	MaintenanceConcurrency int
	// Retry governs effect retries (default 30 s doubling up to 1 h).
	Retry RetryPolicy
	// EffectLease is how long a Service instance holds an effect it is
	// carrying out before another replica may retry it (default 1 min).
	// Each port call is given half of it.
	EffectLease time.Duration
	// Effects chooses where the effects of a transition (notifications,
	// closing the account, the purge) are carried out: EffectsInline, the
	// default, in the caller's call; EffectsDeferred, by the background
	// runner (Service.Run) or RunMaintenance, so the call returns as soon
	// as the transition is stored. In both modes the caller's context
	// bounds the caller's call.
	Effects EffectMode
	// PollInterval is how often Service.Run looks for due work on its own
	// (default DefaultPollInterval), jittered by up to a fifth either way.
	PollInterval time.Duration
	// AttentionAfter is how long a request may wait on a failing port
	// (the end of its settlement period cannot be checked, an effect keeps
	// failing) before it is flagged for a person (default
	// DefaultAttentionAfter). It is never rejected for a port's failure.
	AttentionAfter time.Duration
	// Logger receives effect failures (default: discard).
	Logger *slog.Logger
	// Hooks observe transitions, effect attempts, rule evaluations,
	// document inspections and use cases (see Hook); adapters/otel turns
	// them into traces and metrics.
	Hooks []Hook
	// HistoryKeys key the history chain (see HistoryKey and
	// VerifyHistory): the first signs new events, each verifies the events
	// that name it, so a rotated-out key stays until its events are gone.
	// Without keys events are chained by plain SHA-256, which detects
	// accidental damage only, and New logs a warning.
	HistoryKeys []HistoryKey
	// AcceptUnkeyedHistory accepts, with HistoryKeys, unkeyed events
	// before the first keyed one: the history of requests stored before
	// keys were configured (their events are never re-signed, which would
	// rewrite the trail). Without it such a request reads as ErrCorrupt,
	// and so does one whose chain someone recomputed without a key. Set it
	// only while you must read requests from before the keys.
	AcceptUnkeyedHistory bool

	// ReceiptKey signs the closing receipt each request is given when it
	// ends as cancelled, rejected or withdrawn (see Receipt). Without it
	// no receipt is issued and New logs a warning.
	ReceiptKey *ReceiptSigningKey
	// ReceiptKeys are further public keys that Service.VerifyReceipt and
	// Service.AuditReceipt accept, besides ReceiptKey's own: the keys of
	// receipts signed before a rotation. Publish them all to customers.
	ReceiptKeys []ReceiptKey
	// IdentifierKeys, when set, keep the login identifiers of cancelled
	// accounts (email, recovery phone, ports.Account.LoginIdentifiers) as
	// keyed hashes for IdentifierRetention, for Service.RecentlyClosed:
	// the first key hashes, every key is tried on a look-up (rotation).
	// The Store must implement IdentifierStore. Without keys nothing is
	// kept and RecentlyClosed returns ErrIdentifiersNotKept.
	IdentifierKeys []IdentifierKey
	// IdentifierRetention is how long kept identifiers count (default
	// DefaultIdentifierRetention, 180 days); RunMaintenance purges them
	// after it.
	IdentifierRetention time.Duration
	// RecordRetention is how long an ended request (cancelled, rejected,
	// withdrawn, expired) is kept, counted from Request.SettledAt, before
	// RunMaintenance deletes it with its history and its receipt: 0 means
	// DefaultRecordRetention (three years, a limitation period); a host
	// may choose a longer or shorter one; negative is refused. A request
	// with a pending effect or a document not yet purged is never deleted.
	// Deleting needs a Store that implements RecordPurger: New refuses a
	// RecordRetention set without one, and with the default logs a warning
	// that records are kept for ever.
	RecordRetention time.Duration
}

// RetryPolicy is exponential backoff for failed effects: the n-th failure
// waits Base*2^(n-1), at most Max.
type RetryPolicy struct {
	Base time.Duration
	Max  time.Duration
}

func (p RetryPolicy) delay(attempts int) time.Duration {
	d := p.Base
	for i := 1; i < attempts && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Service runs the cancellation workflow: the use cases of customers and
// reviewers, and maintenance. It is safe for concurrent use, and several
// Service instances (replicas) may share one Store.
type Service struct {
	cfg      Config
	rules    RuleSet
	notes    Notes
	notesIn  []Notes // NotesTranslations
	otp      VerificationPolicy
	docs     DocumentPolicy
	instance string
	log      *slog.Logger
	// hooks observe the workflow (nil: none).
	hooks *hookSet
	// uploads bounds the uploads buffered and inspected at once.
	uploads *uploadGate
	// wake tells the runner of requests with effects due now.
	wake *waker
	// background counts inline effects still running after their caller's
	// context ended.
	background sync.WaitGroup
	// store is cfg.Store whose infrastructure failures are ErrUnavailable.
	store guardedStore
	// batch is how many requests one List call of maintenance reads:
	// maintenanceBatch (tests make it smaller).
	batch int
	// givenUp counts effects given up through this Service since its
	// last maintenance pass (MaintenanceReport.EffectsGivenUp).
	givenUp atomic.Int64
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New checks cfg and returns a Service. The error names every missing
// port.
func New(cfg Config) (*Service, error) {
	var missing []error
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, invalid("config", name+" is required"))
		}
	}
	need(cfg.Store != nil, "Store")
	need(cfg.Accounts != nil, "Accounts")
	need(cfg.Checkers.Orders != nil, "Checkers.Orders")
	need(cfg.Checkers.Balances != nil, "Checkers.Balances")
	need(cfg.Checkers.Authorizations != nil, "Checkers.Authorizations")
	need(cfg.Checkers.SubUsers != nil, "Checkers.SubUsers")
	need(cfg.Checkers.APIKeys != nil, "Checkers.APIKeys")
	need(cfg.Checkers.Data != nil, "Checkers.Data")
	need(cfg.Checkers.Complaints != nil, "Checkers.Complaints")
	need(cfg.Checkers.Matters != nil, "Checkers.Matters")
	if err := checkCodeDelivery(cfg); err != nil {
		missing = append(missing, err)
	}
	need(cfg.Notifier != nil, "Notifier")
	need(cfg.Documents != nil, "Documents")
	need(cfg.Closer != nil, "Closer")
	need(cfg.Staff != nil, "Staff (the StaffDirectory of the back office)")
	if err := cfg.Effects.validate(); err != nil {
		missing = append(missing, err)
	}
	if err := cfg.ClosingMode.validate(); err != nil {
		missing = append(missing, err)
	}
	if cfg.MaxReturns < 0 || cfg.MaxReturns > MaxReturnsLimit {
		missing = append(missing, invalid("config", fmt.Sprintf("MaxReturns is %d; it must be 0 (the default, %d) to %d", cfg.MaxReturns, DefaultMaxReturns, MaxReturnsLimit)))
	}
	if err := validateHistoryKeys(cfg.HistoryKeys); err != nil {
		missing = append(missing, err)
	}
	if err := validateReceiptKeys(cfg.ReceiptKey, cfg.ReceiptKeys); err != nil {
		missing = append(missing, err)
	}
	if err := validateOrganizations(cfg); err != nil {
		missing = append(missing, err)
	}
	if err := validateIdentifierKeys(cfg); err != nil {
		missing = append(missing, err)
	}
	if err := validateRecordRetention(cfg); err != nil {
		missing = append(missing, err)
	}
	if err := validateEventSource(cfg.EventSource); err != nil {
		missing = append(missing, err)
	}
	if cfg.Notes != nil && (cfg.Notes.Version == "" || len(cfg.Notes.Items) == 0) {
		missing = append(missing, invalid("config", "Notes needs items and a version: build them with NewNotes"))
	}
	names := map[string]bool{}
	for _, r := range append(DefaultRules(cfg.Checkers), cfg.ExtraRules...) {
		switch {
		case r == nil:
			missing = append(missing, invalid("config", "ExtraRules holds a nil rule"))
		case names[r.Name()]:
			missing = append(missing, invalid("config", fmt.Sprintf("two rules are named %q: consents name rules, so names must be unique", r.Name())))
		default:
			names[r.Name()] = true
		}
	}
	hooks, err := newHookSet(cfg.Hooks, cfg.Logger)
	if err != nil {
		missing = append(missing, err)
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Calendar == nil {
		cfg.Calendar = NewCalendar(time.UTC)
	}
	if cfg.ExpireAfter <= 0 {
		cfg.ExpireAfter = 7 * 24 * time.Hour
	}
	if cfg.Retry.Base <= 0 {
		cfg.Retry.Base = 30 * time.Second
	}
	if cfg.Retry.Max < cfg.Retry.Base {
		cfg.Retry.Max = max(time.Hour, cfg.Retry.Base)
	}
	if cfg.EffectLease <= 0 {
		cfg.EffectLease = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.IdentifierRetention == 0 {
		cfg.IdentifierRetention = DefaultIdentifierRetention
	}
	if cfg.AttentionAfter <= 0 {
		cfg.AttentionAfter = DefaultAttentionAfter
	}
	if cfg.RecordRetention == 0 {
		cfg.RecordRetention = DefaultRecordRetention
		if _, ok := cfg.Store.(RecordPurger); !ok {
			cfg.Logger.Warn("cancellation: the Store does not implement RecordPurger: the records of ended requests are kept for ever, past DefaultRecordRetention")
		}
	}
	s := &Service{
		cfg:      cfg,
		notes:    DefaultNotes(),
		otp:      cfg.Verification.withDefaults(),
		docs:     cfg.DocumentPolicy.withDefaults(),
		instance: "svc-" + randomID(6),
		log:      cfg.Logger,
	}
	s.uploads = newUploadGate(s.docs)
	s.wake = newWaker()
	s.batch = maintenanceBatch
	s.store = guardedStore{cfg.Store, s.log}
	if cfg.Notes != nil {
		s.notes = *cfg.Notes
		s.notes.Items = slices.Clone(cfg.Notes.Items)
	}
	s.notesIn = notesTranslations(cfg)
	s.cfg.HistoryKeys = slices.Clone(cfg.HistoryKeys)
	s.cfg.IdentifierKeys = slices.Clone(cfg.IdentifierKeys)
	if len(cfg.HistoryKeys) == 0 {
		s.log.WarnContext(context.Background(), "cancellation: Config.HistoryKeys is empty; the history chain is plain SHA-256, which anyone who can write the Store can recompute")
	}
	if cfg.ReceiptKey == nil {
		s.log.WarnContext(context.Background(), "cancellation: Config.ReceiptKey is not set; requests that end get no signed receipt")
	} else {
		k := *cfg.ReceiptKey
		k.Key = slices.Clone(k.Key)
		s.cfg.ReceiptKey = &k
	}
	s.cfg.ReceiptKeys = slices.Clone(cfg.ReceiptKeys)
	if len(s.otp.Key) == 0 && cfg.Verifier == nil {
		s.log.WarnContext(context.Background(), "cancellation: VerificationPolicy.Key is empty; using a random key, so one-time codes do not survive a restart or verify on another replica")
	}
	if len(s.otp.Key) == 0 {
		s.otp.Key = make([]byte, 32)
		_, _ = rand.Read(s.otp.Key) // crypto/rand.Read never fails on supported platforms
	}
	s.hooks, s.uploads.hooks = hooks, hooks
	if hooks != nil {
		hooks.log = s.log
	}
	s.cfg.Hooks = slices.Clone(cfg.Hooks)
	s.rules = RuleSet{
		Rules:       append(DefaultRules(cfg.Checkers), cfg.ExtraRules...),
		Concurrency: cfg.RuleConcurrency,
		Timeout:     cfg.RuleTimeout,
		hooks:       hooks,
	}
	return s, nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Notes returns the notes text customers must read, with its version.
func (s *Service) Notes() Notes {
	n := s.notes
	n.Items = slices.Clone(n.Items)
	return n
}

// account reads an account that may apply: known and not closed.
func (s *Service) account(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	acct, err := s.anyAccount(ctx, id)
	if err == nil && acct.Closed {
		return ports.Account{}, fmt.Errorf("%w: %s", ErrAccountClosed, id)
	}
	return acct, err
}

// anyAccount reads an account, closed or not.
func (s *Service) anyAccount(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	if err := checkAccountID(id); err != nil {
		return ports.Account{}, err
	}
	acct, err := s.cfg.Accounts.Account(ctx, id)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.Account{}, fmt.Errorf("%w: %s", ErrUnknownAccount, id)
	case err != nil:
		s.log.WarnContext(ctx, "cancellation: account directory unavailable", "account", id, "error", err)
		return ports.Account{}, portUnavailable("read account "+string(id), "AccountDirectory", err)
	}
	return acct, checkDirectoryAccount(id, acct)
}

// requestAccount reads the account for an operation on its request id. When
// the account cannot apply (closed, unknown) and the request is already in a
// final state, the operation is refused for the request's state: after a
// cancellation the account is closed, and every operation on the cancelled
// request must fail with ErrInvalidTransition, not ErrAccountClosed.
func (s *Service) requestAccount(ctx context.Context, account ports.AccountID, id, op string, to State) (ports.Account, error) {
	if err := checkIDs(account, id); err != nil {
		return ports.Account{}, err
	}
	acct, err := s.account(ctx, account)
	if err == nil {
		return acct, nil
	}
	if r, gerr := s.load(ctx, account, id); gerr == nil && r.State().Terminal() {
		return ports.Account{}, r.refuse(op, to, "the request is final")
	}
	return ports.Account{}, err
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Round(0) }

// CheckEligibility evaluates every rule for the account without starting
// anything: the dry run behind "can I cancel?". The report is the
// customer's (Report.CustomerView): a rule whose checker failed shows
// FindingCheckerUnavailable and its remedy, its raw error only in the log.
func (s *Service) CheckEligibility(ctx context.Context, account ports.AccountID) (_ Report, err error) {
	defer s.hooks.operation(&ctx, OpCheckEligibility)(&err)
	acct, err := s.account(ctx, account)
	if err != nil {
		return Report{}, err
	}
	return s.evaluate(ctx, acct, s.now()).ownCustomerView(), nil
}

// Start opens a cancellation request for the account (seed step 1). It
// fails with ErrUnknownAccount, ErrAccountClosed, ErrActiveRequestExists, a
// NotEligibleError carrying the remedies, or an UnavailableError
// (ErrUnavailable) when only a failed port stands in the way, and then
// creates nothing. It never returns a request with an error.
func (s *Service) Start(ctx context.Context, account ports.AccountID) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpStart)(&err)
	acct, earlier, rep, err := s.startable(ctx, account, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r := newRequest("can_"+randomID(12), acct, now, rep, s.cfg.ExpireAfter, Actor{Kind: ActorCustomer, ID: string(acct.ID)}, nil)
	return s.create(ctx, r, earlier, nil)
}

// create stores a request just started, after init (if any) recorded what
// else it needs, and carries out its effects.
func (s *Service) create(ctx context.Context, r *Request, earlier []*Request, init func(*Request, effectCtx)) (*Request, error) {
	r.inheritCodeLimits(earlier)
	now := r.CreatedAt()
	if init != nil {
		ec, err := s.effectCtx(ctx, r.Account())
		if err != nil {
			return nil, err
		}
		init(r, ec)
	}
	if err := s.addEventEffects(r, 0, s.instance, now.Add(s.cfg.EffectLease)); err != nil {
		return nil, err
	}
	r.seal(s.signKey(), r.d.Version)
	r.headOK = s // sealed here: its head needs no check
	if err := s.store.Create(ctx, r); err != nil {
		return nil, err
	}
	s.hooks.transitions(ctx, r)
	r.markStored()
	if len(r.d.Effects) > 0 {
		r, _, _ = s.settle(ctx, r)
	}
	return r, nil
}

// Get returns the account's request with the id, holding its whole
// history, verified (see VerifyHistory). A request of another account is
// reported as ErrNotFound, so callers see only their own, and so is a
// staff closure staff declined, which the customer was never told of.
func (s *Service) Get(ctx context.Context, account ports.AccountID, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpGet)(&err)
	r, err := s.load(ctx, account, id)
	if err != nil {
		return nil, err
	}
	return s.fullHistory(ctx, r)
}

// load reads the account's request with its newest event only, for a
// change or a check.
func (s *Service) load(ctx context.Context, account ports.AccountID, id string) (*Request, error) {
	if err := checkIDs(account, id); err != nil {
		return nil, err
	}
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Account() != account || r.hiddenFromCustomer() {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, nil
}

// hiddenFromCustomer reports whether the customer must not see r at all:
// a staff closure staff declined was never announced to them (a fraud or
// legal case must not be tipped off), so Get, Receipt and PastRequests
// answer as if it did not exist.
func (r *Request) hiddenFromCustomer() bool {
	return r.d.StaffClosure != nil && r.d.State == StateRejected
}

// Active returns the account's request in progress, or ErrNotFound. It
// holds its newest event only (Get reads the whole history), verified as
// Get verifies it: a tampered head is an error wrapping ErrCorrupt.
func (s *Service) Active(ctx context.Context, account ports.AccountID) (*Request, error) {
	if err := checkAccountID(account); err != nil {
		return nil, err
	}
	r, err := s.store.ActiveFor(ctx, account)
	if err != nil {
		return nil, err
	}
	// As for Get: a head that fails its hash or disagrees with the state
	// is reported, not shown.
	if err := s.checkHead(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Confirm records that the customer read the notes (by version),
// acknowledged that cancellation is irreversible, gave the three
// attestations and consented to every finding that needs it (seed step 2).
// Eligibility is evaluated again; if anything is missing the error lists it
// and nothing changes (an UnavailableError when a checker failed). It
// never returns a request with an error.
func (s *Service) Confirm(ctx context.Context, account ports.AccountID, id string, c Confirmation) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpConfirm)(&err)
	acct, err := s.requestAccount(ctx, account, id, "confirm", StateConfirmed)
	if err != nil {
		return nil, err
	}
	if err := s.checkExportChoice(c); err != nil {
		return nil, err
	}
	rep, findings := s.evaluateScratch(ctx, acct, s.now())
	defer releaseFindings(findings)
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		if err := r.confirm(ec.now, c, s.notesVersion(c.NotesVersion), rep); err != nil {
			return err
		}
		r.recordExportChoice(ec, c.DataExport)
		return nil
	})
}

// Consent replaces the consents on record after the findings changed
// since confirmation (a new voucher, a top-up): Submit refuses with a
// ConsentRequiredError until the customer consents to the current items.
// Consenting again to what is on record is a no-op: nothing is written.
// It never returns a request with an error.
func (s *Service) Consent(ctx context.Context, account ports.AccountID, id string, consents []Consent) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpConsent)(&err)
	acct, err := s.requestAccount(ctx, account, id, "consent on", "")
	if err != nil {
		return nil, err
	}
	rep, findings := s.evaluateScratch(ctx, acct, s.now())
	defer releaseFindings(findings)
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		return r.consent(ec.now, consents, rep)
	})
}

// SendCode sends a one-time code to the recovery phone on file, never to a
// number the caller chooses (seed step 3). Codes are rate-limited: see
// VerificationPolicy. When the OTPSender (or the managed verification
// service, Config.Verifier) fails, the code is withdrawn and the error
// wraps ErrDelivery (and the sender's error, for errors.Is, whose text it
// leaves out); the attempt still counts toward the cooldown and the daily
// cap, since a sender may fail after sending.
func (s *Service) SendCode(ctx context.Context, account ports.AccountID, id string) (_ CodeSent, err error) {
	defer s.hooks.operation(&ctx, OpSendCode)(&err)
	acct, err := s.requestAccount(ctx, account, id, "send a code for", StatePhoneVerified)
	if err != nil {
		return CodeSent{}, err
	}
	if acct.RecoveryPhone == "" {
		return CodeSent{}, fmt.Errorf("%w: %s", ErrNoRecoveryPhone, account)
	}
	code, err := s.drawCode()
	if err != nil {
		return CodeSent{}, err
	}
	r, err := s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		return s.issueCode(r, ec.now, code)
	})
	if err != nil {
		return CodeSent{}, err
	}
	o := *r.otp()
	msg := ports.OTPMessage{
		Phone: acct.RecoveryPhone, Code: code, Locale: acct.Locale, ExpiresAt: o.ExpiresAt,
		IdempotencyKey: fmt.Sprintf("%s/otp/%d", r.ID(), o.Serial),
	}
	if err := s.deliverCode(ctx, msg); err != nil {
		_, rerr := s.mutate(noPrecondition(context.WithoutCancel(ctx)), customer(account), id, func(r *Request, ec effectCtx) error {
			return r.codeUndelivered(ec.now, o.Serial, err)
		})
		s.log.WarnContext(ctx, "cancellation: code delivery failed", "request", id, "error", err)
		return CodeSent{}, errors.Join(&deliveryError{to: MaskPhone(acct.RecoveryPhone), cause: err}, rerr)
	}
	return CodeSent{MaskedPhone: MaskPhone(acct.RecoveryPhone), ExpiresAt: o.ExpiresAt, ResendAt: o.LastSentAt.Add(s.otp.ResendCooldown)}, nil
}

// VerifyCode checks the one-time code and, when it matches, marks the
// recovery phone verified. A wrong code returns a CodeError with the
// attempts left; at the limit the code is burnt and verification locks.
// A wrong code is counted, so VerifyCode then returns the request as
// stored with the counted attempt together with the CodeError; other
// errors come with a nil request. With Config.Verifier the managed service
// checks the code; the attempt is counted before it is asked, and given
// back if it fails to answer.
func (s *Service) VerifyCode(ctx context.Context, account ports.AccountID, id, code string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpVerifyCode)(&err)
	if len(code) != s.otp.CodeLength || strings.Trim(code, "0123456789") != "" {
		return nil, invalid("code", fmt.Sprintf("the code is %d digits", s.otp.CodeLength))
	}
	if s.cfg.Verifier != nil {
		return s.verifyManaged(ctx, account, id, code)
	}
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		changed, err := r.verifyCode(ec.now, s.otp, code)
		if changed && err != nil {
			return keep(err)
		}
		return err
	})
}

// UploadDocument reads, inspects and stores an identity document (seed
// step 4). Only identity-verified accounts upload: personal accounts a
// passport or driver's licence, enterprise accounts a business licence.
// The upload is bounded by DocumentPolicy.Limits and its format sniffed
// from the bytes; a refused file returns a DocumentError and changes
// nothing. An upload of a kind already uploaded replaces it. While a
// reviewer has returned the request (StateReturned), only the kinds asked
// for are uploaded, others refused with ErrNotAsked.
func (s *Service) UploadDocument(ctx context.Context, account ports.AccountID, id string, kind DocumentKind, body io.Reader) (_ Document, err error) {
	defer s.hooks.operation(&ctx, OpUploadDocument)(&err)
	return s.storeUpload(ctx, customer(account), id, kind, body, Actor{Kind: ActorCustomer, ID: string(account)})
}

// storeUpload reads, inspects and stores an upload of kind by a customer
// or staff (by), within scope sc: the customer's document or staff's
// evidence.
func (s *Service) storeUpload(ctx context.Context, sc scope, id string, kind DocumentKind, body io.Reader, by Actor) (Document, error) {
	if body == nil {
		return Document{}, invalid("document", "no body to read")
	}
	var cur *Request
	var err error
	if sc.staff {
		if err = CheckID("id", id); err == nil {
			cur, err = s.store.Get(ctx, id)
		}
	} else {
		cur, err = s.load(ctx, sc.account, id)
	}
	if err != nil {
		return Document{}, err
	}
	if err := checkVersion(ctx, cur); err != nil { // before reading the upload
		return Document{}, err
	}
	if err := cur.checkUpload(kind, by); err != nil {
		return Document{}, err
	}
	data, facts, release, err := s.uploads.take(ctx, body, s.docs.Limits)
	if err != nil {
		return Document{}, err
	}
	defer release()
	doc := Document{Kind: kind, Key: documentKey(id, kind, facts.SHA256), Facts: facts, UploadedAt: s.now()}
	// Reserve the key in the request before the blob exists, so that the
	// purge deletes it even if the process dies between the put and the
	// write that records the document.
	if _, err := s.mutate(ctx, sc, id, func(r *Request, ec effectCtx) error {
		return r.reserveDocument(doc.Kind, doc.Key, by)
	}); err != nil {
		return Document{}, err
	}
	if err := s.cfg.Documents.PutDocument(ctx, doc.Key, contentType(facts.Format), data); err != nil {
		s.log.WarnContext(ctx, "cancellation: document store unavailable", "request", id, "error", err)
		return Document{}, portUnavailable("store the document", "DocumentStore", err)
	}
	var replaced string
	r, err := s.mutate(noPrecondition(ctx), sc, id, func(r *Request, ec effectCtx) error {
		var err error
		replaced, err = r.addDocument(ec.now, doc, by)
		return err
	})
	if err != nil {
		_ = s.cfg.Documents.DeleteDocument(context.WithoutCancel(ctx), doc.Key) // not recorded: do not keep it
		return Document{}, err
	}
	if replaced != "" {
		_ = s.cfg.Documents.DeleteDocument(ctx, replaced) // best effort: the replaced document stays on record for the purge
	}
	for _, d := range r.d.Documents {
		if d.Key == doc.Key {
			return d, nil
		}
	}
	return doc, nil
}

// Submit sends the application to review (seed step 5) after evaluating
// eligibility once more and checking that the consents still cover the
// findings. The review is due three business days later. A request a
// reviewer returned (see AskForMore) is submitted again the same way, once
// every document asked for was uploaded again: its review is due three
// business days from the resubmission. A checker that
// fails returns an UnavailableError (ErrUnavailable) and the request stays
// where it was. It never returns a request with an error.
func (s *Service) Submit(ctx context.Context, account ports.AccountID, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpSubmit)(&err)
	acct, err := s.requestAccount(ctx, account, id, "submit", StateInReview)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rep, findings := s.evaluateScratch(ctx, acct, now)
	defer releaseFindings(findings)
	due := AddBusinessDays(s.cfg.Calendar, now, ReviewDays)
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		return r.submit(ec, rep, due)
	})
}

// Withdraw ends the customer's request: any time before approval, or
// during a cooling-off period until closing begins.
func (s *Service) Withdraw(ctx context.Context, account ports.AccountID, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpWithdraw)(&err)
	return s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		return r.withdraw(ec)
	})
}

// Queue lists the requests in review, overdue first then by due date,
// leaving out the reviewer's own account, limit at a time from offset.
// An offset costs as much as reading what it skips: ReviewQueue pages by
// cursor instead. rv must be a reviewer (ErrForbidden otherwise).
func (s *Service) Queue(ctx context.Context, rv Reviewer, limit, offset int) (_ []QueueItem, err error) {
	defer s.hooks.operation(&ctx, OpQueue)(&err)
	_, rv, err = s.staffMember(ctx, "read the queue", rv)
	if err != nil {
		return nil, err
	}
	rs, err := s.queueList(ctx, Query{States: []State{StateInReview}, OrderByDue: true, ExcludeAccount: rv.Account, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	return s.queueItems(rv, rs), nil
}

// Review returns any request for a reviewer, holding its whole history,
// verified. The first time a staff member opens a request is recorded in
// its history (EventReviewOpened); see StaffActivityLimit.
func (s *Service) Review(ctx context.Context, rv Reviewer, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpReview)(&err)
	m, _, err := s.staffMember(ctx, "review", rv)
	if err != nil {
		return nil, err
	}
	r, err := s.reviewed(ctx, id)
	if err != nil {
		return nil, err
	}
	if r, err = s.recordView(ctx, m, r, "", ""); err != nil {
		return nil, err
	}
	return s.fullHistory(ctx, r)
}

// reviewed reads any request for a reviewer, with its newest event only.
func (s *Service) reviewed(ctx context.Context, id string) (*Request, error) {
	if err := CheckID("id", id); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, id)
}

// ReviewDocument returns a document's bytes for a reviewer. The first
// time a staff member views a document is recorded in the request's
// history (EventDocumentViewed) before the bytes are read; see
// StaffActivityLimit.
func (s *Service) ReviewDocument(ctx context.Context, rv Reviewer, id string, kind DocumentKind) (_ Document, _ []byte, err error) {
	defer s.hooks.operation(&ctx, OpReviewDocument)(&err)
	m, _, err := s.staffMember(ctx, "view a document", rv)
	if err != nil {
		return Document{}, nil, err
	}
	r, err := s.reviewed(ctx, id)
	if err != nil {
		return Document{}, nil, err
	}
	for _, d := range r.d.Documents {
		if d.Kind == kind && d.ReplacedAt.IsZero() && d.PurgedAt.IsZero() {
			if _, err := s.recordView(ctx, m, r, d.Key, d.Kind); err != nil {
				return Document{}, nil, err
			}
			b, err := s.cfg.Documents.GetDocument(ctx, d.Key)
			return d, b, err
		}
	}
	return Document{}, nil, fmt.Errorf("%w: request %s has no %s document", ErrNotFound, id, kind)
}

// Approve records a reviewer's approval (seed step 5). Eligibility is
// evaluated again: if it now blocks, or a consent no longer covers the
// findings, the library rejects the request instead and returns it with a
// NotEligibleError or ConsentRequiredError. Otherwise the result is
// notified and, in Immediate mode, the account is closed at once: login is
// disabled through the AccountCloser and success is sent by SMS and email
// (seed step 6). Of two concurrent decisions exactly one wins; the other
// gets ErrInvalidTransition.
//
// Approve returns a non-nil request together with an error only when the
// library rejected it: the request, rejected and stored, with the
// NotEligibleError or ConsentRequiredError that says why. Every other
// error comes with a nil request and changed nothing; in particular a
// port that fails (a checker, the AccountDirectory) returns an
// UnavailableError (ErrUnavailable): an outage is not a decision, the
// request stays in review and the reviewer tries again later.
//
// With EffectsInline (the default) Approve waits for the effects (closing
// the account, notifying) until they are done or ctx ends, whichever
// comes first; with EffectsDeferred it returns once the approval is
// stored. See Config.Effects.
//
// The note, for staff, is at most MaxNoteLength characters: a longer one
// is a ValidationError (field "note") before anything is read or
// changed.
func (s *Service) Approve(ctx context.Context, rv Reviewer, id, note string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpApprove)(&err)
	if err := checkNote("note", note); err != nil {
		return nil, err
	}
	m, _, err := s.staffMember(ctx, "approve", rv)
	if err != nil {
		return nil, err
	}
	cur, err := s.reviewed(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(ctx, cur); err != nil {
		return nil, err
	}
	if err := cur.checkDecision("approve", StateApproved, m, s.now()); err != nil {
		return nil, err
	}
	// A closed account is read all the same: a concurrent approval may have
	// just closed it, and this one must then lose on the state guard with
	// ErrInvalidTransition. (Closing an account closed by other means is
	// harmless: AccountCloser is idempotent.)
	acct, err := s.anyAccount(ctx, cur.Account())
	if err != nil {
		return nil, err
	}
	rep, findings := s.evaluateScratch(ctx, acct, s.now())
	defer releaseFindings(findings)
	// Start from the copy just read; it is re-read only if it changed.
	return s.mutateFrom(ctx, staff, id, cur, func(r *Request, ec effectCtx) error {
		inReview := r.State() == StateInReview
		if err := r.approve(ec, m, note, rep, s.cfg.ClosingMode); err != nil {
			// Keep the change only when this approval itself rejected the
			// request on eligibility; a request another reviewer already
			// rejected must not be rewritten.
			if inReview && r.State() == StateRejected {
				return keep(err)
			}
			return err
		}
		return nil
	})
}

// Reject records a reviewer's rejection with reason codes; the result is
// notified and the customer may apply again. The note, for staff, is
// required with ReasonOther and at most MaxNoteLength characters; bad
// input is a ValidationError naming the field before anything is read or
// changed.
func (s *Service) Reject(ctx context.Context, rv Reviewer, id string, reasons []ReasonCode, note string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpReject)(&err)
	if err := rv.check(); err != nil {
		return nil, err
	}
	if err := validateReasons(reasons, note); err != nil {
		return nil, err
	}
	m, _, err := s.staffMember(ctx, "reject", rv)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, staff, id, func(r *Request, ec effectCtx) error {
		if err := r.checkDecision("reject", StateRejected, m, ec.now); err != nil {
			return err
		}
		return r.reject(ec, staffActor(m), reasons, note)
	})
}
