package s3dest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
)

// A rename whose source name holds '+' must copy that object, not the one
// whose name has a space there: S3 decodes x-amz-copy-source as a query
// string, and a copy of the wrong object followed by a delete of the source
// loses the source.
func TestRenameKeepsNamesWithPlus(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		for _, large := range []bool{false, true} {
			opts := []s3dest.Option{tg.sub("plus/")}
			name := "single"
			if large {
				// Every object is over the copy limit: the multipart copy.
				opts = append(opts, s3dest.WithLimitsForTest(0, 1, 5<<20))
				name = "multipart"
			}
			t.Run(name, func(t *testing.T) {
				d := tg.dest(t, opts...)
				put(t, d, "vol+1", "the plus volume")
				put(t, d, "vol 1", "the space volume")
				put(t, d, "c++", "c plus plus")
				if err := d.Rename(t.Context(), "vol+1", "r"); err != nil {
					t.Fatalf("Rename(vol+1, r): %v", err)
				}
				if got := get(t, d, "r"); got != "the plus volume" {
					t.Errorf("r holds %q after Rename(vol+1, r): the wrong object was copied", got)
				}
				if got := get(t, d, "vol 1"); got != "the space volume" {
					t.Errorf("vol 1 holds %q: an unrelated object changed", got)
				}
				if _, err := d.Stat(t.Context(), "vol+1"); !errors.Is(err, s3dest.ErrObjectNotFound) {
					t.Errorf("Stat(vol+1) after the rename: %v, want ErrObjectNotFound", err)
				}
				if err := d.Rename(t.Context(), "c++", "cpp"); err != nil {
					t.Fatalf("Rename(c++, cpp): %v", err)
				}
				if got := get(t, d, "cpp"); got != "c plus plus" {
					t.Errorf("cpp holds %q", got)
				}
			})
		}
	})
}

// A copy source that the server resolves to another object than the one
// Stat saw (a server that decodes names its own way, or an overwrite in
// between) must fail the rename and keep the source.
func TestRenameRefusesAnotherSource(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "wanted", "the object to rename")
	put(t, d, "other", "an unrelated object")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			r.Header.Set("X-Amz-Copy-Source", strings.Replace(src, "wanted", "other", 1))
		}
		return false
	})
	err := d.Rename(t.Context(), "wanted", "moved")
	var e *s3dest.Error
	if !errors.As(err, &e) || e.Code != "PreconditionFailed" {
		t.Fatalf("Rename with a copy source read as another object: %v, want PreconditionFailed", err)
	}
	srv.SetHook(nil)
	if got := get(t, d, "wanted"); got != "the object to rename" {
		t.Errorf("the source holds %q after a refused rename", got)
	}
	if _, err := d.Stat(t.Context(), "moved"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat(moved): %v, want ErrObjectNotFound", err)
	}
}
