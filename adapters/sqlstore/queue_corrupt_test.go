package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// The Store applies LIMIT before decoding, so corrupt rows cut a page
// short; the review queue must still fill its pages and go on past them.
func TestReviewQueue_CorruptRowsDoNotHideTheRestOfTheQueue(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		e := newEnv()
		svc := e.service(t, s)
		for i := range 5 {
			e.inReview(t, svc, e.account(fmt.Sprintf("queue-corrupt-%d-%s", i, randomHex(4))))
		}
		rv := cancellation.Reviewer{ID: "reviewer"}
		all, err := svc.ReviewQueue(t.Context(), rv, cancellation.QueueOptions{Limit: 10})
		require.NoError(t, err)
		require.Len(t, all.Items, 5)
		var ids []string
		for _, it := range all.Items {
			ids = append(ids, it.Request.ID())
		}
		for _, id := range ids[1:3] {
			execSQL(t, s, "UPDATE cancellation_requests SET data = ? WHERE id = ?", "{", id)
		}

		p1, err := svc.ReviewQueue(t.Context(), rv, cancellation.QueueOptions{Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{ids[0], ids[3]}, queueIDs(p1))
		require.NotEmpty(t, p1.Next, "the queue goes on after a page cut short by corrupt rows")
		p2, err := svc.ReviewQueue(t.Context(), rv, cancellation.QueueOptions{Limit: 2, After: p1.Next})
		require.NoError(t, err)
		require.Equal(t, []string{ids[4]}, queueIDs(p2))
		require.Empty(t, p2.Next)
	})
}

func queueIDs(p cancellation.QueuePage) []string {
	var ids []string
	for _, it := range p.Items {
		ids = append(ids, it.Request.ID())
	}
	return ids
}
