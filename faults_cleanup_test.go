package s3dest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

func TestFailedPutLeavesNothing(t *testing.T) {
	for _, op := range []string{"PutObject", "UploadPart", "CompleteMultipartUpload"} {
		t.Run(op, func(t *testing.T) {
			srv := withBucket(t)
			ft := &faults.Transport{}
			d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20), s3dest.WithRetryMaxAttempts(2))
			ft.Add(faults.Fault{Match: faults.Op(op), Status: http.StatusInternalServerError, Code: "InternalError"})
			size := int64(11 << 20)
			if op == "PutObject" {
				size = 100
			}
			if err := d.Put(t.Context(), "obj", noise(3, size)); err == nil {
				t.Fatal("Put succeeded under endless faults")
			}
			ft.Clear()
			if _, err := d.Stat(t.Context(), "obj"); !errors.Is(err, s3dest.ErrObjectNotFound) {
				t.Errorf("after a failed Put: Stat = %v, want ErrObjectNotFound", err)
			}
			assertNoUploads(t, d)
		})
	}
}

func TestCancelMidTransfer(t *testing.T) {
	for _, op := range []string{"PutObject", "UploadPart", "GetObject"} {
		t.Run(op, func(t *testing.T) {
			srv := withBucket(t)
			ft := &faults.Transport{}
			d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20))
			if op == "GetObject" {
				put(t, d, "obj", "content")
			}
			http.DefaultTransport.(*http.Transport).CloseIdleConnections()
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(t.Context())
			stalled := make(chan struct{})
			var once sync.Once
			ft.Add(faults.Fault{Stall: true, Match: func(r *http.Request) bool {
				if !faults.Op(op)(r) {
					return false
				}
				once.Do(func() { close(stalled) })
				return true
			}})
			errc := make(chan error, 1)
			go func() {
				size := int64(11 << 20)
				if op == "PutObject" {
					size = 100
				}
				if op == "GetObject" {
					errc <- d.Get(ctx, "obj", io.Discard)
					return
				}
				errc <- d.Put(ctx, "obj2", noise(4, size))
			}()
			<-stalled
			cancel()
			err := <-errc
			if !errors.Is(err, context.Canceled) {
				t.Errorf("after cancel: %v, want context.Canceled", err)
			}
			ft.Clear()
			if op != "GetObject" {
				assertNoUploads(t, d)
			}
			waitGoroutines(t, before)
		})
	}
}

// waitGoroutines fails if the goroutine count does not come back to n once
// idle connections (and the fake's goroutines serving them) are closed.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}
