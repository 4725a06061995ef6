// Command server serves the cancellation REST API (adapters/httpapi) and
// the web console (adapters/webui: the customer's wizard at /, the
// reviewer's desk at /review/, a dev sign-in page at /signin) for
// development: the demo platform of adapters/memory behind it, requests
// kept in a SQLite file (or PostgreSQL), one bearer token per demo account
// and one per demo staff member (a reviewer, a senior and an admin).
//
//	go run ./examples/server                       # 127.0.0.1:8080, ./cancellation-server.db
//	go run ./examples/server -addr 127.0.0.1:9000 -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./examples/server -write-sample passport.jpg    # a colour scan to upload
//
// It prints the tokens as shell exports, logs one-time codes and
// notifications with log/slog (nothing is really sent), runs maintenance
// in the background, answers /healthz (the process is up) and /readyz
// (the store answers), and on SIGINT or SIGTERM stops accepting
// connections, lets requests in flight finish and stops maintenance
// between two requests. The accounts live in memory and are seeded again
// at each start; their requests stay in the store.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/adapters/webui"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// demoAccounts are the accounts that get a token, with what they show.
var demoAccounts = []struct {
	env  string
	id   ports.AccountID
	what string
}{
	{"TOKEN_ELIGIBLE", memory.AccountEligible, "eligible, no documents"},
	{"TOKEN_BLOCKED", memory.AccountBlocked, "blocked: API keys and sub-users, with remedies"},
	{"TOKEN_BALANCE", memory.AccountBalance, "balances to forfeit, with consent"},
	{"TOKEN_VERIFIED", memory.AccountVerified, "identity-verified person: passport or driver's licence"},
	{"TOKEN_ENTERPRISE", memory.AccountEnterprise, "identity-verified enterprise: business licence"},
	{"TOKEN_COMPLAINT", memory.AccountComplaint, "blocked by an open complaint"},
}

// demoStaff are the staff members that get a token: the StaffDirectory
// gives their roles (memory.StaffDirectory.SeedDemo).
var demoStaff = []struct {
	env, id, what string
}{
	{"TOKEN_REVIEWER", memory.DemoReviewer, "reviewer: claims before deciding"},
	{"TOKEN_SENIOR", memory.DemoSenior, "senior: decides claimed or unclaimed requests"},
	{"TOKEN_ADMIN", memory.DemoAdmin, "admin: also reassigns claims"},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	dsn := fs.String("dsn", "sqlite:cancellation-server.db", "store: a SQLite file (sqlite:PATH) or a PostgreSQL DSN (postgres://...)")
	every := fs.Duration("maintenance", 30*time.Second, "interval between the background runner's maintenance passes (jittered)")
	sample := fs.String("write-sample", "", "write a synthetic colour scan of an ID card (JPEG) to this file, for trying uploads, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sample != "" {
		return os.WriteFile(*sample, docfixtures.JPEG(docfixtures.ColourIDCard(1200, 800), 90), 0o644)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	store, err := sqlstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()

	kit := memory.NewKit(time.Now())
	kit.Platform.SeedDemo()
	kit.Staff.SeedDemo()
	kit.OTP.OnDeliver(func(m ports.OTPMessage) {
		log.Info("one-time code sent", "phone", m.Phone, "code", m.Code, "expires_at", m.ExpiresAt.UTC().Format(time.RFC3339))
	})
	kit.Notifier.OnDeliver(func(n ports.Notification) {
		subject, body, _ := webui.Notification(n) // the text the customer reads, in the account's language
		log.Info("notification sent", "channel", n.Channel, "to", n.To, "template", n.Template, "account", n.Account, "data", n.Data,
			"subject", subject, "body", body)
	})
	cfg := kit.Config()
	cfg.Store, cfg.Clock, cfg.Logger = store, nil, log
	cfg.PollInterval = *every
	// A key of this run: codes sent before a restart do not verify after it.
	cfg.Verification.Key = randomBytes(32)
	svc, err := cancellation.New(cfg)
	if err != nil {
		return err
	}

	tokens := httpapi.BearerTokens{}
	var devAccounts []webui.DevAccount
	fmt.Fprintln(stdout, "# dev bearer tokens (Authorization: Bearer $TOKEN_...), new at each start:")
	for _, a := range demoAccounts {
		tok := "dev-" + hex.EncodeToString(randomBytes(16))
		tokens[tok] = httpapi.Customer(a.id)
		devAccounts = append(devAccounts, webui.DevAccount{Label: fmt.Sprintf("%s (%s)", a.id, a.what), Token: tok})
		fmt.Fprintf(stdout, "export %s=%s   # %s: %s\n", a.env, tok, a.id, a.what)
	}
	for _, m := range demoStaff {
		tok := "dev-" + hex.EncodeToString(randomBytes(16))
		tokens[tok] = httpapi.Staff(cancellation.Reviewer{ID: m.id})
		devAccounts = append(devAccounts, webui.DevAccount{Label: fmt.Sprintf("%s (%s)", m.id, m.what), Token: tok})
		fmt.Fprintf(stdout, "export %s=%s   # %s: %s\n", m.env, tok, m.id, m.what)
	}

	api, err := httpapi.New(svc, httpapi.Options{Authenticator: tokens, Store: store, Logger: log})
	if err != nil {
		return err
	}
	console, err := webui.New(svc, webui.Options{Authenticator: cookieTokens(tokens), DevAccounts: devAccounts, Logger: log})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/", console)        // the customer's wizard and the dev sign-in page
	mux.Handle("/review/", console) // the reviewer's desk
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.DB().PingContext(pctx); err != nil {
			log.Error("readyz: store unreachable", "error", err)
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "listening on http://%s (store %s)\n", ln.Addr(), redact(*dsn))

	maintCtx, stopMaint := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = svc.Run(maintCtx) }) // the background runner: effects and maintenance

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		stopMaint()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopMaint() // Run finishes the work in flight, then returns
	wg.Wait()
	if errors.Is(<-served, http.ErrServerClosed) && err == nil {
		log.Info("stopped")
	}
	return err
}

// cookieTokens authenticates the web console with the API's own tokens:
// the dev sign-in page stores one in a cookie, read here as the API reads
// a bearer token.
func cookieTokens(tokens httpapi.BearerTokens) webui.Authenticator {
	return webui.AuthenticatorFunc(func(r *http.Request) (webui.Principal, error) {
		tok := webui.DevToken(r)
		if tok == "" {
			return webui.Principal{}, webui.ErrUnauthenticated
		}
		bearer := r.Clone(r.Context())
		bearer.Header = http.Header{"Authorization": {"Bearer " + tok}}
		p, err := tokens.Authenticate(bearer)
		if err != nil {
			return webui.Principal{}, fmt.Errorf("%w: %w", webui.ErrUnauthenticated, err)
		}
		return webui.Principal{Account: p.Account, Reviewer: p.Reviewer}, nil
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// redact hides a DSN's password.
func redact(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if scheme := strings.Index(dsn, "://"); scheme > 0 && scheme < at {
			if colon := strings.Index(dsn[scheme+3:at], ":"); colon >= 0 {
				return dsn[:scheme+3+colon] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}
