package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about
// objects: Put, Get, Stat, List, Rename and Delete of one object, missing
// objects, concurrent use, cancellation, and objects another client wrote.

// ignoreVolatile drops the fields the server decides.
var ignoreVolatile = cmpopts.IgnoreFields(s3dest.FileInfo{}, "ModTime", "ETag")

func TestObjectLifecycle(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, tg.sub("laptop"))
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
		// Another prefix in the same bucket sees none of it.
		if got := list(t, tg.dest(t, tg.sub("laptop2"))); len(got) != 0 {
			t.Errorf("a sibling prefix lists %v", got)
		}
	})
}

func TestDeleteMissingSucceeds(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if err := tg.dest(t).Delete(t.Context(), "never-written"); err != nil {
			t.Errorf("Delete of a missing object: %v, want nil", err)
		}
	})
}

func TestMissingObject(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
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
		if !errors.As(err, &e) || e.Op != "get" || e.Bucket != tg.bucket || e.Key != tg.prefix+"nope" || e.Code != "NoSuchKey" {
			t.Errorf("Get: %#v, want *Error{Op: get, Bucket: %s, Key: nope, Code: NoSuchKey}", e, tg.bucket)
		}
		if err := d.Rename(t.Context(), "nope", "other"); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("Rename: %v, want ErrObjectNotFound", err)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				name := fmt.Sprintf("obj-%d", i)
				content := strings.Repeat(name, 100)
				if err := d.Put(t.Context(), name, strings.NewReader(content)); err != nil {
					t.Error(err)
					return
				}
				var b bytes.Buffer
				if err := d.Get(t.Context(), name, &b); err != nil {
					t.Error(err)
				} else if b.String() != content {
					t.Errorf("%s: got other content", name)
				}
			})
		}
		wg.Wait()
		if n := len(list(t, d)); n != 16 {
			t.Errorf("listed %d objects, want 16", n)
		}
	})
}

func TestCanceledContext(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := tg.dest(t).Put(ctx, "vol", strings.NewReader("x"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put with a canceled context: %v, want context.Canceled", err)
		}
	})
}

// Objects written by s3dest are read byte-exact by an independent client
// (the raw SDK), and objects it writes are listed and read by s3dest.
func TestInteroperability(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
		raw := tg.rawClient(t)
		content := bytes.Repeat([]byte("interop "), 4096)
		if err := d.Put(t.Context(), "by-s3dest", bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		out, err := raw.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(tg.bucket), Key: aws.String(tg.prefix + "by-s3dest")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("raw SDK read %d bytes (%v), want the %d written", len(got), err, len(content))
		}
		_, err = raw.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(tg.bucket), Key: aws.String(tg.prefix + "by-sdk"),
			Body: bytes.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fi := range list(t, d) {
			names = append(names, fi.Name)
		}
		if diff := cmp.Diff([]string{"by-s3dest", "by-sdk"}, names); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
		if got := get(t, d, "by-sdk"); got != string(content) {
			t.Errorf("s3dest read %d bytes of the SDK's object, want %d", len(got), len(content))
		}
	})
}

// IfAbsent stores a new name and refuses a taken one, leaving it as it
// was, in one PutObject and in a multipart upload (If-None-Match on the
// Complete). versitygw v1.8.0, SeaweedFS 4.53 and rclone serve s3 v1.76
// all honour it.
func TestSuiteIfAbsent(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithPartSize(5<<20))
		for name, size := range map[string]int{"single": 100, "multipart": 11 << 20} {
			first, second := randomBytes(size, 1), randomBytes(size, 2)
			if err := d.Put(t.Context(), name, noSize(first), s3dest.IfAbsent()); err != nil {
				t.Fatalf("%s: Put IfAbsent of a new name: %v", name, err)
			}
			err := d.Put(t.Context(), name, noSize(second), s3dest.IfAbsent())
			got := get(t, d, name)
			if !errors.Is(err, s3dest.ErrObjectExists) {
				t.Errorf("%s: Put IfAbsent over an existing object = %v, want ErrObjectExists", name, err)
			}
			if got != string(first) {
				t.Errorf("%s: the existing object changed", name)
			}
		}
		assertNoUploads(t, d)
	})
}

// Objects written with SSE-S3 (AES256) read back whole; the header is one
// S3 takes everywhere.
func TestSuiteServerSideEncryption(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithServerSideEncryption(s3dest.SSE{Type: "AES256"}), s3dest.WithPartSize(5<<20))
		for name, size := range map[string]int{"single": 100, "multipart": 11 << 20} {
			data := randomBytes(size, 5)
			err := d.Put(t.Context(), name, noSize(data))
			if err != nil {
				t.Fatalf("%s: Put with SSE-S3: %v", name, err)
			}
			if got := get(t, d, name); got != string(data) {
				t.Errorf("%s: Get differs", name)
			}
		}
	})
}

// A retry is signed afresh: every call s3dest sends by its own path (Put,
// a multipart Put's parts, Stat, Get, Delete) is first answered 503
// SlowDown, and its retry must pass the server's signature check (the
// real server checks it; the fake checks none).
func TestSuiteRetriesAreSigned(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		ft := &faults.Transport{}
		d := tg.dest(t, s3dest.WithHTTPClient(ft.Client()), s3dest.WithMaxBackoffForTest(time.Millisecond),
			s3dest.WithPartSize(5<<20))
		ops := []string{"PutObject", "UploadPart", "HeadObject", "GetObject", "DeleteObject"}
		for _, op := range ops {
			ft.Add(faults.Fault{Match: faults.Op(op), Times: 1, Status: http.StatusServiceUnavailable, Code: "SlowDown"})
		}
		small, large := randomBytes(1000, 1), randomBytes(11<<20, 2)
		for name, data := range map[string][]byte{"small": small, "large": large} {
			if err := d.Put(t.Context(), name, bytes.NewReader(data)); err != nil {
				t.Fatalf("Put %s after a 503: %v", name, err)
			}
		}
		if _, err := d.Stat(t.Context(), "small"); err != nil {
			t.Fatalf("Stat after a 503: %v", err)
		}
		var got bytes.Buffer
		if err := d.Get(t.Context(), "large", &got); err != nil || !bytes.Equal(got.Bytes(), large) {
			t.Fatalf("Get after a 503: %v (%d bytes of %d)", err, got.Len(), len(large))
		}
		if err := d.Delete(t.Context(), "small"); err != nil {
			t.Fatalf("Delete after a 503: %v", err)
		}
		if n := ft.Injected(); n != len(ops) {
			t.Errorf("%d faults injected, want %d: a call did not go where expected", n, len(ops))
		}
	})
}
