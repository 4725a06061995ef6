package webui

import (
	"context"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// fake answers every checker with one item, so every rule finds something.
type fake struct{}

func (fake) OpenObligations(context.Context, ports.AccountID) ([]ports.Obligation, error) {
	return []ports.Obligation{{Kind: ports.ObligationOrder, Ref: "o1"}}, nil
}
func (fake) UnusedRights(context.Context, ports.AccountID) ([]ports.Right, error) {
	return []ports.Right{{Kind: ports.RightCash, Ref: "cash"}}, nil
}
func (fake) Authorizations(context.Context, ports.AccountID) ([]ports.Authorization, error) {
	return []ports.Authorization{{Kind: ports.AuthorizationAppBinding, Ref: "app"}}, nil
}
func (fake) SubUsers(context.Context, ports.AccountID) ([]ports.SubUser, error) {
	return []ports.SubUser{{Kind: ports.SubUserSubUser, Ref: "u"}}, nil
}
func (fake) APIKeys(context.Context, ports.AccountID) ([]ports.APIKey, error) {
	return []ports.APIKey{{ID: "k"}}, nil
}
func (fake) DataHoldings(context.Context, ports.AccountID) ([]ports.DataHolding, error) {
	return []ports.DataHolding{{Kind: ports.DataBackup, Ref: "d"}}, nil
}
func (fake) OpenCases(context.Context, ports.AccountID) ([]ports.Case, error) {
	return []ports.Case{{Kind: ports.CaseComplaint, Ref: "c"}, {Kind: ports.CaseDispute, Ref: "d"}}, nil
}
func (fake) OpenMatters(context.Context, ports.AccountID) ([]ports.Matter, error) {
	return []ports.Matter{{Ref: "m", Blocking: true}}, nil
}

func fakeCheckers() cancellation.Checkers {
	f := fake{}
	return cancellation.Checkers{Orders: f, Balances: f, Authorizations: f, SubUsers: f, APIKeys: f, Data: f, Complaints: f, Matters: f}
}
