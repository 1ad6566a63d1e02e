package s3dest

import (
	"context"
	"sync"
)

// defaultMemoryLimit is the part buffers all Puts of one Destination may
// hold together (WithMemoryLimit): 8 parallel Puts at the default 16 MiB
// parts get two buffers each (one part in flight while the next is read),
// and the whole stays within a small VM's memory; one Put alone still
// gets its concurrency + 1 buffers (80 MiB at the defaults).
const defaultMemoryLimit = 256 << 20

// memoryLimit is WithMemoryLimit's, else the default, raised where one
// Put's own buffers need more: part size × (concurrency + 1).
func (d *Destination) memoryLimit() int64 {
	if d.cfg.memoryLimit > 0 {
		return d.cfg.memoryLimit
	}
	return max(defaultMemoryLimit, d.partSize()*int64(d.concurrency()+1))
}

// memBudget caps the bytes of part buffers that the Puts of one
// Destination hold together. A Put takes bytes for each buffer it adds
// and gives them all back when it ends; when the budget is spent it waits,
// for another Put to give some back or for one of its own buffers to come
// back from a part in flight. A Put takes its first buffer only once its
// reader has delivered more than a probe (a small object, or a reader that
// waits, holds none); a Put that holds one buffer can always go on with
// it, and one that holds none gets one when others give theirs back (a
// buffer counts at most the whole limit). Waiters are not served in order:
// under steady load one may wait long.
type memBudget struct {
	mu    sync.Mutex
	limit int64
	used  int64
	peak  int64         // the most ever held, for tests
	freed chan struct{} // closed, and replaced, when bytes come back
}

func newMemBudget(limit int64) *memBudget {
	return &memBudget{limit: limit, freed: make(chan struct{})}
}

// weight is what a buffer of n bytes counts: at most the whole limit, so
// that a part larger than the limit can still be taken alone.
func (m *memBudget) weight(n int64) int64 { return min(n, m.limit) }

// take takes n bytes (a weight) if the budget has room. When it has not,
// wait is closed once bytes come back.
func (m *memBudget) take(n int64) (ok bool, wait <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used+n > m.limit {
		return false, m.freed
	}
	m.used += n
	m.peak = max(m.peak, m.used)
	return true, nil
}

// give returns n bytes taken before and wakes the Puts that wait.
func (m *memBudget) give(n int64) {
	if n == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used -= n
	close(m.freed)
	m.freed = make(chan struct{})
}

// partBuffer returns a part buffer of size bytes for u: one of its own that
// came back, else a new one within the Destination's budget, waiting for
// room when there is none. It fails only when ctx ends.
func (u *upload) partBuffer(ctx context.Context, size int64) ([]byte, error) {
	mem := u.d.mem
	for {
		select {
		case b := <-u.free:
			if int64(cap(b)) >= size {
				return b[:size], nil
			}
			u.drop(b) // too small now that parts have grown: let it go
			continue
		default:
		}
		// The budget first: a Put that waits holds no buffer meanwhile.
		w := mem.weight(size)
		ok, wait := mem.take(w)
		if ok {
			b := u.d.newBuffer(size)
			if bw := mem.weight(int64(cap(b))); bw > w {
				// A larger buffer from the pool counts all its bytes, or
				// one of the size asked is made instead.
				if more, _ := mem.take(bw - w); more {
					w = bw
				} else {
					u.d.parts.Put(&b)
					b = make([]byte, size)
				}
			}
			u.nbuf++
			u.held += w
			return b, nil
		}
		select {
		case b := <-u.free:
			if int64(cap(b)) >= size {
				return b[:size], nil
			}
			u.drop(b)
		case <-wait:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// drop lets go of one of u's buffers, and of its bytes in the budget.
func (u *upload) drop(b []byte) {
	w := u.d.mem.weight(int64(cap(b)))
	u.nbuf--
	u.held -= w
	u.d.mem.give(w)
}

// newBuffer returns a buffer of size bytes, from the pool of finished
// uploads' buffers when one there is large enough.
func (d *Destination) newBuffer(size int64) []byte {
	if p, ok := d.parts.Get().(*[]byte); ok && int64(cap(*p)) >= size {
		return (*p)[:size]
	}
	return make([]byte, size) // a smaller one from the pool is let go
}
