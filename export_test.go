package s3dest

import "time"

// WithClockForTest replaces the clock that restores and WaitRestored use,
// so tests control time without sleeping.
func WithClockForTest(now func() time.Time, after func(time.Duration) <-chan time.Time) Option {
	return func(c *config) { c.clock = funcClock{now, after} }
}

type funcClock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func (c funcClock) Now() time.Time                         { return c.now() }
func (c funcClock) After(d time.Duration) <-chan time.Time { return c.after(d) }
