package s3dest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
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

func TestObjectLifecycle(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("laptop"))
	put(t, d, "b.dblock", "volume")
	put(t, d, "a.dlist", "file list")

	want := []s3dest.FileInfo{
		{Name: "a.dlist", Size: 9, StorageClass: "STANDARD"},
		{Name: "b.dblock", Size: 6, StorageClass: "STANDARD"},
	}
	if diff := cmp.Diff(want, list(t, d), ignoreVolatile); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	fi, err := d.Stat(t.Context(), "b.dblock")
	if err != nil {
		t.Fatal(err)
	}
	want[1].Checksum = "CRC32C:" + crc32c("volume")
	if diff := cmp.Diff(want[1], fi, ignoreVolatile); diff != "" {
		t.Errorf("Stat (-want +got):\n%s", diff)
	}
	if fi.ModTime.IsZero() || fi.ETag == "" || strings.Contains(fi.ETag, `"`) {
		t.Errorf("Stat: ModTime %v, ETag %q: want both set, ETag unquoted", fi.ModTime, fi.ETag)
	}
	if got := get(t, d, "b.dblock"); got != "volume" {
		t.Errorf("Get = %q, want %q", got, "volume")
	}
	if err := d.Rename(t.Context(), "b.dblock", "c.dblock"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(t.Context(), "a.dlist"); err != nil {
		t.Fatal(err)
	}
	want = []s3dest.FileInfo{{Name: "c.dblock", Size: 6, StorageClass: "STANDARD"}}
	if diff := cmp.Diff(want, list(t, d), ignoreVolatile); diff != "" {
		t.Errorf("List after rename and delete (-want +got):\n%s", diff)
	}
	// Keys are prefix + name.
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut && r.Path != "/backups/laptop/b.dblock" && r.Path != "/backups/laptop/a.dlist" &&
			r.Path != "/backups/laptop/c.dblock" {
			t.Errorf("PUT to %s: want keys under laptop/", r.Path)
		}
	}
}

// crc32c is the base64 CRC32C of s, as S3 writes it.
func crc32c(s string) string {
	sum := crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

func TestDeleteMissingSucceeds(t *testing.T) {
	d := newDest(t, withBucket(t))
	if err := d.Delete(t.Context(), "never-written"); err != nil {
		t.Errorf("Delete of a missing object: %v, want nil", err)
	}
}

func TestMissingObject(t *testing.T) {
	d := newDest(t, withBucket(t))
	_, err := d.Stat(t.Context(), "nope")
	if !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat: %v, want ErrObjectNotFound", err)
	}
	err = d.Get(t.Context(), "nope", io.Discard)
	if !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Get: %v, want ErrObjectNotFound", err)
	}
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("Get: %v does not unwrap to *types.NoSuchKey", err)
	}
	var e *s3dest.Error
	if !errors.As(err, &e) || e.Op != "get" || e.Bucket != bucket || e.Key != "nope" || e.Code != "NoSuchKey" {
		t.Errorf("Get: %#v, want *Error{Op: get, Bucket: %s, Key: nope, Code: NoSuchKey}", e, bucket)
	}
}

func TestStorageClass(t *testing.T) {
	srv := withBucket(t)
	plain := newDest(t, srv)
	for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "ONEZONE_IA", "PROVIDER_SPECIFIC"} {
		d := newDest(t, srv, s3dest.WithStorageClass(class))
		put(t, d, strings.ToLower(class), "x")
		if got := srv.Class(bucket, strings.ToLower(class)); got != class {
			t.Errorf("object stored with class %q, want %q", got, class)
		}
	}
	put(t, plain, "standard", "x")
	got := map[string][2]any{}
	for _, fi := range list(t, plain) {
		got[fi.Name] = [2]any{fi.StorageClass, fi.Archived}
	}
	want := map[string][2]any{
		"glacier":           {"GLACIER", true},
		"deep_archive":      {"DEEP_ARCHIVE", true},
		"glacier_ir":        {"GLACIER_IR", false},
		"onezone_ia":        {"ONEZONE_IA", false},
		"provider_specific": {"PROVIDER_SPECIFIC", false},
		"standard":          {"STANDARD", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List classes and Archived (-want +got):\n%s", diff)
	}
	custom := newDest(t, srv, s3dest.WithArchiveClasses("glacier_ir"))
	for _, fi := range list(t, custom) {
		if fi.Archived != (fi.Name == "glacier_ir") {
			t.Errorf("with archive classes [glacier_ir]: %s Archived = %v", fi.Name, fi.Archived)
		}
	}
}

func TestRenameKeepsStorageClass(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("STANDARD_IA"))
	put(t, d, "vol", "data")
	if err := d.Rename(t.Context(), "vol", "vol2"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Class(bucket, "vol2"); got != "STANDARD_IA" {
		t.Errorf("renamed object has class %q, want STANDARD_IA", got)
	}
	if got := get(t, d, "vol2"); got != "data" {
		t.Errorf("renamed object holds %q", got)
	}
	if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("old name after rename: %v, want ErrObjectNotFound", err)
	}
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

func TestListPagesAndPrefixes(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("/set/"))
	other := newDest(t, srv, s3dest.WithPrefix("settings"))
	put(t, other, "not-mine", "x")
	var want []string
	for i := range 1100 {
		name := fmt.Sprintf("vol-%04d", i)
		want = append(want, name)
		put(t, d, name, "")
	}
	put(t, d, "sub/deeper", "x")
	for _, v1 := range []bool{false, true} {
		u := "s3://backups/set?s3-server-name=" + srv.URL + "&aws-access-key-id=k&aws-secret-access-key=s"
		if v1 {
			u += "&s3-list-api-version=v1"
		}
		ld, err := s3dest.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fi := range list(t, ld) {
			got = append(got, fi.Name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("v1=%v: List (-want +got):\n%s", v1, diff)
		}
	}
	rec := newDest(t, srv, s3dest.WithPrefix("set"))
	recURL, err := s3dest.Open(t.Context(), rec.String()+"&s3-recursive-list=true&aws-access-key-id=k&aws-secret-access-key=s")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fi := range list(t, recURL) {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff(append([]string{"sub/deeper"}, want...), got); diff != "" {
		t.Errorf("recursive List (-want +got):\n%s", diff)
	}
}

func TestListStopsEarly(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	for i := range 5 {
		put(t, d, fmt.Sprint(i), "")
	}
	n := 0
	for _, err := range d.List(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("iterated %d, want 2", n)
	}
}

func TestInvalidNamesSendNothing(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.ResetRequests()
	for _, name := range []string{"", "../etc/passwd", "a/../b", "./a", "/abs", "bad\x00byte", "bad\nline",
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

func TestTestWrite(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	if err := d.Test(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := d.TestWrite(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := list(t, d); len(got) != 0 {
		t.Errorf("TestWrite left %v behind", got)
	}
	// A server that returns other bytes than it stored fails TestWrite.
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

func TestConcurrentUse(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Go(func() {
			name := fmt.Sprintf("obj-%d", i)
			content := strings.Repeat(name, 100)
			if err := d.Put(t.Context(), name, strings.NewReader(content)); err != nil {
				errs <- err
				return
			}
			var b bytes.Buffer
			if err := d.Get(t.Context(), name, &b); err != nil {
				errs <- err
				return
			}
			if b.String() != content {
				errs <- fmt.Errorf("%s: got other content", name)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(list(t, d)); n != 16 {
		t.Errorf("listed %d objects, want 16", n)
	}
}

func TestCanceledContext(t *testing.T) {
	d := newDest(t, withBucket(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := d.Put(ctx, "vol", strings.NewReader("x"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v, want context.Canceled", err)
	}
}

func TestClientEscapeHatch(t *testing.T) {
	d := newDest(t, withBucket(t))
	put(t, d, "vol", "data")
	out, err := d.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("vol")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(out.ContentLength) != 4 {
		t.Errorf("ContentLength %d", aws.ToInt64(out.ContentLength))
	}
}
