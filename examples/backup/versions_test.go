package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
)

// TestRestoreAt: ransomware with the backup's keys overwrites every list,
// index and volume and deletes some; restore then fails, and restore --at
// a time before the attack restores the file, identical, from the bucket's
// old versions: archived volumes restored by version first.
func TestRestoreAt(t *testing.T) {
	ctx := t.Context()
	srv, r := fakeRemote(t)
	if err := srv.EnableVersioning(bucket); err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64 // the fake's clock runs ahead of the machine's by this
	srv.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	dir, files := sourceTree(t)
	var out bytes.Buffer
	if _, err := backup(ctx, r, dir, pack, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	at := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)

	offset.Store(int64(time.Hour)) // the attack, an hour later
	victims := list(t, r.meta)
	for i, name := range victims {
		if i%3 == 0 {
			if err := r.meta.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := r.meta.Put(ctx, name, strings.NewReader("encrypted; pay to get it back")); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.meta.Put(ctx, "README-RANSOM.txt", strings.NewReader("pay up")); err != nil {
		t.Fatal(err)
	}

	url := srv.URL(bucket, prefix)
	dest := filepath.Join(t.TempDir(), "big.bin")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"restore", url, "big.bin", dest, "--poll", "10ms"}, &stdout, &stderr); code == 0 {
		t.Fatalf("restore of the encrypted backup succeeded:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"list", url, "--at", at}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "big.bin") {
		t.Errorf("list --at: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := run(ctx, []string{"restore", url, "big.bin", dest, "--at", at, "--poll", "10ms"}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore --at: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, files["big.bin"]) {
		t.Error("restore --at wrote other bytes than the file backed up")
	}
	for _, w := range []string{"reading the backup as it stood at " + at, "restore requested", "restored big.bin"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("restore --at: want %q in\n%s", w, stdout.String())
		}
	}
	if names := list(t, r.meta); len(names) != len(victims)-(len(victims)+2)/3+1 {
		t.Errorf("after restore --at the bucket holds %d objects: the view wrote?", len(names))
	}

	stderr.Reset()
	if code := run(ctx, []string{"restore", url, "big.bin", dest, "--at", "last tuesday"}, &stdout, &stderr); code != 2 {
		t.Errorf("restore --at with a bad time: exit %d, want 2\n%s", code, stderr.String())
	}
}

func list(t *testing.T, d *s3dest.Destination) []string {
	t.Helper()
	var names []string
	for fi, err := range d.List(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fi.Name)
	}
	return names
}
