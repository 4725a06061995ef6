package cancellation_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestConsentRequiredError_ConsentsAreWhatToGive: the helper's consents,
// given, satisfy the check that refused.
func TestConsentRequiredError_ConsentsAreWhatToGive(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-consents-helper")
	r := f.untilVerified(a.ID)
	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-new", Value: ports.Money{Amount: 500, Currency: "USD"}})
	_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
	ce := requireConsentMissing(t, err)
	require.Len(t, ce.Consents(), 1)
	_, err = f.svc.Consent(f.ctx, a.ID, r.ID(), append(r.Consents(), ce.Consents()...))
	require.NoError(t, err)
	f.submit(r)
}

// TestNotApplicable_HostWithoutAConceptPassesExplicitly: a host without
// sub-users or API keys passes NotApplicable; the rules pass with the
// not_applicable code and the whole cancellation goes through.
func TestNotApplicable_HostWithoutAConceptPassesExplicitly(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) {
		c.Checkers.SubUsers = cancellation.NotApplicable{}
		c.Checkers.APIKeys = &cancellation.NotApplicable{}
	})
	a := f.personal("acct-na")
	f.platform.AddAPIKey(a.ID, ports.APIKey{ID: "k-ignored"}) // the platform's keys are not consulted
	rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
	require.NoError(t, err)
	for _, rule := range []string{cancellation.RuleSubUsers, cancellation.RuleAPIKeys} {
		fd, _ := rep.Finding(rule)
		require.Equal(t, cancellation.OutcomePass, fd.Outcome, rule)
		require.Equal(t, cancellation.FindingNotApplicable, fd.Code, rule)
	}
	require.Equal(t, cancellation.StateCancelled, f.approve(f.toReview(a.ID)).State())
}

// TestExportedLists_ChangingThemChangesNoValidation: ReasonCodes and
// States are copies; a host that edits them changes nothing the library
// accepts. (Not parallel: it edits package variables.)
func TestExportedLists_ChangingThemChangesNoValidation(t *testing.T) {
	savedReasons, savedStates := cancellation.ReasonCodes, cancellation.States
	t.Cleanup(func() { cancellation.ReasonCodes, cancellation.States = savedReasons, savedStates })
	cancellation.ReasonCodes = append(cancellation.ReasonCodes, "made_up")
	cancellation.States = nil

	f := newFixture(t)
	a := f.personal("acct-lists")
	r := f.toReview(a.ID)
	_, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{"made_up"}, "")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput, "an added code is still unknown")
	require.True(t, cancellation.StateInReview.Valid(), "an emptied list still validates states")
}

// TestNotifications_UseTheTemplateConstants: the templates and data keys
// a Notifier receives are the exported constants.
func TestNotifications_UseTheTemplateConstants(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-templates")
	r := f.approve(f.toReview(a.ID))
	var got []string
	for _, n := range f.kit.Notifier.Sent() {
		got = append(got, n.Template)
		require.Equal(t, r.ID(), n.Data[cancellation.DataRequestID])
	}
	require.Equal(t, []string{cancellation.TemplateReviewApproved, cancellation.TemplateCancelled, cancellation.TemplateCancelled}, got)
}
