package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
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

// TestVersionAtReadsThePast is the recovery the view exists for: objects
// written at T, then overwritten, deleted, and joined by new ones an hour
// later. The view at T lists what was there at T and reads every object's
// old bytes, verified, through Get, GetRange and the readers, and Stat
// gives their old size and checksum; the latest view reads none of them.
func TestVersionAtReadsThePast(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	parts := []s3dest.Option{s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(64 << 10)}
	latest := newDest(t, srv, parts...)
	old := map[string][]byte{
		"a":         []byte("a as it was"),
		"b":         []byte("b, deleted later"),
		"multipart": randomBytes(200<<10, 1), // 4 parts, a full-object CRC32C
		"sub/c":     []byte("in a folder"),
	}
	for name, data := range old {
		if err := latest.Put(t.Context(), name, noSize(data)); err != nil {
			t.Fatal(err)
		}
	}
	stats := map[string]s3dest.FileInfo{}
	for name := range old {
		fi, err := latest.Stat(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		stats[name] = fi
	}
	at := c.Now()

	c.Advance(time.Hour) // the attack
	put(t, latest, "a", "a, encrypted by ransomware")
	del(t, latest, "b")
	if err := latest.Put(t.Context(), "multipart", noSize(randomBytes(150<<10, 2))); err != nil {
		t.Fatal(err)
	}
	put(t, latest, "sub/c", "overwritten")
	put(t, latest, "ransom-note.txt", "pay up")

	view := newDest(t, srv, append(parts, s3dest.WithVersionAt(at), s3dest.WithRecursiveList(true))...)
	if !view.VersionAt().Equal(at) {
		t.Errorf("VersionAt() = %v, want %v", view.VersionAt(), at)
	}
	srv.ResetRequests()
	listed := map[string]int64{}
	for _, fi := range list(t, view) {
		listed[fi.Name] = fi.Size
		if want := stats[fi.Name]; fi.ETag != want.ETag || !fi.ModTime.Equal(at) {
			t.Errorf("view lists %s with ETag %s, time %v; want %s, %v", fi.Name, fi.ETag, fi.ModTime, want.ETag, at)
		}
	}
	want := map[string]int64{}
	for name, data := range old {
		want[name] = int64(len(data))
	}
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("the view at T lists (-want +got):\n%s", diff)
	}
	if n, all := requests(srv, http.MethodGet, "versions"), len(srv.Requests()); n != 1 || all != 2 {
		t.Errorf("listing the view took %d requests, %d of them ListObjectVersions; want GetBucketVersioning and one page", all, n)
	}

	for name, data := range old {
		if got := get(t, view, name); got != string(data) {
			t.Errorf("view Get(%s) = %.20q..., want its old bytes", name, got)
		}
		var b bytes.Buffer
		if err := view.GetRange(t.Context(), name, 2, 5, &b); err != nil || b.String() != string(data[2:7]) {
			t.Errorf("view GetRange(%s, 2, 5) = %q, %v; want %q", name, b.String(), err, data[2:7])
		}
		r, err := view.NewReader(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(r); err != nil || !bytes.Equal(got, data) {
			t.Errorf("view NewReader(%s): %d bytes, %v; want its old bytes", name, len(got), err)
		}
		r, err = view.NewRangeReader(t.Context(), name, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(r); err != nil || !bytes.Equal(got, data[1:]) {
			t.Errorf("view NewRangeReader(%s, 1, -1): %d bytes, %v", name, len(got), err)
		}
		fi, err := view.Stat(t.Context(), name)
		if w := stats[name]; err != nil || fi.Size != w.Size || fi.ETag != w.ETag || fi.Checksum != w.Checksum || fi.Name != name {
			t.Errorf("view Stat(%s) = %+v, %v; want size %d, ETag %s, checksum %s", name, fi, err, w.Size, w.ETag, w.Checksum)
		}
		if got, err := latestBytes(t, latest, name); err == nil && got == string(data) {
			t.Errorf("the latest view still reads %s's old bytes: the test proves nothing", name)
		}
	}
	if stats["multipart"].Checksum == "" {
		t.Error("the multipart object has no checksum: its old version's was not checked")
	}
	if _, err := view.Stat(t.Context(), "ransom-note.txt"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("view Stat of an object created after T: %v, want ErrObjectNotFound", err)
	}
	if err := view.Get(t.Context(), "ransom-note.txt", io.Discard); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("view Get of an object created after T: %v, want ErrObjectNotFound", err)
	}
	if _, err := latest.Stat(t.Context(), "b"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("latest Stat of the deleted b: %v, want ErrObjectNotFound", err)
	}
}

func latestBytes(t *testing.T, d *s3dest.Destination, name string) (string, error) {
	var b bytes.Buffer
	err := d.Get(t.Context(), name, &b)
	return b.String(), err
}

// TestVersionAtListing: the view lists as List does (names directly under
// the prefix, or all below it with s3-recursive-list; no folder marker),
// one ListObjectVersions per page and nothing else, with a key whose
// versions run over several pages resolved right.
func TestVersionAtListing(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	root := newDest(t, srv)
	d := newDest(t, srv, s3dest.WithPrefix("host"))
	if _, err := rawFakeClient(srv).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("host/"),
		Body: strings.NewReader("")}); err != nil { // a folder marker, as consoles make them
		t.Fatal(err)
	}
	put(t, d, "dir/inner", "inner")
	put(t, root, "hostile", "outside the prefix")
	for i := range 6 { // k1 to k6, a minute apart; T is k3's time
		put(t, d, "k", "k"+string(rune('1'+i)))
		c.Advance(time.Minute)
	}
	at := c.Now().Add(-4 * time.Minute)
	put(t, d, "zz", "after T")

	var pages atomic.Int32
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if q := r.URL.Query(); q.Has("versions") {
			q.Set("max-keys", "2") // pages of two: [host/ dir/] [k6 k5] [k4 k3] [k2 k1] [zz]
			r.URL.RawQuery = q.Encode()
			pages.Add(1)
		}
		srv.ServeFake(w, r)
		return true
	})
	for _, tc := range []struct {
		recursive bool
		want      []string
	}{{false, []string{"k"}}, {true, []string{"dir/inner", "k"}}} {
		view := newDest(t, srv, s3dest.WithPrefix("host"), s3dest.WithVersionAt(at), s3dest.WithRecursiveList(tc.recursive))
		pages.Store(0)
		srv.ResetRequests()
		var names []string
		for _, fi := range list(t, view) {
			names = append(names, fi.Name)
		}
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("recursive %v: the view lists (-want +got):\n%s", tc.recursive, diff)
		}
		if n := int(pages.Load()); len(srv.Requests()) != n+1 || n < 3 {
			t.Errorf("recursive %v: %d requests for %d pages; want the pages and one GetBucketVersioning", tc.recursive, len(srv.Requests()), n)
		}
		if got := get(t, view, "k"); got != "k3" {
			t.Errorf("recursive %v: view Get(k) across pages = %q, want k3", tc.recursive, got)
		}
	}
}

// TestVersionAtSameSecond: a version and a delete marker of the same key
// written within one second have the same LastModified; which came last
// is the server's order of them, which the SDK splits into two lists.
// Neither "a marker wins a tie" nor "a version wins" gets both objects
// right.
func TestVersionAtSameSecond(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "deleted", "put, then deleted in the same second")
	del(t, d, "deleted")
	put(t, d, "revived", "first")
	del(t, d, "revived")
	put(t, d, "revived", "put again in the same second")
	at := c.Now()
	c.Advance(time.Minute) // neither is the latest entry of its key any more
	put(t, d, "deleted", "back later")
	del(t, d, "revived")

	view := newDest(t, srv, s3dest.WithVersionAt(at))
	var names []string
	for _, fi := range list(t, view) {
		names = append(names, fi.Name)
	}
	if !slices.Equal(names, []string{"revived"}) {
		t.Errorf("the view lists %q, want [revived]", names)
	}
	if got := get(t, view, "revived"); got != "put again in the same second" {
		t.Errorf("view Get(revived) = %q", got)
	}
	if _, err := view.Stat(t.Context(), "deleted"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("view Stat(deleted): %v, want ErrObjectNotFound", err)
	}
	got := versionsOf(t, d, "revived")
	if len(got) != 4 || !got[0].DeleteMarker || got[1].DeleteMarker || !got[2].DeleteMarker || got[3].DeleteMarker {
		t.Errorf("Versions(revived) = %+v, want marker, version, marker, version", got)
	}
}

var (
	markerElem  = regexp.MustCompile(`(?s)<DeleteMarker>.*?</DeleteMarker>`)
	versionElem = regexp.MustCompile(`(?s)<Version>.*?</Version>`)
)

// TestVersionAtMarkersApart: a server that lists every delete marker
// before every version (versitygw) gets its entries grouped by key, the
// latest first, then newest first; taken in its order, b would be read as
// deleted at T and then as there.
func TestVersionAtMarkersApart(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "a", "a")
	put(t, d, "b", "b one")
	c.Advance(time.Minute)
	del(t, d, "b")
	c.Advance(time.Minute)
	at := c.Now()
	c.Advance(time.Minute)
	put(t, d, "b", "b two")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !r.URL.Query().Has("versions") {
			return false
		}
		rec := httptest.NewRecorder()
		srv.ServeFake(rec, r)
		body := rec.Body.String()
		markers := strings.Join(markerElem.FindAllString(body, -1), "")
		body = markerElem.ReplaceAllString(body, "")
		body = strings.Replace(body, "<Version>", markers+"<Version>", 1)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, body)
		return true
	})
	view := newDest(t, srv, s3dest.WithVersionAt(at))
	var names []string
	for _, fi := range list(t, view) {
		names = append(names, fi.Name)
	}
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("the view lists %q, want [a] (b was deleted at T)", names)
	}
	got := versionsOf(t, d, "b")
	if len(got) != 3 || !got[0].IsLatest || got[0].DeleteMarker || !got[1].DeleteMarker || got[2].Size != 5 {
		t.Errorf("Versions(b) = %+v, want b two, the marker, b one", got)
	}
}

// TestVersionAtReadOnly: a recovery view never changes the bucket: every
// write fails with ErrInvalid before any request.
func TestVersionAtReadOnly(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	put(t, newDest(t, srv), "a", "data")
	view := newDest(t, srv, s3dest.WithVersionAt(c.Now()), s3dest.WithCreateBucket(true))
	srv.ResetRequests()
	ctx := t.Context()
	for op, err := range map[string]error{
		"Put":            view.Put(ctx, "a", strings.NewReader("overwrite")),
		"Delete":         view.Delete(ctx, "a"),
		"DeleteMany":     view.DeleteMany(ctx, []string{"a"}),
		"Rename":         view.Rename(ctx, "a", "b"),
		"SetLock":        view.SetLock(ctx, "a", c.Now().Add(time.Hour)),
		"CreateBucket":   view.CreateBucket(ctx),
		"TestWrite":      view.TestWrite(ctx),
		"CleanupUploads": func() error { _, err := view.CleanupUploads(ctx, 0); return err }(),
	} {
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || !strings.Contains(e.Hint, "WithVersionAt") {
			t.Errorf("%s in a view: %v, want ErrInvalid with a hint naming WithVersionAt", op, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("refused writes sent %d requests, want none", n)
	}
	if got := get(t, newDest(t, srv), "a"); got != "data" {
		t.Errorf("after the refused writes a holds %q", got)
	}
}

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
	// tells.
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

// TestVersionAtArchived: the view's version in GLACIER is listed and
// stated as archived, fails Get at once, and is restored by its version
// id (a restore is no write), after which the view reads it.
func TestVersionAtArchived(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	if err := d.Put(t.Context(), "vol", strings.NewReader("cold data"), s3dest.PutStorageClass("GLACIER")); err != nil {
		t.Fatal(err)
	}
	at := c.Now()
	c.Advance(time.Hour)
	put(t, d, "vol", "overwritten")
	view := newDest(t, srv, s3dest.WithVersionAt(at), c.option()) // restored copies expire by the fake's clock
	if fis := list(t, view); len(fis) != 1 || !fis[0].Archived || fis[0].StorageClass != "GLACIER" {
		t.Errorf("the view lists %+v, want vol archived in GLACIER", fis)
	}
	if fi, err := view.Stat(t.Context(), "vol"); err != nil || !fi.Archived {
		t.Errorf("view Stat: %+v, %v; want archived", fi, err)
	}
	srv.ResetRequests()
	if err := view.Get(t.Context(), "vol", io.Discard); !errors.Is(err, s3dest.ErrObjectArchived) {
		t.Fatalf("view Get of the archived version: %v, want ErrObjectArchived", err)
	}
	if n := requests(srv, http.MethodGet, "versionId"); n != 1 {
		t.Errorf("view Get of an archived version sent %d GETs, want 1 (no retry)", n)
	}
	if err := view.Restore(t.Context(), "vol", s3dest.RestoreOptions{Days: 1}); err != nil {
		t.Fatal(err)
	}
	id := versionsOf(t, d, "vol")[1].VersionID
	restores := 0
	for _, r := range srv.Requests() {
		if r.Query.Has("restore") {
			restores++
			if r.Query.Get("versionId") != id {
				t.Errorf("the restore asked version %q, want the view's %s", r.Query.Get("versionId"), id)
			}
		}
	}
	if restores != 1 {
		t.Errorf("%d restore requests, want 1", restores)
	}
	if err := view.WaitRestored(t.Context(), []string{"vol"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := get(t, view, "vol"); got != "cold data" {
		t.Errorf("view Get after the restore = %q", got)
	}
	if got := get(t, d, "vol"); got != "overwritten" {
		t.Errorf("the current version after the view's restore = %q", got)
	}
}

// TestVersionAtCustomerKey: the view reads versions written under SSE-C
// with the key on every request, as every read carries it.
func TestVersionAtCustomerKey(t *testing.T) {
	c := newFakeClock()
	srv, d := tlsDest(t, s3dest.WithCustomerKey(customerKey))
	srv.Now = c.Now
	if err := srv.EnableVersioning(bucket); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(200<<10, 4) // multipart
	if err := d.Put(t.Context(), "secret", noSize(data)); err != nil {
		t.Fatal(err)
	}
	at := c.Now()
	c.Advance(time.Hour)
	put(t, d, "secret", "replaced")
	view := newTLSPeer(t, srv, s3dest.WithCustomerKey(customerKey), s3dest.WithVersionAt(at))
	if got := get(t, view, "secret"); got != string(data) {
		t.Errorf("view Get under SSE-C: %d bytes, want the old %d", len(got), len(data))
	}
	if fi, err := view.Stat(t.Context(), "secret"); err != nil || fi.Size != int64(len(data)) {
		t.Errorf("view Stat under SSE-C: %+v, %v", fi, err)
	}
	nokey := newTLSPeer(t, srv, s3dest.WithVersionAt(at))
	if err := nokey.Get(t.Context(), "secret", io.Discard); err == nil {
		t.Error("the view read an SSE-C version without the key")
	}
}

// TestVersionAtLockedUntil: LockedUntil in a view asks the retention of
// the version the view sees.
func TestVersionAtLockedUntil(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "k", "locked once")
	at := c.Now()
	c.Advance(time.Hour)
	put(t, d, "k", "now")
	until := c.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	var asked []string
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !r.URL.Query().Has("retention") {
			return false
		}
		asked = append(asked, r.URL.Query().Get("versionId"))
		_, _ = io.WriteString(w, `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>`+until.Format(time.RFC3339)+`</RetainUntilDate></Retention>`)
		return true
	})
	view := newDest(t, srv, s3dest.WithVersionAt(at), c.option())
	got, err := view.LockedUntil(t.Context(), "k")
	if err != nil || !got.Equal(until) {
		t.Errorf("view LockedUntil = %v, %v; want %v", got, err, until)
	}
	if want := versionsOf(t, d, "k")[1].VersionID; !slices.Equal(asked, []string{want}) {
		t.Errorf("retention asked of versions %q, want [%s]", asked, want)
	}
}

// TestVersionAtURL: s3-version-at is RFC 3339, read into URL.VersionAt and
// written back by String, and opens a view; an explicit option overrides it.
func TestVersionAtURL(t *testing.T) {
	srv := withBucket(t)
	raw := "s3://" + bucket + "/p?s3-version-at=2026-11-25T13:00:00%2B01:00&s3-server-name=" + srv.Endpoint +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if !u.VersionAt.Equal(want) {
		t.Errorf("URL.VersionAt = %v, want %v", u.VersionAt, want)
	}
	back, err := s3dest.ParseURL(u.String())
	if err != nil || !back.VersionAt.Equal(want) || !strings.Contains(u.String(), "s3-version-at=") {
		t.Errorf("String %q reads back as %v, %v", u.String(), back.VersionAt, err)
	}
	d := mustOpen(t, raw)
	if !d.VersionAt().Equal(want) || !strings.Contains(d.String(), "s3-version-at=2026-11-25T13%3A00%3A00%2B01%3A00") {
		t.Errorf("Open: VersionAt %v, String %s", d.VersionAt(), d.String())
	}
	if err := d.Put(t.Context(), "x", strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("Put through a URL with s3-version-at: %v, want ErrInvalid", err)
	}
	if d := mustOpen(t, raw, s3dest.WithVersionAt(time.Time{})); !d.VersionAt().IsZero() {
		t.Errorf("WithVersionAt(zero) after the URL's: VersionAt %v, want none", d.VersionAt())
	}
	for _, bad := range []string{"2026-11-25", "yesterday", "2026-11-25T12:00:00"} {
		_, err := s3dest.ParseURL("s3://" + bucket + "/?s3-version-at=" + bad)
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "s3-version-at") || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("s3-version-at=%s: %v, want ErrInvalid naming the option and RFC 3339", bad, err)
		}
	}
	if u, err := s3dest.ParseURL("s3://" + bucket + "/?s3-version-at="); err != nil || !u.VersionAt.IsZero() {
		t.Errorf("an empty s3-version-at: %v, %v; want no view", u, err)
	}
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
