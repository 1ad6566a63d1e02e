package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

// Regression tests for what an adversarial review of the new features
// found: budget leaks and hangs, ownership after lost answers, verdicts
// that could not be confirmed.

// blockReader delivers nothing until its channel closes.
type blockReader struct{ ch chan struct{} }

func (b blockReader) Read([]byte) (int, error) { <-b.ch; return 0, io.EOF }

// Puts whose readers have delivered nothing hold no part buffer, and a Put
// that ends while its reader blocks gives back what it took: neither can
// starve the Destination's other Puts.
func TestMemoryLimitIdleAndCancelledReaders(t *testing.T) {
	const part = 64 << 10
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithLimitsForTest(part, 0, 0), s3dest.WithPartSize(part),
		s3dest.WithConcurrency(1), s3dest.WithMemoryLimit(2*part))
	unblock := make(chan struct{})
	defer close(unblock)
	for range 3 { // more than the budget holds
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		if err := d.Put(ctx, "x", blockReader{unblock}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Put from a blocked reader: %v, want its deadline", err)
		}
		cancel()
	}
	if _, used := s3dest.MemoryPeakForTest(d); used != 0 {
		t.Errorf("%d bytes of the budget held with no Put running", used)
	}
	waiting := make(chan error, 2)
	for range 2 {
		go func() { waiting <- d.Put(t.Context(), "w", blockReader{unblock}) }()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := d.Put(ctx, "small", noSize([]byte("hello"))); err != nil {
		t.Errorf("a 5-byte Put beside two idle ones: %v", err)
	}
	if err := d.Put(ctx, "large", noSize(randomBytes(3*part, 1))); err != nil {
		t.Errorf("a multipart Put beside two idle ones: %v", err)
	}
}

type panicWriter struct{ n int }

// getIntoPanic Gets name into a panicWriter: the panic must reach the
// caller, and the Get must return, within 10 s.
func getIntoPanic(t *testing.T, d *s3dest.Destination, name string) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		_ = d.Get(t.Context(), name, &panicWriter{})
	}()
	select {
	case p := <-done:
		if p == nil {
			t.Error("the writer's panic was lost")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get whose writer panicked never returned")
	}
}

func (w *panicWriter) Write(p []byte) (int, error) {
	if w.n++; w.n == 2 {
		panic("writer full")
	}
	return len(p), nil
}

// A Get checked by a slow hash (MD5) whose writer panics passes the panic
// on instead of hanging.
func TestGetWriterPanicDoesNotHang(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(noChecksums)
	d := newDest(t, srv)
	if err := d.Put(t.Context(), "vol", bytes.NewReader(randomBytes(1<<20, 7))); err != nil {
		t.Fatal(err)
	}
	getIntoPanic(t, d, "vol")
}

// An IfAbsent Put whose first try failed and whose retry meets another
// writer's object of the same bytes reports ErrObjectExists, and leaves no
// upload behind: same bytes do not make the object its own.
func TestIfAbsentRetryMeetsAnothersObject(t *testing.T) {
	for path, op := range map[string]string{"single": "PutObject", "multipart": "CompleteMultipartUpload"} {
		t.Run(path, func(t *testing.T) {
			srv := withBucket(t)
			ft := &faults.Transport{}
			d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination { return faultDest(t, srv, ft, o...) })
			data := randomBytes(int(sizes[path]), 9)
			if err := d.Put(t.Context(), "vol", noSize(data), s3dest.PutMetadata(map[string]string{"owner": "someone-else"})); err != nil {
				t.Fatal(err)
			}
			ft.Add(faults.Fault{Match: faults.Op(op), Times: 1, Status: http.StatusServiceUnavailable, Code: "SlowDown"})
			err := d.Put(t.Context(), "vol", noSize(data), s3dest.IfAbsent(), s3dest.PutMetadata(map[string]string{"owner": "me"}))
			if !errors.Is(err, s3dest.ErrObjectExists) {
				t.Errorf("IfAbsent Put over another writer's identical object = %v, want ErrObjectExists", err)
			}
			if ft.Injected() == 0 {
				t.Fatal("the first try never failed")
			}
			if fi, err := d.Stat(t.Context(), "vol"); err != nil || fi.Metadata["owner"] != "someone-else" {
				t.Errorf("the other writer's object changed: %v, %v", fi.Metadata, err)
			}
			assertNoUploads(t, d)
		})
	}
}

// On a server that answers no checksum, another writer that replaces the
// object between s3dest's Complete and its check is left alone: its object
// is not deleted as corrupt.
func TestCheckAssembledLeavesAnothersObject(t *testing.T) {
	srv := withBucket(t)
	other := newDest(t, srv)
	var completed, overwritten atomic.Bool
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if noChecksums(w, r) {
			return true
		}
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			completed.Store(true)
		}
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/vol") && completed.Load() && !overwritten.Swap(true) {
			if err := other.Put(r.Context(), "vol", strings.NewReader("the other writer's object")); err != nil {
				t.Errorf("other writer: %v", err)
			}
		}
		return false
	})
	d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination { return newDest(t, srv, o...) })
	err := d.Put(t.Context(), "vol", noSize(randomBytes(300<<10, 1)))
	srv.SetHook(nil)
	if !overwritten.Load() {
		t.Fatal("no overwrite happened")
	}
	if errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Put = %v: another writer's object called corrupt", err)
	}
	if got := get(t, d, "vol"); got != "the other writer's object" {
		t.Errorf("the other writer's object reads %q", got)
	}
}

// A body that does not match its multipart ETag is corrupt even when the
// HEADs that could explain the mismatch by another part layout fail:
// good-looking data is no proof.
func TestCorruptWhenVerdictHeadsFail(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(noChecksums)
	ft := &faults.Transport{}
	d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination {
		return faultDest(t, srv, ft, append(o, s3dest.WithRetryMaxAttempts(1))...)
	})
	data := randomBytes(300<<10, 1)
	if err := d.Put(t.Context(), "vol", noSize(data)); err != nil {
		t.Fatal(err)
	}
	ft.Add(faults.Fault{Match: faults.Method(http.MethodGet), Times: 1, Corrupt: true})
	ft.Add(faults.Fault{Match: faults.Method(http.MethodHead), Status: http.StatusForbidden, Code: "AccessDenied"})
	var got bytes.Buffer
	if err := d.Get(t.Context(), "vol", &got); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Get of a corrupt body whose verdict HEADs fail = %v (bytes equal: %v), want ErrCorrupt",
			err, bytes.Equal(got.Bytes(), data))
	}
}
