package s3dest

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// A Put that waits for room in the memory budget holds no part buffer
// meanwhile: it takes the budget before it allocates. (It allocated one
// first, so that every waiting Put held a part more than the budget.)
func TestPartBufferWaitsBeforeAllocating(t *testing.T) {
	const part = 8 << 20
	d, err := New(t.Context(), "backups", WithServerName("http://127.0.0.1:9"), WithCredentials("a", "b"),
		WithRegion("us-east-1"), WithPartSize(part), WithMemoryLimit(2*part))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.mem.take(2 * part); !ok { // other Puts hold the whole budget
		t.Fatal("the budget is not empty")
	}
	u := &upload{mpu: &mpu{d: d}, free: make(chan []byte, 1)}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := u.partBuffer(ctx, part)
	runtime.ReadMemStats(&after)
	if b != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("partBuffer with no room = %d bytes, %v; want to wait until ctx ends", len(b), err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n >= part/2 {
		t.Errorf("waiting for room allocated %d bytes, want no part buffer", n)
	}
}
