package docinspect

import "io"

// Reading buffers: docReadFirst is the first buffer for a body of unknown
// length; it doubles while it stays under a docReadSteps-th of the limit,
// and then goes at once to the limit plus one byte.
const (
	docReadFirst = 64 << 10
	docReadSteps = 32
)

// docReadAtMost reads r until it ends or n bytes are read, whichever comes
// first, and allocates at most about n·(1 + 1/16) bytes in all, whatever
// the length of r: a reader that tells its length (Len, as *bytes.Reader,
// *bytes.Buffer and *strings.Reader do) gets one buffer of that length
// plus one byte (to see the end), capped at n; any other starts small,
// doubles up to n/32, then takes one buffer of n bytes. It never reads
// more than n bytes.
func docReadAtMost(r io.Reader, n int64) ([]byte, error) {
	size := int64(docReadFirst)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len()) + 1
	}
	buf := make([]byte, 0, max(min(size, n), 1))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			next := 2 * int64(cap(buf))
			if next > n/docReadSteps {
				next = n
			}
			grown := make([]byte, len(buf), min(next, n))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}
