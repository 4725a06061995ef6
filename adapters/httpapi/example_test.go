package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// sessions stands for the host's own session check.
var sessions = map[string]struct {
	account ports.AccountID
	staff   bool
}{
	"s-alice": {account: memory.AccountEligible},
	"s-rev":   {account: "staff-bob", staff: true},
}

// Example mounts the API under /account/cancel of the host's own mux,
// behind an Authenticator over the host's sessions.
func Example() {
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	// The back office's staff, as the host's StaffDirectory knows them:
	// bob reviews, and his own customer account is staff-bob.
	kit.Staff.Put(ports.StaffMember{ID: "bob", Name: "Bob", Roles: []ports.Role{ports.RoleReviewer}, Account: "staff-bob"})
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		panic(err)
	}
	auth := httpapi.AuthenticatorFunc(func(r *http.Request) (httpapi.Principal, error) {
		c, err := r.Cookie("session")
		if err != nil {
			return httpapi.Principal{}, httpapi.ErrUnauthenticated
		}
		s, ok := sessions[c.Value]
		switch {
		case !ok:
			return httpapi.Principal{}, fmt.Errorf("session %s: %w", c.Value, httpapi.ErrUnauthenticated)
		case s.staff:
			// The Service reads bob's roles and own account from the
			// StaffDirectory.
			return httpapi.Staff(cancellation.Reviewer{ID: "bob"}), nil
		}
		return httpapi.Customer(s.account), nil
	})
	api, err := httpapi.New(svc, httpapi.Options{Authenticator: auth, Store: kit.Store})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/account/cancel/", http.StripPrefix("/account/cancel", api))

	call := func(method, path, session string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(""))
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "session", Value: session})
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	rec := call(http.MethodPost, "/account/cancel/v1/cancellations", "s-alice")
	fmt.Println(rec.Code, strings.HasPrefix(rec.Header().Get("Location"), "/account/cancel/v1/cancellations/can_"))
	rec = call(http.MethodGet, "/account/cancel/v1/reviews", "")
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	rec = call(http.MethodGet, "/account/cancel/v1/reviews", "s-rev")
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 201 true
	// 401 Bearer realm="cancellation"
	// 200 application/json
}
