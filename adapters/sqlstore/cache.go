package sqlstore

import (
	"bytes"
	"sync"

	"github.com/accountkit/cancellation"
)

// cache keeps the last requests this Store wrote or read, by id, with the
// bytes of their data column. A read whose row holds the same bytes is
// answered with a copy of the cached request instead of decoding them
// again: equal bytes decode to an equal request, so a row changed by
// anyone (another replica, a hand edit) is decoded and validated as
// ever (TestHistoryTamperingDetected edits rows this Store just wrote). It
// is bounded: past cacheSize entries, an arbitrary one goes.
type cache struct {
	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	data []byte
	r    *cancellation.Request
}

const cacheSize = 1024

// get returns a copy of the request cached for id if its bytes are data.
func (c *cache) get(id string, data []byte) *cancellation.Request {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !bytes.Equal(e.data, data) {
		return nil
	}
	return e.r.Clone()
}

// put caches r, as stored with data. r must not change afterwards.
func (c *cache) put(r *cancellation.Request, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cached, cacheSize)
	}
	if _, ok := c.m[r.ID()]; !ok && len(c.m) >= cacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[r.ID()] = cached{data: data, r: r}
}

// drop forgets the requests with the ids (deleted by PurgeEnded), so that
// no copy of a purged record stays in this process.
func (c *cache) drop(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.m, id)
	}
}
