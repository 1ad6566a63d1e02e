package s3dest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/s3test"
)

// partCopies implements UploadPartCopy, which gofakes3 lacks, as a ranged
// GET of the source and an UploadPart of what it returned; serve answers
// everything else.
func partCopies(serve http.HandlerFunc) s3test.Hook {
	return func(w http.ResponseWriter, r *http.Request) bool {
		src := r.Header.Get("X-Amz-Copy-Source")
		if r.Method != http.MethodPut || !r.URL.Query().Has("partNumber") || src == "" {
			serve(w, r)
			return true
		}
		path, _ := url.PathUnescape(src)
		get := httptest.NewRequest(http.MethodGet, "/"+strings.TrimPrefix(path, "/"), nil)
		get.Header.Set("Range", r.Header.Get("X-Amz-Copy-Source-Range"))
		rec := httptest.NewRecorder()
		serve(rec, get)
		if rec.Code != http.StatusPartialContent && rec.Code != http.StatusOK {
			relay(w, rec)
			return true
		}
		if m := r.Header.Get("X-Amz-Copy-Source-If-Match"); m != "" && strings.Trim(m, `"`) != strings.Trim(rec.Header().Get("ETag"), `"`) {
			s3test.WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "the source changed")
			return true
		}
		body := rec.Body.Bytes()
		put := httptest.NewRequest(http.MethodPut, r.URL.String(), bytes.NewReader(body))
		put.Header.Set("Content-Length", strconv.Itoa(len(body)))
		rec = httptest.NewRecorder()
		serve(rec, put)
		if rec.Code != http.StatusOK {
			relay(w, rec)
			return true
		}
		var etag bytes.Buffer
		_ = xml.EscapeText(&etag, []byte(rec.Header().Get("ETag")))
		fmt.Fprintf(w, `<CopyPartResult><ETag>%s</ETag><ChecksumCRC32C>%s</ChecksumCRC32C></CopyPartResult>`,
			etag.String(), crc32c(string(body)))
		return true
	}
}

func TestRenameLargeCopiesInParts(t *testing.T) {
	limits := s3dest.WithLimitsForTest(0, 1<<20, 256<<10)
	srv := withBucket(t)
	srv.SetHook(partCopies(srv.ServeFake))
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
	copyParts := partCopies(srv.ServeFake)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Amz-Copy-Source") != "" && r.URL.Query().Get("partNumber") == "3" {
			s3test.WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "the source changed")
			return true
		}
		return copyParts(w, r)
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
