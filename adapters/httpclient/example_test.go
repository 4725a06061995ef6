package httpclient_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// A host whose accounts live in its IAM service, balances in billing and
// complaints in support wires one Client per service into
// cancellation.Config. Here the support service is down: the rules that
// read it block the application (fail closed) with an error that names
// the endpoint and status only.
func Example() {
	host := httptest.NewServer(exampleHost())
	defer host.Close()
	ctx := context.Background()

	opts := httpclient.Options{
		Authorize: httpclient.BearerToken("host-service-token"),
		Timeout:   2 * time.Second,
		Backoff:   time.Millisecond,
	}
	service := func(name string) *httpclient.Client {
		c, err := httpclient.New(host.URL+"/"+name, opts)
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	iam, billing, support, messaging, storage := service("iam"), service("billing"), service("support"), service("messaging"), service("storage")

	loc, holidays, err := iam.Holidays(ctx, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "httpclient-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "cancellation.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	svc, err := cancellation.New(cancellation.Config{
		Store:    store,
		Accounts: iam,
		Checkers: cancellation.Checkers{
			Orders: billing, Balances: billing,
			Authorizations: iam, SubUsers: iam, APIKeys: iam,
			Data:       storage,
			Complaints: support, Matters: support,
		},
		OTP: messaging, Notifier: messaging,
		Documents: storage,
		Closer:    iam,
		// The back office's staff: here an in-memory directory; a host
		// wires its own identity system.
		Staff:    memory.NewStaffDirectory(ports.StaffMember{ID: "rev-1", Name: "Ray", Roles: []ports.Role{ports.RoleReviewer}}),
		Calendar: cancellation.NewCalendar(loc, holidays...),
	})
	if err != nil {
		log.Fatal(err)
	}
	report, err := svc.CheckEligibility(ctx, "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("outcome:", report.Outcome)
	// A checker that is down blocks without deciding anything: the
	// customer's report shows its code and remedy; its error (status 503
	// after 3 attempts) goes to the Service's log.
	for _, f := range report.Unavailable() {
		fmt.Println(f.Rule+":", f.Code, "-", f.Remedy.Action)
	}
	for _, f := range report.NeedsConsent() {
		fmt.Println("consent:", f.Rule, f.Items[0].Description)
	}
	// Output:
	// outcome: blocked
	// disputes_and_oversight: checker_unavailable - try again later
	// complaints_and_reports: checker_unavailable - try again later
	// other_matters: checker_unavailable - try again later
	// consent: unused_rights Gift card
}

// exampleHost plays the host's services: IAM knows acct-1 and the
// holidays, billing holds a gift card, support is down, and every other
// list is empty.
func exampleHost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer host-service-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		service, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case service == "support":
			w.WriteHeader(http.StatusServiceUnavailable)
		case path == "accounts/acct-1":
			fmt.Fprint(w, `{"id":"acct-1","kind":"personal","identity_verified":false,"recovery_phone":"+15550100001",
				"email":"ada@example.com","locale":"en","closed":false}`)
		case path == "calendar/holidays":
			fmt.Fprint(w, `{"time_zone":"Europe/Berlin","dates":["2026-12-25","2026-12-26"]}`)
		case path == "accounts/acct-1/rights":
			fmt.Fprint(w, `{"items":[{"kind":"gift_card","ref":"gc-7","description":"Gift card",
				"value":{"amount":2500,"currency":"EUR"}}]}`)
		default:
			fmt.Fprint(w, `{"items":[]}`)
		}
	})
}
