package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest/s3test"
)

// TestVolumePrefix: the prefix of the archive rule names every volume and
// no index or list, whatever their random part.
func TestVolumePrefix(t *testing.T) {
	for range 100 {
		volume, index := newVolumeNames()
		if !strings.HasPrefix(volume, volumePrefix) || kindOf(volume) != kindVolume {
			t.Fatalf("volume %s does not start with %s", volume, volumePrefix)
		}
		if strings.HasPrefix(index, volumePrefix) || kindOf(index) != kindIndex {
			t.Fatalf("index %s starts with %s", index, volumePrefix)
		}
	}
	for _, at := range []time.Time{time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Now(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)} {
		if list := listNameAt(at); strings.HasPrefix(list, volumePrefix) || kindOf(list) != kindList {
			t.Fatalf("list %s starts with %s", list, volumePrefix)
		}
	}
}

// applyTransitions does on the fake what S3 does once a day for the
// bucket's lifecycle rules, once their days have passed: each object under
// an enabled rule's prefix moves to the rule's archive class. It returns
// the keys it moved.
func applyTransitions(t *testing.T, srv *s3test.Server, r *remote, bkt string) []string {
	t.Helper()
	out, err := r.meta.Client().GetBucketLifecycleConfiguration(t.Context(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bkt)})
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for fi, err := range r.meta.List(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		key := r.meta.Prefix() + fi.Name
		for _, rule := range out.Rules {
			if rule.Status != types.ExpirationStatusEnabled || rule.Filter == nil || !strings.HasPrefix(key, aws.ToString(rule.Filter.Prefix)) {
				continue
			}
			for _, tr := range rule.Transitions {
				if err := srv.Archive(bkt, key, string(tr.StorageClass)); err != nil {
					t.Fatal(err)
				}
				moved = append(moved, key)
			}
		}
	}
	return moved
}

// TestArchiveAfterFlow: with --archive-after, volumes are uploaded
// readable and a lifecycle rule moves them, and only them, to the archive
// class later. Before that, verify reads them; after, it skips them while
// the indexes and lists stay readable, a new backup still works, and
// restore restores the volumes it needs first.
func TestArchiveAfterFlow(t *testing.T) {
	ctx := t.Context()
	srv := s3test.New(t)
	srv.RestorePolls = 2
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	url := srv.URL(bucket, prefix)
	dir, files := sourceTree(t)
	var stdout, stderr bytes.Buffer
	args := []string{"backup", dir, url, "--archive-after", "30", "--block-size", "4KiB", "--volume-size", "16KiB"}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("backup --archive-after 30: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if want := "archive rule: volumes (s3dest-b*) move to DEEP_ARCHIVE 30 day(s) after upload"; !strings.Contains(stdout.String(), want) {
		t.Errorf("backup output lacks %q:\n%s", want, stdout.String())
	}
	r, err := openRemote(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.meta.Client().GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rules) != 1 || aws.ToString(out.Rules[0].Filter.Prefix) != prefix+volumePrefix ||
		len(out.Rules[0].Transitions) != 1 || aws.ToInt32(out.Rules[0].Transitions[0].Days) != 30 ||
		out.Rules[0].Transitions[0].StorageClass != "DEEP_ARCHIVE" {
		for _, rule := range out.Rules {
			t.Errorf("rule %s: filter %+v, transitions %+v", aws.ToString(rule.ID), rule.Filter, rule.Transitions)
		}
		t.Fatalf("want one rule for %s%s: 30 days, DEEP_ARCHIVE", prefix, volumePrefix)
	}
	volumes, indexes, lists := objects(t, r)
	if len(volumes) < 3 || len(indexes) != len(volumes) || len(lists) != 1 {
		t.Fatalf("remote: %d volumes, %d indexes, %d lists", len(volumes), len(indexes), len(lists))
	}
	for _, v := range volumes {
		if c := srv.Class(bucket, prefix+v); c != "STANDARD" {
			t.Errorf("%s uploaded in %s, want STANDARD until the rule moves it", v, c)
		}
	}

	// Before the rule's days: every volume is readable and checked.
	var report bytes.Buffer
	rep, err := verify(ctx, r, 0, &report)
	if err != nil || len(rep.Checked) != len(volumes) {
		t.Errorf("verify before the transition checked %d of %d volumes: %v\n%s", len(rep.Checked), len(volumes), err, report.String())
	}

	// The rule's days pass: the volumes, and only they, move.
	moved := applyTransitions(t, srv, r, bucket)
	if len(moved) != len(volumes) {
		t.Errorf("the rule moved %v; want the %d volumes", moved, len(volumes))
	}
	for _, k := range moved {
		if kindOf(strings.TrimPrefix(k, prefix)) != kindVolume {
			t.Errorf("the rule moved %s, which is no volume", k)
		}
	}

	srv.ResetRequests()
	report.Reset()
	rep, err = verify(ctx, r, 0, &report)
	if err != nil || len(rep.Checked) != 0 || len(rep.Skipped["in DEEP_ARCHIVE"]) != len(volumes) {
		t.Errorf("verify after the transition: checked %v, skipped %v, %v\n%s", rep.Checked, rep.Skipped, err, report.String())
	}
	if n := requests(srv, http.MethodGet, ".dblock.zip"); n != 0 {
		t.Errorf("verify read %d archived volumes", n)
	}

	// A second backup reads the indexes, not the volumes, and leaves the
	// rule as it is.
	srv.ResetRequests()
	stdout.Reset()
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("second backup: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if n := requests(srv, http.MethodGet, ".dblock.zip"); n != 0 {
		t.Errorf("the second backup read %d volumes", n)
	}
	for _, req := range srv.Requests() {
		if req.Query.Has("lifecycle") && req.Method != http.MethodGet {
			t.Errorf("the second backup changed the rule as it was: %s ?lifecycle", req.Method)
		}
	}

	// Restore restores the archived volumes it needs, waits, then reads.
	dest := filepath.Join(t.TempDir(), "big.bin")
	opt := restoreOptions{tier: "Bulk", days: 1, poll: 10 * time.Millisecond, wait: time.Minute}
	report.Reset()
	rs, err := restoreFile(ctx, r, "big.bin", dest, opt, &report)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, report.String())
	}
	if len(rs.Restored) == 0 || len(rs.Restored) != len(rs.Volumes) {
		t.Errorf("restore restored %v of the volumes it read, %v", rs.Restored, rs.Volumes)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, files["big.bin"]) {
		t.Error("the restored big.bin differs")
	}
}

// TestArchiveAfterRefused: a server without lifecycle transitions fails
// the backup before any volume is uploaded; a negative --archive-after is
// a usage error.
func TestArchiveAfterRefused(t *testing.T) {
	ctx := t.Context()
	srv := s3test.New(t)
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") {
			s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented.")
			return true
		}
		return false
	})
	url := srv.URL(bucket, prefix)
	dir, _ := sourceTree(t)
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"backup", dir, url, "--archive-after", "30"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "not supported") {
		t.Errorf("backup --archive-after on a server without lifecycle rules: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, req := range srv.Requests() {
		if req.Method == http.MethodPut && !req.Query.Has("lifecycle") {
			t.Errorf("%s uploaded before the refused rule", req.Path)
		}
	}
	stderr.Reset()
	if code := run(ctx, []string{"backup", dir, url, "--archive-after", "-1"}, &stdout, &stderr); code != 2 {
		t.Errorf("--archive-after -1: exit %d, want 2\n%s", code, stderr.String())
	}
}
