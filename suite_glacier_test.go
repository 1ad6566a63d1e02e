package s3dest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about
// storage classes: the class an object is stored in, which classes count as
// archived, and Rename keeping the class.

func TestStorageClass(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		for _, class := range []string{"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD_IA"} {
			put(t, tg.dest(t, s3dest.WithStorageClass(class)), strings.ToLower(class), "x")
			if tg.fake != nil {
				if got := tg.fake.Class(tg.bucket, tg.prefix+strings.ToLower(class)); got != class {
					t.Errorf("object stored with class %q, want %q", got, class)
				}
			}
		}
		plain := tg.dest(t)
		put(t, plain, "standard", "x")
		got := map[string][2]any{}
		for _, fi := range list(t, plain) {
			got[fi.Name] = [2]any{fi.StorageClass, fi.Archived}
		}
		want := map[string][2]any{
			"glacier":      {"GLACIER", true},
			"deep_archive": {"DEEP_ARCHIVE", true},
			"glacier_ir":   {"GLACIER_IR", false},
			"standard_ia":  {"STANDARD_IA", false},
			"standard":     {"STANDARD", false},
		}
		if !tg.classes {
			// versitygw accepts classes on upload but reports every object
			// as STANDARD: nothing is ever archived there.
			for k := range want {
				want[k] = [2]any{"STANDARD", false}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List classes and Archived (-want +got):\n%s", diff)
		}
		if tg.classes {
			custom := tg.dest(t, s3dest.WithArchiveClasses("glacier_ir"))
			listed := list(t, custom)
			for _, fi := range listed {
				if fi.Archived != (fi.Name == "glacier_ir") {
					t.Errorf("with archive classes [glacier_ir]: %s Archived = %v", fi.Name, fi.Archived)
				}
			}
			if len(listed) != len(want) {
				t.Errorf("with archive classes [glacier_ir]: listed %d objects, want %d", len(listed), len(want))
			}
		}
		// Restoring what is readable needs no request and succeeds.
		if err := plain.Restore(t.Context(), "standard", s3dest.RestoreOptions{}); err != nil {
			t.Errorf("Restore of a readable object: %v", err)
		}
	})
}

func TestRenameKeepsStorageClass(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithStorageClass("STANDARD_IA"))
		put(t, d, "vol", "data")
		if err := d.Rename(t.Context(), "vol", "vol2"); err != nil {
			t.Fatal(err)
		}
		want := "STANDARD_IA"
		if !tg.classes {
			want = "STANDARD"
		}
		fi, err := d.Stat(t.Context(), "vol2")
		if err != nil || fi.StorageClass != want {
			t.Errorf("renamed object: class %q, %v; want %s", fi.StorageClass, err, want)
		}
		if got := get(t, d, "vol2"); got != "data" {
			t.Errorf("renamed object holds %q", got)
		}
		if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("old name after rename: %v, want ErrObjectNotFound", err)
		}
	})
}
