package s3dest

import "time"

// Clock and Timer are the package's clock, for tests to implement.
type (
	Clock = clock
	Timer = timer
)

// WithClockForTest replaces the clock that restores, WaitRestored, lock
// dates and the read-write timeout use, so tests control time without
// sleeping.
func WithClockForTest(c Clock) Option {
	return func(cfg *config) { cfg.clock = c }
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

// WaitCleanupsForTest waits for the cleanups a cancelled call left running
// in the background (aborts of its uploads).
func WaitCleanupsForTest(d *Destination) { d.cleanups.Wait() }

// MemoryPeakForTest returns the most part-buffer bytes the Puts of d ever
// held together, and what they hold now.
func MemoryPeakForTest(d *Destination) (peak, used int64) {
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	return d.mem.peak, d.mem.used
}

// WithMaxBackoffForTest caps the wait between the attempts of a request,
// so that tests of retries do not sleep the SDK's backoff (up to 20 s).
func WithMaxBackoffForTest(d time.Duration) Option {
	return func(c *config) { c.maxBackoff = d }
}

// MinPartForTest is the smallest part d cuts but for the last, of an
// upload or of a multipart copy: what a fake S3 must take from it.
func MinPartForTest(d *Destination) int64 {
	return min(d.cfg.limits.minPart, d.cfg.limits.copyPart)
}
