package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// versionedFake starts a fake whose test bucket keeps versions, stamped by
// the clock c.
func versionedFake(t *testing.T, c *fakeClock) *s3test.Server {
	t.Helper()
	srv := withBucket(t)
	srv.Now = c.Now
	if err := srv.EnableVersioning(bucket); err != nil {
		t.Fatal(err)
	}
	return srv
}

func del(t *testing.T, d *s3dest.Destination, name string) {
	t.Helper()
	if err := d.Delete(t.Context(), name); err != nil {
		t.Fatalf("Delete(%q): %v", name, err)
	}
}

func versionsOf(t *testing.T, d *s3dest.Destination, name string) []s3dest.Version {
	t.Helper()
	var out []s3dest.Version
	for v, err := range d.Versions(t.Context(), name) {
		if err != nil {
			t.Fatalf("Versions(%q): %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

// requests counts the requests of a method whose query has the parameter.
func requests(srv *s3test.Server, method, param string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && (param == "" || r.Query.Has(param)) {
			n++
		}
	}
	return n
}

var markerElem = regexp.MustCompile(`(?s)<DeleteMarker>.*?</DeleteMarker>`)

// TestVersionsUnversioned: in an unversioned bucket the view and the
// version calls fail with ErrInvalid and a hint that versioning is off,
// instead of showing the present as the past; a suspended bucket keeps
// its versions and is read; the status is asked once per Destination.
func TestVersionsUnversioned(t *testing.T) {
	srv := withBucket(t)
	put(t, newDest(t, srv), "a", "data")
	view := newDest(t, srv, s3dest.WithVersionAt(time.Now()))
	ctx := t.Context()
	_, statErr := view.Stat(ctx, "a")
	_, readerErr := view.NewReader(ctx, "a")
	var listErr, versionsErr error
	for _, err := range view.List(ctx) {
		listErr = err
	}
	for _, err := range newDest(t, srv).Versions(ctx, "a") {
		versionsErr = err
	}
	for op, err := range map[string]error{
		"List": listErr, "Stat": statErr, "NewReader": readerErr, "Versions": versionsErr,
		"Get":        view.Get(ctx, "a", io.Discard),
		"GetRange":   view.GetRange(ctx, "a", 0, 1, io.Discard),
		"GetVersion": newDest(t, srv).GetVersion(ctx, "a", "null", io.Discard),
	} {
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || !strings.Contains(e.Hint, "enable versioning") {
			t.Errorf("%s in an unversioned bucket: %v, want ErrInvalid with a hint to enable versioning", op, err)
		}
	}

	if err := newDest(t, srv, s3dest.WithVersionAt(time.Now())).Get(ctx, "a", io.Discard); err == nil {
		t.Fatal("the test's hook would prove nothing")
	}
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && r.URL.Query().Has("versioning") {
			_, _ = io.WriteString(w, `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`)
			return true
		}
		return false
	})
	suspended := newDest(t, srv, s3dest.WithVersionAt(time.Now().Add(time.Hour)))
	srv.ResetRequests()
	for range 3 {
		if got := get(t, suspended, "a"); got != "data" {
			t.Errorf("view of a suspended bucket: Get = %q", got)
		}
	}
	if n := requests(srv, http.MethodGet, "versioning"); n != 1 {
		t.Errorf("three reads asked the versioning status %d times, want once", n)
	}
	missing, err := s3dest.New(ctx, "no-such-bucket", s3dest.WithServerName(srv.Endpoint),
		s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey), s3dest.WithRegion("us-east-1"), s3dest.WithVersionAt(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Get(ctx, "a", io.Discard); !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Errorf("view of a missing bucket: %v, want ErrBucketNotFound", err)
	}
}

// TestVersions: every version and delete marker of one name, newest
// first, with sizes, times, classes and archive state; GetVersion reads
// each version's bytes; a delete marker or an unknown id is "not found",
// an empty id invalid; the view does not limit them.
func TestVersions(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	t0 := c.Now()
	if err := d.Put(t.Context(), "vol", strings.NewReader("first, in GLACIER"), s3dest.PutStorageClass("GLACIER")); err != nil {
		t.Fatal(err)
	}
	t1 := c.Advance(time.Minute)
	put(t, d, "vol", "second")
	t2 := c.Advance(time.Minute)
	del(t, d, "vol")
	t3 := c.Advance(time.Minute)
	put(t, d, "vol", "third!")
	put(t, d, "vol2", "another name that starts the same")

	view := newDest(t, srv, s3dest.WithVersionAt(t0))
	got := versionsOf(t, view, "vol")
	for i := range got {
		if got[i].VersionID == "" {
			t.Errorf("version %d has no id", i)
		}
		got[i].VersionID = ""
	}
	want := []s3dest.Version{
		{Size: 6, ModTime: t3, IsLatest: true, StorageClass: "STANDARD"},
		{ModTime: t2, DeleteMarker: true},
		{Size: 6, ModTime: t1, StorageClass: "STANDARD"},
		{Size: 17, ModTime: t0, StorageClass: "GLACIER", Archived: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Versions(vol) (-want +got):\n%s", diff)
	}
	if n := len(versionsOf(t, d, "never-was")); n != 0 {
		t.Errorf("Versions of a name that never existed: %d entries", n)
	}

	all := versionsOf(t, d, "vol")
	ctx := t.Context()
	for i, body := range map[int]string{0: "third!", 2: "second"} {
		var b bytes.Buffer
		if err := d.GetVersion(ctx, "vol", all[i].VersionID, &b); err != nil || b.String() != body {
			t.Errorf("GetVersion(vol, %d) = %q, %v; want %q", i, b.String(), err, body)
		}
	}
	err := d.GetVersion(ctx, "vol", all[1].VersionID, io.Discard)
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrObjectNotFound) || errors.Is(err, s3dest.ErrNotSupported) || !errors.As(err, &e) || !strings.Contains(e.Hint, "delete marker") {
		t.Errorf("GetVersion of a delete marker: %v, want ErrObjectNotFound naming the delete marker", err)
	}
	if err := d.GetVersion(ctx, "vol", "3/NOSUCHVERSION", io.Discard); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("GetVersion of an unknown id: %v, want ErrObjectNotFound", err)
	}
	if err := d.GetVersion(ctx, "vol", "", io.Discard); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("GetVersion without an id: %v, want ErrInvalid", err)
	}
	srv.ResetRequests()
	err = d.GetVersion(ctx, "vol", all[3].VersionID, io.Discard)
	if !errors.Is(err, s3dest.ErrObjectArchived) {
		t.Errorf("GetVersion of the GLACIER version: %v, want ErrObjectArchived", err)
	}
	if n := requests(srv, http.MethodGet, "versionId"); n != 1 {
		t.Errorf("GetVersion of an archived version sent %d GETs, want 1 (no retry)", n)
	}
}

// TestGetVersionVerified: GetVersion checks what it reads as Get does,
// and a multipart version's parts are asked of that version, not of the
// current object.
func TestGetVersionVerified(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "k", "the version to read")
	id := versionsOf(t, d, "k")[0].VersionID
	c.Advance(time.Minute)
	put(t, d, "k", "the current one")
	srv.SetHook(mangleGets(srv.ServeFake, "/"+bucket+"/k", func(_ http.Header, body []byte) []byte {
		return bytes.Replace(body, []byte("version"), []byte("VERSION"), 1)
	}))
	if err := d.GetVersion(t.Context(), "k", id, io.Discard); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("GetVersion of a damaged body: %v, want ErrCorrupt", err)
	}
	srv.SetHook(nil)

	// A multipart object another tool wrote without checksums: its ETag
	// is checked part by part, from the part lengths HEAD ?partNumber
	// tells. Its parts are smaller than S3 takes: the fake is told so.
	srv.SetMinPartSize(100 << 10)
	raw := rawFakeClient(srv)
	mp, err := raw.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(300<<10, 3)
	var parts []types.CompletedPart
	for i, cut := range [][2]int{{0, 200 << 10}, {200 << 10, 300 << 10}} { // cut as s3dest cuts: the first part the largest
		out, err := raw.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data[cut[0]:cut[1]])})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	if _, err := raw.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	old := versionsOf(t, d, "mp")[0].VersionID
	c.Advance(time.Minute)
	put(t, d, "mp", "small now")
	srv.ResetRequests()
	var b bytes.Buffer
	if err := d.GetVersion(t.Context(), "mp", old, &b); err != nil || !bytes.Equal(b.Bytes(), data) {
		t.Fatalf("GetVersion of the multipart version: %d bytes, %v", b.Len(), err)
	}
	heads := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodHead && r.Query.Has("partNumber") {
			heads++
			if r.Query.Get("versionId") != old {
				t.Errorf("HEAD ?partNumber=%s asked version %q, want %s", r.Query.Get("partNumber"), r.Query.Get("versionId"), old)
			}
		}
	}
	if heads == 0 {
		t.Error("no HEAD ?partNumber: the part layout of the version was not asked, the test proves nothing")
	}
	srv.SetHook(mangleGets(srv.ServeFake, "/"+bucket+"/mp", func(_ http.Header, body []byte) []byte {
		body[250<<10] ^= 1
		return body
	}))
	if err := d.GetVersion(t.Context(), "mp", old, io.Discard); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("GetVersion of a damaged multipart version: %v, want ErrCorrupt", err)
	}
}

// rawFakeClient is an SDK client for the fake, without s3dest.
func rawFakeClient(srv *s3test.Server) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// TestVersionPermissions: a refused version call names the IAM permission
// it takes, which a backup's keys often lack.
func TestVersionPermissions(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "a", "data")
	id := versionsOf(t, d, "a")[0].VersionID
	for _, tc := range []struct {
		refuse func(q map[string][]string, method string) bool
		call   func(d *s3dest.Destination) error
		perm   string
	}{
		{func(q map[string][]string, _ string) bool { _, ok := q["versioning"]; return ok },
			func(d *s3dest.Destination) error { _, err := d.Stat(t.Context(), "a"); return err }, "s3:GetBucketVersioning"},
		{func(q map[string][]string, _ string) bool { _, ok := q["versions"]; return ok },
			func(d *s3dest.Destination) error { return d.Get(t.Context(), "a", io.Discard) }, "s3:ListBucketVersions"},
		{func(q map[string][]string, m string) bool { _, ok := q["versionId"]; return ok && m == http.MethodGet },
			func(d *s3dest.Destination) error { return d.GetVersion(t.Context(), "a", id, io.Discard) }, "s3:GetObjectVersion"},
	} {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if tc.refuse(r.URL.Query(), r.Method) {
				s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
				return true
			}
			return false
		})
		err := tc.call(newDest(t, srv, s3dest.WithVersionAt(c.Now())))
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrAccessDenied) || !errors.As(err, &e) || !strings.Contains(e.Hint, tc.perm) {
			t.Errorf("refused %s: %v, want ErrAccessDenied with a hint naming it", tc.perm, err)
		}
	}
}

// Names with '+', '%', '?', spaces and other characters each keep their
// own versions: Versions, GetVersion and the view at T read the name asked
// for, not one its encoding turns it into.
func TestVersionsNameAlphabet(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv, s3dest.WithRecursiveList(true))
	names := []string{"a+b", "a b", "a%2Bb", "a%b", "q?x=1&y=2", "dir/x y/z+w", "é", "#frag", "a"}
	for _, n := range names {
		put(t, d, n, "old "+n)
	}
	at := c.Now()
	c.Advance(time.Minute)
	for _, n := range names {
		put(t, d, n, "new "+n)
	}
	view := newDest(t, srv, s3dest.WithVersionAt(at), s3dest.WithRecursiveList(true))
	listed := map[string]bool{}
	for fi, err := range view.List(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		listed[fi.Name] = true
	}
	for _, n := range names {
		vs := versionsOf(t, d, n)
		if len(vs) != 2 {
			t.Errorf("Versions(%q) = %d versions, want 2", n, len(vs))
			continue
		}
		var old bytes.Buffer
		if err := d.GetVersion(t.Context(), n, vs[1].VersionID, &old); err != nil || old.String() != "old "+n {
			t.Errorf("GetVersion(%q) = %q, %v; want its old bytes", n, old.String(), err)
		}
		if got := get(t, view, n); got != "old "+n {
			t.Errorf("the view's Get(%q) = %q", n, got)
		}
		if !listed[n] {
			t.Errorf("the view's List misses %q (listed %v)", n, listed)
		}
	}
}
