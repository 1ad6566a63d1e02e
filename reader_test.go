package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
)

// readAll reads r in small reads, as a decoder does, and closes it.
func readAll(r io.ReadCloser) ([]byte, error) {
	defer r.Close()
	var out bytes.Buffer
	buf := make([]byte, 7919)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

func TestNewReader(t *testing.T) {
	for path, size := range sizes {
		t.Run(path, func(t *testing.T) {
			srv := withBucket(t)
			d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination { return newDest(t, srv, o...) })
			data := randomBytes(int(size), 9)
			if err := d.Put(t.Context(), "vol", noSize(data)); err != nil {
				t.Fatal(err)
			}
			r, err := d.NewReader(t.Context(), "vol")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("NewReader read %d bytes, err %v; want the %d bytes put", len(got), err, len(data))
			}
		})
	}
}

// The Read that ends a stream whose bytes are not the object's returns
// ErrCorrupt, not io.EOF.
func TestNewReaderDetectsCorruptAndTruncatedBodies(t *testing.T) {
	data := randomBytes(300<<10, 10)
	for name, mangle := range map[string]func(h http.Header, b []byte) []byte{
		"one bit flipped": func(h http.Header, b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"cut short, Content-Length adjusted": func(h http.Header, b []byte) []byte {
			h.Set("Content-Length", strconv.Itoa(len(b)-100))
			return b[:len(b)-100]
		},
		"cut short, Content-Length kept": func(h http.Header, b []byte) []byte { return b[:len(b)/3] },
	} {
		for path := range sizes {
			t.Run(name+"/"+path, func(t *testing.T) {
				srv := withBucket(t)
				d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(64<<10))
				if path == "single" {
					d = newDest(t, srv)
				}
				if err := d.Put(t.Context(), "vol", noSize(data)); err != nil {
					t.Fatal(err)
				}
				srv.SetHook(mangleGets(srv.ServeFake, "/backups/vol", mangle))
				r, err := d.NewReader(t.Context(), "vol")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := readAll(r); !errors.Is(err, s3dest.ErrCorrupt) {
					t.Errorf("reading a mangled body: %v, want ErrCorrupt", err)
				}
			})
		}
	}
}

func TestNewReaderOfMissingObject(t *testing.T) {
	d := newDest(t, withBucket(t))
	if r, err := d.NewReader(t.Context(), "missing"); !errors.Is(err, s3dest.ErrObjectNotFound) || r != nil {
		t.Errorf("NewReader of a missing object: %v, %v; want no reader and ErrObjectNotFound", r, err)
	}
}

// Closing a stream before its end releases it: no goroutine stays, and the
// Destination reads on.
func TestNewReaderCloseEarly(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	data := randomBytes(2<<20, 11)
	if err := d.Put(t.Context(), "vol", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	get(t, d, "vol") // the connection pool is warm
	before := runtime.NumGoroutine()
	for range 20 {
		r, err := d.NewReader(t.Context(), "vol")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := r.Read(make([]byte, 10)); err == nil {
			t.Error("Read after Close succeeded")
		}
	}
	assertGoroutinesBack(t, before, "20 streams closed early")
	if got := get(t, d, "vol"); got != string(data) {
		t.Error("Get after the early closes differs")
	}
}

// The read-write timeout ends a Read stalled on the server; time the caller
// spends between Reads does not count; ctx ends the stream.
func TestNewReaderTimeouts(t *testing.T) {
	c, d, stalled := stalledBody(t, 500)
	r, err := d.NewReader(t.Context(), "vol")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	<-stalled
	if _, err := io.ReadFull(r, make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	c.Advance(4 * stallIdle) // the caller is slow between Reads: no timeout
	done := make(chan error, 1)
	go func() { _, err := r.Read(make([]byte, 100)); done <- err }()
	err = advanceUntil(t, c, stallIdle, done)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "read-write-timeout") {
		t.Errorf("Read of a stalled body: %v, want a read-write-timeout DeadlineExceeded", err)
	}
	var e *s3dest.Error
	if !errors.As(err, &e) || e.Op != "new-reader" {
		t.Errorf("Read error %v is not an *s3dest.Error of new-reader", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	r2, err := d.NewReader(ctx, "vol")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	<-stalled
	if _, err := io.ReadFull(r2, make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r2.Read(make([]byte, 100)); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after ctx ended: %v, want context.Canceled", err)
	}
}

func TestNewRangeReader(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "vol", "0123456789")
	for _, tc := range []struct {
		offset, length int64
		want           string
	}{{2, 3, "234"}, {7, -1, "789"}, {0, -1, "0123456789"}, {0, 10, "0123456789"}, {5, 0, ""}} {
		r, err := d.NewRangeReader(t.Context(), "vol", tc.offset, tc.length)
		if err != nil {
			t.Errorf("NewRangeReader(%d, %d): %v", tc.offset, tc.length, err)
			continue
		}
		if got, err := readAll(r); err != nil || string(got) != tc.want {
			t.Errorf("NewRangeReader(%d, %d) read %q, %v; want %q", tc.offset, tc.length, got, err, tc.want)
		}
	}
	for _, bad := range [][2]int64{{8, 5}, {10, 1}, {-1, 2}, {0, -2}} {
		if r, err := d.NewRangeReader(t.Context(), "vol", bad[0], bad[1]); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("NewRangeReader(%d, %d) = %v, %v; want ErrInvalid", bad[0], bad[1], r, err)
		}
	}
}
