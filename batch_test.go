package s3dest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestDeleteMany(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	names := []string{"a", "b", "c"}
	for _, n := range names {
		put(t, d, n, "x")
	}
	for i := range 1497 {
		names = append(names, fmt.Sprintf("missing-%04d", i))
	}
	srv.ResetRequests()
	if err := d.DeleteMany(t.Context(), names); err != nil {
		t.Fatal(err)
	}
	batches := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Query.Has("delete") {
			batches++
		}
	}
	if batches != 2 {
		t.Errorf("%d DeleteObjects requests for 1,500 names, want 2", batches)
	}
	if got := list(t, d); len(got) != 0 {
		t.Errorf("left after DeleteMany: %v", got)
	}
	srv.ResetRequests()
	if err := d.DeleteMany(t.Context(), nil); err != nil || len(srv.Requests()) != 0 {
		t.Errorf("DeleteMany(nil) = %v after %d requests, want nil and none", err, len(srv.Requests()))
	}
	if err := d.DeleteMany(t.Context(), []string{"ok", "../escape"}); !errors.Is(err, s3dest.ErrInvalid) || len(srv.Requests()) != 0 {
		t.Errorf("DeleteMany with an invalid name = %v after %d requests, want ErrInvalid before any", err, len(srv.Requests()))
	}
}

func TestDeleteManyReportsEachFailure(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `<DeleteResult>`+
			`<Error><Key>p/a</Key><Code>AccessDenied</Code><Message>locked</Message></Error>`+
			`<Error><Key>p/b</Key><Code>NoSuchKey</Code><Message>gone</Message></Error>`+
			`<Error><Key>p/c</Key><Code>InternalError</Code><Message>try again</Message></Error>`+
			`</DeleteResult>`)
		return true
	})
	err := d.DeleteMany(t.Context(), []string{"a", "b", "c", "d"})
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Errorf("DeleteMany = %v, want it to report ErrAccessDenied", err)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("DeleteMany = %T, want a joined error", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		var se *s3dest.Error
		if !errors.As(e, &se) {
			t.Fatalf("joined error %v is not an *Error", e)
		}
		got = append(got, se.Key+" "+se.Code)
	}
	if want := "p/a AccessDenied,p/c InternalError"; strings.Join(got, ",") != want {
		t.Errorf("failures %q, want %q (a missing key is not a failure)", strings.Join(got, ","), want)
	}
}

func TestDeleteManyWithoutDeleteObjects(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "a", "x")
	put(t, d, "b", "y")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("delete") {
			s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "no multi-object delete here")
			return true
		}
		return false
	})
	if err := d.DeleteMany(t.Context(), []string{"a", "b", "never-was"}); err != nil {
		t.Fatal(err)
	}
	if got := list(t, d); len(got) != 0 {
		t.Errorf("left after DeleteMany: %v", got)
	}
}

func TestCleanupUploads(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("laptop"))
	for _, key := range []string{"laptop/a", "laptop/sub/b", "desktop/c"} {
		if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.CleanupUploads(t.Context(), time.Hour); n != 0 || err != nil {
		t.Errorf("CleanupUploads(1h) = %d, %v; want 0 (all are young)", n, err)
	}
	if n, err := d.CleanupUploads(t.Context(), 0); n != 2 || err != nil {
		t.Errorf("CleanupUploads(0) = %d, %v; want the 2 under the prefix", n, err)
	}
	left := uploadsLeft(t, newDest(t, srv)) // the whole bucket
	if len(left) != 1 || !strings.HasPrefix(left[0], "desktop/c ") {
		t.Errorf("uploads left: %v, want only desktop/c's", left)
	}
	empty := newDest(t, withBucket(t))
	if n, err := empty.CleanupUploads(t.Context(), 0); n != 0 || err != nil {
		t.Errorf("CleanupUploads on a bucket without uploads = %d, %v", n, err)
	}
}

// A truncated page of uploads without markers must not end the sweep as if
// it were complete.
func TestCleanupUploadsTruncatedWithoutMarkersFails(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !r.URL.Query().Has("uploads") {
			return false
		}
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>`+bucket+
			`</Bucket><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>`)
		return true
	})
	if _, err := newDest(t, srv).CleanupUploads(t.Context(), 0); err == nil {
		t.Error("CleanupUploads took a truncated page without markers for the end of the uploads")
	}
}

// Servers that predate flexible checksums answer DeleteObjects without
// Content-MD5 with MissingContentMD5, or refuse the SDK's checksum header:
// DeleteMany sends Content-MD5 instead, learned once per Destination.
func TestDeleteManyOnServersWithoutFlexibleChecksums(t *testing.T) {
	for name, refuse := range map[string]func(h http.Header) (status int, code string){
		"MissingContentMD5": func(h http.Header) (int, string) {
			if h.Get("Content-Md5") == "" {
				return http.StatusBadRequest, "MissingContentMD5"
			}
			return 0, ""
		},
		"checksum header refused": func(h http.Header) (int, string) {
			for k := range h {
				if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") || strings.ToLower(k) == "x-amz-sdk-checksum-algorithm" {
					return http.StatusBadRequest, "InvalidArgument"
				}
			}
			if h.Get("Content-Md5") == "" {
				return http.StatusBadRequest, "MissingContentMD5"
			}
			return 0, ""
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv)
			for _, n := range []string{"a", "b", "c"} {
				put(t, d, n, "x")
			}
			var posts atomic.Int32
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
					return false
				}
				posts.Add(1)
				if status, code := refuse(r.Header); status != 0 {
					s3test.WriteError(w, r, status, code, "refused")
					return true
				}
				body, _ := io.ReadAll(r.Body)
				sum := md5.Sum(body)
				if r.Header.Get("Content-Md5") != base64.StdEncoding.EncodeToString(sum[:]) {
					s3test.WriteError(w, r, http.StatusBadRequest, "BadDigest", "wrong Content-MD5")
					return true
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				return false
			})
			if err := d.DeleteMany(t.Context(), []string{"a", "b"}); err != nil {
				t.Fatalf("DeleteMany: %v", err)
			}
			if err := d.DeleteMany(t.Context(), []string{"c"}); err != nil {
				t.Fatalf("second DeleteMany: %v", err)
			}
			if n := posts.Load(); n != 3 {
				t.Errorf("%d DeleteObjects requests, want 3: one refused, then Content-MD5 from the start", n)
			}
			if left := list(t, d); len(left) != 0 {
				t.Errorf("left after DeleteMany: %v", left)
			}
		})
	}
}

// In Quiet mode S3 names only the keys it failed to delete, so an answer
// says "all deleted" by naming none. An answer that is no DeleteResult at
// all (an empty 200, or another document: a proxy, a server that took the
// POST for something else) says nothing of the keys, and must not pass
// for their deletion.
func TestDeleteManyAnswerNotDeleteResult(t *testing.T) {
	for _, body := range []string{"", `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>`} {
		srv := withBucket(t)
		d := newDest(t, srv)
		put(t, d, "a", "x")
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || !r.URL.Query().Has("delete") {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, body)
			return true
		})
		err := d.DeleteMany(t.Context(), []string{"a"})
		if _, serr := d.Stat(t.Context(), "a"); err == nil && !errors.Is(serr, s3dest.ErrObjectNotFound) {
			t.Errorf("DeleteMany answered %q: nil, and a is still there (Stat: %v)", body, serr)
		} else if err != nil {
			t.Errorf("DeleteMany answered %q: %v; want each object deleted by a request of its own", body, err)
		}
	}
}
