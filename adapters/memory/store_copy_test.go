package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestStoreKeepsWhatItsEncodingRoundTrips shows that the copy a read
// clones is what a durable store would return: encoding the kept request
// (as a durable store writes it) and decoding the bytes gives the same
// encoding, head, history length and no new events, after each write of a
// request's life. It fails if a read returned anything a durable store,
// which decodes, would not.
func TestStoreKeepsWhatItsEncodingRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kit := NewKit(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	kit.Platform.AddAccount(ports.Account{ID: "acct_copy", Kind: ports.Personal, RecoveryPhone: "+15550000001", Email: "copy@example.com", Locale: "en"})
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, id string) {
		t.Helper()
		kit.Store.mu.RLock()
		data, err := kit.Store.rows[id].req.MarshalBinary() // a write may overwrite it after the lock
		kit.Store.mu.RUnlock()
		if err != nil {
			t.Fatalf("%s: encoding the kept request: %v", step, err)
		}
		var fromBytes cancellation.Request
		if err := fromBytes.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: decoding the stored bytes: %v", step, err)
		}
		got, err := kit.Store.Get(ctx, id)
		if err != nil {
			t.Fatalf("%s: Get: %v", step, err)
		}
		want, _ := fromBytes.MarshalBinary()
		have, _ := got.MarshalBinary()
		switch {
		case !bytes.Equal(want, have):
			t.Fatalf("%s: Get returned\n%s\nthe stored bytes decode to\n%s", step, have, want)
		case len(got.NewEvents()) != len(fromBytes.NewEvents()) || len(got.NewEvents()) != 0:
			t.Fatalf("%s: Get returned %d new events, the stored bytes %d", step, len(got.NewEvents()), len(fromBytes.NewEvents()))
		case got.HistoryLen() != fromBytes.HistoryLen() || len(got.History()) != len(fromBytes.History()):
			t.Fatalf("%s: Get holds %d of %d events, the stored bytes %d of %d", step, len(got.History()), got.HistoryLen(), len(fromBytes.History()), fromBytes.HistoryLen())
		}
		// A read is a copy: changing it leaves the stored request as it was.
		if again, _ := kit.Store.Get(ctx, id); again == got {
			t.Fatalf("%s: two reads returned the same *Request", step)
		}
	}
	r, err := svc.Start(ctx, "acct_copy")
	if err != nil {
		t.Fatal(err)
	}
	check("started", r.ID())
	rep, err := svc.CheckEligibility(ctx, "acct_copy")
	if err != nil {
		t.Fatal(err)
	}
	r, err = svc.Confirm(ctx, "acct_copy", r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	if err != nil {
		t.Fatal(err)
	}
	check("confirmed", r.ID())
	if _, err := svc.Withdraw(ctx, "acct_copy", r.ID()); err != nil {
		t.Fatal(err)
	}
	check("withdrawn", r.ID())
}

// TestStoreReadsWhileRowsAreRewritten: a write rewrites a request's row in
// place, writes the new version over the request it kept, and appends its
// events as a batch, while reads copy the request under the lock (Get,
// ActiveFor, List) or take the batches under it and copy them after
// (History). Under the race detector this fails if a read used the row or
// its request after the lock; and History must return every event once,
// in order, whatever the batches.
func TestStoreReadsWhileRowsAreRewritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kit := NewKit(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	svc, err := cancellation.New(kit.Config())
	if err != nil {
		t.Fatal(err)
	}
	const accounts = 4
	ids := make(chan string, accounts)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			var seen []string
			for {
				select {
				case <-done:
					return
				case id := <-ids:
					seen = append(seen, id)
				default:
				}
				for _, id := range seen {
					if _, err := kit.Store.Get(ctx, id); err != nil {
						t.Error(err)
					}
					if _, err := kit.Store.History(ctx, id); err != nil {
						t.Error(err)
					}
				}
				for i := range accounts {
					if _, err := kit.Store.ActiveFor(ctx, ports.AccountID(fmt.Sprintf("acct_rw_%d", i))); err != nil && !errors.Is(err, cancellation.ErrNotFound) {
						t.Error(err)
					}
				}
				if _, err := kit.Store.List(ctx, cancellation.Query{Limit: 10}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var writers sync.WaitGroup
	for i := range accounts {
		writers.Go(func() {
			acct := ports.AccountID(fmt.Sprintf("acct_rw_%d", i))
			kit.Platform.AddAccount(ports.Account{ID: acct, Kind: ports.Personal, RecoveryPhone: fmt.Sprintf("+1555000100%d", i), Email: "rw@example.com", Locale: "en"})
			r, err := svc.Start(ctx, acct)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- r.ID()
			rep, err := svc.CheckEligibility(ctx, acct)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := svc.Confirm(ctx, acct, r.ID(), cancellation.Confirmation{
				NotesVersion: svc.Notes().Version, Irreversible: true,
				Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
				Consents:     rep.Consents(),
			}); err != nil {
				t.Error(err)
				return
			}
			if _, err := svc.Withdraw(ctx, acct, r.ID()); err != nil {
				t.Error(err)
				return
			}
			events, err := kit.Store.History(ctx, r.ID())
			if err != nil {
				t.Error(err)
				return
			}
			got, _ := kit.Store.Get(ctx, r.ID())
			if len(events) != got.HistoryLen() {
				t.Errorf("%s: History holds %d events, the request %d", r.ID(), len(events), got.HistoryLen())
			}
			for j, e := range events {
				if e.Seq != j+1 {
					t.Errorf("%s: event %d has sequence number %d", r.ID(), j, e.Seq)
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
}

// TestStoreCopiesStayAsRead: the requests a Store keeps and hands out
// share their effects (and effects' notifications, events, identifiers)
// with the writer's copy, which changes them in place once it made them
// its own. Every version the Store kept, and every copy a read returned,
// must still encode as it did when read, after the writes that follow
// (effects claimed, carried out, their outcomes recorded, a receipt
// attached). It fails if any of those writes changed a shared effect
// without copying it first.
func TestStoreCopiesStayAsRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kit := NewKit(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	kit.Platform.AddAccount(ports.Account{ID: "acct_stay", Kind: ports.Personal, RecoveryPhone: "+15550000002", Email: "stay@example.com", Locale: "en"})
	cfg := kit.Config()
	notifier := &failingNotifier{Notifier: cfg.Notifier}
	cfg.Notifier = notifier
	// Every version written is held, with a read of it.
	var hold func(step, id string)
	cfg.Store = &snapStore{Store: kit.Store, after: func(id string) { hold("a write", id) }}
	svc, err := cancellation.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type held struct {
		step string
		r    *cancellation.Request
		want []byte
	}
	var all []held
	keep := func(step string, r *cancellation.Request) {
		t.Helper()
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		all = append(all, held{step, r, b})
	}
	hold = func(step, id string) {
		t.Helper()
		// The next write overwrites the kept request itself: a copy made
		// under the lock shares all it shares, effects included.
		kit.Store.mu.RLock()
		kept := kit.Store.rows[id].req.Clone()
		kit.Store.mu.RUnlock()
		keep(step+": the kept version", kept)
		got, err := kit.Store.Get(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		keep(step+": a read", got)
	}
	r, err := svc.Start(ctx, "acct_stay")
	if err != nil {
		t.Fatal(err)
	}
	keep("started: returned", r)
	hold("started", r.ID())
	rep, err := svc.CheckEligibility(ctx, "acct_stay")
	if err != nil {
		t.Fatal(err)
	}
	r, err = svc.Confirm(ctx, "acct_stay", r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	if err != nil {
		t.Fatal(err)
	}
	keep("confirmed: returned", r)
	hold("confirmed", r.ID())
	// The notifications fail once: their outcome is recorded, then they
	// are carried out again by maintenance.
	notifier.fail.Store(1)
	r, err = svc.Withdraw(ctx, "acct_stay", r.ID())
	if err != nil {
		t.Fatal(err)
	}
	keep("withdrawn: returned", r)
	hold("withdrawn", r.ID())
	for range 3 {
		kit.Clock.Advance(time.Hour)
		if _, err := svc.RunMaintenance(ctx); err != nil {
			t.Fatal(err)
		}
		hold("maintained", r.ID())
	}
	for _, h := range all {
		got, err := h.r.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", h.step, err)
		}
		if !bytes.Equal(got, h.want) {
			t.Errorf("%s changed since:\n got %s\nwant %s", h.step, got, h.want)
		}
	}
}

// failingNotifier fails the next fail notifications.
type failingNotifier struct {
	ports.Notifier
	fail atomic.Int32
}

func (n *failingNotifier) Notify(ctx context.Context, msg ports.Notification) error {
	if n.fail.Add(-1) >= 0 {
		return ErrInjected
	}
	return n.Notifier.Notify(ctx, msg)
}

// snapStore calls after once each Update has stored a request.
type snapStore struct {
	*Store
	after func(id string)
}

func (s *snapStore) Update(ctx context.Context, r *cancellation.Request) error {
	if err := s.Store.Update(ctx, r); err != nil {
		return err
	}
	s.after(r.ID())
	return nil
}
