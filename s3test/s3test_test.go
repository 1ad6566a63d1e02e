package s3test_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func open(t *testing.T, srv *s3test.Server) *s3dest.Destination {
	t.Helper()
	if err := srv.CreateBucket("backups"); err != nil {
		t.Fatal(err)
	}
	d, err := s3dest.Open(t.Context(), srv.URL("backups", "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestURLOpens(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	d := open(t, srv)
	if d.Bucket() != "backups" || d.Prefix() != "laptop/" || d.Endpoint() != srv.Endpoint {
		t.Errorf("Open(URL) = bucket %q, prefix %q, endpoint %q", d.Bucket(), d.Prefix(), d.Endpoint())
	}
	if err := d.Put(t.Context(), "a", strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := d.Get(t.Context(), "a", &b); err != nil || b.String() != "data" {
		t.Errorf("Get = %q, %v", b.String(), err)
	}
	if root, err := s3dest.Open(t.Context(), srv.URL("backups", "")); err != nil || root.Prefix() != "" {
		t.Errorf("Open(URL without prefix) = %v, %v", root, err)
	}
}

func TestArchiveAndFinishRestore(t *testing.T) {
	for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"} {
		t.Run(class, func(t *testing.T) {
			srv := s3test.NewServer()
			defer srv.Close()
			srv.RestorePolls = 1000 // only FinishRestore ends it
			d := open(t, srv)
			if err := d.Put(t.Context(), "vol", strings.NewReader("volume")); err != nil {
				t.Fatal(err)
			}
			if err := srv.Archive("backups", "laptop/vol", class); err != nil {
				t.Fatal(err)
			}
			fi, err := d.Stat(t.Context(), "vol")
			if err != nil || !fi.Archived {
				t.Errorf("Stat after Archive: %+v, %v; want Archived", fi, err)
			}
			if err := d.Get(t.Context(), "vol", io.Discard); !errors.Is(err, s3dest.ErrObjectArchived) {
				t.Errorf("Get of an archived object: %v, want ErrObjectArchived", err)
			}
			if err := srv.FinishRestore("backups", "laptop/vol"); err == nil {
				t.Error("FinishRestore without a restore under way succeeded")
			}
			if err := d.Restore(t.Context(), "vol", s3dest.RestoreOptions{Days: 2}); err != nil {
				t.Fatal(err)
			}
			if err := d.Get(t.Context(), "vol", io.Discard); !errors.Is(err, s3dest.ErrObjectArchived) {
				t.Errorf("Get while restoring: %v, want ErrObjectArchived", err)
			}
			if err := srv.FinishRestore("backups", "laptop/vol"); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := d.Get(t.Context(), "vol", &b); err != nil || b.String() != "volume" {
				t.Errorf("Get after FinishRestore = %q, %v", b.String(), err)
			}
		})
	}
}

func TestArchiveRefuses(t *testing.T) {
	srv := s3test.NewServer()
	defer srv.Close()
	d := open(t, srv)
	if err := srv.Archive("backups", "laptop/missing", "GLACIER"); err == nil {
		t.Error("Archive of a missing object succeeded")
	}
	if err := d.Put(t.Context(), "vol", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Archive("backups", "laptop/vol", "STANDARD_IA"); err == nil || !strings.Contains(err.Error(), "GLACIER") {
		t.Errorf("Archive to STANDARD_IA: %v, want an error naming the archive classes", err)
	}
}
