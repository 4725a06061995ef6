package memory

import (
	"bytes"
	"context"
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
		rw := kit.Store.rows[id]
		kit.Store.mu.RUnlock()
		data, err := rw.req.MarshalBinary()
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
