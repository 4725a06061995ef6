package cancellation_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// boundedText is one entry point that takes free text staff write, which
// the request and its history store.
type boundedText struct {
	name  string
	field string
	max   int
	// prepare readies the request the call acts on and returns its id;
	// "" when the call creates one (of account acct).
	prepare func(f *fixture) string
	// call passes text as the field, by rv (nil: the case's staff member).
	call func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error)
	// event is the history event that records the text under field.
	event cancellation.EventType
}

// by is rv, or def when rv is nil.
func by(rv *cancellation.Reviewer, def cancellation.Reviewer) cancellation.Reviewer {
	if rv != nil {
		return *rv
	}
	return def
}

const boundAcct ports.AccountID = "acct-bound"

func boundedTexts() []boundedText {
	inReview := func(f *fixture) string { f.personal(boundAcct); return f.toReview(boundAcct).ID() }
	closure := func(blocked bool) func(f *fixture) string {
		return func(f *fixture) string {
			r := f.staffClosure(boundAcct)
			if blocked {
				f.platform.AddObligation(boundAcct, ports.Obligation{Kind: ports.ObligationPayment, Ref: "bill-1", Amount: usd(990)})
			}
			return r.ID()
		}
	}
	return []boundedText{
		{
			name: "Approve", field: "note", max: cancellation.MaxNoteLength, prepare: inReview, event: cancellation.EventApproved,
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.Approve(f.ctx, by(rv, staff), id, text)
			},
		},
		{
			name: "Reject", field: "note", max: cancellation.MaxNoteLength, prepare: inReview, event: cancellation.EventRejected,
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.Reject(f.ctx, by(rv, staff), id, []cancellation.ReasonCode{cancellation.ReasonOther}, text)
			},
		},
		{
			name: "AskForMore", field: "note", max: cancellation.MaxNoteLength, event: cancellation.EventReturned,
			prepare: func(f *fixture) string {
				f.account(boundAcct, ports.Personal, true)
				return f.toReview(boundAcct).ID()
			},
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				m := askPassport
				m.Note = text
				return f.svc.AskForMore(f.ctx, by(rv, staff), id, m)
			},
		},
		{
			name: "StartStaffClosure", field: "note", max: cancellation.MaxNoteLength, event: cancellation.EventAwaitingApproval,
			prepare: func(f *fixture) string { f.account(boundAcct, ports.Personal, true); return "" },
			call: func(f *fixture, rv *cancellation.Reviewer, _, text string) (*cancellation.Request, error) {
				return f.svc.StartStaffClosure(f.ctx, by(rv, as(senior1)), boundAcct,
					cancellation.StaffClosureStart{Reason: cancellation.StaffReasonLegalOrder, Note: text})
			},
		},
		{
			name: "ApproveStaffClosure", field: "note", max: cancellation.MaxNoteLength, prepare: closure(false), event: cancellation.EventApproved,
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.ApproveStaffClosure(f.ctx, by(rv, as(senior2)), id, cancellation.StaffApproval{Note: text})
			},
		},
		{
			name: "ApproveStaffClosure", field: "justification", max: cancellation.MaxNoteLength, prepare: closure(true), event: cancellation.EventBlockersOverridden,
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.ApproveStaffClosure(f.ctx, by(rv, as(senior2)), id, cancellation.StaffApproval{Note: "ok", Justification: text})
			},
		},
		{
			name: "DeclineStaffClosure", field: "note", max: cancellation.MaxNoteLength, prepare: closure(false), event: cancellation.EventRejected,
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.DeclineStaffClosure(f.ctx, by(rv, as(senior1)), id, text)
			},
		},
		{
			name: "ExtendErasureDeadline", field: "reason", max: cancellation.MaxErasureReason, event: cancellation.EventErasureExtended,
			prepare: func(f *fixture) string { f.personal(boundAcct); return f.start(boundAcct).ID() },
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.ExtendErasureDeadline(f.ctx, by(rv, as(senior1)), id, 1, text)
			},
		},
		{
			name: "GiveUpEffect", field: "reason", max: cancellation.MaxGiveUpReason, event: cancellation.EventEffectGivenUp,
			prepare: func(f *fixture) string {
				r, _ := f.withDesk().approveFailing(boundAcct)
				return r.ID()
			},
			call: func(f *fixture, rv *cancellation.Reviewer, id, text string) (*cancellation.Request, error) {
				return f.svc.GiveUpEffect(f.ctx, by(rv, deskAdmin), id, id+"/close_account", text)
			},
		},
	}
}

// TestFreeText_OneCharacterOverTheBoundIsRefusedAndTheBoundStored: at
// every entry point that takes free text, a text one character longer
// than its bound is a ValidationError (ErrInvalidInput) naming the field,
// for a staff member the directory does not know too (the text is checked
// before anything is read), and the request is unchanged: same version,
// same history. A text of exactly the bound is accepted and stored whole
// in the history. Characters are counted as code points: "é" is two bytes
// and counts once.
func TestFreeText_OneCharacterOverTheBoundIsRefusedAndTheBoundStored(t *testing.T) {
	t.Parallel()
	for _, c := range boundedTexts() {
		t.Run(c.name+"/"+c.field, func(t *testing.T) {
			f := setup(t).withStaff()
			id := c.prepare(f)
			var before any
			var version int64
			var events int
			if id != "" {
				before, version, events = f.storedJSON(id), f.stored(id).Version(), len(f.history(id))
			}

			over := strings.Repeat("é", c.max+1)
			nobody := cancellation.Reviewer{ID: "nobody-at-all"}
			for _, rv := range []*cancellation.Reviewer{nil, &nobody} {
				_, err := c.call(f, rv, id, over)
				require.ErrorIs(t, err, cancellation.ErrInvalidInput)
				var ve *cancellation.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, c.field, ve.Field)
				require.NotContains(t, err.Error(), "éé", "the text is not echoed")
			}
			if id == "" {
				require.Zero(t, f.requestCount(boundAcct), "no request was created")
			} else {
				require.Equal(t, version, f.stored(id).Version())
				require.Len(t, f.history(id), events)
				f.requireUnchanged(id, before)
			}

			exact := strings.Repeat("é", c.max)
			require.Equal(t, c.max, utf8.RuneCountInString(exact))
			r, err := c.call(f, nil, id, exact)
			require.NoError(t, err)
			require.Equal(t, exact, lastOf(t, r, c.event).Data[c.field], "stored whole")
		})
	}
}
