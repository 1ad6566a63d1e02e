package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestShortTimeoutStopsStalledServer(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done() // stall until the client gives up
		return true
	})
	d := newDest(t, srv, s3dest.WithTimeouts(s3dest.Timeouts{Short: 100 * time.Millisecond, List: 100 * time.Millisecond}))
	start := time.Now()
	_, err := d.Stat(t.Context(), "vol")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat on a stalled server: %v, want context.DeadlineExceeded", err)
	}
	// The List must end by its own timeout. The guard that stops it
	// otherwise cancels rather than expires, so that it cannot pass for
	// the list timeout.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	guard := time.AfterFunc(10*time.Second, cancel)
	defer guard.Stop()
	var listErr error
	for fi, err := range d.List(ctx) {
		if err != nil {
			listErr = err
		} else {
			t.Errorf("List on a stalled server yielded %q", fi.Name)
		}
	}
	var e *s3dest.Error
	switch {
	case !errors.Is(listErr, context.DeadlineExceeded):
		t.Errorf("List on a stalled server: %v, want context.DeadlineExceeded", listErr)
	case !errors.As(listErr, &e) || e.Op != "list":
		t.Errorf("List on a stalled server: %#v, want an *s3dest.Error of Op list", listErr)
	case strings.Contains(listErr.Error(), s3test.SecretKey):
		t.Errorf("List timeout error shows the secret: %v", listErr)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v: the timeouts did not stop the stalled server", elapsed)
	}
}

func TestReadWriteTimeoutStopsStalledBody(t *testing.T) {
	c, d, stalled := stalledBody(t, 4)
	done := make(chan error, 1)
	go func() { done <- d.Get(t.Context(), "vol", io.Discard) }()
	<-stalled
	err := advanceUntil(t, c, stallIdle, done)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "read-write-timeout") {
		t.Errorf("Get of a stalled body: %v, want a read-write-timeout DeadlineExceeded", err)
	}
}

// S3 may take minutes to assemble a large upload in
// CompleteMultipartUpload, sending no body bytes meanwhile: the read-write
// idle timeout must not cut that short. The hook runs the clock past the
// timeout while the server holds the request.
func TestReadWriteTimeoutSparesSlowComplete(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	const idle = 100 * time.Millisecond
	var completes atomic.Int32
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			completes.Add(1)
			c.Advance(4 * idle) // a slow server
		}
		return false
	})
	d := newDest(t, srv, c.option(), limits, s3dest.WithPartSize(64<<10), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	if err := d.Put(t.Context(), "big", noise(5, 300<<10)); err != nil {
		t.Fatalf("Put with a slow CompleteMultipartUpload: %v", err)
	}
	if completes.Load() == 0 {
		t.Fatal("the Put sent no CompleteMultipartUpload: the slow Complete was not tried")
	}
}

// pausingReader blocks its first Read until release is closed, as a pipe
// from a slow producer does.
type pausingReader struct {
	r       io.Reader
	release chan struct{}
	paused  chan struct{}
	once    sync.Once
}

func (p *pausingReader) Read(b []byte) (int, error) {
	p.once.Do(func() {
		close(p.paused)
		<-p.release
	})
	return p.r.Read(b)
}

// The read-write timeout watches the server, not the caller: a source that
// pauses longer than it (a tar or pg_dump pipe) must not fail the Put.
func TestReadWriteTimeoutIgnoresSlowSource(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	const idle = 100 * time.Millisecond
	d := newDest(t, srv, c.option(), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	src := &pausingReader{r: strings.NewReader("data from a pipe"), release: make(chan struct{}), paused: make(chan struct{})}
	go func() {
		<-src.paused
		c.Advance(4 * idle) // the producer is slow; the server is fine
		close(src.release)
	}()
	if err := d.Put(t.Context(), "vol", src); err != nil {
		t.Fatalf("Put from a pausing source: %v", err)
	}
}

// The read-write timeout ends a Put whose part upload stalls even while the
// reader is blocked on the next part.
func TestReadWriteTimeoutWhileReaderBlocks(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	srv := withBucket(t)
	c := newFakeClock()
	const idle = 300 * time.Millisecond
	stalled := signal()
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			_, _ = io.Copy(io.Discard, r.Body)
			reached(stalled)
			<-r.Context().Done() // the connection stalls
			return true
		}
		return false
	})
	d := newDest(t, srv, c.option(), limits, s3dest.WithPartSize(1<<20), s3dest.WithRetryMaxAttempts(1),
		s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	done := make(chan error, 1)
	go func() { done <- d.Put(t.Context(), "vol", stuck(t, 1<<20+10)) }()
	<-stalled
	err := advanceUntil(t, c, idle, done)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want a timeout (context.DeadlineExceeded) and no cancellation", err)
	}
}

// A read-write timeout that fires before the response headers is a timeout,
// not a cancellation the caller never made.
func TestReadWriteTimeoutBeforeHeadersIsATimeout(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	const idle = 200 * time.Millisecond
	d := newDest(t, srv, c.option(), s3dest.WithRetryMaxAttempts(1), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	put(t, d, "vol", "data")
	stalled := signal()
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut || r.Method == http.MethodGet && r.URL.Path == "/"+bucket+"/vol" {
			_, _ = io.Copy(io.Discard, r.Body)
			reached(stalled)
			<-r.Context().Done() // the body arrived; no answer comes
			return true
		}
		return false
	})
	for op, run := range map[string]func() error{
		"Put": func() error { return d.Put(t.Context(), "new", bytes.NewReader([]byte("some data"))) },
		"Get": func() error { return d.Get(t.Context(), "vol", io.Discard) },
	} {
		done := make(chan error, 1)
		go func() { done <- run() }()
		<-stalled
		err := advanceUntil(t, c, idle, done)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("%s = %v, want a timeout (context.DeadlineExceeded) and no cancellation", op, err)
		}
	}
}

// NoTimeout is what the URL's 0 means, both ways: a Destination given it
// prints 0, and 0 parses back to it.
func TestNoTimeoutIsTheURLsZero(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithTimeouts(s3dest.Timeouts{List: s3dest.NoTimeout, ReadWrite: 90 * time.Second}))
	s := d.String()
	if !strings.Contains(s, "list-timeout=0") || strings.Contains(s, "short-timeout") {
		t.Errorf("String() = %q, want list-timeout=0 and no short-timeout (its default)", s)
	}
	u, err := s3dest.ParseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := (s3dest.Timeouts{List: s3dest.NoTimeout, ReadWrite: 90 * time.Second}); u.Timeouts != want {
		t.Errorf("ParseURL(String()).Timeouts = %+v, want %+v", u.Timeouts, want)
	}
}

const stallIdle = 100 * time.Millisecond

// stalledBody is a Destination on the fake clock with a read-write timeout
// of stallIdle, and an object "vol" of 1,000 bytes whose GET sends n of them,
// signals stalled, and then nothing more.
func stalledBody(t *testing.T, n int) (*fakeClock, *s3dest.Destination, chan struct{}) {
	srv := withBucket(t)
	c := newFakeClock()
	d := newDest(t, srv, c.option(), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: stallIdle}))
	put(t, d, "vol", strings.Repeat("x", 1000))
	stalled := signal()
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
		w.(http.Flusher).Flush()
		reached(stalled)
		<-r.Context().Done() // then nothing more
		return true
	})
	return c, d, stalled
}

// A request the short or list timeout ends says which limit ended it, as
// one the read-write timeout ends does, and how to get past it: a bare
// "context deadline exceeded" names neither the option nor the likely
// cause (a server that is not there, or a slow one).
func TestShortAndListTimeoutsNamed(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	d := newDest(t, srv, s3dest.WithTimeouts(s3dest.Timeouts{Short: 100 * time.Millisecond, List: 150 * time.Millisecond}))
	_, statErr := d.Stat(t.Context(), "vol")
	var listErr error
	for _, err := range d.List(t.Context()) {
		if err != nil {
			listErr = err
		}
	}
	for _, tc := range []struct {
		what, option string
		err          error
	}{{"Stat", "short-timeout", statErr}, {"List", "list-timeout", listErr}} {
		var e *s3dest.Error
		switch {
		case !errors.Is(tc.err, context.DeadlineExceeded) || !errors.As(tc.err, &e):
			t.Errorf("%s on a stalled server: %v, want an *s3dest.Error that is context.DeadlineExceeded", tc.what, tc.err)
		case !strings.Contains(e.Error(), tc.option):
			t.Errorf("%s on a stalled server: %q does not name %s", tc.what, e.Error(), tc.option)
		case !strings.Contains(e.Hint, tc.option) || !strings.Contains(e.Hint, "s3-server-name"):
			t.Errorf("%s on a stalled server: hint %q names neither %s nor s3-server-name", tc.what, e.Hint, tc.option)
		}
	}
}
