package sqlstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// The child processes of these tests are the test binary itself, running
// TestCrashHelper with these variables set.
const (
	helperEnv  = "SQLSTORE_TEST_HELPER" // "crash" or "contend"
	helperDSN  = "SQLSTORE_TEST_DSN"
	helperName = "SQLSTORE_TEST_NAME" // an account id, or a prefix of account ids
)

// child starts the test binary as a helper process in mode, and returns it
// with its stdout lines and its stdin. It is killed when the test ends.
func child(t *testing.T, mode, dsn, name string) (*exec.Cmd, *bufio.Scanner, io.WriteCloser, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDSN+"="+dsn, helperName+"="+name)
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewScanner(stdout), stdin, stderr
}

// await reads lines until one starts with prefix, and returns the rest of
// it; it fails the test when the child ends first or takes over a minute.
func await(t *testing.T, lines *bufio.Scanner, stderr *strings.Builder, prefix string) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		defer close(found)
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), prefix); ok {
				found <- rest
				return
			}
		}
	}()
	select {
	case rest, ok := <-found:
		if !ok {
			t.Fatalf("the child ended before saying %q; its stderr:\n%s", prefix, stderr)
		}
		return rest
	case <-time.After(time.Minute):
		t.Fatalf("the child did not say %q within a minute", prefix)
	}
	return ""
}

// TestCrashRecovery kills a process (SIGKILL) after it stored an approval
// with its pending effects and before any effect was carried out. A fresh
// Service over the same database, with new ports, finishes the work in
// maintenance once the dead process's lease ends: the request is
// cancelled, every effect done once, the history a valid chain with one
// approval, nothing lost or half-written.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		acct := uniqueAccount("crash")
		cmd, lines, _, stderr := child(t, "crash", dsn, string(acct))
		key := await(t, lines, stderr, "EFFECT ")
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code, no clean close
		err := cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "the child was killed, it did not exit")

		store := openStore(t, dsn)
		crashed, err := store.ActiveFor(t.Context(), acct)
		require.NoError(t, err)
		require.Equal(t, cancellation.StateApproved, crashed.State(), "the approval was stored")
		require.Len(t, crashed.PendingEffects(), 2, "with its effects pending")
		require.True(t, strings.HasPrefix(key, crashed.ID()+"/"), "the child was carrying out %s", key)

		// A new process: new memory ports (the platform knows the account,
		// open), a clock past the dead instance's lease.
		e := newEnv()
		e.account(string(acct))
		e.kit.Clock.Set(t0.Add(2 * time.Minute))
		svc := e.service(t, store)
		for pass := 0; pass < 3; pass++ {
			_, err := svc.RunMaintenance(t.Context())
			require.NoError(t, err)
		}

		got, err := store.Get(t.Context(), crashed.ID())
		require.NoError(t, err)
		require.Equal(t, cancellation.StateCancelled, got.State())
		events, err := store.History(t.Context(), crashed.ID())
		require.NoError(t, err)
		require.NoError(t, cancellation.VerifyHistory(events, e.kit.HistoryKey))
		require.Empty(t, got.PendingEffects())
		count := map[cancellation.EventType]int{}
		for _, ev := range events {
			count[ev.Type]++
		}
		require.Equal(t, 1, count[cancellation.EventApproved])
		require.Equal(t, 1, count[cancellation.EventCancelled])
		require.Equal(t, 4, count[cancellation.EventEffectDone])
		for _, ef := range got.Effects() {
			switch ef.Kind {
			case cancellation.EffectCloseAccount:
				require.Equal(t, 1, e.kit.Platform.CloseCalls(ef.Key), ef.Key)
			default:
				require.Equal(t, 1, e.kit.Notifier.Count(ef.Key), ef.Key)
				require.Equal(t, 1, e.kit.Notifier.Deliveries(ef.Key), ef.Key)
			}
		}
		closed, err := e.kit.Platform.Account(t.Context(), acct)
		require.NoError(t, err)
		require.True(t, closed.Closed, "login disabled")
		_, err = store.ActiveFor(t.Context(), acct)
		require.ErrorIs(t, err, cancellation.ErrNotFound)
	})
}

// TestTwoProcessesShareSQLiteFile has this process and a child write to one
// new SQLite file at the same time (both migrate it on open): neither gets
// SQLITE_BUSY, and every request of both is there.
func TestTwoProcessesShareSQLiteFile(t *testing.T) {
	t.Parallel()
	dsn := sqliteDSN(t)
	_, lines, stdin, stderr := child(t, "contend", dsn, "child")
	await(t, lines, stderr, "READY")
	_, err := io.WriteString(stdin, "GO\n")
	require.NoError(t, err)
	require.NoError(t, contend(context.Background(), dsn, "parent"))
	require.Equal(t, "", await(t, lines, stderr, "DONE"), "the child failed")

	s := openStore(t, dsn)
	for _, prefix := range []string{"parent", "child"} {
		n := 0
		for i := range contenders * contentions {
			rs, err := s.List(t.Context(), cancellation.Query{Account: contendAccount(prefix, i)})
			require.NoError(t, err)
			require.Len(t, rs, 1)
			require.Equal(t, cancellation.StateWithdrawn, rs[0].State())
			n++
		}
		require.Equal(t, contenders*contentions, n)
	}
}

const contenders, contentions = 4, 15

func contendAccount(prefix string, i int) ports.AccountID {
	return ports.AccountID(fmt.Sprintf("%s-%03d", prefix, i))
}

// contend starts and withdraws a request for each of its accounts, on
// several goroutines.
func contend(ctx context.Context, dsn, prefix string) error {
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	e := newEnv()
	cfg := e.kit.Config()
	cfg.Store = s
	svc, err := cancellation.New(cfg)
	if err != nil {
		return err
	}
	var g errgroup.Group
	for w := range contenders {
		g.Go(func() error {
			for i := range contentions {
				acct := contendAccount(prefix, w*contentions+i)
				e.account(string(acct))
				r, err := svc.Start(ctx, acct)
				if err != nil {
					return err
				}
				if _, err := svc.Withdraw(ctx, acct, r.ID()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// TestCrashHelper is the child process of TestCrashRecovery and
// TestTwoProcessesShareSQLiteFile; run directly, it skips.
func TestCrashHelper(t *testing.T) {
	dsn, name := os.Getenv(helperDSN), os.Getenv(helperName)
	switch os.Getenv(helperEnv) {
	case "crash":
		s, err := sqlstore.Open(context.Background(), dsn)
		require.NoError(t, err)
		e := newEnv()
		acct := e.account(name)
		cfg := e.kit.Config()
		cfg.Store = s
		cfg.Verification.Key = otpKey
		stuck := hangingPorts{}
		cfg.Notifier, cfg.Closer = stuck, stuck
		svc, err := cancellation.New(cfg)
		require.NoError(t, err)
		r := e.inReview(t, svc, acct)
		// Approve stores the approval with its effects, then calls a
		// port, which announces the effect and hangs until the parent
		// kills this process.
		_, err = svc.Approve(context.Background(), cancellation.Reviewer{ID: "reviewer"}, r.ID(), "ok")
		t.Fatalf("Approve returned (%v): the port should have hung", err)
	case "contend":
		fmt.Println("READY")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil || line != "GO\n" {
			t.Fatalf("waiting for GO: %q, %v", line, err)
		}
		if err := contend(context.Background(), dsn, name); err != nil {
			fmt.Println("DONE", err)
			t.Fatal(err)
		}
		fmt.Println("DONE")
	default:
		t.Skip("the child process of TestCrashRecovery and TestTwoProcessesShareSQLiteFile")
	}
}

// hangingPorts is a Notifier and AccountCloser that, when called, says which
// effect it was asked for on stdout and never returns.
type hangingPorts struct{}

func (hangingPorts) Notify(_ context.Context, n ports.Notification) error {
	return hang(n.IdempotencyKey)
}

func (hangingPorts) CloseAccount(_ context.Context, _ ports.AccountID, key string) error {
	return hang(key)
}

func hang(key string) error {
	fmt.Println("EFFECT " + key)
	_ = os.Stdout.Sync()
	time.Sleep(time.Hour)
	return errors.New("unreachable")
}
