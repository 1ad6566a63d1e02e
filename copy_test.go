package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestRenameLargeCopiesInParts(t *testing.T) {
	limits := s3dest.WithLimitsForTest(0, 1<<20, 256<<10)
	srv := withBucket(t)
	d := newDest(t, srv, limits)
	data := randomBytes(3<<20+5, 11)
	sum := crc32c(string(data))
	_, err := d.Client().PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("big"), Body: bytes.NewReader(data),
		ContentType: aws.String("application/x-duplicati"), Metadata: map[string]string{"origin": "laptop"},
		StorageClass: types.StorageClassStandardIa, ChecksumCRC32C: aws.String(sum),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	if err := d.Rename(t.Context(), "big", "moved"); err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, r := range srv.Requests() {
		switch {
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
			copies++
			if r.Header.Get("X-Amz-Copy-Source-If-Match") == "" {
				t.Error("UploadPartCopy without x-amz-copy-source-if-match")
			}
		case r.Method == http.MethodPost && r.Query.Has("uploads"):
			if r.Header.Get("X-Amz-Meta-Origin") != "laptop" || r.Header.Get("Content-Type") != "application/x-duplicati" {
				t.Errorf("CreateMultipartUpload lost metadata or content type: %v", r.Header)
			}
		case r.Method == http.MethodPost && r.Query.Has("uploadId"):
			if got := r.Header.Get("X-Amz-Checksum-Crc32c"); got != sum {
				t.Errorf("CompleteMultipartUpload carried CRC32C %q, want the source's %q", got, sum)
			}
		}
	}
	if copies != 13 {
		t.Errorf("%d UploadPartCopy requests, want 13 parts of 256 KiB", copies)
	}
	if got := get(t, d, "moved"); got != string(data) {
		t.Error("the renamed object differs from the original")
	}
	fi, err := d.Stat(t.Context(), "moved")
	if err != nil || fi.StorageClass != "STANDARD_IA" || fi.Checksum != "CRC32C:"+sum {
		t.Errorf("Stat(moved) = %+v, %v; want STANDARD_IA and the source's checksum", fi, err)
	}
	head, err := d.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("moved")})
	if err != nil || head.Metadata["origin"] != "laptop" {
		t.Errorf("HEAD moved: metadata %v, %v; want origin=laptop", head.Metadata, err)
	}
	if _, err := d.Stat(t.Context(), "big"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat(big) after rename: %v, want ErrObjectNotFound", err)
	}
}

func TestRenameLargeFailureLeavesSource(t *testing.T) {
	limits := s3dest.WithLimitsForTest(0, 1<<20, 256<<10)
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Amz-Copy-Source") != "" && r.URL.Query().Get("partNumber") == "3" {
			s3test.WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "the source changed")
			return true
		}
		return false
	})
	d := newDest(t, srv, limits)
	data := randomBytes(2<<20, 12)
	if err := d.Put(t.Context(), "big", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var e *s3dest.Error
	if err := d.Rename(t.Context(), "big", "moved"); !errors.As(err, &e) || e.Code != "PreconditionFailed" {
		t.Fatalf("Rename = %v, want the part's PreconditionFailed", err)
	}
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
	if got := get(t, d, "big"); got != string(data) {
		t.Error("the source changed")
	}
	if _, err := d.Stat(t.Context(), "moved"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat(moved) after a failed rename: %v, want ErrObjectNotFound", err)
	}
}

// A server whose UploadPartCopy answers the source's whole-object CRC32C as
// each part's checksum (versitygw v1.8.0) refuses the copy's Complete with
// BadDigest: the copy is made again without checksums, and later copies go
// without them from the start.
func TestRenameLargeWhenPartChecksumsAreWrong(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithLimitsForTest(0, 1<<20, 256<<10))
	data := randomBytes(2<<20+3, 13)
	put(t, d, "big", string(data))
	put(t, d, "big2", string(data))
	whole := crc32c(string(data))
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			// The server adds up the part checksums it answered: they do
			// not give the whole object's.
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(whole)) {
				s3test.WriteError(w, r, http.StatusBadRequest, "BadDigest", "The CRC32C you specified did not match the calculated checksum.")
				return true
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			return false
		}
		if r.Method != http.MethodPut || r.Header.Get("X-Amz-Copy-Source") == "" || !r.URL.Query().Has("partNumber") {
			return false
		}
		rec := httptest.NewRecorder()
		srv.ServeFake(rec, r)
		body := regexp.MustCompile(`<ChecksumCRC32C>[^<]*</ChecksumCRC32C>`).ReplaceAll(rec.Body.Bytes(),
			[]byte("<ChecksumCRC32C>"+whole+"</ChecksumCRC32C>"))
		rec.Body = bytes.NewBuffer(body)
		rec.Header().Set("Content-Length", strconv.Itoa(len(body)))
		relay(w, rec)
		return true
	})
	for _, name := range []string{"big", "big2"} {
		srv.ResetRequests()
		if err := d.Rename(t.Context(), name, name+"-moved"); err != nil {
			t.Fatalf("Rename(%s): %v", name, err)
		}
		if got := get(t, d, name+"-moved"); got != string(data) {
			t.Errorf("%s-moved differs from the data", name)
		}
		creates := 0
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPost && r.Query.Has("uploads") {
				creates++
			}
		}
		if want := map[string]int{"big": 2, "big2": 1}[name]; creates != want {
			t.Errorf("Rename(%s): %d CreateMultipartUpload, want %d", name, creates, want)
		}
	}
	assertNoUploads(t, d)
}

// roundTrip is an http.RoundTripper from a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The source replaced by a larger object between Rename's Stat and the
// multipart copy's HEAD: the copy must be the whole of one object, never a
// prefix of the new one with the source deleted.
func TestRenameLargeSourceReplacedMeanwhile(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		other := tg.dest(t)
		old, bigger := randomBytes(11<<20, 1), randomBytes(16<<20, 2)
		if err := other.Put(t.Context(), "big", bytes.NewReader(old)); err != nil {
			t.Fatal(err)
		}
		var heads atomic.Int32
		rt := roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodHead && !r.URL.Query().Has("partNumber") && strings.HasSuffix(r.URL.Path, "/big") &&
				heads.Add(1) == 2 {
				if err := other.Put(r.Context(), "big", bytes.NewReader(bigger)); err != nil {
					t.Error(err)
				}
			}
			return http.DefaultTransport.RoundTrip(r)
		})
		d := tg.dest(t, s3dest.WithLimitsForTest(0, 1<<20, 5<<20), s3dest.WithHTTPClient(&http.Client{Transport: rt}))
		err := d.Rename(t.Context(), "big", "moved")
		if heads.Load() < 2 {
			t.Fatalf("the source was never replaced (%d HEADs of it): the test tests nothing", heads.Load())
		}
		if err != nil {
			t.Logf("Rename: %v", err) // failing is fine; losing data is not
			if got := get(t, other, "big"); got != string(bigger) {
				t.Errorf("after the failed Rename big holds %d bytes, want the %d of the object that replaced it", len(got), len(bigger))
			}
			return
		}
		got := get(t, d, "moved")
		if got != string(bigger) && got != string(old) {
			t.Errorf("moved holds %d bytes, neither object whole: the source is gone with the rest", len(got))
		}
	})
}

func TestRenameArchivedFailsBeforeCopy(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("DEEP_ARCHIVE"))
	put(t, d, "vol", "data")
	srv.ResetRequests()
	err := d.Rename(t.Context(), "vol", "vol2")
	if !errors.Is(err, s3dest.ErrObjectArchived) {
		t.Fatalf("Rename of an archived object: %v, want ErrObjectArchived", err)
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodHead {
			t.Errorf("Rename of an archived object sent %s %s", r.Method, r.Path)
		}
	}
}

func TestRenameToItselfKeepsTheObject(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("STANDARD_IA"))
	put(t, d, "vol", "data")
	if err := d.Rename(t.Context(), "vol", "vol"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("after renaming to itself Get = %q", got)
	}
	if err := d.Rename(t.Context(), "missing", "missing"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("renaming a missing object to itself: %v, want ErrObjectNotFound", err)
	}
}
