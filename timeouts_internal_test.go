package s3dest

import (
	"context"
	"testing"
	"time"
)

// A timer fire racing stop must not re-arm the timer: it would then fire
// every read-write interval for the life of the process. The sleeps only
// vary the interleavings; no outcome depends on their length.
func TestIdleTimerStaysStopped(t *testing.T) {
	d := &Destination{clock: realClock{}}
	d.cfg.timeouts.ReadWrite = 50 * time.Microsecond
	armed := 0
	for i := range 1000 {
		_, it := d.idleTimeout(context.Background())
		time.Sleep(time.Duration(i%7) * 10 * time.Microsecond)
		it.stop()
		time.Sleep(200 * time.Microsecond)
		if it.t.Stop() { // still armed after stop: it re-armed itself
			armed++
		}
	}
	if armed > 0 {
		t.Errorf("%d of 1000 idle timers were armed after stop", armed)
	}
}
