package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
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
