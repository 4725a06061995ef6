// Package cancellation is an embeddable workflow engine that lets the
// customers of a cloud or SaaS platform close ("cancel") their account
// safely. Cancellation is irreversible, so the library enforces the whole
// procedure: eligibility preconditions, the customer's confirmation and
// consents, a one-time code to the recovery phone, colour scans of identity
// documents for identity-verified customers, a human review due in three
// business days, the result notified by phone or email, and finally login
// disabled and success sent by SMS and email.
//
// The host platform implements small interfaces over its own systems
// (package ports: AccountDirectory, OrderChecker, BalanceChecker,
// AuthorizationStore, SubUserStore, APIKeyStore, DataInventory,
// ComplaintChecker, MatterChecker, OTPSender, Notifier, DocumentStore,
// AccountCloser) and gets a correct, auditable, concurrent-safe and durable
// workflow. Package adapters/memory implements every port in memory for
// tests and demos; adapters/sqlstore persists requests in SQLite or
// PostgreSQL.
//
// # Lifecycle
//
// One [Request] per application, at most one active per account:
//
//	started ──Confirm──▶ confirmed ──VerifyCode──▶ phone_verified
//	   ──UploadDocument (identity-verified accounts only)──▶ documents_uploaded
//	   ──Submit──▶ in_review ──Approve──▶ approved ──▶ [scheduled] ──▶ cancelled
//
//	side exits: rejected (reviewer, or eligibility failing at approval or
//	closing), withdrawn (customer, before approval or while cooling off),
//	expired (abandoned before submission, or returned and left idle).
//
//	asking for more: in_review ──AskForMore──▶ returned ──UploadDocument
//	(only the kinds asked for), Submit──▶ in_review, at most
//	Config.MaxReturns rounds; returned also exits to withdrawn or expired.
//
//	closing on a customer's behalf: StartStaffClosure (senior) ──▶
//	awaiting_approval ──AddStaffEvidence, ApproveStaffClosure (a second
//	senior: four eyes)──▶ approved ──▶ cancelled; DeclineStaffClosure ──▶
//	rejected. Refused while the customer's own request is active. Under
//	Config.MemberClosures MemberStaffClosures, CloseMembers (an
//	organisation's admin) opens it instead, and two different seniors
//	approve it (ApproveStaffClosure twice), without evidence to upload.
//
// cancelled is final: there is no restore operation. Every transition is
// checked against the state machine and its guard; a refused move returns an
// error wrapping [ErrInvalidTransition] and changes nothing. Each change is
// recorded in the request's history, an audit trail whose events are
// chained by a keyed hash ([HistoryKey], [VerifyHistory]). The Store keeps
// the history apart from the request and appends to it, so a change costs
// the same at the first event and at the last; a request's history is
// capped ([MaxHistory], [CustomerHistoryLimit]).
//
// # Receipts and deadlines
//
// A request that ends as cancelled, rejected or withdrawn gets a signed
// [Receipt] (Ed25519, JWS compact; [Config.ReceiptKey]): stored with it
// ([Request.Receipt]), attached to the customer's email (except for a
// staff closure staff declined, which the customer never sees), downloadable
// ([Service.Receipt]) and verified offline ([VerifyReceipt],
// cmd/verify-receipt). It names the newest event of the history, so a
// history cut short afterwards is detected ([Receipt.CheckHistory],
// [Service.AuditReceipt]). Each request also carries its erasure deadline
// (GDPR Art. 12(3), [Request.ErasureDueAt], [AddMonths]), which a senior
// may extend by up to two months ([Service.ExtendErasureDeadline]); the
// queue shows it and maintenance counts the requests past it.
//
// # Eligibility
//
// [DefaultRules] maps the nine notes of the cancellation notice onto the
// ports. Each rule yields a [Finding]: pass, needs_consent (items the
// customer forfeits or keeps, with values) or blocked (items and a remedy
// saying what to do and where). [RuleSet.Evaluate] runs the rules under one
// deadline for the set, at the latency of the slowest, and fails closed.
// Rules over ports that answer in process ([ports.InProcess]: the memory
// Platform without latency, [NotApplicable]) run one after another on the
// caller's goroutine, with no hand-off, unless they were slow the last
// time; the others run on goroutines of their own, side by side when they
// are slow. An in-process rule that hangs holds up the caller until it
// returns, which is the deadline for a rule that honours its context, and
// is reported as not answered. A
// checker that fails yields a blocked finding with the code
// [FindingCheckerUnavailable] and the remedy "try again later", which
// decides nothing: the Service returns an [UnavailableError]
// ([ErrUnavailable]) and the request stays where it was, and customers
// never see the port's raw error. Eligibility is evaluated at
// start, at confirmation, at submission, at approval and at closing;
// [Service.CheckEligibility] is the dry run.
//
// # Effects
//
// Notifications and the close call are recorded as pending effects in the
// same Store write as the transition that causes them, carried out after the
// write and marked done. [Service.RunMaintenance], safe to run on every
// replica, retries them with backoff, so a port failure or a crash loses
// none. Effects are carried out at least once: one whose answer was lost
// is carried out again, under the same idempotency key on every attempt,
// and a host that needs exactly once on its side deduplicates by that key
// (the memory adapters do). Maintenance also expires abandoned
// applications, ends cooling-off and settlement periods, flags overdue
// reviews, purges documents past retention and deletes the records of
// requests ended longer than Config.RecordRetention ago; when a port fails at the
// end of a cooling-off or settlement period it retries with backoff and,
// after Config.AttentionAfter, flags the request for a person.
// [Service.Run] is the runner that does all of it on every replica until
// its context ends. Config.Effects chooses whether effects run in the
// caller's call ([EffectsInline], bounded by the caller's context) or in
// the runner ([EffectsDeferred]).
//
// Retries never run out, so an effect is stuck once it has kept failing
// for Config.AttentionAfter. Staff list stuck effects across requests with
// [Service.StuckEffects] (reviewer role); an admin retries one now with
// [Service.RetryEffect] or gives it up with a reason with
// [Service.GiveUpEffect]: it is never attempted again and what its success
// would have done does not happen (a given-up close never cancels the
// request nor closes the account), except that RetryEffect revives a
// given-up purge_documents, whose documents are still held. [MaintenanceReport] counts stuck and
// given-up effects and [HookEffectAdmin] hears each. A customer lists
// their ended requests, customer-safe, with [Service.PastRequests].
//
// # Hooks
//
// [Config.Hooks] observe the workflow without forking it: use cases
// ([HookOperation]), stored transitions ([HookTransition]), effect attempts
// ([HookEffectAttempt]), rule evaluations ([HookRuleEvaluated]), document
// inspections ([HookDocumentInspected]) and stuck, retried and given-up
// effects ([HookEffectAdmin]). adapters/otel turns them into
// OpenTelemetry spans and metrics.
//
// With Config.Events, every transition is also published to the host's
// other systems as a CloudEvents event ([ports.CloudEvent]), delivered as
// an effect under a stable id; see [DefaultEventSource]. With
// Config.Verifier, a managed verification service ([ports.VerificationService])
// sends and checks the one-time code instead of the OTPSender, while the
// [VerificationPolicy] limits still apply.
//
// # Evidence and compliance
//
// With Config.IdentifierKeys a cancellation keeps the account's login
// identifiers as keyed hashes for Config.IdentifierRetention, and
// [Service.RecentlyClosed] tells whether an identifier belonged to a
// recently closed account. With Config.Exporter the notes step offers an
// export of the customer's data (Confirmation.DataExport); a requested
// export is delivered before the account is closed, unless waived
// ([Service.WaiveDataExport]). With Config.Organizations an organisation's
// admin starts closing member accounts ([Service.CloseMembers]) under
// Config.MemberQuota, as member requests or, with Config.MemberClosures
// MemberStaffClosures, as staff closures two seniors approve. An ended
// request is kept, with its history and the platform's copy of its
// receipt, for Config.RecordRetention (default three years) and then
// deleted by maintenance through the Store's [RecordPurger]. The README's
// retention table lists every personal
// datum the library keeps and what purges it.
//
// # Wiring
//
//	kit := memory.NewKit(time.Now()) // or your own ports and sqlstore
//	svc, err := cancellation.New(kit.Config())
//	if err != nil { ... }
//	rep, err := svc.CheckEligibility(ctx, "acct-42")     // can I cancel?
//	req, err := svc.Start(ctx, "acct-42")                // step 1
//	req, err = svc.Confirm(ctx, "acct-42", req.ID(), cancellation.Confirmation{
//		NotesVersion: svc.Notes().Version, Irreversible: true,
//		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
//		Consents:     rep.Consents(),
//	})                                                   // step 2
//	sent, err := svc.SendCode(ctx, "acct-42", req.ID())  // step 3
//	req, err = svc.VerifyCode(ctx, "acct-42", req.ID(), code)
//	doc, err := svc.UploadDocument(ctx, "acct-42", req.ID(), cancellation.DocumentPassport, file) // step 4
//	req, err = svc.Submit(ctx, "acct-42", req.ID())      // step 5
//	req, err = svc.Claim(ctx, reviewer, req.ID())        // a reviewer claims it...
//	req, err = svc.Approve(ctx, reviewer, req.ID(), "")  // ...and decides: steps 5 and 6
//
// and, on every replica, go svc.Run(ctx) (or svc.RunMaintenance(ctx) on a
// timer of the host's).
package cancellation
