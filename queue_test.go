package cancellation_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

func TestReviewQueue_PagesByCursorAreFullAndLeaveOutOwnAccount(t *testing.T) {
	f := setup(t)
	rs := reviewFixture(t, f, 5)
	own := f.staffMember("rev-own", ports.RoleSenior, rs[1].Account())
	var got []string
	opt := cancellation.QueueOptions{Limit: 2}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3)
		page, err := f.svc.ReviewQueue(f.ctx, own, opt)
		require.NoError(t, err)
		if page.Next != "" {
			require.Len(t, page.Items, 2, "a page is never short because of the reviewer's own request")
		}
		for _, it := range page.Items {
			got = append(got, it.Request.ID())
		}
		if page.Next == "" {
			break
		}
		opt.After = page.Next
	}
	require.Equal(t, []string{rs[0].ID(), rs[2].ID(), rs[3].ID(), rs[4].ID()}, got)

	// The offset API filters in the Store too: its pages are full.
	q, err := f.svc.Queue(f.ctx, own, 2, 0)
	require.NoError(t, err)
	require.Len(t, q, 2)
	require.Equal(t, rs[2].ID(), q[1].Request.ID())
}

func TestReviewQueue_RefusesBadOptions(t *testing.T) {
	f := setup(t)
	for name, opt := range map[string]cancellation.QueueOptions{
		"NegativeLimit": {Limit: -1},
		"HugeLimit":     {Limit: cancellation.MaxQueueLimit + 1},
		"NotBase64":     {After: "!!"},
		"NoID":          {After: "MTIz"}, // "123"
		"NotANumber":    {After: "eDp5"}, // "x:y"
	} {
		_, err := f.svc.ReviewQueue(f.ctx, staff, opt)
		require.ErrorIs(t, err, cancellation.ErrInvalidInput, name)
	}
	_, err := f.svc.ReviewQueue(f.ctx, cancellation.Reviewer{}, cancellation.QueueOptions{})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	page, err := f.svc.ReviewQueue(f.ctx, staff, cancellation.QueueOptions{})
	require.NoError(t, err)
	require.Empty(t, page.Items)
	require.Empty(t, page.Next)
}
