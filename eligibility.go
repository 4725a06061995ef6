package cancellation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Outcome is what a rule concluded about one precondition.
type Outcome string

// Outcomes, from best to worst.
const (
	// OutcomePass: nothing stands in the way.
	OutcomePass Outcome = "pass"
	// OutcomeNeedsConsent: cancellation may proceed once the customer
	// consents to forfeit or keep the finding's items.
	OutcomeNeedsConsent Outcome = "needs_consent"
	// OutcomeBlocked: cancellation cannot proceed until the items are dealt
	// with as the remedy says, or the rule could not be evaluated.
	OutcomeBlocked Outcome = "blocked"
)

func (o Outcome) rank() int {
	switch o {
	case OutcomePass:
		return 0
	case OutcomeNeedsConsent:
		return 1
	}
	return 2 // blocked, and anything unknown: fail closed
}

// Item is one thing a rule found: an order, a voucher, an API key...
type Item struct {
	Kind        string      `json:"kind"`
	Ref         string      `json:"ref"`
	Description string      `json:"description,omitempty"`
	Value       ports.Money `json:"value,omitzero"`
}

// Remedy tells the customer what to do and where.
type Remedy struct {
	Action string `json:"action"`
	Where  string `json:"where,omitempty"`
}

// Finding is a rule's result.
type Finding struct {
	// Rule is the rule's name; the RuleSet fills it in.
	Rule string `json:"rule"`
	// Note is the number of the seed note the rule enforces (0 for host
	// rules).
	Note    int     `json:"note,omitempty"`
	Outcome Outcome `json:"outcome"`
	// Code is a stable code for findings the library makes itself:
	// FindingCheckerUnavailable, FindingNotApplicable; empty otherwise.
	Code    string  `json:"code,omitempty"`
	Summary string  `json:"summary,omitempty"`
	Items   []Item  `json:"items,omitempty"`
	Remedy  *Remedy `json:"remedy,omitempty"`
	// Error says why the rule could not be evaluated: the finding is then
	// blocked (fail closed) with Code FindingCheckerUnavailable. It is the
	// raw cause, for reviewers and the log: customer views
	// (Report.CustomerView, RequestView, NotEligibleError) leave it out.
	Error string `json:"error,omitempty"`
	// Fingerprint identifies the items; a Consent binds it. The RuleSet
	// fills it in.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// ruleMemo is what the process remembers of the rules of one name (rules
// are configured, so their names are few): the fingerprint of a finding
// without items, which depends on the name alone and most findings have,
// and whether a rule of the name was slow the last time it answered. An
// evaluation looks it up once per rule.
type ruleMemo struct {
	empty string // hashFingerprint(name, nil)
	// slow is set while the rule answered in more than ruleSlowAfter, or
	// did not answer, the last time: a scheduling hint shared by every
	// RuleSet, as rules of one name call the same port.
	slow atomic.Bool
}

// ruleMemos holds a *ruleMemo by rule name, for at most maxRuleMemos names
// (ruleMemoCount of them), so that a rule that names itself anew on every
// call does not grow it without bound: such a rule is hashed every time,
// and starts later when slow.
var (
	ruleMemos     sync.Map
	ruleMemoCount atomic.Int64
)

const maxRuleMemos = 4096

// memoOf returns the memo of the rules of the name, made on first use;
// nil once maxRuleMemos names are remembered.
func memoOf(name string) *ruleMemo {
	if m, ok := ruleMemos.Load(name); ok {
		return m.(*ruleMemo)
	}
	if ruleMemoCount.Add(1) > maxRuleMemos {
		ruleMemoCount.Add(-1)
		return nil
	}
	m, loaded := ruleMemos.LoadOrStore(name, &ruleMemo{empty: hashFingerprint(name, nil)})
	if loaded {
		ruleMemoCount.Add(-1)
	}
	return m.(*ruleMemo)
}

// fingerprint returns the fingerprint of a finding of the rule with the
// items: the memo's when there are none, else hashFingerprint's; m may be
// nil.
func (m *ruleMemo) fingerprint(rule string, items []Item) string {
	if len(items) == 0 && m != nil {
		return m.empty
	}
	return hashFingerprint(rule, items)
}

// wasSlow reports whether the rule was slow last time; m may be nil.
func (m *ruleMemo) wasSlow() bool { return m != nil && m.slow.Load() }

// mark records whether the rule answered slowly; was is whether it was
// slow the time before, as the evaluation read it. m may be nil.
func (m *ruleMemo) mark(was bool, latency time.Duration) {
	if slow := latency > ruleSlowAfter; slow != was && m != nil {
		m.slow.Store(slow)
	}
}

// hashFingerprint hashes the rule and its items in a canonical order.
// Consents on record bind its value, so its encoding must never change:
// one line per item, fmt's "%q %q %q %d %q" of kind, ref, description,
// amount and currency, sorted, after the line "%q" of the rule name. It
// builds the lines with strconv instead of fmt, which gives the same
// bytes. A finding without items has the fingerprint of its rule's name
// alone, which the name's memo keeps (see ruleMemo.fingerprint).
func hashFingerprint(rule string, items []Item) string {
	lines := make([][]byte, len(items))
	for i, it := range items {
		b := make([]byte, 0, 16+len(it.Kind)+len(it.Ref)+len(it.Description)+len(it.Value.Currency))
		b = strconv.AppendQuote(b, it.Kind)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, it.Ref)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, it.Description)
		b = append(b, ' ')
		b = strconv.AppendInt(b, it.Value.Amount, 10)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, it.Value.Currency)
		lines[i] = append(b, '\n')
	}
	slices.SortFunc(lines, bytes.Compare)
	h := sha256.New()
	h.Write(append(strconv.AppendQuote(nil, rule), '\n'))
	for _, l := range lines {
		h.Write(l)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Report is the result of evaluating every rule for one account.
type Report struct {
	Account  ports.AccountID `json:"account"`
	At       time.Time       `json:"at"`
	Outcome  Outcome         `json:"outcome"`
	Findings []Finding       `json:"findings"`
}

func (r Report) filter(o Outcome) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Outcome == o {
			out = append(out, f)
		}
	}
	return out
}

// Blocked returns the blocked findings.
func (r Report) Blocked() []Finding { return r.filter(OutcomeBlocked) }

// NeedsConsent returns the findings that need the customer's consent.
func (r Report) NeedsConsent() []Finding { return r.filter(OutcomeNeedsConsent) }

// Finding returns the finding of the named rule.
func (r Report) Finding(rule string) (Finding, bool) {
	i := slices.IndexFunc(r.Findings, func(f Finding) bool { return f.Rule == rule })
	if i < 0 {
		return Finding{}, false
	}
	return r.Findings[i], true
}

// Consents returns the consents that accept every needs_consent finding
// of r as it stands: what a customer who agrees to all of them submits.
func (r Report) Consents() []Consent {
	var out []Consent
	for _, f := range r.NeedsConsent() {
		out = append(out, Consent{Rule: f.Rule, Fingerprint: f.Fingerprint})
	}
	return out
}

func (r Report) clone() Report {
	c := r
	c.Findings = make([]Finding, len(r.Findings))
	for i, f := range r.Findings {
		f.Items = slices.Clone(f.Items)
		if f.Remedy != nil {
			rem := *f.Remedy
			f.Remedy = &rem
		}
		c.Findings[i] = f
	}
	return c
}

// Rule examines one precondition of cancellation.
//
// Check returns the finding for acct; the RuleSet fills in its Rule name
// and Fingerprint. An error means the rule could not tell: the RuleSet then
// blocks (fails closed). Check must honour ctx and be safe for concurrent
// use.
//
// A rule that answers in the caller's process without blocking may also
// implement [ports.InProcess], as the default rules do over ports that
// do: RuleSet.Evaluate then runs it on the caller's goroutine (unless it
// was slow the last time), where it holds the caller until it returns,
// even past the deadline if it ignores ctx.
type Rule interface {
	Name() string
	Check(ctx context.Context, acct ports.Account) (Finding, error)
}

// RuleFunc adapts a function to a Rule, so hosts can add their own
// preconditions.
type RuleFunc struct {
	RuleName string
	Func     func(ctx context.Context, acct ports.Account) (Finding, error)
}

// Name returns f.RuleName.
func (f RuleFunc) Name() string { return f.RuleName }

// Check calls f.Func.
func (f RuleFunc) Check(ctx context.Context, acct ports.Account) (Finding, error) {
	return f.Func(ctx, acct)
}

// Default limits of a RuleSet.
const (
	DefaultRuleConcurrency = 8
	DefaultRuleTimeout     = 5 * time.Second
)

// RuleSet evaluates rules under one deadline, side by side where they may
// be slow and on the caller's goroutine where they answer in process (see
// Evaluate).
type RuleSet struct {
	Rules []Rule
	// Concurrency bounds the rules running at once (default 8).
	Concurrency int
	// Timeout bounds the evaluation of the whole set (default 5s): a rule
	// that has not answered by then, or not started, is reported blocked,
	// even if it ignores its context. Evaluate returns at the deadline,
	// unless an in-process rule, which runs on the caller's goroutine (see
	// Evaluate), ignores its context: then it returns when that rule does.
	Timeout time.Duration
	// hooks observe each rule's evaluation (set by the Service).
	hooks *hookSet
}

// Evaluate runs every rule and returns the report, whose latency is about
// that of the slowest rule (plus the wait before the spread, below)
// rather than the sum. A rule that errors, panics or times out yields a
// blocked finding that names the rule and the cause (fail closed), and so
// does a finding whose items carry a malformed ref (see CheckID). A rule
// still running at the deadline did not answer, even if it answers
// later; one that never started (Concurrency rules were still running)
// did not start. The report's Outcome is the worst finding's; with no
// rules it is blocked, since nothing was checked.
//
// Where a rule runs depends on how it answered before and on what it says
// of itself. A rule that took longer than 100 µs the last time a rule of
// its name was evaluated (in any RuleSet of the process) starts at once on
// a worker of its own. A rule that implements [ports.InProcess] and
// reports true (the default rules do when their port does, as the memory
// adapters' Platform and [NotApplicable] do) runs on the caller's
// goroutine, with no hand-off: these rules run one after another, once
// the workers for the others are started, and answer in microseconds,
// less than handing them over would cost. The other rules start one after
// another on one worker, and those not started after 200 µs (about a
// millisecond, with the timer's resolution) are spread over workers of
// their own, also while the caller runs its rules, so a slow or hanging
// rule holds up the others by about that. At most Concurrency rules run
// at once, the caller's among them while it runs rules: with Concurrency
// 1 the workers start once the caller is done.
//
// Evaluate returns at the deadline however the rules on workers behave,
// but it cannot leave a rule running on the caller's goroutine: an
// in-process rule that hangs holds up the caller until the rule returns,
// which is the deadline for a rule that honours its context, as every
// rule must. Such a rule did not answer, like one on a worker, the rules
// after it on the caller did not start, and the next evaluation runs it
// on a worker of its own, as it was slow. Evaluate runs each rule on at
// most one goroutine and starts at most one worker per rule not run on the
// caller (reusing idle ones), keeps one deadline for the set, and
// computes each finding's fingerprint once.
func (rs RuleSet) Evaluate(ctx context.Context, acct ports.Account, now time.Time) Report {
	return rs.evaluate(ctx, acct, now, nil)
}

// evaluate is Evaluate with the findings written into buf when it has
// room for them (see Service.evaluateScratch), else into a new slice.
func (rs RuleSet) evaluate(ctx context.Context, acct ports.Account, now time.Time, buf []Finding) Report {
	limit := rs.Concurrency
	if limit <= 0 {
		limit = DefaultRuleConcurrency
	}
	timeout := rs.Timeout
	if timeout <= 0 {
		timeout = DefaultRuleTimeout
	}
	n := len(rs.Rules)
	parent, began := ctx, time.Now()
	// A lazy deadline: rules that answer at once never start its timer.
	ctx, cancel := withLazyDeadline(ctx, began, timeout)
	defer cancel()
	ev := newEvaluation(ctx, rs.Rules, acct, timeout, began, limit, buf)
	if ev.queued > 0 {
		// The rules slow last time each to a worker started at once and
		// the others to one more worker, as Concurrency allows with the
		// caller running its rules; the rest at the spread, or when the
		// caller is done.
		ev.done = make(chan struct{})
		ev.job = ev.work
		ev.want = min(ev.slow+1, ev.queued, limit)
		ev.caller = ev.queued < n
		ev.mu.Lock()
		ev.grow()
		ev.mu.Unlock()
		if ev.workers < ev.queued {
			spread := time.AfterFunc(min(spreadAfter, timeout/4), ev.spread)
			defer spread.Stop()
		}
	}
	ev.runOnCaller()
	// A rule on the caller may have held it past the deadline, which ctx
	// may not tell yet: then no worker starts and nothing is waited for.
	if ev.queued > 0 && ev.over(time.Since(began)) == nil {
		if ev.caller {
			// The caller's place under Concurrency is free for a worker.
			ev.mu.Lock()
			ev.caller = false
			ev.grow()
			ev.mu.Unlock()
		}
		select {
		case <-ev.done:
		case <-ctx.Done():
		}
	}
	findings, answers := ev.close()
	over := ev.over(time.Since(began)) // why rules did not answer, if some did not
	if over == nil {
		over = context.DeadlineExceeded // cannot be: all answered
	}
	gave, within := ev.had()
	for i := range answers {
		a := &answers[i] // a worker may still start the rule: no copy
		latency := a.latency
		if !a.ok {
			// A rule not taken (the workers, or the caller, were busy with
			// rules that did not answer) did not start; one that did start
			// did not answer, and was slow.
			what := "start"
			if a.started.Load() {
				what = "answer"
				ev.memos[i].mark(ev.memos[i].wasSlow(), time.Since(began))
			}
			findings[i] = failed(ev.names[i], ev.memos[i], fmt.Errorf("rule did not %s within %v: %w", what, within, over))
			// A rule on the caller may have held it past the deadline: the
			// evaluation gave up on the rule at the deadline.
			latency = min(time.Since(began), gave)
		}
		rs.hooks.rule(parent, findings[i], latency)
	}
	ev.release()
	rep := Report{Account: acct.ID, At: now, Outcome: OutcomePass, Findings: findings}
	if len(findings) == 0 {
		rep.Outcome = OutcomeBlocked
	}
	for _, f := range findings {
		if f.Outcome.rank() > rep.Outcome.rank() {
			rep.Outcome = f.Outcome
		}
	}
	return rep
}

// ruleSlowAfter is the latency past which a rule starts, the next time a
// rule of its name is evaluated, on a goroutine of its own at once.
const ruleSlowAfter = 100 * time.Microsecond

// checkRule calls the rule, its finding into *f, turning a panic into an
// error. Finding is written in place, not returned: it is a large value,
// and an evaluation copies each once, into its findings.
func checkRule(ctx context.Context, rule Rule, acct ports.Account, f *Finding) (err error) {
	defer func() {
		if p := recover(); p != nil {
			*f, err = Finding{}, fmt.Errorf("rule panicked: %v", p)
		}
	}()
	if rule == nil {
		return errors.New("rule is nil")
	}
	if *f, err = rule.Check(ctx, acct); err == nil {
		err = checkItemRefs(f.Items)
	}
	return err
}

// complete completes a rule's finding in place: its name and fingerprint,
// and a blocked finding for err or an unknown outcome. memo is the name's
// (nil past maxRuleMemos).
func complete(name string, memo *ruleMemo, f *Finding, err error) {
	f.Rule = name
	switch {
	case err != nil:
		*f = unavailableFinding(name, f.Note, fmt.Sprintf("%s: %v", name, err))
	case f.Outcome != OutcomePass && f.Outcome != OutcomeNeedsConsent && f.Outcome != OutcomeBlocked:
		*f = unavailableFinding(name, f.Note, fmt.Sprintf("%s: unknown outcome %q", name, f.Outcome))
	case f.Code == FindingCheckerUnavailable:
		// Only the library marks a checker unavailable: a rule that claims
		// it would make its blocked finding undecidable.
		f.Code = ""
	}
	f.Fingerprint = memo.fingerprint(name, f.Items)
}

// failed is the finding of a rule that did not answer, for err.
func failed(name string, memo *ruleMemo, err error) Finding {
	var f Finding
	complete(name, memo, &f, err)
	return f
}

// ruleName returns the rule's name; a Name that panics names nothing.
func ruleName(rule Rule) (name string) {
	defer func() {
		if recover() != nil {
			name = "unnamed rule"
		}
	}()
	return rule.Name()
}

// Checkers are the ports that DefaultRules reads. A nil port makes its rule
// block with an error, never pass.
type Checkers struct {
	Orders         ports.OrderChecker
	Balances       ports.BalanceChecker
	Authorizations ports.AuthorizationStore
	SubUsers       ports.SubUserStore
	APIKeys        ports.APIKeyStore
	Data           ports.DataInventory
	Complaints     ports.ComplaintChecker
	Matters        ports.MatterChecker
	// Where overrides, per rule name, the place a remedy sends the
	// customer to (a console path or URL of the host).
	Where map[string]string
}

// Names of the default rules, one per note of the seed.
const (
	RuleOpenObligations = "open_obligations"       // note 1
	RuleUnusedRights    = "unused_rights"          // note 2
	RuleThirdParty      = "third_party_bindings"   // note 3
	RuleSubUsers        = "sub_users"              // note 4
	RuleAPIKeys         = "api_keys"               // note 5
	RuleDataBackup      = "data_backup"            // note 6
	RuleNoEvasion       = "disputes_and_oversight" // note 7
	RuleNoComplaints    = "complaints_and_reports" // note 8
	RuleOtherMatters    = "other_matters"          // note 9
)

var defaultWhere = map[string]string{
	RuleOpenObligations: "Billing Center > Orders",
	RuleUnusedRights:    "Billing Center > Balances and Vouchers",
	RuleThirdParty:      "Account Center > Security Settings > Third-party Bindings",
	RuleSubUsers:        "User Management",
	RuleAPIKeys:         "API Key Management",
	RuleDataBackup:      "each product's console",
	RuleNoEvasion:       "Support Center",
	RuleNoComplaints:    "Support Center",
	RuleOtherMatters:    "Account Center",
}

func (c Checkers) remedy(rule, action string) *Remedy {
	where := defaultWhere[rule]
	if w, ok := c.Where[rule]; ok {
		where = w
	}
	return &Remedy{Action: action, Where: where}
}

// portRule is a default rule: a RuleFunc over one port, which runs on the
// caller's goroutine (see RuleSet.Evaluate) when its port says it answers
// there.
type portRule struct {
	RuleFunc
	port any
}

// InProcess implements [ports.InProcess]: the rule is in process when its
// port is. A nil port is not (the rule fails at once, on a worker, which
// costs nothing that matters), nor is one whose InProcess panics, as a
// typed nil pointer's may.
func (r portRule) InProcess() bool { return inProcess(r.port) }

// listRule builds a rule over a port that lists items: no items pass,
// otherwise the finding has the outcome given and, when blocked, a remedy.
func listRule[T any](c Checkers, name string, note int, port any, list func(context.Context, ports.AccountID) ([]T, error),
	item func(T) Item, decide func([]T) (Outcome, string, string)) Rule {
	return portRule{port: port, RuleFunc: RuleFunc{RuleName: name, Func: func(ctx context.Context, acct ports.Account) (Finding, error) {
		if port == nil {
			return Finding{Note: note}, fmt.Errorf("no port is wired for note %d", note)
		}
		if notApplicable(port) {
			return Finding{Note: note, Outcome: OutcomePass, Code: FindingNotApplicable, Summary: "does not apply to this platform"}, nil
		}
		got, err := list(ctx, acct.ID)
		if err != nil {
			return Finding{Note: note}, err
		}
		f := Finding{Note: note, Outcome: OutcomePass}
		if len(got) == 0 {
			return f, nil
		}
		outcome, summary, action := decide(got)
		f.Outcome, f.Summary = outcome, summary
		for _, g := range got {
			f.Items = append(f.Items, item(g))
		}
		if action != "" {
			f.Remedy = c.remedy(name, action)
		}
		return f, nil
	}}}
}

// DefaultRules maps the nine notes of the seed onto the ports:
//
//  1. open orders, services, payments, obligations: blocked
//  2. unused cash, gift cards, vouchers, cloud resources: needs consent to forfeit
//  3. third-party bindings and authorizations: needs consent to keep them
//  4. collaborators, sub-users, message recipients: blocked until deleted
//  5. API keys: blocked until deleted
//  6. data under the account: needs consent (backed up, or retention waived)
//  7. disputes, litigation, regulatory matters, legal holds: blocked
//  8. complaints and reports: blocked
//  9. other matters: blocked or needs consent, as the host's matter says
func DefaultRules(c Checkers) []Rule {
	return []Rule{
		listRule(c, RuleOpenObligations, 1, c.Orders, portFunc(c.Orders, ports.OrderChecker.OpenObligations),
			func(o ports.Obligation) Item {
				return Item{Kind: string(o.Kind), Ref: o.Ref, Description: o.Description, Value: o.Amount}
			},
			func(o []ports.Obligation) (Outcome, string, string) {
				return OutcomeBlocked, fmt.Sprintf("%d uncompleted orders, services or unsettled payments", len(o)),
					"complete or cancel the orders and services and settle every payment"
			}),
		listRule(c, RuleUnusedRights, 2, c.Balances, portFunc(c.Balances, ports.BalanceChecker.UnusedRights),
			func(r ports.Right) Item {
				return Item{Kind: string(r.Kind), Ref: r.Ref, Description: r.Description, Value: r.Value}
			},
			func(r []ports.Right) (Outcome, string, string) {
				return OutcomeNeedsConsent, fmt.Sprintf("%d unused rights will be forfeited and can no longer be used", len(r)),
					"use or withdraw them first, or consent to forfeit them"
			}),
		listRule(c, RuleThirdParty, 3, c.Authorizations, portFunc(c.Authorizations, ports.AuthorizationStore.Authorizations),
			func(a ports.Authorization) Item {
				return Item{Kind: string(a.Kind), Ref: a.Ref, Description: a.Party}
			},
			func(a []ports.Authorization) (Outcome, string, string) {
				return OutcomeNeedsConsent, fmt.Sprintf("%d third-party bindings or authorizations are still active", len(a)),
					"unbind them and revoke the authorizations, or confirm that keeping them harms neither you nor the third parties"
			}),
		listRule(c, RuleSubUsers, 4, c.SubUsers, portFunc(c.SubUsers, ports.SubUserStore.SubUsers),
			func(u ports.SubUser) Item { return Item{Kind: string(u.Kind), Ref: u.Ref, Description: u.Name} },
			func(u []ports.SubUser) (Outcome, string, string) {
				return OutcomeBlocked, fmt.Sprintf("%d collaborators, sub-users or message recipients remain", len(u)),
					"delete all collaborators, sub-users and message recipients"
			}),
		listRule(c, RuleAPIKeys, 5, c.APIKeys, portFunc(c.APIKeys, ports.APIKeyStore.APIKeys),
			func(k ports.APIKey) Item { return Item{Kind: "api_key", Ref: k.ID, Description: k.Label} },
			func(k []ports.APIKey) (Outcome, string, string) {
				return OutcomeBlocked, fmt.Sprintf("%d API keys remain", len(k)), "delete all API keys"
			}),
		listRule(c, RuleDataBackup, 6, c.Data, portFunc(c.Data, ports.DataInventory.DataHoldings),
			func(d ports.DataHolding) Item {
				return Item{Kind: string(d.Kind), Ref: d.Ref, Description: d.Description}
			},
			func(d []ports.DataHolding) (Outcome, string, string) {
				return OutcomeNeedsConsent, fmt.Sprintf("%d data holdings will be deleted with the account", len(d)),
					"migrate and back up the data, or consent to waive retaining and retrieving it"
			}),
		casesRule(c, RuleNoEvasion, 7, "disputes, lawsuits or regulatory matters are pending",
			"settle the disputes, litigation or regulatory matters first",
			ports.CaseDispute, ports.CaseLitigation, ports.CaseRegulatory, ports.CaseLegalHold),
		casesRule(c, RuleNoComplaints, 8, "the account is involved in complaints or reports",
			"resolve the complaints and reports first", ports.CaseComplaint, ports.CaseReport),
		listRule(c, RuleOtherMatters, 9, c.Matters, portFunc(c.Matters, ports.MatterChecker.OpenMatters),
			func(m ports.Matter) Item {
				return Item{Kind: map[bool]string{true: "blocking_matter", false: "matter"}[m.Blocking], Ref: m.Ref, Description: m.Description}
			},
			func(ms []ports.Matter) (Outcome, string, string) {
				var remedies []string
				for _, m := range ms {
					if m.Blocking && m.Remedy != "" {
						remedies = append(remedies, m.Remedy)
					}
				}
				if slices.ContainsFunc(ms, func(m ports.Matter) bool { return m.Blocking }) {
					action := "handle the matters listed"
					if len(remedies) > 0 {
						action = strings.Join(remedies, "; ")
					}
					return OutcomeBlocked, "other matters that affect your rights must be handled first", action
				}
				return OutcomeNeedsConsent, fmt.Sprintf("%d other matters may affect your rights", len(ms)), ""
			}),
	}
}

// casesRule is a rule over the ComplaintChecker restricted to some kinds.
func casesRule(c Checkers, name string, note int, summary, action string, kinds ...ports.CaseKind) Rule {
	var list func(context.Context, ports.AccountID) ([]ports.Case, error)
	if c.Complaints != nil {
		list = func(ctx context.Context, id ports.AccountID) ([]ports.Case, error) {
			all, err := c.Complaints.OpenCases(ctx, id)
			if err != nil {
				return nil, err
			}
			return slices.DeleteFunc(all, func(k ports.Case) bool { return !slices.Contains(kinds, k.Kind) }), nil
		}
	}
	return listRule(c, name, note, c.Complaints, list,
		func(k ports.Case) Item { return Item{Kind: string(k.Kind), Ref: k.Ref, Description: k.Summary} },
		func([]ports.Case) (Outcome, string, string) { return OutcomeBlocked, summary, action })
}

// portFunc binds a method expression to a port, or returns nil for a nil
// port so that listRule reports it.
func portFunc[P any, T any](p P, m func(P, context.Context, ports.AccountID) ([]T, error)) func(context.Context, ports.AccountID) ([]T, error) {
	return func(ctx context.Context, id ports.AccountID) ([]T, error) { return m(p, ctx, id) }
}
