package cancellation

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Review queue pages. A page is read by keyset: it starts after the due
// date and id of the previous page's last request, which the Store finds
// in its index, so a page deep in a long queue costs what the first does.

// DefaultQueueLimit and MaxQueueLimit bound a page of ReviewQueue.
const (
	DefaultQueueLimit = 50
	MaxQueueLimit     = 500
)

// QueueOptions selects a page of the review queue.
type QueueOptions struct {
	// Limit is the page size: DefaultQueueLimit when 0, at most
	// MaxQueueLimit.
	Limit int
	// After is the Next of the previous page; empty for the first page.
	// Pass the same filters with it as for the first page.
	After string
	// Claims keeps the requests no claim holds (QueueUnclaimed) or the
	// ones the reviewer holds (QueueMine); empty keeps all.
	Claims QueueClaims
	// Overdue keeps the requests past their due date.
	Overdue bool
	// AccountKind keeps the requests of accounts of this kind.
	AccountKind ports.AccountKind
}

// QueueClaims filters the review queue by claim.
type QueueClaims string

// Claim filters of QueueOptions.
const (
	QueueAll       QueueClaims = ""
	QueueUnclaimed QueueClaims = "unclaimed"
	QueueMine      QueueClaims = "mine"
)

// QueuePage is one page of the review queue.
type QueuePage struct {
	Items []QueueItem
	// Next continues after this page (QueueOptions.After); empty on the
	// last page.
	Next string
}

// ReviewQueue lists a page of the requests in review, overdue first then
// by due date, leaving out the reviewer's own account (as the
// StaffDirectory knows it), filtered by opt. Every page but the last holds
// Limit items: the Store filters, not the caller. A malformed After or
// filter is refused with a ValidationError; rv must be a reviewer
// (ErrForbidden otherwise).
func (s *Service) ReviewQueue(ctx context.Context, rv Reviewer, opt QueueOptions) (_ QueuePage, err error) {
	defer s.hooks.operation(&ctx, OpQueue)(&err)
	if err := rv.check(); err != nil {
		return QueuePage{}, err
	}
	switch opt.Claims {
	case QueueAll, QueueUnclaimed, QueueMine:
	default:
		return QueuePage{}, invalid("claims", fmt.Sprintf("unknown claim filter %q: use %q or %q", opt.Claims, QueueUnclaimed, QueueMine))
	}
	if opt.AccountKind != "" && opt.AccountKind != ports.Personal && opt.AccountKind != ports.Enterprise {
		return QueuePage{}, invalid("account kind", fmt.Sprintf("unknown account kind %q", opt.AccountKind))
	}
	_, rv, err = s.staffMember(ctx, "read the queue", rv)
	if err != nil {
		return QueuePage{}, err
	}
	switch {
	case opt.Limit < 0 || opt.Limit > MaxQueueLimit:
		return QueuePage{}, invalid("limit", fmt.Sprintf("the page size is 1 to %d", MaxQueueLimit))
	case opt.Limit == 0:
		opt.Limit = DefaultQueueLimit
	}
	after, err := decodeCursor(opt.After)
	if err != nil {
		return QueuePage{}, err
	}
	now := s.now()
	q := Query{States: []State{StateInReview}, OrderByDue: true, ExcludeAccount: rv.Account, After: after, Limit: opt.Limit + 1,
		AccountKind: opt.AccountKind}
	switch opt.Claims {
	case QueueUnclaimed:
		q.UnclaimedAt = now
	case QueueMine:
		q.ClaimedBy, q.ClaimedAt = rv.ID, now
	}
	if opt.Overdue {
		q.DueBefore = now
	}
	rs, err := s.queueList(ctx, q)
	if err != nil {
		return QueuePage{}, err
	}
	var page QueuePage
	if len(rs) > opt.Limit {
		rs = rs[:opt.Limit]
		page.Next = encodeCursor(q.Cursor(rs[len(rs)-1]))
	}
	page.Items = s.queueItems(rv, rs)
	return page, nil
}

// queueList lists requests for the review queue: one damaged record must
// not stop every review, so it lists the rest and logs it. The Store applies
// q.Limit before decoding, so corrupt rows make a page short: then it lists
// again after the last request it read (meeting the corrupt rows after it
// once more) until it has q.Limit requests, a page without corrupt rows, or
// a page with none it could read.
func (s *Service) queueList(ctx context.Context, q Query) ([]*Request, error) {
	var out []*Request
	for {
		rs, err := s.store.List(ctx, q)
		switch {
		case errors.Is(err, ErrCorrupt):
			s.log.ErrorContext(ctx, "cancellation: review queue skips corrupt requests", "error", err)
		case err != nil:
			return nil, err
		}
		out = append(out, rs...)
		if err == nil || len(rs) == 0 || q.Limit <= 0 || len(out) >= q.Limit {
			if q.Limit > 0 && len(out) > q.Limit {
				out = out[:q.Limit]
			}
			return out, nil
		}
		// Offset counted from the first page; the rest continue by cursor.
		q.After, q.Offset = q.Cursor(rs[len(rs)-1]), 0
	}
}

func (s *Service) queueItems(rv Reviewer, rs []*Request) []QueueItem {
	now := s.now()
	items := make([]QueueItem, len(rs))
	for i, r := range rs {
		items[i] = QueueItem{Request: r, Overdue: r.Overdue(now), ErasureDueAt: r.ErasureDueAt(), ErasureOverdue: r.ErasureOverdue(now)}
		if h := r.holder(now); h != "" {
			items[i].ClaimedBy, items[i].ClaimedUntil, items[i].Mine = h, r.d.Claim.Until, h == rv.ID
		}
	}
	return items
}

// encodeCursor writes c as an opaque token: base64url of "nanos:id".
func encodeCursor(c Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixNano(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := invalid("after", "not a cursor returned as Next by ReviewQueue")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 {
		return Cursor{}, bad
	}
	nanos, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if !ok || err != nil || !ValidID(id) {
		return Cursor{}, bad
	}
	return Cursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}
