package s3test_test

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3dest/s3dest/s3test"
)

// raw sends one unsigned request to the fake and returns its status, headers
// and body.
func raw(t *testing.T, srv *s3test.Server, method, path string, hdr map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.Endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var errCode = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// wantError checks an answer is the S3 error status/code.
func wantError(t *testing.T, what string, status int, body string, wantStatus int, wantCode string) {
	t.Helper()
	got := ""
	if m := errCode.FindStringSubmatch(body); m != nil {
		got = m[1]
	}
	if status != wantStatus || got != wantCode {
		t.Errorf("%s: %d %s, want %d %s", what, status, got, wantStatus, wantCode)
	}
}

func md5Of(s string) string {
	h := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(h[:])
}

func fakeWithBucket(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.New(t)
	if err := srv.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	return srv
}

func createUpload(t *testing.T, srv *s3test.Server, key string, hdr map[string]string) string {
	t.Helper()
	st, _, b := raw(t, srv, http.MethodPost, "/bkt/"+key+"?uploads", hdr, "")
	m := regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`).FindStringSubmatch(b)
	if st != http.StatusOK || m == nil {
		t.Fatalf("CreateMultipartUpload: %d %s", st, b)
	}
	return m[1]
}

func uploadPart(t *testing.T, srv *s3test.Server, key, id string, n int, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	return raw(t, srv, http.MethodPut, fmt.Sprintf("/bkt/%s?partNumber=%d&uploadId=%s", key, n, id), hdr, body)
}

type completedPart struct {
	n         int
	etag, crc string
}

func completeXML(parts ...completedPart) string {
	var b strings.Builder
	b.WriteString("<CompleteMultipartUpload>")
	for _, p := range parts {
		fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>", p.n, p.etag)
		if p.crc != "" {
			fmt.Fprintf(&b, "<ChecksumCRC32C>%s</ChecksumCRC32C>", p.crc)
		}
		b.WriteString("</Part>")
	}
	b.WriteString("</CompleteMultipartUpload>")
	return b.String()
}

// TestInvalidStorageClass: S3 refuses a storage class it does not know with
// 400 InvalidStorageClass, on PutObject, CreateMultipartUpload and
// CopyObject; the fake stored it.
func TestInvalidStorageClass(t *testing.T) {
	srv := fakeWithBucket(t)
	st, _, b := raw(t, srv, http.MethodPut, "/bkt/k", map[string]string{"X-Amz-Storage-Class": "GLACIER_TYPO"}, "data")
	wantError(t, "PutObject with class GLACIER_TYPO", st, b, http.StatusBadRequest, "InvalidStorageClass")
	st, _, b = raw(t, srv, http.MethodPost, "/bkt/k?uploads", map[string]string{"X-Amz-Storage-Class": "standard"}, "")
	wantError(t, "CreateMultipartUpload with class standard", st, b, http.StatusBadRequest, "InvalidStorageClass")
	if st, _, b := raw(t, srv, http.MethodPut, "/bkt/src", nil, "data"); st != http.StatusOK {
		t.Fatalf("PutObject: %d %s", st, b)
	}
	st, _, b = raw(t, srv, http.MethodPut, "/bkt/dst", map[string]string{"X-Amz-Copy-Source": "/bkt/src", "X-Amz-Storage-Class": "COLD"}, "")
	wantError(t, "CopyObject with class COLD", st, b, http.StatusBadRequest, "InvalidStorageClass")
	for _, c := range []string{"STANDARD_IA", "GLACIER_IR", "DEEP_ARCHIVE", "INTELLIGENT_TIERING"} {
		if st, _, b := raw(t, srv, http.MethodPut, "/bkt/ok", map[string]string{"X-Amz-Storage-Class": c}, "data"); st != http.StatusOK {
			t.Errorf("PutObject with class %s: %d %s", c, st, b)
		}
	}
}

// TestChecksumHeaderForm: S3 takes one x-amz-checksum-* value per request
// (400 InvalidRequest for two), and a value that is no base64 digest of the
// algorithm's length is 400 InvalidRequest, not BadDigest.
func TestChecksumHeaderForm(t *testing.T) {
	srv := fakeWithBucket(t)
	two := map[string]string{"X-Amz-Checksum-Crc32c": crc("data"), "X-Amz-Checksum-Crc32": "rfPzYw=="}
	st, _, b := raw(t, srv, http.MethodPut, "/bkt/k", two, "data")
	wantError(t, "PutObject with two checksums", st, b, http.StatusBadRequest, "InvalidRequest")
	for _, v := range []string{"not base64!", "AAAA", "AAAAAAAAAAA="} {
		st, _, b := raw(t, srv, http.MethodPut, "/bkt/k", map[string]string{"X-Amz-Checksum-Crc32c": v}, "data")
		wantError(t, "PutObject with x-amz-checksum-crc32c "+v, st, b, http.StatusBadRequest, "InvalidRequest")
	}
	st, _, b = raw(t, srv, http.MethodPut, "/bkt/k", map[string]string{"X-Amz-Checksum-Crc32c": crc("other")}, "data")
	wantError(t, "PutObject with another CRC32C", st, b, http.StatusBadRequest, "BadDigest")
}

// TestPartChecksumsFollowUpload: S3 refuses a part whose checksum algorithm
// is not the upload's (a CRC32C part in an upload without one, a part
// without one in a COMPOSITE CRC32C upload: 400 InvalidRequest), and a
// Complete of a COMPOSITE upload that leaves a part's checksum out.
func TestPartChecksumsFollowUpload(t *testing.T) {
	srv := fakeWithBucket(t)
	plain := createUpload(t, srv, "plain", nil)
	st, _, b := uploadPart(t, srv, "plain", plain, 1, "aaa", map[string]string{"X-Amz-Checksum-Crc32c": crc("aaa")})
	wantError(t, "a CRC32C part in an upload without checksums", st, b, http.StatusBadRequest, "InvalidRequest")

	comp := createUpload(t, srv, "comp", map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C"})
	st, _, b = uploadPart(t, srv, "comp", comp, 1, "aaa", nil)
	wantError(t, "a part without a checksum in a COMPOSITE CRC32C upload", st, b, http.StatusBadRequest, "InvalidRequest")
	st, h, b := uploadPart(t, srv, "comp", comp, 1, "aaa", map[string]string{"X-Amz-Checksum-Crc32c": crc("aaa")})
	if st != http.StatusOK {
		t.Fatalf("UploadPart with its CRC32C: %d %s", st, b)
	}
	st, _, b = raw(t, srv, http.MethodPost, "/bkt/comp?uploadId="+comp, nil, completeXML(completedPart{n: 1, etag: h.Get("ETag")}))
	wantError(t, "Complete of a COMPOSITE upload without the part's checksum", st, b, http.StatusBadRequest, "InvalidRequest")
	st, _, b = raw(t, srv, http.MethodPost, "/bkt/comp?uploadId="+comp, nil, completeXML(completedPart{n: 1, etag: h.Get("ETag"), crc: crc("aaa")}))
	if st != http.StatusOK {
		t.Errorf("Complete with the part's checksum: %d %s", st, b)
	}

	// FULL_OBJECT uploads take parts with or without their checksum.
	full := createUpload(t, srv, "full", map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C", "X-Amz-Checksum-Type": "FULL_OBJECT"})
	if st, _, b := uploadPart(t, srv, "full", full, 1, "aaa", nil); st != http.StatusOK {
		t.Errorf("a part without a checksum in a FULL_OBJECT upload: %d %s", st, b)
	}
}

// TestCompletePartRules: S3 completes only parts listed in ascending order,
// each once (400 InvalidPartOrder), and of at least 5 MiB but for the last
// (400 EntityTooSmall).
func TestCompletePartRules(t *testing.T) {
	srv := fakeWithBucket(t)
	id := createUpload(t, srv, "m", nil)
	big := strings.Repeat("x", 5<<20)
	var etags []string
	for i, body := range []string{big, "tail"} {
		st, h, b := uploadPart(t, srv, "m", id, i+1, body, nil)
		if st != http.StatusOK {
			t.Fatalf("UploadPart %d: %d %s", i+1, st, b)
		}
		etags = append(etags, h.Get("ETag"))
	}
	st, _, b := raw(t, srv, http.MethodPost, "/bkt/m?uploadId="+id, nil, completeXML(completedPart{n: 2, etag: etags[1]}, completedPart{n: 1, etag: etags[0]}))
	wantError(t, "Complete of parts 2, 1", st, b, http.StatusBadRequest, "InvalidPartOrder")
	st, _, b = raw(t, srv, http.MethodPost, "/bkt/m?uploadId="+id, nil, completeXML(completedPart{n: 1, etag: etags[0]}, completedPart{n: 1, etag: etags[0]}))
	wantError(t, "Complete of parts 1, 1", st, b, http.StatusBadRequest, "InvalidPartOrder")
	if st, _, b := raw(t, srv, http.MethodPost, "/bkt/m?uploadId="+id, nil, completeXML(completedPart{n: 1, etag: etags[0]}, completedPart{n: 2, etag: etags[1]})); st != http.StatusOK {
		t.Errorf("Complete of a 5 MiB part and a short last one: %d %s", st, b)
	}

	small := createUpload(t, srv, "s", nil)
	etags = nil
	for i, body := range []string{"aaa", "bbb"} {
		_, h, _ := uploadPart(t, srv, "s", small, i+1, body, nil)
		etags = append(etags, h.Get("ETag"))
	}
	st, _, b = raw(t, srv, http.MethodPost, "/bkt/s?uploadId="+small, nil, completeXML(completedPart{n: 1, etag: etags[0]}, completedPart{n: 2, etag: etags[1]}))
	wantError(t, "Complete with a 3-byte first part", st, b, http.StatusBadRequest, "EntityTooSmall")
	srv.SetMinPartSize(3)
	if st, _, b := raw(t, srv, http.MethodPost, "/bkt/s?uploadId="+small, nil, completeXML(completedPart{n: 1, etag: etags[0]}, completedPart{n: 2, etag: etags[1]})); st != http.StatusOK {
		t.Errorf("Complete with SetMinPartSize(3): %d %s", st, b)
	}
}

// TestUploadPartCopyRange: S3 takes x-amz-copy-source-range as
// bytes=first-last within the source, and refuses others with 400
// InvalidArgument (the fake clipped the range, or read to the end).
func TestUploadPartCopyRange(t *testing.T) {
	srv := fakeWithBucket(t)
	raw(t, srv, http.MethodPut, "/bkt/src", nil, "0123456789")
	id := createUpload(t, srv, "dst", nil)
	for _, rng := range []string{"bytes=0-10", "bytes=10-12", "bytes=5-", "bytes=-3", "bytes=4-2"} {
		st, _, b := raw(t, srv, http.MethodPut, "/bkt/dst?partNumber=1&uploadId="+id,
			map[string]string{"X-Amz-Copy-Source": "/bkt/src", "X-Amz-Copy-Source-Range": rng}, "")
		wantError(t, "UploadPartCopy of "+rng+" of 10 bytes", st, b, http.StatusBadRequest, "InvalidArgument")
	}
	st, _, b := raw(t, srv, http.MethodPut, "/bkt/dst?partNumber=1&uploadId="+id,
		map[string]string{"X-Amz-Copy-Source": "/bkt/src", "X-Amz-Copy-Source-Range": "bytes=0-9"}, "")
	if st != http.StatusOK {
		t.Errorf("UploadPartCopy of bytes=0-9: %d %s", st, b)
	}
}

// TestDeleteObjectsRules: S3 requires Content-MD5 or an x-amz-checksum-*
// header on DeleteObjects (400 InvalidRequest without), and takes at most
// 1,000 keys (400 MalformedXML).
func TestDeleteObjectsRules(t *testing.T) {
	srv := fakeWithBucket(t)
	one := `<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>`
	st, _, b := raw(t, srv, http.MethodPost, "/bkt?delete", nil, one)
	wantError(t, "DeleteObjects without Content-MD5", st, b, http.StatusBadRequest, "InvalidRequest")
	if st, _, b := raw(t, srv, http.MethodPost, "/bkt?delete", map[string]string{"Content-Md5": md5Of(one)}, one); st != http.StatusOK {
		t.Errorf("DeleteObjects with Content-MD5: %d %s", st, b)
	}
	var many strings.Builder
	many.WriteString("<Delete>")
	for i := range 1001 {
		fmt.Fprintf(&many, "<Object><Key>k%d</Key></Object>", i)
	}
	many.WriteString("</Delete>")
	st, _, b = raw(t, srv, http.MethodPost, "/bkt?delete", map[string]string{"Content-Md5": md5Of(many.String())}, many.String())
	wantError(t, "DeleteObjects of 1,001 keys", st, b, http.StatusBadRequest, "MalformedXML")
}

// TestCreateUploadKeyTooLong: S3 refuses keys over 1,024 bytes on every
// write, CreateMultipartUpload included.
func TestCreateUploadKeyTooLong(t *testing.T) {
	srv := fakeWithBucket(t)
	st, _, b := raw(t, srv, http.MethodPost, "/bkt/"+strings.Repeat("k", 1025)+"?uploads", nil, "")
	wantError(t, "CreateMultipartUpload of a 1,025-byte key", st, b, http.StatusBadRequest, "KeyTooLongError")
}

// TestPutIfMatchMissing: a PutObject with If-Match of a key that holds no
// object is 404 NoSuchKey on S3, not 412.
func TestPutIfMatchMissing(t *testing.T) {
	srv := fakeWithBucket(t)
	st, _, b := raw(t, srv, http.MethodPut, "/bkt/none", map[string]string{"If-Match": `"0123456789abcdef0123456789abcdef"`}, "x")
	wantError(t, "PutObject If-Match of a missing key", st, b, http.StatusNotFound, "NoSuchKey")
}

// TestListPages: S3 lists each common prefix once across pages (a page
// that ends at one continues after every key under it), and a page is
// truncated only when more entries follow under the prefix.
func TestListPages(t *testing.T) {
	srv := fakeWithBucket(t)
	for _, k := range []string{"a", "d/1", "d/2", "e", "f/1", "zz"} {
		raw(t, srv, http.MethodPut, "/bkt/"+k, nil, "x")
	}
	entry := regexp.MustCompile(`<Key>([^<]*)</Key>|<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>`)
	for _, v2 := range []bool{true, false} {
		var got []string
		next := ""
		for page := 0; page < 10; page++ {
			q := "/bkt?delimiter=/&max-keys=2"
			switch {
			case v2:
				q += "&list-type=2"
				if next != "" {
					q += "&continuation-token=" + url.QueryEscape(next)
				}
			case next != "":
				q += "&marker=" + url.QueryEscape(next)
			}
			st, _, b := raw(t, srv, http.MethodGet, q, nil, "")
			if st != http.StatusOK {
				t.Fatalf("list: %d %s", st, b)
			}
			for _, m := range entry.FindAllStringSubmatch(b, -1) {
				got = append(got, m[1]+m[2])
			}
			tag := "NextMarker"
			if v2 {
				tag = "NextContinuationToken"
			}
			m := regexp.MustCompile(`<` + tag + `>([^<]*)</`).FindStringSubmatch(b)
			if !strings.Contains(b, "<IsTruncated>true</IsTruncated>") {
				break
			}
			if m == nil {
				t.Fatalf("truncated page without %s: %s", tag, b)
			}
			next = m[1]
		}
		slices.Sort(got)
		if want := "a d/ e f/ zz"; strings.Join(got, " ") != want {
			t.Errorf("v2 %v: listed %q, want %q", v2, strings.Join(got, " "), want)
		}
	}
	st, _, b := raw(t, srv, http.MethodGet, "/bkt?list-type=2&prefix=a&max-keys=1", nil, "")
	if st != http.StatusOK || !strings.Contains(b, "<IsTruncated>false</IsTruncated>") || strings.Contains(b, "NextContinuationToken") {
		t.Errorf("the one key under prefix a, max-keys=1: %d %s; want a page not truncated", st, b)
	}
}
