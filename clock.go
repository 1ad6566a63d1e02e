package s3dest

import (
	"context"
	"time"
)

// clock is the time the package reads and waits on: restores and
// WaitRestored, lock dates, and the read-write timeout. Tests replace it
// (WithClockForTest) to move time by hand instead of sleeping.
type clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
	// AfterFunc runs f in its own goroutine once the duration has passed,
	// as time.AfterFunc does.
	AfterFunc(time.Duration, func()) timer
}

// timer is what AfterFunc returns: *time.Timer's Stop and Reset.
type timer interface {
	Stop() bool
	Reset(time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// sleepCtx waits d of real time, or until ctx ends: the waits between
// retries, which tests shorten rather than move by hand.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
