package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
)

// sameAs checks what is written to it against want, keeping nothing.
type sameAs struct {
	want []byte
	n    int
	diff bool
}

func (s *sameAs) Write(p []byte) (int, error) {
	s.diff = s.diff || s.n+len(p) > len(s.want) || !bytes.Equal(p, s.want[s.n:s.n+len(p)])
	s.n += len(p)
	return len(p), nil
}

func (s *sameAs) ok() bool { return !s.diff && s.n == len(s.want) }

func TestPutStreamRoundTrip(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	srv := withBucket(t)
	d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20), s3dest.WithConcurrency(4))
	data := randomBytes(64<<20, 1)
	srv.ResetRequests()
	if err := d.Put(t.Context(), "big", unknownLength{bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range srv.Requests() {
		switch {
		case r.Method == http.MethodPost && r.Query.Has("uploads"):
			if r.Header.Get("X-Amz-Checksum-Algorithm") != "CRC32C" || r.Header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT" {
				t.Errorf("CreateMultipartUpload asked for checksum %q type %q, want CRC32C FULL_OBJECT",
					r.Header.Get("X-Amz-Checksum-Algorithm"), r.Header.Get("X-Amz-Checksum-Type"))
			}
		case r.Method == http.MethodPut && r.Query.Has("partNumber"):
			parts++
			if r.Header.Get("X-Amz-Checksum-Crc32c") == "" || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
				t.Errorf("part %s: checksum %q, encoding %q: want a CRC32C header and a plain body", r.Query.Get("partNumber"),
					r.Header.Get("X-Amz-Checksum-Crc32c"), r.Header.Get("Content-Encoding"))
			}
		case r.Method == http.MethodPost && r.Query.Has("uploadId"):
			if got, want := r.Header.Get("X-Amz-Checksum-Crc32c"), crc32c(string(data)); got != want {
				t.Errorf("CompleteMultipartUpload carried CRC32C %q, want the whole object's %q", got, want)
			}
		}
	}
	if parts != 64 {
		t.Errorf("uploaded %d parts, want 64 of 1 MiB", parts)
	}
	got := &sameAs{want: data}
	if err := d.Get(t.Context(), "big", got); err != nil {
		t.Fatal(err)
	}
	if !got.ok() {
		t.Errorf("Get returned %d bytes that differ from the %d put", got.n, len(data))
	}
	fi, err := d.Stat(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if want := "CRC32C:" + crc32c(string(data)); fi.Size != int64(len(data)) || fi.Checksum != want {
		t.Errorf("Stat = size %d checksum %q, want %d and %q", fi.Size, fi.Checksum, len(data), want)
	}
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
}

func TestPutSizes(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	srv := withBucket(t)
	d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		size  int
		r     func([]byte) io.Reader
		parts int // 0: one PutObject
	}{
		{"empty stream", 0, func(b []byte) io.Reader { return unknownLength{bytes.NewReader(b)} }, 0},
		{"small stream", 1000, func(b []byte) io.Reader { return unknownLength{bytes.NewReader(b)} }, 0},
		{"stream of one part", mib, func(b []byte) io.Reader { return unknownLength{bytes.NewReader(b)} }, 1},
		{"stream of 2.5 parts", 5 * mib / 2, func(b []byte) io.Reader { return unknownLength{bytes.NewReader(b)} }, 3},
		{"bytes.Reader of one part", mib, func(b []byte) io.Reader { return bytes.NewReader(b) }, 0},
		{"bytes.Buffer of one part", mib, func(b []byte) io.Reader { return bytes.NewBuffer(b) }, 0},
		{"bytes.Reader of 3.5 parts", 7 * mib / 2, func(b []byte) io.Reader { return bytes.NewReader(b) }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh name each time: gofakes3 would keep an overwritten
			// object's checksum header (it merges metadata).
			name := strings.ReplaceAll(tc.name, " ", "-")
			data := randomBytes(tc.size, 2)
			srv.ResetRequests()
			if err := d.Put(t.Context(), name, tc.r(data)); err != nil {
				t.Fatal(err)
			}
			puts, parts := 0, 0
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPut && r.Query.Has("partNumber") {
					parts++
				} else if r.Method == http.MethodPut {
					puts++
				}
			}
			if tc.parts == 0 && (puts != 1 || parts != 0) || tc.parts > 0 && parts != tc.parts {
				t.Errorf("sent %d PutObject and %d parts, want %d parts (0: one PutObject)", puts, parts, tc.parts)
			}
			if got := get(t, d, name); got != string(data) {
				t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(data))
			}
		})
	}
}

// shortLen announces more bytes than it has.
type shortLen struct{ r *bytes.Reader }

func (s shortLen) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s shortLen) Len() int                   { return s.r.Len() + 1 }

// failingReader delivers n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	m := min(len(p), f.n)
	clear(p[:m])
	f.n -= m
	return m, nil
}

func TestPutFailureLeavesNothing(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	errRead := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		r    io.Reader
		hook s3test.Hook
		want error
	}{
		{"part refused", unknownLength{bytes.NewReader(randomBytes(8<<20, 3))}, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "3" {
				_, _ = io.Copy(io.Discard, r.Body)
				s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "no parts for you")
				return true
			}
			return false
		}, s3dest.ErrAccessDenied},
		{"read error", &failingReader{n: 5 << 20, err: errRead}, nil, errRead},
		{"known length not delivered", shortLen{bytes.NewReader(randomBytes(3<<20, 4))}, nil, nil},
		{"complete refused", unknownLength{bytes.NewReader(randomBytes(3<<20, 5))}, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
				s3test.WriteError(w, r, http.StatusBadRequest, "InvalidPart", "lost one")
				return true
			}
			return false
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(tc.hook)
			d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
			err := d.Put(t.Context(), "vol", tc.r)
			var e *s3dest.Error
			if err == nil || !errors.As(err, &e) || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Put = %v, want an *Error matching %v", err, tc.want)
			}
			aborted := false
			for _, r := range srv.Requests() {
				aborted = aborted || r.Method == http.MethodDelete && r.Query.Has("uploadId")
			}
			if !aborted {
				t.Error("no AbortMultipartUpload was sent")
			}
			if left := uploadsLeft(t, d); len(left) != 0 {
				t.Errorf("uploads left behind: %v", left)
			}
			if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
				t.Errorf("Stat after a failed Put: %v, want ErrObjectNotFound", err)
			}
		})
	}
}

func TestPutCancelStopsPromptlyAndLeaksNothing(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	srv := withBucket(t)
	hc := &http.Client{Transport: &http.Transport{}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelled time.Time
	d := newDest(t, srv, limits, s3dest.WithHTTPClient(hc), s3dest.WithPartSize(256<<10), s3dest.WithConcurrency(3),
		s3dest.WithProgress(func(p s3dest.Progress) {
			if p.Done >= 2<<20 && cancelled.IsZero() {
				cancelled = time.Now()
				cancel()
			}
		}))
	base := runtime.NumGoroutine()
	err := d.Put(ctx, "vol", endless{})
	stopped := time.Since(cancelled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	if stopped > 5*time.Second {
		t.Errorf("Put returned %v after the context was cancelled", stopped)
	}
	s3dest.WaitCleanupsForTest(d) // the abort of its upload, in the background
	hc.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting, not asserting
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Put, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
}

func TestPutMemoryBound(t *testing.T) {
	const partSize, conc, streamed = 8 << 20, 2, 512 << 20
	srv := withBucket(t)
	srv.SetHook(discardUploads)
	d := newDest(t, srv, s3dest.WithPartSize(partSize), s3dest.WithConcurrency(conc))
	src := &pattern{block: randomBytes(64<<10, 6), n: streamed}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := d.Put(t.Context(), "vol", unknownLength{src}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	bound := uint64(partSize*(conc+1) + 16<<20)
	t.Logf("streamed %d MiB, allocated %.1f MiB (bound %d MiB)", streamed>>20, float64(allocated)/(1<<20), bound>>20)
	if allocated > bound {
		t.Errorf("Put of a %d MiB stream allocated %d MiB, more than part size × (concurrency+1) + 16 MiB = %d MiB",
			streamed>>20, allocated>>20, bound>>20)
	}
}

// A Put that fails leaves the object it would have replaced as it was, and
// readable: its bytes, its checksum.
func TestFailedOverwriteKeepsTheObject(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	put(t, d, "vol", "small first")
	second := randomBytes(3<<20+5, 51)
	if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(second)}); err != nil {
		t.Fatal(err)
	}
	ft.Add(faults.Fault{Match: faults.Op("UploadPart"), Status: http.StatusForbidden, Code: "AccessDenied"})
	if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(randomBytes(3<<20, 52))}); err == nil {
		t.Fatal("the failing Put returned nil")
	}
	ft.Clear()
	if got := get(t, d, "vol"); got != string(second) {
		t.Error("the object differs from the last Put that succeeded")
	}
}
