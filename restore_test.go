package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

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
