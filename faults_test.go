package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/internal/s3test"
)

// faultOps are the operations under fault, each with the S3 operation to
// fail and the fixture it needs. multi is an object large enough for
// multipart with 5 MiB parts.
var faultOps = []struct {
	name, op string
	run      func(ctx context.Context, d *s3dest.Destination) error
}{
	{"Put", "PutObject", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Put(ctx, "new", strings.NewReader("new content"))
	}},
	{"Put multipart", "UploadPart", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Put(ctx, "big", noise(1, 11<<20))
	}},
	{"Put multipart create", "CreateMultipartUpload", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Put(ctx, "big", noise(1, 11<<20))
	}},
	{"Put multipart complete", "CompleteMultipartUpload", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Put(ctx, "big", noise(1, 11<<20))
	}},
	{"Get", "GetObject", func(ctx context.Context, d *s3dest.Destination) error {
		var b bytes.Buffer
		if err := d.Get(ctx, "vol", &b); err != nil {
			return err
		}
		if b.String() != "volume data" {
			return fmt.Errorf("Get delivered %q", b.String())
		}
		return nil
	}},
	{"List", "ListObjects", func(ctx context.Context, d *s3dest.Destination) error {
		n := 0
		for _, err := range d.List(ctx) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 2 {
			return fmt.Errorf("listed %d objects, want 2", n)
		}
		return nil
	}},
	{"Stat", "HeadObject", func(ctx context.Context, d *s3dest.Destination) error {
		_, err := d.Stat(ctx, "vol")
		return err
	}},
	{"Delete", "DeleteObject", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Delete(ctx, "vol")
	}},
	{"Rename", "CopyObject", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Rename(ctx, "vol", "vol2")
	}},
	{"Restore", "RestoreObject", func(ctx context.Context, d *s3dest.Destination) error {
		return d.Restore(ctx, "cold", s3dest.RestoreOptions{})
	}},
}

// faultFixture is a fake with "vol" (readable) and "cold" (GLACIER).
func faultFixture(t *testing.T) *s3test.Server {
	t.Helper()
	srv := withBucket(t)
	put(t, newDest(t, srv), "vol", "volume data")
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "cold", "archived data")
	return srv
}

func TestTransientFaultsAreRetried(t *testing.T) {
	transient := []faults.Fault{
		{Status: http.StatusServiceUnavailable, Code: "SlowDown"},
		{Status: http.StatusInternalServerError, Code: "InternalError"},
		{Status: http.StatusTooManyRequests, Code: "TooManyRequests"},
		{Reset: true},
		// The server acted, the answer was lost, the SDK tries again: the
		// retry sees what the first try did and must still give the true
		// answer, and leave nothing behind.
		{LoseAnswer: true},
	}
	for _, op := range faultOps {
		for _, f := range transient {
			t.Run(fmt.Sprintf("%s/%d%s%v%v", op.name, f.Status, f.Code, f.Reset, f.LoseAnswer), func(t *testing.T) {
				srv := faultFixture(t)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20))
				f.Match, f.Times = faults.Op(op.op), 2 // two failures, the third try succeeds
				ft.Add(f)
				if err := op.run(t.Context(), d); err != nil {
					t.Fatalf("%s with 2 transient faults: %v", op.name, err)
				}
				if ft.Injected() != 2 {
					t.Errorf("injected %d faults, want 2", ft.Injected())
				}
				assertNoUploads(t, d)
			})
		}
	}
}

func TestRetriesAreBounded(t *testing.T) {
	for _, op := range faultOps {
		t.Run(op.name, func(t *testing.T) {
			srv := faultFixture(t)
			ft := &faults.Transport{}
			// One part at a time, so that one part's attempts are counted.
			d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(1), s3dest.WithRetryMaxAttempts(4))
			ft.Add(faults.Fault{Match: faults.Op(op.op), Status: http.StatusServiceUnavailable, Code: "SlowDown"})
			err := op.run(t.Context(), d)
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
				t.Fatalf("%s under endless SlowDown: %v, want the 503 error", op.name, err)
			}
			if ft.Injected() != 4 {
				t.Errorf("%s: %d attempts, want 4", op.name, ft.Injected())
			}
		})
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	permanent := []faults.Fault{
		{Status: http.StatusForbidden, Code: "AccessDenied"},
		{Status: http.StatusNotFound, Code: "NoSuchKey"},
		{Status: http.StatusForbidden, Code: "InvalidObjectState"},
		{Status: http.StatusBadRequest, Code: "InvalidStorageClass"},
		{Status: http.StatusBadRequest, Code: "BadDigest"},
	}
	for _, op := range faultOps {
		for _, f := range permanent {
			t.Run(op.name+"/"+f.Code, func(t *testing.T) {
				srv := faultFixture(t)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(1))
				f.Match = faults.Op(op.op)
				ft.Add(f)
				err := op.run(t.Context(), d)
				if op.name == "Delete" && f.Code == "NoSuchKey" {
					if err != nil {
						t.Errorf("Delete answered NoSuchKey: %v, want success", err)
					}
				} else if err == nil {
					t.Fatalf("%s answered %s: no error", op.name, f.Code)
				}
				want := 1
				switch {
				case op.name == "Stat" && f.Status == http.StatusBadRequest:
					// A HEAD answer has no body: a 400 may be a refused
					// x-amz-checksum-mode (B2), so Stat asks once more without.
					want = 2
				case f.Code == "BadDigest" && (op.op == "PutObject" || op.op == "UploadPart"):
					// The body may have been damaged on the way: sent once
					// more (TestDamagedBodyIsSentOnceMore), never a third time.
					want = 2
				}
				if n := ft.Injected(); n != want {
					t.Errorf("%s answered %s %d times, want %d: permanent errors must not be retried", op.name, f.Code, n, want)
				}
			})
		}
	}
}

func TestBodyFaultsAreErrors(t *testing.T) {
	for _, size := range []int{1 << 10, 11 << 20} { // single PUT and multipart objects
		for _, f := range []faults.Fault{{CutBody: 100}, {Corrupt: true}} {
			t.Run(fmt.Sprintf("%d/cut=%d", size, f.CutBody), func(t *testing.T) {
				srv := withBucket(t)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, s3dest.WithPartSize(5<<20), s3dest.WithRetryMaxAttempts(1))
				data, _ := io.ReadAll(noise(2, int64(size)))
				if err := d.Put(t.Context(), "obj", io.MultiReader(bytes.NewReader(data))); err != nil {
					t.Fatal(err)
				}
				f.Match, f.Times = faults.Op("GetObject"), 1
				ft.Add(f)
				var got bytes.Buffer
				err := d.Get(t.Context(), "obj", &got)
				if err == nil {
					t.Fatalf("Get of a damaged body returned %d bytes and no error", got.Len())
				}
				if f.Corrupt && !errors.Is(err, s3dest.ErrCorrupt) {
					t.Errorf("corrupt body: %v, want ErrCorrupt", err)
				}
			})
		}
	}
}

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

func TestConcurrentTransfersUnderFaults(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithRetryMaxAttempts(10))
	var n atomic.Int64
	ft.Add(faults.Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown",
		Match: func(*http.Request) bool { return n.Add(1)%4 == 0 }})
	ft.Add(faults.Fault{Reset: true, Match: func(*http.Request) bool { return n.Load()%7 == 0 }})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			name := fmt.Sprintf("obj-%02d", i)
			data := bytes.Repeat([]byte(name), 1000+i)
			if err := d.Put(t.Context(), name, bytes.NewReader(data)); err != nil {
				t.Errorf("Put(%s): %v", name, err)
				return
			}
			var got bytes.Buffer
			if err := d.Get(t.Context(), name, &got); err != nil {
				t.Errorf("Get(%s): %v", name, err)
			} else if !bytes.Equal(got.Bytes(), data) {
				t.Errorf("Get(%s): %d bytes differ from the %d put", name, got.Len(), len(data))
			}
		})
	}
	wg.Wait()
	if ft.Injected() < 32 {
		t.Errorf("only %d faults injected over 128 transfers", ft.Injected())
	}
	ft.Clear()
	if got := len(list(t, d)); got != 64 {
		t.Errorf("listed %d objects, want 64", got)
	}
}

// A server that received other bytes than Put's checksum says BadDigest:
// the upload is corrupt, not retried, and says so.
// One byte damaged on the way to the server (the fake checks the CRC32C
// and answers BadDigest, as S3 does) costs one resend of that request, not
// the upload; damaged twice, the upload fails as corrupt and stores nothing.
func TestDamagedBodyIsSentOnceMore(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, tc := range []struct {
		name, op string
		size     int
	}{
		{"PutObject", "PutObject", 1000},
		{"UploadPart", "UploadPart", 3<<20 + 5},
	} {
		for _, times := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s damaged %d times", tc.name, times), func(t *testing.T) {
				srv := withBucket(t)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
				data := randomBytes(tc.size, 21)
				first := func(r *http.Request) bool { // PutObject, or part 1
					return faults.Op(tc.op)(r) && r.URL.Query().Get("partNumber") <= "1"
				}
				ft.Add(faults.Fault{Match: first, Times: times, FlipRequest: true})
				err := d.Put(t.Context(), "vol", bytes.NewReader(data))
				if times == 1 {
					if err != nil {
						t.Fatalf("Put with one damaged request: %v", err)
					}
					if got := get(t, newDest(t, srv), "vol"); got != string(data) {
						t.Error("the stored object differs from the data")
					}
					return
				}
				if !errors.Is(err, s3dest.ErrCorrupt) {
					t.Errorf("Put with the request damaged twice = %v, want ErrCorrupt", err)
				}
				if _, err := newDest(t, srv).Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
					t.Errorf("Stat after the failed Put = %v, want ErrObjectNotFound", err)
				}
			})
		}
	}
}

func TestBadDigestIsCorrupt(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft)
	ft.Add(faults.Fault{Match: faults.Op("PutObject"), Status: http.StatusBadRequest, Code: "BadDigest"})
	err := d.Put(t.Context(), "vol", strings.NewReader("data"))
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrCorrupt) || !errors.As(err, &e) || e.Code != "BadDigest" {
		t.Errorf("Put answered BadDigest: %v, want ErrCorrupt with code BadDigest", err)
	}
}
