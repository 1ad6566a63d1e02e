package s3dest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/internal/s3test"
)

const bucket = "backups"

// newDest opens a destination on the fake server with the test credentials.
func newDest(t *testing.T, srv *s3test.Server, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	base := []s3dest.Option{
		s3dest.WithServerName(srv.URL),
		s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey),
		s3dest.WithRegion("us-east-1"),
	}
	d, err := s3dest.New(t.Context(), bucket, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withBucket starts a fake server that has the test bucket.
func withBucket(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.New(t)
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return srv
}

func put(t *testing.T, d *s3dest.Destination, name, content string) {
	t.Helper()
	if err := d.Put(t.Context(), name, strings.NewReader(content)); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func get(t *testing.T, d *s3dest.Destination, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.Get(t.Context(), name, &b); err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return b.String()
}

func list(t *testing.T, d *s3dest.Destination) []s3dest.FileInfo {
	t.Helper()
	var out []s3dest.FileInfo
	for fi, err := range d.List(t.Context()) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, fi)
	}
	return out
}

// ignoreVolatile drops the fields the server decides.
var ignoreVolatile = cmpopts.IgnoreFields(s3dest.FileInfo{}, "ModTime", "ETag")

// crc32c is the base64 CRC32C of s, as S3 writes it.
func crc32c(s string) string {
	sum := crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
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

func TestGetArchivedFailsFast(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "vol", "data")
	srv.ResetRequests()
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/backups/vol" {
			s3test.WriteError(w, r, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class")
			return true
		}
		return false
	})
	err := d.Get(t.Context(), "vol", io.Discard)
	if !errors.Is(err, s3dest.ErrObjectArchived) {
		t.Fatalf("Get: %v, want ErrObjectArchived", err)
	}
	var ios *types.InvalidObjectState
	if !errors.As(err, &ios) {
		t.Errorf("Get: %v does not unwrap to *types.InvalidObjectState", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("Get of an archived object sent %d requests, want 1 (no retry)", n)
	}
}

func TestInvalidNamesSendNothing(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.ResetRequests()
	for _, name := range []string{"", "../etc/passwd", "a/../b", "./a", "/abs", "bad\x00byte", "bad\nline", "x//y", "dir/", "a///b",
		strings.Repeat("x", 1023), string([]byte{0xff, 0xfe})} {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, s3dest.ErrInvalid) {
				t.Errorf("%s(%q): %v, want ErrInvalid", op, truncate(name), err)
			}
		}
		check("Put", d.Put(t.Context(), name, strings.NewReader("x")))
		check("Get", d.Get(t.Context(), name, io.Discard))
		_, err := d.Stat(t.Context(), name)
		check("Stat", err)
		check("Delete", d.Delete(t.Context(), name))
		check("Rename", d.Rename(t.Context(), "ok", name))
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("invalid names sent %d requests, want 0", n)
	}
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// A server that returns other bytes than it stored fails TestWrite, which
// still removes its probe (TestTestAndTestWrite covers the good case).
func TestTestWriteCatchesWrongBytes(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, ".s3dest-probe-") {
			w.Header().Set("Content-Length", "1024")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(make([]byte, 1024))
			return true
		}
		return false
	})
	if err := d.TestWrite(t.Context()); err == nil {
		t.Error("TestWrite passed on a server that returns the wrong bytes")
	}
	if got := list(t, d); len(got) != 0 {
		t.Errorf("failed TestWrite left %v behind", got)
	}
}

func TestPutSendsChecksumAndClass(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("STANDARD_IA"))
	srv.ResetRequests()
	put(t, d, "vol", "hello")
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Put sent %d requests, want 1", len(reqs))
	}
	h := reqs[0].Header
	if got, want := h.Get("X-Amz-Checksum-Crc32c"), crc32c("hello"); got != want {
		t.Errorf("x-amz-checksum-crc32c = %q, want %q", got, want)
	}
	if got := h.Get("X-Amz-Storage-Class"); got != "STANDARD_IA" {
		t.Errorf("x-amz-storage-class = %q", got)
	}
	if strings.Contains(h.Get("Content-Encoding"), "aws-chunked") {
		t.Error("Put used aws-chunked encoding, which S3-compatible servers reject")
	}
}

func TestGetDetectsCorruption(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	const content = "the real content"
	put(t, d, "vol", content)
	for name, mangle := range map[string]func([]byte) []byte{
		"wrong bytes": func(b []byte) []byte { return bytes.Replace(b, []byte("real"), []byte("fake"), 1) },
		"cut short":   func(b []byte) []byte { return b[:8] },
	} {
		t.Run(name, func(t *testing.T) {
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || r.URL.Path != "/backups/vol" {
					return false
				}
				rec := httptest.NewRecorder()
				srv.ServeFake(rec, r) // the real answer, headers and checksum included
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(mangle(rec.Body.Bytes()))
				return true
			})
			var got bytes.Buffer
			if err := d.Get(t.Context(), "vol", &got); err == nil {
				t.Errorf("Get of a %s body returned no error and %q", name, got.String())
			}
		})
	}
}

func TestCreateBucket(t *testing.T) {
	for _, tc := range []struct {
		region string
		want   string // LocationConstraint sent, "" for none
	}{
		{"us-east-1", ""},
		{"eu-west-1", "eu-west-1"},
		{"EU", "EU"},
		{"ap-southeast-2", "ap-southeast-2"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			srv := s3test.New(t)
			var body []byte
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut && r.URL.Path == "/backups" {
					body, _ = io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				return false
			})
			d := newDest(t, srv, s3dest.WithRegion(tc.region))
			if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
				t.Fatalf("Test before create: %v, want ErrBucketNotFound", err)
			}
			if err := d.CreateBucket(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := ""
			if i := bytes.Index(body, []byte("<LocationConstraint>")); i >= 0 {
				got = string(body[i+len("<LocationConstraint>"):])
				got = got[:strings.Index(got, "<")]
			}
			if got != tc.want {
				t.Errorf("LocationConstraint = %q, want %q (body %s)", got, tc.want, body)
			}
			if err := d.Test(t.Context()); err != nil {
				t.Errorf("Test after create: %v", err)
			}
			// Creating it again is success: the bucket is ours.
			if err := d.CreateBucket(t.Context()); err != nil {
				t.Errorf("second CreateBucket: %v", err)
			}
		})
	}
}

func TestCreateBucketAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		code       string
		headStatus int // answer to the HEAD that checks ownership
		want       error
	}{
		{"owned by you", http.StatusConflict, "BucketAlreadyOwnedByYou", 0, nil},
		{"taken", http.StatusConflict, "BucketAlreadyExists", http.StatusForbidden, s3dest.ErrBucketNameTaken},
		{"denied", http.StatusForbidden, "AccessDenied", 0, s3dest.ErrAccessDenied},
		{"bad region", http.StatusBadRequest, "InvalidLocationConstraint", 0, s3dest.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3test.New(t)
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.Method == http.MethodPut && r.URL.Path == "/backups":
					s3test.WriteError(w, r, tc.status, tc.code, "no")
				case r.Method == http.MethodHead && r.URL.Path == "/backups" && tc.headStatus != 0:
					w.WriteHeader(tc.headStatus)
				default:
					return false
				}
				return true
			})
			err := newDest(t, srv).CreateBucket(t.Context())
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CreateBucket: %v, want %v", err, tc.want)
			}
			if err != nil {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Errorf("CreateBucket: %v does not unwrap to the API error %s", err, tc.code)
				}
			}
		})
	}
}

func TestCreateBucketOnFirstUse(t *testing.T) {
	srv := s3test.New(t)
	var logs bytes.Buffer
	d := newDest(t, srv, s3dest.WithCreateBucket(true), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	put(t, d, "vol", "data")
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get = %q", got)
	}
	if !strings.Contains(logs.String(), "created bucket") {
		t.Errorf("no log line about the created bucket: %q", logs.String())
	}
	// Reads, listings and deletes do not create it.
	other := s3test.New(t)
	lazy := newDest(t, other, s3dest.WithCreateBucket(true))
	for op, err := range map[string]error{
		"Test":       lazy.Test(t.Context()),
		"Delete":     lazy.Delete(t.Context(), "vol"),
		"DeleteMany": lazy.DeleteMany(t.Context(), []string{"vol"}),
		"Get":        lazy.Get(t.Context(), "vol", io.Discard),
	} {
		if err == nil {
			t.Errorf("%s on a missing bucket with WithCreateBucket = nil, want an error", op)
		}
	}
	for _, err := range lazy.List(t.Context()) {
		if !errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Errorf("List on a missing bucket with WithCreateBucket = %v, want ErrBucketNotFound", err)
		}
	}
	for _, r := range other.Requests() {
		if r.Method == http.MethodPut {
			t.Errorf("a read or delete sent %s %s: it created the bucket", r.Method, r.Path)
		}
	}
	without := newDest(t, s3test.New(t))
	if err := without.Put(t.Context(), "vol", strings.NewReader("x")); !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Errorf("Put without WithCreateBucket: %v, want ErrBucketNotFound", err)
	}
}

func TestBareNotFoundIsMissingBucket(t *testing.T) {
	srv := s3test.New(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusNotFound) // no body, no code
		return true
	})
	err := newDest(t, srv).Test(t.Context())
	if !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Errorf("Test on a bare 404: %v, want ErrBucketNotFound", err)
	}
}

func TestAccessDenied(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match")
		return true
	})
	d := newDest(t, srv)
	err := d.Test(t.Context())
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Fatalf("Test: %v, want ErrAccessDenied", err)
	}
	var e *s3dest.Error
	if !errors.As(err, &e) || !strings.Contains(e.Hint, "aws-secret-access-key") {
		t.Errorf("hint %q does not say what to check", e.Hint)
	}
	_, err = d.Stat(t.Context(), "x")
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Errorf("Stat: %v, want ErrAccessDenied", err)
	}
}

// A server that lists keys out of byte order (some sort by locale) loses
// none of them; a server that repeats entries across pages shows each once.
func TestListKeepsServerOrderDropsRepeats(t *testing.T) {
	srv := withBucket(t)
	pages := [][]string{{"b", "a", "c"}, {"c", "d"}} // "c" repeated across the boundary
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/backups" {
			return false
		}
		page, next := pages[0], "<IsTruncated>true</IsTruncated><NextContinuationToken>p2</NextContinuationToken>"
		if r.URL.Query().Get("continuation-token") == "p2" {
			page, next = pages[1], "<IsTruncated>false</IsTruncated>"
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>backups</Name>` + next)
		for _, k := range page {
			b.WriteString("<Contents><Key>" + k + "</Key><Size>1</Size></Contents>")
		}
		b.WriteString("</ListBucketResult>")
		_, _ = io.WriteString(w, b.String())
		return true
	})
	var got []string
	for _, fi := range list(t, newDest(t, srv)) {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff([]string{"b", "a", "c", "d"}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

// TestWrite's probe goes up in the server's default class and unlocked,
// whatever the uploads' class and lock options say: in an archive class it
// could not be read back, locked it could not be deleted.
func TestTestWriteProbeIsStandardAndUnlocked(t *testing.T) {
	for name, opt := range map[string]s3dest.Option{
		"storage class": s3dest.WithStorageClass("DEEP_ARCHIVE"),
		"class func":    s3dest.WithStorageClassFunc(func(string, int64) string { return "GLACIER" }),
		"lock":          s3dest.WithLockOnUpload(24 * time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv, opt)
			if err := d.TestWrite(t.Context()); err != nil {
				t.Fatalf("TestWrite: %v", err)
			}
			for _, r := range srv.Requests() {
				if r.Method != http.MethodPut {
					continue
				}
				if c, m := r.Header.Get("X-Amz-Storage-Class"), r.Header.Get("X-Amz-Object-Lock-Mode"); c != "" || m != "" {
					t.Errorf("the probe went up with storage class %q, lock mode %q; want neither", c, m)
				}
			}
		})
	}
}

// Test lists with the API the destination is configured for.
func TestTestHonoursListV1(t *testing.T) {
	srv := withBucket(t)
	d := openFake(t, srv, "s3-list-api-version=v1")
	srv.ResetRequests()
	if err := d.Test(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Query.Get("list-type") == "2" {
			t.Errorf("Test sent ListObjectsV2 (%v) with s3-list-api-version=v1", r.Query)
		}
	}
}

// A class chosen by WithStorageClassFunc is checked as WithStorageClass is:
// CR/LF must never reach a header.
func TestStorageClassFuncResultIsChecked(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClassFunc(func(string, int64) string { return "GLACIER\r\nX-Evil: 1" }))
	srv.ResetRequests()
	if err := d.Put(t.Context(), "vol", strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("Put with a storage class holding CR/LF = %v, want ErrInvalid", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// openFake opens the fake's test bucket from a URL with the extra query
// options given.
func openFake(t *testing.T, srv *s3test.Server, query string) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.URL+"&s3-location-constraint=us-east-1"+
		"&aws-access-key-id="+s3test.AccessKey+"&aws-secret-access-key="+s3test.SecretKey+"&"+query)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustOpen(t *testing.T, raw string, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), raw, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", raw, err)
	}
	return d
}

var creds = s3dest.WithCredentials("AKIAEXAMPLE", "secret-for-tests")

// noise is n random bytes from seed, as a reader of unknown length.
func noise(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// unknownLength hides Len, Seek and ReadAt: a stream whose length Put
// cannot know in advance.
type unknownLength struct{ r io.Reader }

func (u unknownLength) Read(p []byte) (int, error) { return u.r.Read(p) }

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// uploadsLeft lists the bucket's multipart uploads in progress.
func uploadsLeft(t *testing.T, d *s3dest.Destination) []string {
	t.Helper()
	s3dest.WaitCleanupsForTest(d)
	out, err := d.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{
		Bucket: aws.String(d.Bucket()), Prefix: aws.String(d.Prefix())})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}

// faultDest opens a destination on the fake whose HTTP goes through ft,
// with retry backoff shortened so that tests stay fast; the retry policy
// itself is s3dest's.
func faultDest(t *testing.T, srv *s3test.Server, ft *faults.Transport, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	fast := s3dest.WithS3Options(func(o *s3.Options) { o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond) })
	return newDest(t, srv, append([]s3dest.Option{s3dest.WithHTTPClient(ft.Client()), fast}, opts...)...)
}

// assertNoUploads fails when a multipart upload is left in the bucket.
func assertNoUploads(t *testing.T, d *s3dest.Destination) {
	t.Helper()
	s3dest.WaitCleanupsForTest(d)
	out, err := d.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: ptr(d.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind", len(out.Uploads))
	}
}

func ptr[T any](v T) *T { return &v }

// relay sends a recorded answer on.
func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
