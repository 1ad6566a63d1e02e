package s3dest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/s3test"
)

// The behavioural suite: tests that use only the public API run against
// every target: the in-process fake always, and the real S3-compatible
// server named by S3DEST_TEST_URL when it is set (see .ci/run).

// A target is one server the suite runs against, with a prefix of its own
// for the test, and the quirks of that server pinned by name (what it does
// that AWS S3 does not), so that the suite states the contract everywhere.
type target struct {
	fake    *s3test.Server // nil on a real server
	server  string         // "fake", or S3DEST_TEST_SERVER: versitygw, seaweedfs, rclone
	rawURL  string         // destination URL with credentials, without prefix
	bucket  string
	prefix  string // unique to the test on a real server, "suite/" on the fake
	classes bool   // the server reports storage classes back
}

// checksRegion: the server refuses a request signed for another region
// (AuthorizationHeaderMalformed). SeaweedFS and rclone take any region.
func (tg *target) checksRegion() bool { return tg.server == "versitygw" }

// multipartChecksums: the server keeps a checksum for multipart objects.
// rclone serve s3 keeps none, and ignores x-amz-checksum-* on parts.
func (tg *target) multipartChecksums() bool { return tg.server != "rclone" }

// filesNotFolders: the server stores objects as files, so "x" and "x/y"
// cannot both exist (versitygw, rclone; SeaweedFS keeps both).
func (tg *target) filesNotFolders() bool { return tg.server == "versitygw" || tg.server == "rclone" }

// backslashIsSlash: the server rewrites '\' in keys to '/' (SeaweedFS
// unless started with -s3.allowBackslashInKey): "a\b" and "a/b" are one
// object there.
func (tg *target) backslashIsSlash() bool { return tg.server == "seaweedfs" }

func (tg *target) real() bool { return tg.fake == nil }

// dest opens the test's destination; opts come after the target's.
func (tg *target) dest(t *testing.T, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), tg.rawURL, append([]s3dest.Option{s3dest.WithPrefix(tg.prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sub is the option for a folder inside the test's prefix.
func (tg *target) sub(folder string) s3dest.Option { return s3dest.WithPrefix(tg.prefix + folder) }

// rawClient is an SDK client for the target, made without s3dest: the
// independent reader and writer of the interoperability tests.
func (tg *target) rawClient(t *testing.T) *s3.Client {
	u, err := s3dest.ParseURL(tg.rawURL)
	if err != nil {
		t.Fatal(err)
	}
	key, secret := s3test.AccessKey, s3test.SecretKey
	if tg.real() {
		key, secret = os.Getenv("S3DEST_TEST_KEY"), os.Getenv("S3DEST_TEST_SECRET")
	}
	endpoint := u.ServerName
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

var realBucketOnce sync.Once

// forEachTarget runs fn as a subtest per target.
func forEachTarget(t *testing.T, fn func(t *testing.T, tg *target)) {
	t.Run("fake", func(t *testing.T) {
		srv := withBucket(t)
		fn(t, &target{
			fake: srv, server: "fake", bucket: bucket, classes: true, prefix: "suite/",
			rawURL: "s3://" + bucket + "/?s3-server-name=" + srv.URL + "&s3-location-constraint=us-east-1" +
				"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey,
		})
	})
	raw := os.Getenv("S3DEST_TEST_URL")
	if raw == "" {
		return
	}
	t.Run("real", func(t *testing.T) {
		u, err := s3dest.ParseURL(raw)
		if err != nil {
			t.Fatalf("S3DEST_TEST_URL: %v", err)
		}
		realBucketOnce.Do(func() {
			d, err := s3dest.Open(context.Background(), raw)
			if err == nil {
				err = d.CreateBucket(context.Background())
			}
			if err != nil {
				t.Fatalf("creating the test bucket: %v", err)
			}
		})
		var id [4]byte
		_, _ = rand.Read(id[:])
		tg := &target{rawURL: raw, bucket: u.Bucket, server: os.Getenv("S3DEST_TEST_SERVER"),
			prefix:  u.Prefix + testSlug.ReplaceAllString(t.Name(), "-") + "-" + hex.EncodeToString(id[:]) + "/",
			classes: os.Getenv("S3DEST_TEST_SERVER") != "versitygw"}
		t.Cleanup(func() { removeAll(tg) })
		fn(t, tg)
	})
}

var testSlug = regexp.MustCompile(`[^A-Za-z0-9]+`)

// removeAll deletes what a test left under its prefix on a real server.
func removeAll(tg *target) {
	ctx := context.Background()
	d, err := s3dest.Open(ctx, tg.rawURL, s3dest.WithPrefix(tg.prefix), s3dest.WithRecursiveList(true))
	if err != nil {
		return
	}
	for fi, err := range d.List(ctx) {
		if err != nil {
			return
		}
		_ = d.Delete(ctx, fi.Name)
	}
}

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

func TestStorageClass(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD_IA"} {
			put(t, tg.dest(t, s3dest.WithStorageClass(class)), strings.ToLower(class), "x")
			if tg.fake != nil {
				if got := tg.fake.Class(tg.bucket, tg.prefix+strings.ToLower(class)); got != class {
					t.Errorf("object stored with class %q, want %q", got, class)
				}
			}
		}
		plain := tg.dest(t)
		put(t, plain, "standard", "x")
		got := map[string][2]any{}
		for _, fi := range list(t, plain) {
			got[fi.Name] = [2]any{fi.StorageClass, fi.Archived}
		}
		want := map[string][2]any{
			"glacier":      {"GLACIER", true},
			"deep_archive": {"DEEP_ARCHIVE", true},
			"glacier_ir":   {"GLACIER_IR", false},
			"standard_ia":  {"STANDARD_IA", false},
			"standard":     {"STANDARD", false},
		}
		if !tg.classes {
			// versitygw accepts classes on upload but reports every object
			// as STANDARD: nothing is ever archived there.
			for k := range want {
				want[k] = [2]any{"STANDARD", false}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List classes and Archived (-want +got):\n%s", diff)
		}
		if tg.classes {
			custom := tg.dest(t, s3dest.WithArchiveClasses("glacier_ir"))
			for _, fi := range list(t, custom) {
				if fi.Archived != (fi.Name == "glacier_ir") {
					t.Errorf("with archive classes [glacier_ir]: %s Archived = %v", fi.Name, fi.Archived)
				}
			}
		}
		// Restoring what is readable needs no request and succeeds.
		if err := plain.Restore(t.Context(), "standard", s3dest.RestoreOptions{}); err != nil {
			t.Errorf("Restore of a readable object: %v", err)
		}
	})
}

func TestRenameKeepsStorageClass(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithStorageClass("STANDARD_IA"))
		put(t, d, "vol", "data")
		if err := d.Rename(t.Context(), "vol", "vol2"); err != nil {
			t.Fatal(err)
		}
		want := "STANDARD_IA"
		if !tg.classes {
			want = "STANDARD"
		}
		fi, err := d.Stat(t.Context(), "vol2")
		if err != nil || fi.StorageClass != want {
			t.Errorf("renamed object: class %q, %v; want %s", fi.StorageClass, err, want)
		}
		if got := get(t, d, "vol2"); got != "data" {
			t.Errorf("renamed object holds %q", got)
		}
		if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("old name after rename: %v, want ErrObjectNotFound", err)
		}
	})
}

func TestListPagesAndPrefixes(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, tg.sub("set/"))
		put(t, tg.dest(t, tg.sub("settings")), "not-mine", "x")
		var want []string
		var wg sync.WaitGroup
		for i := range 1100 {
			name := fmt.Sprintf("vol-%04d", i)
			want = append(want, name)
		}
		for w := range 8 { // the real server is slower: upload in parallel
			wg.Go(func() {
				for i := w; i < len(want); i += 8 {
					if err := d.Put(t.Context(), want[i], strings.NewReader("")); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		put(t, d, "sub/deeper", "x")
		for _, version := range []string{"v2", "v1"} {
			ld, err := s3dest.Open(t.Context(), tg.rawURL+"&s3-list-api-version="+version, tg.sub("set"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fi := range list(t, ld) {
				got = append(got, fi.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: List (-want +got):\n%s", version, diff)
			}
		}
		var got []string
		for _, fi := range list(t, tg.dest(t, tg.sub("set"), s3dest.WithRecursiveList(true))) {
			got = append(got, fi.Name)
		}
		if diff := cmp.Diff(append([]string{"sub/deeper"}, want...), got); diff != "" {
			t.Errorf("recursive List (-want +got):\n%s", diff)
		}
	})
}

func TestListStopsEarly(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
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
	})
}

func TestTestAndTestWrite(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
		if err := d.Test(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := d.TestWrite(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := list(t, d); len(got) != 0 {
			t.Errorf("TestWrite left %v behind", got)
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

func TestMissingBucketThenCreate(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		var id [4]byte
		_, _ = rand.Read(id[:])
		name := "s3dest-new-" + hex.EncodeToString(id[:])
		raw := strings.Replace(tg.rawURL, "s3://"+tg.bucket+"/", "s3://"+name+"/", 1)
		d, err := s3dest.Open(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Fatalf("Test of a missing bucket: %v, want ErrBucketNotFound", err)
		}
		if err := d.CreateBucket(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = d.Client().DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(name)})
		})
		if err := d.CreateBucket(t.Context()); err != nil {
			t.Errorf("creating our own bucket again: %v, want nil", err)
		}
		if err := d.Test(t.Context()); err != nil {
			t.Errorf("Test after create: %v", err)
		}
	})
}

// Servers that check signatures refuse a wrong secret; the fake checks none.
func TestWrongSecretIsAccessDenied(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake does not check signatures")
		}
		d := tg.dest(t, s3dest.WithCredentials(os.Getenv("S3DEST_TEST_KEY"), "not-the-secret"))
		if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrAccessDenied) {
			t.Errorf("Test with a wrong secret: %v, want ErrAccessDenied", err)
		}
	})
}

// An access key the server does not know is access denied for every
// operation: never "bucket not found", "object not found", or a Delete that
// succeeds while the object stays.
func TestUnknownKeyIsAccessDenied(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake checks no keys (TestUnknownKeyCodeIsAccessDenied covers versitygw's answer)")
		}
		put(t, tg.dest(t), "vol", "data")
		d := tg.dest(t, s3dest.WithCredentials("S3DESTNOSUCHKEY", "not-the-secret"))
		_, statErr := d.Stat(t.Context(), "vol")
		for op, err := range map[string]error{
			"Test":   d.Test(t.Context()),
			"Get":    d.Get(t.Context(), "vol", io.Discard),
			"Delete": d.Delete(t.Context(), "vol"),
			"Stat":   statErr,
			"Rename": d.Rename(t.Context(), "vol", "other"),
		} {
			if !errors.Is(err, s3dest.ErrAccessDenied) {
				t.Errorf("%s with an unknown access key: %v, want ErrAccessDenied", op, err)
			}
		}
		if got := get(t, tg.dest(t), "vol"); got != "data" {
			t.Errorf("the object holds %q after a refused Delete", got)
		}
	})
}

// A real server in us-east-1 answers a request signed for another region
// with AuthorizationHeaderMalformed; the destination heals and goes on.
func TestWrongRegionHealsOnServer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake checks no signing region (TestWrongRegionHealed* cover it with hooks)")
		}
		if !tg.checksRegion() {
			// Nothing to heal: the server takes the request as signed.
			d := tg.dest(t, s3dest.WithRegion("eu-west-1"))
			put(t, d, "vol", "data")
			if d.Region() != "eu-west-1" {
				t.Errorf("Region() = %q on a server that takes any region, want the given eu-west-1", d.Region())
			}
			return
		}
		d := tg.dest(t, s3dest.WithRegion("eu-west-1"))
		put(t, d, "vol", "data")
		if d.Region() != "us-east-1" {
			t.Errorf("Region() = %q after healing, want us-east-1", d.Region())
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

// Large objects: a stream of unknown length goes up in parts and comes back
// byte-exact, with one whole-object checksum; ranges, batch deletes and
// upload cleanup behave the same on every server.
func TestLargeObjects(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(2))
		data, _ := io.ReadAll(noise(7, 13<<20)) // three parts, the last one short
		if err := d.Put(t.Context(), "big", io.MultiReader(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
		fi, err := d.Stat(t.Context(), "big")
		if err != nil {
			t.Fatal(err)
		}
		wantSum := "CRC32C:" + crc32c(string(data))
		if !tg.multipartChecksums() {
			wantSum = "" // and the ETag is the MD5 of the whole object, which Get checks
		}
		if fi.Size != int64(len(data)) || fi.Checksum != wantSum {
			t.Errorf("Stat: size %d checksum %q, want %d and %q", fi.Size, fi.Checksum, len(data), wantSum)
		}
		var got bytes.Buffer
		if err := d.Get(t.Context(), "big", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("Get: %v, %d bytes equal=%v", err, got.Len(), bytes.Equal(got.Bytes(), data))
		}
		got.Reset()
		if err := d.GetRange(t.Context(), "big", 5<<20-10, 20, &got); err != nil || !bytes.Equal(got.Bytes(), data[5<<20-10:5<<20+10]) {
			t.Errorf("GetRange across a part boundary: %v, %q", err, got.Bytes())
		}
		for _, off := range []int64{int64(len(data)) + 1, int64(len(data)) - 10} {
			var part bytes.Buffer
			if err := d.GetRange(t.Context(), "big", off, 20, &part); !errors.Is(err, s3dest.ErrInvalid) || part.Len() != 0 {
				t.Errorf("GetRange(%d, 20) of %d bytes: %v after %d bytes, want ErrInvalid and none", off, len(data), err, part.Len())
			}
		}

		// An upload a crashed process left behind, and one of another prefix.
		siblingPrefix := strings.TrimSuffix(tg.prefix, "/") + "-sibling/"
		for _, key := range []string{tg.prefix + "crashed", siblingPrefix + "upload"} {
			if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(tg.bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := d.CleanupUploads(t.Context(), 0)
		if err != nil || n != 1 {
			t.Errorf("CleanupUploads: %d, %v; want 1 (only the upload under the prefix)", n, err)
		}
		sibling := tg.dest(t, s3dest.WithPrefix(siblingPrefix))
		if n, err := sibling.CleanupUploads(t.Context(), 0); err != nil || n != 1 {
			t.Errorf("the sibling prefix's upload: %d, %v; want it still there", n, err)
		}

		var names []string
		for i := range 30 {
			names = append(names, fmt.Sprintf("small-%02d", i))
			put(t, d, names[i], "x")
		}
		if err := d.DeleteMany(t.Context(), append(names, "big", "never-existed")); err != nil {
			t.Errorf("DeleteMany: %v", err)
		}
		if left := list(t, d); len(left) != 0 {
			t.Errorf("after DeleteMany %d objects are left", len(left))
		}
	})
}
