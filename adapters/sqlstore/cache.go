package sqlstore

import (
	"sync"

	"github.com/accountkit/cancellation"
)

// cache keeps the last requests this Store wrote or read again, by id,
// with the bytes of their data column. A read whose row holds the same
// bytes is answered with a copy of the cached request instead of decoding
// them again: equal bytes decode to an equal request, so a row changed by
// anyone (another replica, a hand edit) is decoded and validated as
// ever (TestHistoryTamperingDetected edits rows this Store just wrote). It
// is bounded: past cacheSize entries, an arbitrary one goes.
//
// A request read for the first time in these bytes is not copied into the
// cache: most such reads are a change's (Service reads, then writes the
// next version, which the write caches), and a replica reading another's
// write would copy every request it reads for nothing. The cache notes
// the bytes instead (seen), and the second read of them caches the
// request: a page of the review queue read over and over is decoded
// twice, then copied.
type cache struct {
	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	data string
	r    *cancellation.Request // nil when the bytes were only seen
}

const cacheSize = 1024

// get returns a copy of the request cached for id if its bytes are data;
// seen reports whether the bytes were read before, without the request
// being cached (see saw).
func (c *cache) get(id, data string) (r *cancellation.Request, seen bool) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || e.data != data {
		return nil, false
	}
	if e.r == nil {
		return nil, true
	}
	return e.r.Clone(), false
}

// put caches r, as stored with data. r must not change afterwards.
func (c *cache) put(r *cancellation.Request, data string) {
	c.set(r.ID(), cached{data: data, r: r})
}

// saw notes that the request with the id was read as data, so that the
// next read of the same bytes caches it.
func (c *cache) saw(id, data string) {
	c.set(id, cached{data: data})
}

func (c *cache) set(id string, e cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cached, cacheSize)
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= cacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = e
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
