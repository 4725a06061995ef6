package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// The Store applies the limit before decoding, so corrupt rows cut a page
// short; the review queue must still fill its pages and go on past them.
func TestReviewQueue_CorruptRowsDoNotHideTheRestOfTheQueue(t *testing.T) {
	kit := memory.NewKit(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC))
	cfg := kit.Config()
	cfg.Verification.Key = []byte("memory queue test otp key")
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	ctx := t.Context()
	for i := range 5 {
		acct := ports.AccountID(fmt.Sprintf("queue-corrupt-%d", i))
		phone := fmt.Sprintf("+155500000%02d", i)
		kit.Platform.AddAccount(ports.Account{ID: acct, Kind: ports.Personal, RecoveryPhone: phone, Email: string(acct) + "@example.com", Locale: "en"})
		toReview(ctx, t, kit, svc, acct, phone)
	}
	rv := cancellation.Reviewer{ID: "reviewer"}
	all, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: 10})
	require.NoError(t, err)
	ids := queueIDs(all)
	require.Len(t, ids, 5)
	for _, id := range ids[1:3] {
		memory.Corrupt(kit.Store, id)
	}

	p1, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{ids[0], ids[3]}, queueIDs(p1))
	require.NotEmpty(t, p1.Next, "the queue goes on after a page cut short by corrupt rows")
	p2, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: 2, After: p1.Next})
	require.NoError(t, err)
	require.Equal(t, []string{ids[4]}, queueIDs(p2))
	require.Empty(t, p2.Next)
}

func toReview(ctx context.Context, t *testing.T, kit *memory.Kit, svc *cancellation.Service, acct ports.AccountID, phone string) {
	t.Helper()
	r, err := svc.Start(ctx, acct)
	require.NoError(t, err)
	rep, err := svc.CheckEligibility(ctx, acct)
	require.NoError(t, err)
	_, err = svc.Confirm(ctx, acct, r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	require.NoError(t, err)
	_, err = svc.SendCode(ctx, acct, r.ID())
	require.NoError(t, err)
	code, ok := kit.OTP.LastCode(phone)
	require.True(t, ok)
	_, err = svc.VerifyCode(ctx, acct, r.ID(), code)
	require.NoError(t, err)
	_, err = svc.Submit(ctx, acct, r.ID())
	require.NoError(t, err)
}

func queueIDs(p cancellation.QueuePage) []string {
	var ids []string
	for _, it := range p.Items {
		ids = append(ids, it.Request.ID())
	}
	return ids
}
