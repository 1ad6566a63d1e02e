package s3dest

import "time"

// WithClockForTest replaces the clock that restores and WaitRestored use,
// so tests control time without sleeping.
func WithClockForTest(now func() time.Time, after func(time.Duration) <-chan time.Time) Option {
	return func(c *config) { c.clock = funcClock{now, after} }
}

// WithLimitsForTest lowers the multipart thresholds of one Destination, so
// that small data reaches the large-object paths: parts of minPart bytes
// are accepted, objects over maxCopy are renamed with a multipart copy of
// copyPart-byte parts; 0 keeps a limit as it is.
func WithLimitsForTest(minPart, maxCopy, copyPart int64) Option {
	return func(c *config) {
		for _, l := range []struct {
			to *int64
			v  int64
		}{{&c.limits.minPart, minPart}, {&c.limits.maxCopy, maxCopy}, {&c.limits.copyPart, copyPart}} {
			if l.v > 0 {
				*l.to = l.v
			}
		}
	}
}

type funcClock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func (c funcClock) Now() time.Time                         { return c.now() }
func (c funcClock) After(d time.Duration) <-chan time.Time { return c.after(d) }

// WaitCleanupsForTest waits for the cleanups a cancelled call left running
// in the background (aborts of its uploads).
func WaitCleanupsForTest(d *Destination) { d.cleanups.Wait() }
