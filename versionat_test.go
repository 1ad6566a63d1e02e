package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/s3dest/s3dest"
)

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
		"Put":                   view.Put(ctx, "a", strings.NewReader("overwrite")),
		"Delete":                view.Delete(ctx, "a"),
		"DeleteMany":            view.DeleteMany(ctx, []string{"a"}),
		"Rename":                view.Rename(ctx, "a", "b"),
		"SetLock":               view.SetLock(ctx, "a", c.Now().Add(time.Hour)),
		"CreateBucket":          view.CreateBucket(ctx),
		"TestWrite":             view.TestWrite(ctx),
		"CleanupUploads":        func() error { _, err := view.CleanupUploads(ctx, 0); return err }(),
		"SetArchiveAfter":       view.SetArchiveAfter(ctx, 0, ""),
		"SetArchiveAfterPrefix": view.SetArchiveAfterPrefix(ctx, "b-", 30, "GLACIER"),
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

// A server that answers another version than the one asked for is caught:
// a recovery never reads today's bytes as the past's.
func TestVersionAnsweredIsVersionAsked(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "a", "old")
	at := c.Now()
	c.Advance(time.Minute)
	put(t, d, "a", "new (encrypted by an attacker)")
	id := versionsOf(t, d, "a")[1].VersionID
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("versionId") {
			srv.ServeFake(&headerSwap{w, "X-Amz-Version-Id", "some-other-version"}, r)
			return true
		}
		return false
	})
	if err := d.GetVersion(t.Context(), "a", id, io.Discard); !errors.Is(err, s3dest.ErrNotSupported) {
		t.Errorf("GetVersion answered with another version: %v, want ErrNotSupported", err)
	}
	view := newDest(t, srv, s3dest.WithVersionAt(at))
	if _, err := view.Stat(t.Context(), "a"); !errors.Is(err, s3dest.ErrNotSupported) {
		t.Errorf("Stat in a view answered with another version: %v, want ErrNotSupported", err)
	}
}
