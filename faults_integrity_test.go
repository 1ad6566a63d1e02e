package s3dest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

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
				if n := ft.Injected(); n != times {
					t.Errorf("%d requests damaged, want %d: the test tests nothing", n, times)
				}
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

// A part the server answers with another CRC32C than the one sent was
// stored as other bytes (a server that hashes what it got instead of
// checking the header): the Put fails as corrupt and leaves no upload,
// as a single PutObject does.
func TestPartStoredWithOtherChecksumIsCorrupt(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !r.URL.Query().Has("partNumber") || r.URL.Query().Get("partNumber") != "2" {
			return false
		}
		rec := httptest.NewRecorder()
		srv.ServeFake(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if rec.Code == http.StatusOK {
			w.Header().Set("X-Amz-Checksum-Crc32c", "AAAAAA==")
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	})
	d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	err := d.Put(t.Context(), "vol", struct{ io.Reader }{bytes.NewReader(randomBytes(3<<20, 23))})
	if !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Put whose part 2 was answered with another CRC32C = %v, want ErrCorrupt", err)
	}
	assertNoUploads(t, d)
	if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat after the failed Put = %v, want ErrObjectNotFound", err)
	}
}
