package main

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

const (
	bucket = "backups"
	prefix = "host1/"
)

// Small blocks and volumes, so that a 40 KiB file spans several volumes.
var pack = packOptions{blockSize: 4 << 10, volumeSize: 16 << 10}

// fakeRemote starts a fake S3 with archive simulation and opens a remote on
// it whose volumes go to DEEP_ARCHIVE.
func fakeRemote(t *testing.T) (*s3test.Server, *remote) {
	t.Helper()
	srv := s3test.New(t)
	srv.RestorePolls = 3
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	r, err := openRemote(t.Context(), srv.URL(bucket, prefix), "DEEP_ARCHIVE")
	if err != nil {
		t.Fatal(err)
	}
	return srv, r
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// sourceTree writes the directory to back up: 14 distinct blocks in 15.
func sourceTree(t *testing.T) (dir string, files map[string][]byte) {
	t.Helper()
	small := randomBytes(3000)
	files = map[string][]byte{
		"small.txt":           small,
		"big.bin":             randomBytes(40 << 10), // 10 blocks, more than a volume
		"dup/small-copy.txt":  small,                 // same content: no new block
		"sub/deep/medium.bin": randomBytes(9000),     // 3 blocks
		"empty.txt":           nil,
	}
	dir = t.TempDir()
	if err := writeTree(dir, files); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "small.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

// objects returns the remote names by kind, from the fake's own listing.
func objects(t *testing.T, r *remote) (volumes, indexes, lists []string) {
	t.Helper()
	c, err := scan(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return c.volumes, c.indexes, c.lists
}

// requests counts the requests of a method to objects whose names end in suffix.
func requests(srv *s3test.Server, method, suffix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) && !r.Query.Has("restore") {
			n++
		}
	}
	return n
}

func TestBackupVerifyRestore(t *testing.T) {
	ctx := t.Context()
	srv, r := fakeRemote(t)
	dir, files := sourceTree(t)
	var out bytes.Buffer

	// First backup: every distinct block once, volumes in DEEP_ARCHIVE.
	st, err := backup(ctx, r, dir, pack, &out)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if st.Files != 5 || st.Blocks != 15 || st.NewBlocks != 14 || st.Volumes < 3 {
		t.Errorf("first backup: %+v; want 5 files, 15 blocks, 14 new, at least 3 volumes", st)
	}
	volumes, indexes, lists := objects(t, r)
	if len(volumes) != st.Volumes || len(indexes) != st.Volumes || len(lists) != 1 || lists[0] != st.Version {
		t.Fatalf("remote: %d volumes, %d indexes, lists %v; want %d, %d, [%s]", len(volumes), len(indexes), lists, st.Volumes, st.Volumes, st.Version)
	}
	for _, v := range volumes {
		if c := srv.Class(bucket, prefix+v); c != "DEEP_ARCHIVE" {
			t.Errorf("%s stored in %s, want DEEP_ARCHIVE", v, c)
		}
	}
	for _, n := range append(indexes, lists...) {
		if c := srv.Class(bucket, prefix+n); c != "STANDARD" {
			t.Errorf("%s stored in %s, want STANDARD", n, c)
		}
	}
	for fi, err := range r.meta.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if fi.Archived != (kindOf(fi.Name) == kindVolume) {
			t.Errorf("%s: Archived = %v", fi.Name, fi.Archived)
		}
		if kindOf(fi.Name) == kindVolume && fi.Size > pack.volumeSize {
			t.Errorf("%s: %d bytes, more than the volume size %d", fi.Name, fi.Size, pack.volumeSize)
		}
	}

	// Second backup of the same tree: no volume, no archived read.
	srv.ResetRequests()
	st2, err := backup(ctx, r, dir, pack, &out)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Volumes != 0 || st2.NewBlocks != 0 || st2.Blocks != 15 {
		t.Errorf("second backup: %+v; want no new volume or block", st2)
	}
	if n := requests(srv, http.MethodPut, ".dblock.zip"); n != 0 {
		t.Errorf("second backup sent %d volume PUTs", n)
	}
	if n := requests(srv, http.MethodGet, ".dblock.zip"); n != 0 {
		t.Errorf("backup read %d volumes; indexes should suffice", n)
	}
	if _, _, lists := objects(t, r); len(lists) != 2 || st2.Version <= st.Version {
		t.Errorf("versions %v after the second backup (%s)", lists, st2.Version)
	}

	// Verify: every volume is archived, so none is read; it says so.
	out.Reset()
	rep, err := verify(ctx, r, 0, &out)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if len(rep.Checked) != 0 || len(rep.Skipped["in DEEP_ARCHIVE"]) != len(volumes) {
		t.Errorf("verify checked %v, skipped %v; want all %d skipped as archived", rep.Checked, rep.Skipped, len(volumes))
	}
	if want := fmt.Sprintf("skipped %d archived volume(s)", len(volumes)); !strings.Contains(out.String(), want) {
		t.Errorf("verify output lacks %q:\n%s", want, out.String())
	}
	if n := requests(srv, http.MethodGet, ".dblock.zip"); n != 0 {
		t.Errorf("verify tried to read %d archived volumes", n)
	}

	// Restore the big file: its archived volumes are restored, waited for, read.
	opt := restoreOptions{tier: "Bulk", days: 2, poll: 10 * time.Millisecond, wait: time.Minute}
	dest := filepath.Join(t.TempDir(), "big.bin")
	rs, err := restoreFile(ctx, r, "big.bin", dest, opt, &out)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, files["big.bin"]) {
		t.Fatalf("restored big.bin differs (%d bytes, want %d)", len(got), len(files["big.bin"]))
	}
	if len(rs.Volumes) < 2 || !slices.Equal(rs.Restored, rs.Volumes) || rs.Version != st2.Version {
		t.Errorf("restore read %v, restored %v from %s; want several volumes, all restored, from %s", rs.Volumes, rs.Restored, rs.Version, st2.Version)
	}
	for _, v := range volumes {
		req := srv.Restore(bucket, prefix+v)
		switch slices.Contains(rs.Volumes, v) {
		case true:
			if req.Requests != 1 || req.Tier != "Bulk" || req.Days != 2 {
				t.Errorf("%s: restore request %+v; want one, Bulk, 2 days", v, req)
			}
		case false:
			if req.Requests != 0 {
				t.Errorf("%s is not needed but was restored", v)
			}
		}
	}

	// A deduplicated file from the first version, into a directory: the
	// name comes from the list, the mode too.
	destDir := t.TempDir()
	opt.version = strings.TrimSuffix(strings.TrimPrefix(st.Version, "s3dest-"), ".dlist.json")
	rs, err = restoreFile(ctx, r, "dup/small-copy.txt", destDir, opt, &out)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if got, _ := os.ReadFile(filepath.Join(destDir, "small-copy.txt")); !bytes.Equal(got, files["small.txt"]) || rs.Version != st.Version {
		t.Errorf("restored small-copy.txt from %s differs", rs.Version)
	}
	if _, err := restoreFile(ctx, r, "nope.txt", destDir, opt, &out); err == nil || !strings.Contains(err.Error(), "no file") {
		t.Errorf("restore of a missing file: %v", err)
	}

	// Restored volumes are readable: verify now checks them and skips the rest.
	out.Reset()
	rep, err = verify(ctx, r, 0, &out)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	readable := 0
	for fi, err := range r.meta.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if kindOf(fi.Name) == kindVolume && !fi.Archived {
			readable++
		}
	}
	if len(rep.Checked) != readable || len(rep.Checked) < len(rs.Volumes) || len(rep.Checked)+len(rep.Skipped["in DEEP_ARCHIVE"]) != len(volumes) {
		t.Errorf("verify after restore checked %d, skipped %v; %d volumes readable of %d", len(rep.Checked), rep.Skipped, readable, len(volumes))
	}
}

// corruptVolumes flips a byte in every volume a GET returns. With the
// stored checksum, the library catches it; without the checksum and the
// ETag (a server that keeps neither), the library can check only the
// length, so the example's own SHA-256 checks must catch it.
func corruptVolumes(srv *s3test.Server, keepChecksum bool) s3test.Hook {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, ".dblock.zip") {
			return false
		}
		rec := httptest.NewRecorder()
		srv.ServeFake(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK && len(body) > 0 {
			body[len(body)/2] ^= 0x55
		}
		for k, v := range rec.Header() {
			if keepChecksum || !strings.HasPrefix(strings.ToLower(k), "x-amz-checksum") && k != "Etag" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
		return true
	}
}

func TestCorruptVolumeDetected(t *testing.T) {
	ctx := t.Context()
	srv, r := fakeRemote(t)
	dir, _ := sourceTree(t)
	var out bytes.Buffer
	if _, err := backup(ctx, r, dir, pack, &out); err != nil {
		t.Fatal(err)
	}
	opt := restoreOptions{days: 1, poll: 10 * time.Millisecond, wait: time.Minute}
	dest := filepath.Join(t.TempDir(), "big.bin")
	if _, err := restoreFile(ctx, r, "big.bin", dest, opt, &out); err != nil { // restores its volumes
		t.Fatal(err)
	}
	os.Remove(dest)

	for _, keep := range []bool{false, true} {
		srv.SetHook(corruptVolumes(srv, keep))
		out.Reset()
		rep, err := verify(ctx, r, 0, &out)
		if err == nil || len(rep.Problems) != len(rep.Checked) || len(rep.Checked) == 0 {
			t.Errorf("keepChecksum=%v: verify = %v, problems %q for %d checked", keep, err, rep.Problems, len(rep.Checked))
		}
		if !strings.Contains(out.String(), "problem: ") {
			t.Errorf("keepChecksum=%v: verify output names no problem:\n%s", keep, out.String())
		}
		_, err = restoreFile(ctx, r, "big.bin", dest, opt, &out)
		switch {
		case err == nil:
			t.Errorf("keepChecksum=%v: restore of a corrupt volume succeeded", keep)
		case keep && !errors.Is(err, s3dest.ErrCorrupt):
			t.Errorf("keepChecksum=%v: restore error %v is not ErrCorrupt", keep, err)
		case !keep && !strings.Contains(err.Error(), "SHA-256"):
			t.Errorf("keepChecksum=%v: restore error %v does not name the hash", keep, err)
		}
		if left, _ := os.ReadDir(filepath.Dir(dest)); len(left) != 0 {
			t.Errorf("keepChecksum=%v: a failed restore left %v", keep, left)
		}
	}
}

// An interrupted backup leaves a volume without its index: the next backup
// warns, stores its blocks again, and restores still work.
func TestInterruptedBackup(t *testing.T) {
	ctx := t.Context()
	srv, r := fakeRemote(t)
	dir, files := sourceTree(t)
	var out bytes.Buffer
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".dindex.json") {
			s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "no")
			return true
		}
		return false
	})
	if _, err := backup(ctx, r, dir, pack, &out); !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Fatalf("backup with failing index uploads: %v", err)
	}
	srv.SetHook(nil)
	out.Reset()
	st, err := backup(ctx, r, dir, pack, &out)
	if err != nil || st.NewBlocks != 14 {
		t.Fatalf("backup after an interrupted one: %+v, %v", st, err)
	}
	if !strings.Contains(out.String(), "has no index") {
		t.Errorf("backup does not warn of the orphan volume:\n%s", out.String())
	}
	rep, err := verify(ctx, r, 0, &out)
	if err != nil || len(rep.Warnings) != 1 {
		t.Errorf("verify: %v, warnings %q; want one warning, no problem", err, rep.Warnings)
	}
	dest := filepath.Join(t.TempDir(), "medium.bin")
	opt := restoreOptions{poll: 10 * time.Millisecond}
	if _, err := restoreFile(ctx, r, "sub/deep/medium.bin", dest, opt, &out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, files["sub/deep/medium.bin"]) {
		t.Error("restored medium.bin differs")
	}
}

func TestReadBlockChecksHash(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(hashHex([]byte("expected")))
	w.Write([]byte("imposter"))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readBlock(zr.File[0], 8); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Errorf("readBlock of a block under a wrong name: %v", err)
	}
	if _, err := readBlock(zr.File[0], 4); err == nil {
		t.Error("readBlock past the indexed size succeeded")
	}
}

func TestClassPolicy(t *testing.T) {
	for _, tc := range []struct {
		query, volumeClass   string
		wantVolume, wantMeta string
	}{
		{"", "DEEP_ARCHIVE", "DEEP_ARCHIVE", ""},
		{"&s3-storage-class=GLACIER", "", "GLACIER", "STANDARD"},
		{"&s3-storage-class=STANDARD_IA", "GLACIER", "GLACIER", "STANDARD_IA"},
		{"&s3-storage-class=GLACIER_IR", "", "GLACIER_IR", "GLACIER_IR"},
		{"&s3-storage-class=GLACIER_IR&s3-archive-classes=glacier_ir", "", "GLACIER_IR", "STANDARD"},
	} {
		u, err := s3dest.ParseURL("s3://bucket/p?aws-access-key-id=k&aws-secret-access-key=s" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		policy := classPolicy(u, tc.volumeClass)
		if got := policy("s3dest-b0.dblock.zip", 10); got != tc.wantVolume {
			t.Errorf("%s %s: volume class %q, want %q", tc.query, tc.volumeClass, got, tc.wantVolume)
		}
		for _, n := range []string{"s3dest-i0.dindex.json", "s3dest-20260101T000000Z.dlist.json"} {
			if got := policy(n, 10); got != tc.wantMeta {
				t.Errorf("%s %s: %s class %q, want %q", tc.query, tc.volumeClass, n, got, tc.wantMeta)
			}
		}
	}
}
