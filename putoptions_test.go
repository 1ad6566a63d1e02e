package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

// sizes reaches both upload paths: one PutObject, and a multipart upload.
var sizes = map[string]int64{"single": 1000, "multipart": 300 << 10}

func multipartDest(t *testing.T, d func(...s3dest.Option) *s3dest.Destination) *s3dest.Destination {
	return d(s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(64<<10))
}

func TestIfAbsent(t *testing.T) {
	for path, size := range sizes {
		t.Run(path, func(t *testing.T) {
			srv := withBucket(t)
			d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination { return newDest(t, srv, o...) })
			first := randomBytes(int(size), 1)
			srv.ResetRequests()
			if err := d.Put(t.Context(), "vol", noSize(first), s3dest.IfAbsent()); err != nil {
				t.Fatalf("Put IfAbsent of a new name: %v", err)
			}
			conditional := 0
			for _, r := range srv.Requests() {
				if r.Header.Get("If-None-Match") == "*" {
					conditional++
				}
			}
			if conditional != 1 {
				t.Errorf("%d requests carried If-None-Match: *, want 1 (the PutObject or the Complete)", conditional)
			}
			err := d.Put(t.Context(), "vol", noSize(randomBytes(int(size), 2)), s3dest.IfAbsent())
			if !errors.Is(err, s3dest.ErrObjectExists) {
				t.Errorf("Put IfAbsent over an existing object = %v, want ErrObjectExists", err)
			}
			if got := get(t, d, "vol"); got != string(first) {
				t.Error("the existing object changed")
			}
			assertNoUploads(t, d)
			// Without IfAbsent, a Put replaces it.
			if err := d.Put(t.Context(), "vol", bytes.NewReader([]byte("new"))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A conditional Put whose answer was lost is retried by the SDK, which then
// finds the object the first try stored: the Put succeeds.
func TestIfAbsentLostAnswer(t *testing.T) {
	for path, op := range map[string]string{"single": "PutObject", "multipart": "CompleteMultipartUpload"} {
		t.Run(path, func(t *testing.T) {
			srv := withBucket(t)
			ft := &faults.Transport{}
			d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination { return faultDest(t, srv, ft, o...) })
			data := randomBytes(int(sizes[path]), 3)
			ft.Add(faults.Fault{Match: faults.Op(op), Times: 1, LoseAnswer: true})
			if err := d.Put(t.Context(), "vol", noSize(data), s3dest.IfAbsent()); err != nil {
				t.Fatalf("Put IfAbsent whose %s answer was lost: %v", op, err)
			}
			if ft.Injected() == 0 {
				t.Fatal("the answer was never lost")
			}
			if got := get(t, d, "vol"); got != string(data) {
				t.Error("the object stored differs")
			}
			// Someone else's object under the name is still refused.
			ft.Add(faults.Fault{Match: faults.Op(op), Times: 1, LoseAnswer: true})
			err := d.Put(t.Context(), "vol", noSize(randomBytes(int(sizes[path]), 4)), s3dest.IfAbsent())
			if !errors.Is(err, s3dest.ErrObjectExists) {
				t.Errorf("Put IfAbsent over another object, answer lost = %v, want ErrObjectExists", err)
			}
		})
	}
}

func TestPutStorageClassAndMetadata(t *testing.T) {
	for path, size := range sizes {
		t.Run(path, func(t *testing.T) {
			srv := withBucket(t)
			d := multipartDest(t, func(o ...s3dest.Option) *s3dest.Destination {
				return newDest(t, srv, append(o, s3dest.WithStorageClass("GLACIER"))...)
			})
			meta := map[string]string{"Owner": "alice", "purpose": "index file"}
			srv.ResetRequests()
			err := d.Put(t.Context(), "vol", noSize(randomBytes(int(size), 5)),
				s3dest.PutStorageClass("STANDARD_IA"), s3dest.PutMetadata(meta))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range srv.Requests() {
				if c := r.Header.Get("X-Amz-Storage-Class"); c != "" && c != "STANDARD_IA" {
					t.Errorf("%s %s carried storage class %q, want STANDARD_IA", r.Method, r.Path, c)
				}
			}
			fi, err := d.Stat(t.Context(), "vol")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"owner": "alice", "purpose": "index file"}
			if diff := cmp.Diff(want, fi.Metadata); diff != "" || fi.StorageClass != "STANDARD_IA" {
				t.Errorf("Stat: class %q, metadata (-want +got):\n%s", fi.StorageClass, diff)
			}
			if err := d.Rename(t.Context(), "vol", "moved"); err != nil {
				t.Fatal(err)
			}
			if fi, err := d.Stat(t.Context(), "moved"); err != nil || !cmp.Equal(want, fi.Metadata) {
				t.Errorf("Stat after Rename: %v, metadata %v, want %v", err, fi.Metadata, want)
			}
			plain, err := d.Stat(t.Context(), "moved")
			if err == nil && plain.Metadata["s3dest-parts"] != "" {
				t.Error("Stat shows s3dest's own metadata")
			}
		})
	}
}

func TestPutMetadataRefused(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	for name, m := range map[string]map[string]string{
		"space in key":     {"a b": "v"},
		"empty key":        {"": "v"},
		"colon in key":     {"a:b": "v"},
		"reserved":         {"s3dest-parts": "fixed:1"},
		"newline in value": {"k": "a\r\nX-Evil: 1"},
		"non-ASCII value":  {"k": "é"},
		"padded value":     {"k": " v"},
		"same key twice":   {"Key": "1", "key": "2"},
		"too large":        {"k": strings.Repeat("x", 2048)},
	} {
		srv.ResetRequests()
		err := d.Put(t.Context(), "vol", strings.NewReader("x"), s3dest.PutMetadata(m))
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "metadata") {
			t.Errorf("%s: Put = %v, want ErrInvalid naming the metadata", name, err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%s: %d requests sent, want none", name, n)
		}
	}
	if err := d.Put(t.Context(), "vol", strings.NewReader("x"), s3dest.PutStorageClass("GLACIER\r\nX: 1")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("PutStorageClass with CR/LF: %v, want ErrInvalid", err)
	}
}

// noSize hides the length of data, so that Put streams it.
func noSize(data []byte) io.Reader { return io.MultiReader(bytes.NewReader(data)) }
