package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about
// versions: what a versioned bucket keeps of overwritten and deleted
// objects, read with Versions, GetVersion and the point-in-time view.

// versionTimes: the server's version listings give each version the time
// it was written. versitygw (v1.8.0, --versioning-dir) gives an old
// version the time it stopped being current, and the current delete
// marker the time of the object it hid, and lists every delete marker
// before every version: no point in time can be read from its listings.
// SeaweedFS dates them right; rclone serve s3 keeps no versions (its
// PutBucketVersioning is 501 NotImplemented, and the case skips).
func (tg *target) versionTimes() bool { return tg.server != "versitygw" }

var versionedBucketOnce sync.Once

// versioned returns the target with its bucket swapped for a versioned
// one, and a pause that puts the writes before it and after it in
// different seconds: the fake's clock moves, a real server's takes a
// sleep. On a real server the bucket is the test bucket's name with
// "-ver", created with versioning enabled; a server that cannot version
// skips the test.
func (tg *target) versioned(t *testing.T) (*target, func()) {
	t.Helper()
	if tg.fake != nil {
		c := newFakeClock()
		tg.fake.Now = c.Now
		if err := tg.fake.EnableVersioning(tg.bucket); err != nil {
			t.Fatal(err)
		}
		return tg, func() { c.Advance(time.Minute) }
	}
	u, err := s3dest.ParseURL(tg.rawURL)
	if err != nil {
		t.Fatal(err)
	}
	vt := *tg
	vt.bucket = u.Bucket + "-ver"
	vt.rawURL = strings.Replace(tg.rawURL, "s3://"+u.Bucket+"/", "s3://"+vt.bucket+"/", 1)
	raw := tg.rawClient(t)
	var setup error
	versionedBucketOnce.Do(func() {
		ctx := context.Background()
		_, err := raw.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &vt.bucket})
		if code := apiCode(err); err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			setup = err
			return
		}
		_, setup = raw.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &vt.bucket,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	})
	out, err := raw.GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: &vt.bucket})
	if err == nil && out.Status != types.BucketVersioningStatusEnabled {
		err = errors.New("versioning status " + string(out.Status))
	}
	if setup != nil || err != nil {
		t.Skipf("%s keeps no versions here: %v", tg.server, errors.Join(setup, err))
	}
	t.Cleanup(func() { removeVersions(raw, vt.bucket, vt.prefix) })
	return &vt, func() { time.Sleep(1100 * time.Millisecond) }
}

// removeVersions deletes every version and delete marker under prefix.
func removeVersions(c *s3.Client, bucket, prefix string) {
	ctx := context.Background()
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, v := range page.Versions {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: m.Key, VersionId: m.VersionId})
		}
	}
}

func apiCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestVersionsRecovery: objects written, then overwritten, deleted and
// joined by a new one. Versions lists what the bucket kept, newest first,
// and GetVersion reads each old version's bytes, checked; the view at a
// time between the two reads the objects as they were, where the server
// dates its versions (versionTimes): a multipart object too, and the
// objects deleted, or deleted and written again, within the second before.
func TestVersionsRecovery(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		tg, pause := tg.versioned(t)
		d := tg.dest(t, s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(2))
		put(t, d, "a", "a as it was")
		put(t, d, "b", "b, deleted later")
		big, _ := io.ReadAll(noise(9, 11<<20)) // three parts
		if err := d.Put(t.Context(), "big", io.MultiReader(bytes.NewReader(big))); err != nil {
			t.Fatal(err)
		}
		put(t, d, "gone", "deleted at once")
		del(t, d, "gone")
		put(t, d, "revived", "deleted at once")
		del(t, d, "revived")
		put(t, d, "revived", "and written again")
		pause()
		at := time.Now()
		if tg.fake != nil {
			at = tg.fake.Now()
		}
		pause()
		put(t, d, "a", "a, overwritten")
		del(t, d, "b")
		put(t, d, "c", "created later")
		put(t, d, "big", "small now")
		put(t, d, "gone", "back later")
		del(t, d, "revived")

		ctx := t.Context()
		va, vb := versionsOf(t, d, "a"), versionsOf(t, d, "b")
		if len(va) != 2 || len(vb) != 2 {
			t.Fatalf("Versions: a %+v, b %+v; want two each", va, vb)
		}
		if !tg.versionTimes() {
			// versitygw lists b's delete marker first only because it
			// lists every delete marker first, and dates a's old version
			// when it was overwritten, after the view's time.
			if !vb[0].DeleteMarker || !vb[0].IsLatest || !va[1].ModTime.After(at) {
				t.Errorf("versitygw's version listing changed: a %+v, b %+v (overwritten after %v)", va, vb, at)
			}
		}
		if !va[0].IsLatest || va[0].Size != 14 || va[1].IsLatest || va[1].Size != 11 || !vb[0].DeleteMarker || vb[1].DeleteMarker {
			t.Errorf("Versions newest first: a %+v, b %+v", va, vb)
		}
		for _, tc := range []struct {
			name string
			v    s3dest.Version
			want string
		}{{"a", va[1], "a as it was"}, {"a", va[0], "a, overwritten"}, {"b", vb[1], "b, deleted later"}} {
			var buf bytes.Buffer
			if err := d.GetVersion(ctx, tc.name, tc.v.VersionID, &buf); err != nil || buf.String() != tc.want {
				t.Errorf("GetVersion(%s, %s) = %q, %v; want %q", tc.name, tc.v.VersionID, buf.String(), err, tc.want)
			}
		}
		if err := d.GetVersion(ctx, "b", vb[0].VersionID, io.Discard); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("GetVersion of a delete marker: %v, want ErrObjectNotFound", err)
		}
		if vbig := versionsOf(t, d, "big"); len(vbig) != 2 {
			t.Errorf("Versions(big) = %+v, want two", vbig)
		} else {
			var buf bytes.Buffer
			if err := d.GetVersion(ctx, "big", vbig[1].VersionID, &buf); err != nil || !bytes.Equal(buf.Bytes(), big) {
				t.Errorf("GetVersion of the multipart version: %d bytes, %v; want its %d", buf.Len(), err, len(big))
			}
		}

		view := tg.dest(t, s3dest.WithVersionAt(at))
		if err := view.Put(ctx, "x", strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Put in a view: %v, want ErrInvalid", err)
		}
		if !tg.versionTimes() {
			return
		}
		got := map[string]string{}
		for _, fi := range list(t, view) {
			got[fi.Name] = get(t, view, fi.Name)
		}
		want := map[string]string{"a": "a as it was", "b": "b, deleted later", "big": string(big), "revived": "and written again"}
		if !equalMaps(got, want) {
			bigOK := got["big"] == string(big)
			delete(got, "big")
			t.Errorf("the view at T reads %q (big as it was: %v), want a, b, big and revived as they were", got, bigOK)
		}
		if _, err := view.Stat(ctx, "c"); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("view Stat of an object created after T: %v, want ErrObjectNotFound", err)
		}
		if got := get(t, d, "a"); got != "a, overwritten" {
			t.Errorf("the latest a = %q", got)
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestVersionsUnversionedBucket: the test bucket, never versioned, is
// refused with ErrInvalid by the view, on every server.
func TestVersionsUnversionedBucket(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		put(t, tg.dest(t), "a", "data")
		view := tg.dest(t, s3dest.WithVersionAt(time.Now()))
		if err := view.Get(t.Context(), "a", io.Discard); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("view of an unversioned bucket: %v, want ErrInvalid", err)
		}
	})
}
