package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	"github.com/s3dest/s3dest/internal/s3test"
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
	srv, d := archiveFixture(t, c)
	srv.SetRestored(bucket, "glacier", c.Now().Add(48*time.Hour))
	srv.RejectRestoreStatus = true
	var logs bytes.Buffer
	d = newDest(t, srv, c.option(), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
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

func TestRestoreIdempotent(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "long", "x")
	srv.SetRestored(bucket, "long", c.Now().Add(10*24*time.Hour))
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "expiring", "x")
	srv.SetRestored(bucket, "expiring", c.Now().Add(2*time.Hour))
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "ongoing", "x")
	srv.SetRestoring(bucket, "ongoing", 100)

	for _, tc := range []struct {
		name         string
		wantRequests int
	}{
		{"standard", 0},     // not archived
		{"glacier_ir", 0},   // readable class
		{"long", 0},         // restored for long enough
		{"ongoing", 0},      // already being restored
		{"expiring", 1},     // about to expire: extended
		{"glacier", 1},      // archived: restore requested
		{"deep_archive", 1}, // archived: restore requested
	} {
		if err := d.Restore(t.Context(), tc.name, s3dest.RestoreOptions{}); err != nil {
			t.Errorf("Restore(%s): %v", tc.name, err)
			continue
		}
		r := srv.Restore(bucket, tc.name)
		if r.Requests != tc.wantRequests {
			t.Errorf("Restore(%s) sent %d restore requests, want %d", tc.name, r.Requests, tc.wantRequests)
		}
		if r.Requests > 0 && (r.Days != 7 || r.Tier != "Standard") {
			t.Errorf("Restore(%s) asked for %d days, tier %s: want the defaults 7 and Standard", tc.name, r.Days, r.Tier)
		}
	}
	// Asking again while the restores run sends nothing more.
	for _, name := range []string{"glacier", "deep_archive"} {
		if err := d.Restore(t.Context(), name, s3dest.RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		if r := srv.Restore(bucket, name); r.Requests != 1 {
			t.Errorf("second Restore(%s): %d requests in all, want 1", name, r.Requests)
		}
	}
}

func TestRestoreAlreadyInProgressIsSuccess(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	// Another process requested the restore between our HEAD and our POST.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("restore") {
			s3test.WriteError(w, r, http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress")
			return true
		}
		return false
	})
	if err := d.Restore(t.Context(), "glacier", s3dest.RestoreOptions{Days: 3, Tier: "bulk"}); err != nil {
		t.Errorf("Restore answered RestoreAlreadyInProgress: %v, want nil", err)
	}
}

func TestRestoreRejectsBadOptions(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	for _, tc := range []struct {
		name string
		opt  s3dest.RestoreOptions
	}{
		{"deep_archive", s3dest.RestoreOptions{Tier: "Expedited"}},
		{"glacier", s3dest.RestoreOptions{Tier: "Fast"}},
		{"glacier", s3dest.RestoreOptions{Days: -1}},
	} {
		srv.ResetRequests()
		err := d.Restore(t.Context(), tc.name, tc.opt)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Restore(%s, %+v): %v, want ErrInvalid", tc.name, tc.opt, err)
		}
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPost {
				t.Errorf("Restore(%s, %+v) sent a restore request", tc.name, tc.opt)
			}
		}
	}
	if err := d.Restore(t.Context(), "glacier", s3dest.RestoreOptions{Tier: "Expedited"}); err != nil {
		t.Errorf("GLACIER with Expedited: %v", err)
	}
	if r := srv.Restore(bucket, "glacier"); r.Tier != "Expedited" {
		t.Errorf("tier sent %q, want Expedited", r.Tier)
	}
}

func TestRestoreIntelligentTieringOmitsDays(t *testing.T) {
	c := newFakeClock()
	srv, d := archiveFixture(t, c)
	srv.SetArchiveStatus(bucket, "intelligent_tiering", "ARCHIVE_ACCESS")
	if err := d.Restore(t.Context(), "intelligent_tiering", s3dest.RestoreOptions{Days: 5}); err != nil {
		t.Fatal(err)
	}
	if r := srv.Restore(bucket, "intelligent_tiering"); r.Requests != 1 || r.Days != 0 {
		t.Errorf("restore request %+v: want one, without Days", r)
	}
	if err := d.WaitRestored(t.Context(), []string{"intelligent_tiering"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := get(t, d, "intelligent_tiering"); got != "content of INTELLIGENT_TIERING" {
		t.Errorf("after restore read %q", got)
	}
}

func TestWaitRestored(t *testing.T) {
	for _, n := range []int{3, 60} { // HEAD per object, then one listing sweep
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := newFakeClock()
			srv := withBucket(t)
			srv.Now = c.Now
			srv.RestorePolls = 3
			var logs bytes.Buffer
			arch := newDest(t, srv, s3dest.WithStorageClass("DEEP_ARCHIVE"))
			d := newDest(t, srv, c.option(), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			var names []string
			for i := range n {
				name := fmt.Sprintf("vol-%03d", i)
				put(t, arch, name, "data "+name)
				if err := d.Restore(t.Context(), name, s3dest.RestoreOptions{Days: 2}); err != nil {
					t.Fatal(err)
				}
				names = append(names, name)
			}
			srv.ResetRequests()
			if err := d.WaitRestored(t.Context(), names, 30*time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(c.sleeps) == 0 || c.sleeps[0] != 30*time.Minute {
				t.Errorf("slept %v, want rounds of 30m", c.sleeps)
			}
			heads, lists := 0, 0
			for _, r := range srv.Requests() {
				switch r.Method {
				case http.MethodHead:
					heads++
				case http.MethodGet:
					lists++
				}
			}
			if n > 50 && heads != 0 {
				t.Errorf("%d objects: %d HEADs, want listing sweeps only (%d listings)", n, heads, lists)
			}
			if !strings.Contains(logs.String(), "waiting for restores") || !strings.Contains(logs.String(), "restores complete") {
				t.Errorf("no progress logged: %s", logs.String())
			}
			for _, name := range names[:2] {
				if got := get(t, d, name); got != "data "+name {
					t.Errorf("after WaitRestored Get(%s) = %q", name, got)
				}
			}
		})
	}
}

func TestWaitRestoredNotRestoring(t *testing.T) {
	c := newFakeClock()
	_, d := archiveFixture(t, c)
	err := d.WaitRestored(t.Context(), []string{"standard", "glacier", "deep_archive"}, time.Minute)
	var nre *s3dest.NotRestoringError
	if !errors.Is(err, s3dest.ErrObjectArchived) || !errors.As(err, &nre) {
		t.Fatalf("WaitRestored: %v, want ErrObjectArchived with *NotRestoringError", err)
	}
	if diff := cmp.Diff([]string{"glacier", "deep_archive"}, nre.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestWaitRestoredHonoursContext(t *testing.T) {
	c := newFakeClock()
	srv, _ := archiveFixture(t, c)
	srv.SetRestoring(bucket, "glacier", 1_000_000)
	ctx, cancel := context.WithCancel(t.Context())
	d := newDest(t, srv, s3dest.WithClockForTest(cancellingClock{c, cancel}))
	err := d.WaitRestored(ctx, []string{"glacier"}, time.Minute)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still being restored") {
		t.Errorf("WaitRestored after cancel: %v, want context.Canceled naming what is left", err)
	}
}

// cancellingClock is a clock whose After cancels: the caller gives up
// while WaitRestored waits.
type cancellingClock struct {
	*fakeClock
	cancel func()
}

func (c cancellingClock) After(time.Duration) <-chan time.Time {
	c.cancel()
	return make(chan time.Time)
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

// A server that ignores the RestoreStatus request (rather than refusing it)
// lists restores as not requested; WaitRestored must not believe it.
func TestWaitRestoredServerIgnoresRestoreStatus(t *testing.T) {
	c := newFakeClock()
	srv := withBucket(t)
	srv.Now = c.Now
	srv.RestorePolls = 2
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		r.Header.Del("X-Amz-Optional-Object-Attributes") // ignored, not refused
		return false
	})
	arch := newDest(t, srv, s3dest.WithStorageClass("DEEP_ARCHIVE"))
	d := newDest(t, srv, c.option())
	var names []string
	for i := range 60 {
		name := fmt.Sprintf("vol-%03d", i)
		put(t, arch, name, "x")
		if err := d.Restore(t.Context(), name, s3dest.RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := d.WaitRestored(t.Context(), names, time.Minute); err != nil {
		t.Errorf("WaitRestored: %v, want every restore seen through", err)
	}
}

func TestRenameToItselfKeepsTheObject(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("STANDARD_IA"))
	put(t, d, "vol", "data")
	if err := d.Rename(t.Context(), "vol", "vol"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("after renaming to itself Get = %q", got)
	}
	if err := d.Rename(t.Context(), "missing", "missing"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("renaming a missing object to itself: %v, want ErrObjectNotFound", err)
	}
}
