package s3dest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// alphabet is the name-alphabet: every printable ASCII character alone
// (where it can be a name) and between letters, multi-byte characters, and
// names next to their look-alikes, which a wrong escape would confuse.
func alphabet() []string {
	var names []string
	for c := byte(0x20); c <= 0x7e; c++ {
		if c != '/' && c != '.' {
			names = append(names, string(c))
		}
		names = append(names, "lo"+string(c)+"hi")
	}
	return append(names,
		"a+b", "a b", "a%2Bb", "a%2bb", "a%20b", "a%b", "a%%b", "%2F", "a%2Fb", "a+%2B b",
		"c++", "c  ", " c", "x.", "..x", "x..y", "dir/x y/z+w", "q?x=1&y=2", "#frag", "a\\b",
		"é", "e\u0301", "日本語", "🙂", "\u00a0nbsp", "ß/ẞ", "tab-like\u2009space", "zero\u200bwidth")
}

// Every name round-trips through every operation: each is one object, of
// its own name, on the fake and on every real server. A '+' read as a
// space, a "%2B" decoded twice, a key normalized by the server: each would
// make two names one object, or one name another's.
func TestNameAlphabet(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		names := alphabet()
		if tg.backslashIsSlash() {
			names = slices.DeleteFunc(names, func(n string) bool { return strings.Contains(n, `\`) })
		}
		d := tg.dest(t, tg.sub("abc/"), s3dest.WithRecursiveList(true))
		content := func(i int) string { return fmt.Sprintf("object %03d: %q", i, names[i]) }
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < len(names); i += 4 {
					if err := d.Put(t.Context(), names[i], strings.NewReader(content(i))); err != nil {
						t.Errorf("Put(%q): %v", names[i], err)
					}
				}
			})
		}
		wg.Wait()
		listed := map[string]int64{}
		for fi, err := range d.List(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			listed[fi.Name] = fi.Size
		}
		for i, name := range names {
			if listed[name] != int64(len(content(i))) {
				t.Errorf("List: %q has size %d, want %d", name, listed[name], len(content(i)))
			}
			fi, err := d.Stat(t.Context(), name)
			if err != nil || fi.Size != int64(len(content(i))) {
				t.Errorf("Stat(%q) = size %d, %v", name, fi.Size, err)
			}
			if got := get(t, d, name); got != content(i) {
				t.Errorf("Get(%q) = %q, want %q", name, got, content(i))
			}
			var part bytes.Buffer
			if err := d.GetRange(t.Context(), name, 7, 3, &part); err != nil || part.String() != content(i)[7:10] {
				t.Errorf("GetRange(%q, 7, 3) = %q, %v", name, part.String(), err)
			}
		}
		if len(listed) != len(names) {
			t.Errorf("List found %d objects, want the %d names", len(listed), len(names))
		}
		// Rename every name to a look-alike-free one and back: a single
		// CopyObject each, then a multipart copy for the look-alikes.
		large := tg.dest(t, tg.sub("abc/"), s3dest.WithLimitsForTest(0, 1, 5<<20))
		for i, name := range names {
			r := d
			if strings.ContainsAny(name, "+% ") {
				r = large
			}
			if err := r.Rename(t.Context(), name, fmt.Sprintf("renamed-%03d", i)); err != nil {
				t.Errorf("Rename(%q): %v", name, err)
				continue
			}
			if err := r.Rename(t.Context(), fmt.Sprintf("renamed-%03d", i), name); err != nil {
				t.Errorf("Rename back to %q: %v", name, err)
			}
		}
		for i, name := range names {
			if got := get(t, d, name); got != content(i) {
				t.Errorf("after renames, Get(%q) = %q, want %q", name, got, content(i))
			}
		}
		half := len(names) / 2
		for _, name := range names[:half] {
			if err := d.Delete(t.Context(), name); err != nil {
				t.Errorf("Delete(%q): %v", name, err)
			}
		}
		if err := d.DeleteMany(t.Context(), names[half:]); err != nil {
			t.Errorf("DeleteMany: %v", err)
		}
		if left := list(t, d); len(left) != 0 {
			var l []string
			for _, fi := range left {
				l = append(l, fi.Name)
			}
			t.Errorf("left after Delete and DeleteMany: %q", l)
		}
	})
}

// Restore and SetLock name every key right too (the fake has archive
// tiers and, with lockFake, object lock).
func TestNameAlphabetRestoreAndLock(t *testing.T) {
	f := newLockFake(t, true)
	cold := newDest(t, f.srv, s3dest.WithStorageClass("GLACIER"))
	d := newDest(t, f.srv)
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	for _, name := range alphabet() {
		put(t, cold, name, "cold "+name)
		if err := d.Restore(t.Context(), name, s3dest.RestoreOptions{}); err != nil {
			t.Errorf("Restore(%q): %v", name, err)
		}
		if got := f.srv.Restore(bucket, name); got.Requests != 1 {
			t.Errorf("Restore(%q): the server saw %d restore requests for that key, want 1", name, got.Requests)
		}
		if err := d.SetLock(t.Context(), name, until); err != nil {
			t.Errorf("SetLock(%q): %v", name, err)
		}
		if got, err := d.LockedUntil(t.Context(), name); err != nil || !got.Equal(until) {
			t.Errorf("LockedUntil(%q) = %v, %v; want %v", name, got, err, until)
		}
	}
}

// S3 keys are flat: "x" and "x/y" are two objects. Servers that store
// objects as files (versitygw) cannot hold both, and refuse the second:
// that is ErrInvalid with a hint, never a silent loss of either.
func TestNameThatIsAlsoAFolder(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, tg.sub("clash/"))
		put(t, d, "x", "object")
		err := d.Put(t.Context(), "x/y", strings.NewReader("below"))
		var e *s3dest.Error
		switch {
		case err == nil:
			if got := get(t, d, "x"); got != "object" {
				t.Errorf("x holds %q after x/y was stored", got)
			}
		case tg.filesNotFolders():
			// versitygw answers ExistingObjectIsDirectory, with a hint;
			// rclone a bare InvalidRequest.
			if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) ||
				tg.server == "versitygw" && !strings.Contains(e.Hint, "folder") {
				t.Errorf("Put(x/y) beside x on a file-backed server = %v, want ErrInvalid", err)
			}
			if got := get(t, d, "x"); got != "object" {
				t.Errorf("x holds %q after the refused Put", got)
			}
		default:
			t.Errorf("Put(x/y) beside x = %v", err)
		}
	})
}

// SeaweedFS rewrites '\' in keys to '/' unless started with
// -s3.allowBackslashInKey: "a\b" overwrites "a/b" there. Pinned, so that
// the README's warning stays true; everywhere else they are two objects.
func TestBackslashInNames(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, tg.sub("bs/"))
		put(t, d, "a/b", "slash")
		put(t, d, `a\b`, "backslash")
		want := "slash"
		if tg.backslashIsSlash() {
			want = "backslash"
		}
		if got := get(t, d, "a/b"); got != want {
			t.Errorf("a/b holds %q, want %q", got, want)
		}
	})
}

func TestInvalidNamesSendNothing(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.ResetRequests()
	for _, name := range []string{"", "../etc/passwd", "a/../b", "./a", "/abs", "bad\x00byte", "bad\nline", "x//y", "dir/", "a///b",
		strings.Repeat("x", 1023), string([]byte{0xff, 0xfe})} {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, s3dest.ErrInvalid) {
				t.Errorf("%s(%q): %v, want ErrInvalid", op, truncate(name), err)
			}
		}
		check("Put", d.Put(t.Context(), name, strings.NewReader("x")))
		check("Get", d.Get(t.Context(), name, io.Discard))
		_, err := d.Stat(t.Context(), name)
		check("Stat", err)
		check("Delete", d.Delete(t.Context(), name))
		check("Rename", d.Rename(t.Context(), "ok", name))
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("invalid names sent %d requests, want 0", n)
	}
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// U+FFFE and U+FFFF are valid UTF-8 but no XML character: the SDK writes
// them as U+FFFD in a DeleteObjects body (and the listing can carry them
// no better). DeleteMany of "x\uFFFF" would then delete "x\uFFFD", a name
// not asked, and report success for the one asked, which stays. Such
// names must be refused before any request, as control characters are.
func TestNamesOutsideXMLRefused(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	put(t, d, "x\ufffd", "a name of its own")
	srv.ResetRequests()
	for _, name := range []string{"x\uffff", "x\ufffe", "dir/\uffff"} {
		if err := d.DeleteMany(t.Context(), []string{name}); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("DeleteMany(%+q): %v, want ErrInvalid", name, err)
		}
		if err := d.Put(t.Context(), name, strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Put(%+q): %v, want ErrInvalid", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("names outside XML sent %d requests, want 0", n)
	}
	if got, err := latestBytes(t, d, "x\ufffd"); got != "a name of its own" {
		t.Errorf("x\\uFFFD holds %q (%v) after DeleteMany of other names", got, err)
	}
	if _, err := s3dest.New(t.Context(), bucket, s3dest.WithServerName(srv.Endpoint), creds, s3dest.WithRegion("us-east-1"),
		s3dest.WithPrefix("p\uffff")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("New with a prefix holding U+FFFF: %v, want ErrInvalid", err)
	}
}
