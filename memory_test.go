package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
)

// Many Puts on one Destination share its memory limit: 64 concurrent
// multipart Puts never hold more part buffers together than the limit,
// none fails for it, and every object reads back as written.
func TestMemoryLimitHoldsAcrossPuts(t *testing.T) {
	const part = 64 << 10
	srv := withBucket(t)
	limit := int64(6 * part)
	d := newDest(t, srv, s3dest.WithLimitsForTest(part, 0, 0), s3dest.WithPartSize(part),
		s3dest.WithConcurrency(4), s3dest.WithMemoryLimit(limit))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			var want bytes.Buffer
			name := fmt.Sprintf("obj-%02d", i)
			if err := d.Put(t.Context(), name, io.TeeReader(noise(byte(i), 5*part+100), &want)); err != nil {
				errs <- fmt.Errorf("Put %s: %w", name, err)
				return
			}
			var got bytes.Buffer
			if err := d.Get(t.Context(), name, &got); err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
				errs <- fmt.Errorf("Get %s: %d bytes, err %v; want the %d bytes put", name, got.Len(), err, want.Len())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peak, used := s3dest.MemoryPeakForTest(d)
	if peak > limit || peak < 2*part {
		t.Errorf("the Puts held %d bytes of part buffers at most, want between %d and the limit %d", peak, 2*part, limit)
	}
	if used != 0 {
		t.Errorf("%d bytes of the budget still held after every Put ended", used)
	}
}

// A part larger than the memory limit is taken alone, and a Put that holds
// the only buffer goes on with it: the Puts finish one buffer at a time.
func TestMemoryLimitBelowPartSize(t *testing.T) {
	const part = 64 << 10
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithLimitsForTest(part, 0, 0), s3dest.WithPartSize(2*part),
		s3dest.WithMemoryLimit(part))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := d.Put(t.Context(), fmt.Sprintf("obj-%d", i), noise(byte(i), 5*part)); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Puts sharing a memory limit smaller than one part did not finish")
	}
	if peak, _ := s3dest.MemoryPeakForTest(d); peak > part {
		t.Errorf("the Puts held %d bytes at most, over the limit %d", peak, part)
	}
}

// A Put that waits for memory ends when its context does, and gives back
// nothing it did not take.
func TestMemoryLimitWaitEndsWithContext(t *testing.T) {
	const part = 64 << 10
	srv := withBucket(t)
	stalled, release := signal(), make(chan struct{})
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/first") && r.URL.Query().Has("partNumber") {
			reached(stalled)
			<-release // the first Put's parts hold their buffers
		}
		return false
	})
	d := newDest(t, srv, s3dest.WithLimitsForTest(part, 0, 0), s3dest.WithPartSize(part),
		s3dest.WithConcurrency(1), s3dest.WithMemoryLimit(2*part))
	first := make(chan error, 1)
	go func() { first <- d.Put(t.Context(), "first", noise(1, 3*part)) }()
	<-stalled // "first" has a part in flight; wait until it holds the next one too
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, used := s3dest.MemoryPeakForTest(d); used == 2*part {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first Put never took its second buffer")
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() { second <- d.Put(ctx, "second", noise(2, 3*part)) }()
	time.Sleep(20 * time.Millisecond) // let it reach the wait; not asserting
	cancel()
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put waiting for memory, cancelled = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Put waiting for memory did not end with its context")
	}
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/second") {
			t.Errorf("the Put waiting for memory sent %s %s", r.Method, r.Path)
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first Put: %v", err)
	}
	if _, used := s3dest.MemoryPeakForTest(d); used != 0 {
		t.Errorf("%d bytes of the budget still held after both Puts ended", used)
	}
}

func TestMemoryLimitValidated(t *testing.T) {
	srv := withBucket(t)
	for _, n := range []int64{-1, 1 << 20} {
		_, err := s3dest.New(t.Context(), bucket, s3dest.WithServerName(srv.Endpoint), s3dest.WithMemoryLimit(n))
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "memory limit") {
			t.Errorf("WithMemoryLimit(%d): %v, want ErrInvalid naming the memory limit", n, err)
		}
	}
}
