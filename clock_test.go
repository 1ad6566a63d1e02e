package s3dest_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
)

// fakeClock is a clock tests move by hand: After fires at once and moves
// time forward by its duration; Advance moves it and runs the AfterFunc
// timers that come due, before it returns.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	timers []*fakeTimer
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) option() s3dest.Option { return s3dest.WithClockForTest(c) }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	now := c.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) s3dest.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, f: f}
	t.arm(d)
	return t
}

// Advance moves time forward by d and runs, in order, the timers due by
// then; it returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.when.After(now) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b *fakeTimer) int { return a.when.Compare(b.when) })
	for _, t := range due {
		t.f()
	}
	return now
}

type fakeTimer struct {
	c    *fakeClock
	f    func()
	when time.Time
}

// arm schedules t d from now; c.mu is held.
func (t *fakeTimer) arm(d time.Duration) {
	t.when = t.c.now.Add(d)
	t.c.timers = append(t.c.timers, t)
}

// disarm unschedules t and reports whether it was scheduled; c.mu is held.
func (t *fakeTimer) disarm() bool {
	n := len(t.c.timers)
	t.c.timers = slices.DeleteFunc(t.c.timers, func(o *fakeTimer) bool { return o == t })
	return len(t.c.timers) < n
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.disarm()
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.disarm()
	t.arm(d)
	return was
}

// advanceUntil moves c forward by step, again and again, until the call
// under test ends (done delivers), and returns its result. Clock time, not
// wall time, decides the outcome: the short waits between steps only let
// the call's goroutines run. It fails the test when 1,000 steps end
// nothing.
func advanceUntil(t *testing.T, c *fakeClock, step time.Duration, done <-chan error) error {
	t.Helper()
	for range 1000 {
		c.Advance(step)
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("%v of clock time did not end the call", 1000*step)
	return nil
}

// signal is a channel that a server hook sends on without blocking, to say
// it has reached a point.
func signal() chan struct{} { return make(chan struct{}, 1) }

func reached(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
