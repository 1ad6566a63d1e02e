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

// Timeouts bound how long a single call may take. A zero field keeps its
// default (Duplicati's: Short 30s, List 10m, ReadWrite 30s); NoTimeout
// removes that limit. A URL says the same with 0 ("short-timeout=0"), as
// Duplicati does: ParseURL reads it as NoTimeout.
type Timeouts struct {
	// Short bounds calls that move no object data: HEAD, DELETE, restore
	// requests, bucket calls. Server-side copies (Rename) and completing a
	// multipart upload are not bounded: S3 may take minutes over them.
	// Duplicati's short-timeout.
	Short time.Duration
	// List bounds each listing page. Duplicati's list-timeout.
	List time.Duration
	// ReadWrite is an idle timeout on object bodies: a Put or Get fails when
	// a request that moves a body is under way and no byte of it moved for
	// this long (time spent in the caller's reader or writer does not
	// count). Duplicati's read-write-timeout.
	ReadWrite time.Duration
}

// NoTimeout, in a field of Timeouts, removes that limit: the call may take
// as long as its context allows. Any negative duration means the same.
const NoTimeout time.Duration = -1

// effectiveTimeouts applies the defaults to zero fields; what remains is
// a limit, or NoTimeout.
func effectiveTimeouts(t Timeouts) Timeouts {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return NoTimeout
		}
		return v
	}
	return Timeouts{
		Short:     pick(t.Short, 30*time.Second),
		List:      pick(t.List, 10*time.Minute),
		ReadWrite: pick(t.ReadWrite, 30*time.Second),
	}
}

// withTimeout bounds ctx by t, unless t is NoTimeout.
func (d *Destination) withTimeout(ctx context.Context, t time.Duration) (context.Context, context.CancelFunc) {
	if t == NoTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, t)
}

// errTimeout is the cause of a call the short or list timeout ended: it
// names the option, as errIdle does for read-write-timeout.
type errTimeout struct {
	name string // short-timeout, list-timeout
	d    time.Duration
}

func (e *errTimeout) Error() string {
	return fmt.Sprintf("no answer within %v (%s)", e.d, e.name)
}

func (e *errTimeout) Unwrap() error { return context.DeadlineExceeded }

// timeoutName names the URL option of a timeout do was given.
func (d *Destination) timeoutName(t time.Duration) string {
	short, list := d.cfg.timeouts.Short, d.cfg.timeouts.List
	switch {
	case t == list && t != short:
		return "list-timeout"
	case t == list:
		return "short-timeout or list-timeout"
	}
	return "short-timeout"
}

// timedOut puts the timeout that ended ctx in front of err, when it did:
// the SDK only says "context deadline exceeded". err stays reachable for
// errors.Is and errors.As.
func timedOut(ctx context.Context, err error) error {
	var te *errTimeout
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !errors.As(context.Cause(ctx), &te) {
		return err
	}
	return fmt.Errorf("%w: %w", te, err)
}

// cleanupTimeout bounds the requests that clean up after a failure, which
// run on a fresh context since the caller's may be cancelled.
func (d *Destination) cleanupTimeout() time.Duration {
	if d.cfg.timeouts.Short > 0 {
		return d.cfg.timeouts.Short
	}
	return 30 * time.Second
}

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
	clock  clock
	last   atomic.Int64 // unix nanoseconds of the last progress
	busy   atomic.Int32 // requests under way whose body counts
	fired  atomic.Bool
	t      timer
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
	it := &idleTimer{d: d.cfg.timeouts.ReadWrite, clock: d.clock}
	if it.d <= 0 {
		return ctx, it
	}
	ctx, it.cancel = context.WithCancelCause(ctx)
	it.touch()
	// Armed only once it.t is set: fire reads it.
	it.t = it.clock.AfterFunc(math.MaxInt64, it.fire)
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
	idle := it.clock.Now().Sub(time.Unix(0, it.last.Load()))
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
		it.last.Store(it.clock.Now().UnixNano())
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
