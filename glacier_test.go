package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// archiveFixture puts objects in several classes on a fake whose clock is c.
func archiveFixture(t *testing.T, c *fakeClock) (*s3test.Server, *s3dest.Destination) {
	t.Helper()
	srv := withBucket(t)
	srv.Now = c.Now
	for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD", "INTELLIGENT_TIERING"} {
		d := newDest(t, srv, s3dest.WithStorageClass(class))
		put(t, d, strings.ToLower(class), "content of "+class)
	}
	d := newDest(t, srv, c.option())
	return srv, d
}

type archiveView struct {
	Class               string
	Archived, Restoring bool
	RestoredUntil       time.Time
}

func view(fi s3dest.FileInfo) archiveView {
	return archiveView{fi.StorageClass, fi.Archived, fi.Restoring, fi.RestoredUntil}
}

func TestListDetectsArchiveState(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	until := c.Now().Add(48 * time.Hour)
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "glacier-restored", "x")
	srv.SetRestored(bucket, "glacier-restored", until)
	put(t, newDest(t, srv, s3dest.WithStorageClass("DEEP_ARCHIVE")), "deep-restoring", "x")
	srv.SetRestoring(bucket, "deep-restoring", 100)
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "glacier-expired", "x")
	srv.SetRestored(bucket, "glacier-expired", c.Now().Add(-time.Hour))

	srv.ResetRequests()
	got := map[string]archiveView{}
	for _, fi := range list(t, d) {
		got[fi.Name] = view(fi)
	}
	want := map[string]archiveView{
		"glacier":             {"GLACIER", true, false, time.Time{}},
		"deep_archive":        {"DEEP_ARCHIVE", true, false, time.Time{}},
		"glacier_ir":          {"GLACIER_IR", false, false, time.Time{}},
		"standard":            {"STANDARD", false, false, time.Time{}},
		"intelligent_tiering": {"INTELLIGENT_TIERING", false, false, time.Time{}},
		"glacier-restored":    {"GLACIER", false, false, until},
		"deep-restoring":      {"DEEP_ARCHIVE", true, true, time.Time{}},
		"glacier-expired":     {"GLACIER", true, false, time.Time{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List archive state (-want +got):\n%s", diff)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Method != http.MethodGet {
		t.Errorf("List sent %d requests, want 1 listing (no HEAD per object)", len(reqs))
	}
}

func TestListWithoutRestoreStatusSupport(t *testing.T) {
	c := newFakeClock()
	srv, _ := archiveFixture(t, c)
	srv.SetRestored(bucket, "glacier", c.Now().Add(48*time.Hour))
	srv.RejectRestoreStatus = true
	var logs bytes.Buffer
	d := newDest(t, srv, c.option(), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv.ResetRequests()
	for range 2 {
		got := map[string]bool{}
		for _, fi := range list(t, d) {
			got[fi.Name] = fi.Archived
		}
		want := map[string]bool{"glacier": true, "deep_archive": true, "glacier_ir": false, "standard": false, "intelligent_tiering": false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("fallback List Archived (-want +got):\n%s", diff)
		}
	}
	asked := 0
	for _, r := range srv.Requests() {
		if r.Header.Get("X-Amz-Optional-Object-Attributes") != "" {
			asked++
		}
	}
	if asked != 1 {
		t.Errorf("asked for RestoreStatus %d times over two listings, want 1 (the refusal is remembered)", asked)
	}
	if strings.Count(logs.String(), "refuses RestoreStatus") != 1 {
		t.Errorf("fallback logged %d times, want once: %s", strings.Count(logs.String(), "refuses RestoreStatus"), logs.String())
	}
}

func TestStatArchiveState(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	srv.SetArchiveStatus(bucket, "intelligent_tiering", "DEEP_ARCHIVE_ACCESS")
	until := c.Now().Add(72 * time.Hour)
	srv.SetRestored(bucket, "glacier", until)
	for name, want := range map[string]archiveView{
		"intelligent_tiering": {"INTELLIGENT_TIERING", true, false, time.Time{}},
		"glacier":             {"GLACIER", false, false, until},
		"deep_archive":        {"DEEP_ARCHIVE", true, false, time.Time{}},
		"glacier_ir":          {"GLACIER_IR", false, false, time.Time{}},
	} {
		fi, err := d.Stat(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, view(fi)); diff != "" {
			t.Errorf("Stat(%s) (-want +got):\n%s", name, diff)
		}
	}
}

func TestReadsOfArchivedFailFast(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	srv.SetArchiveStatus(bucket, "intelligent_tiering", "ARCHIVE_ACCESS")
	for _, name := range []string{"glacier", "deep_archive", "intelligent_tiering"} {
		srv.ResetRequests()
		err := d.Get(t.Context(), name, io.Discard)
		var ios *types.InvalidObjectState
		if !errors.Is(err, s3dest.ErrObjectArchived) || !errors.As(err, &ios) {
			t.Errorf("Get(%s): %v, want ErrObjectArchived and *types.InvalidObjectState", name, err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("Get(%s) sent %d requests, want exactly 1", name, n)
		}
	}
	if got := get(t, d, "glacier_ir"); got != "content of GLACIER_IR" {
		t.Errorf("GLACIER_IR read %q", got)
	}
}

func TestStorageClassFunc(t *testing.T) {
	srv := withBucket(t)
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	var mu sync.Mutex
	seen := map[string]int64{}
	policy := func(name string, size int64) string {
		mu.Lock()
		seen[name] = size
		mu.Unlock()
		if strings.HasSuffix(name, ".dblock.zip") {
			return "DEEP_ARCHIVE"
		}
		return "" // index and list files stay in the server's default class
	}
	d := newDest(t, srv, limits, s3dest.WithStorageClass("STANDARD_IA"), s3dest.WithStorageClassFunc(policy), s3dest.WithPartSize(64<<10))
	put(t, d, "b1.dblock.zip", "volume")
	put(t, d, "b1.dindex.zip", "index")
	// A stream of unknown length, large enough for multipart.
	if err := d.Put(t.Context(), "b2.dblock.zip", noise(9, 300<<10)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"b1.dblock.zip": "DEEP_ARCHIVE", "b1.dindex.zip": "STANDARD", "b2.dblock.zip": "DEEP_ARCHIVE"}
	for name, class := range want {
		if got := srv.Class(bucket, name); got != class {
			t.Errorf("%s stored in %s, want %s", name, got, class)
		}
	}
	if diff := cmp.Diff(map[string]int64{"b1.dblock.zip": 6, "b1.dindex.zip": 5, "b2.dblock.zip": -1}, seen); diff != "" {
		t.Errorf("policy saw names and sizes (-want +got):\n%s", diff)
	}
}
