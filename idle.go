package s3dest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// idleTimer is the read-write timeout (Timeouts.ReadWrite): it ends a
// transfer whose connection stalls, that is when a request that moves an
// object body (a PutObject, a part, a GetObject) is under way and no byte
// of it moved for the timeout. Time spent in the caller's reader or writer
// and requests without a body (creating and completing a multipart upload)
// do not count: a pipe that pauses is no stalled connection, and S3 may
// take minutes to assemble a large object. touch is cheap: it stores a
// time, and the timer re-arms itself from it when it fires early.
type idleTimer struct {
	d      time.Duration
	last   atomic.Int64 // unix nanoseconds of the last progress
	busy   atomic.Int32 // requests under way whose body counts
	fired  atomic.Bool
	t      *time.Timer
	cancel context.CancelCauseFunc

	mu      sync.Mutex // orders re-arming in fire against stop
	stopped bool
}

// errIdle is the cause of a transfer the idle timer ended.
type errIdle struct{ d time.Duration }

func (e *errIdle) Error() string {
	return fmt.Sprintf("no data moved for %v (read-write-timeout): %v", e.d, context.DeadlineExceeded)
}

func (e *errIdle) Unwrap() error { return context.DeadlineExceeded }

func (d *Destination) idleTimeout(ctx context.Context) (context.Context, *idleTimer) {
	it := &idleTimer{d: d.cfg.timeouts.ReadWrite}
	if it.d <= 0 {
		return ctx, it
	}
	ctx, it.cancel = context.WithCancelCause(ctx)
	it.touch()
	// Armed only once it.t is set: fire reads it.
	it.t = time.AfterFunc(math.MaxInt64, it.fire)
	it.t.Reset(it.d)
	return ctx, it
}

func (it *idleTimer) fire() {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.stopped {
		return
	}
	if it.busy.Load() <= 0 {
		it.t.Reset(it.d) // nothing under way that could stall
		return
	}
	idle := time.Since(time.Unix(0, it.last.Load()))
	if idle < it.d {
		it.t.Reset(it.d - idle)
		return
	}
	it.fired.Store(true)
	it.cancel(&errIdle{it.d})
}

// begin and end bracket a request whose body counts.
func (it *idleTimer) begin() {
	if it.d > 0 {
		it.touch()
		it.busy.Add(1)
	}
}

func (it *idleTimer) end() {
	if it.d > 0 {
		it.touch()
		it.busy.Add(-1)
	}
}

// hold runs fn, a call into the caller's writer during a request, with the
// timer held: the time it blocks does not count as idle.
func (it *idleTimer) hold(fn func()) {
	if it.d <= 0 {
		fn()
		return
	}
	it.busy.Add(-1)
	fn()
	it.touch()
	it.busy.Add(1)
}

func (it *idleTimer) touch() {
	if it.d > 0 {
		it.last.Store(time.Now().UnixNano())
	}
}

func (it *idleTimer) stop() {
	if it.t != nil {
		it.mu.Lock()
		it.stopped = true // a fire under way does not re-arm
		it.t.Stop()
		it.mu.Unlock()
		it.cancel(nil)
	}
}

// result reports a transfer the timer ended as the timeout it is
// (errors.Is context.DeadlineExceeded), not as the cancellation the SDK saw
// when its context ended: the caller cancelled nothing.
func (it *idleTimer) result(err error) error {
	if err == nil || !it.fired.Load() {
		return err
	}
	cause := &errIdle{it.d}
	var e *Error
	switch {
	case errors.As(err, &e) && e.kind == nil:
		if !errors.Is(e.Err, context.DeadlineExceeded) {
			e.Err = fmt.Errorf("%w (%v)", cause, e.Err)
		}
		return e
	case e != nil:
		return err // a category of its own (corrupt, not found, ...)
	}
	return fmt.Errorf("%w (%v)", cause, err)
}
