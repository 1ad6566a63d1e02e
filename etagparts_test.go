package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
)

// etagPartsDest writes a multipart object of 1 MiB parts to a server that
// keeps no flexible checksum, so that reads of it are checked against its
// ETag (the MD5 of the part MD5s), and returns the writer, which saw the
// server follow S3's rule, to read it with, through ft. flip, when at
// least 0, damages the byte at its offset in the GetObject answers of the
// object.
func etagPartsDest(t *testing.T, data []byte, flip *int) (*s3dest.Destination, *faults.Transport) {
	t.Helper()
	srv := withBucket(t)
	serve := func(w http.ResponseWriter, r *http.Request) {
		if !noChecksums(w, r) {
			srv.ServeFake(w, r)
		}
	}
	srv.SetHook(mangleGets(serve, "/backups/vol", func(_ http.Header, b []byte) []byte {
		if *flip >= 0 && *flip < len(b) {
			b[*flip] ^= 0x20
		}
		return b
	}))
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20), s3dest.WithRetryMaxAttempts(1))
	for _, name := range []string{"learn", "vol"} { // the first teaches d the server's ETag rule
		if err := d.Put(t.Context(), name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	return d, ft
}

// A byte damaged in any part of a multipart object checked by its ETag is
// caught, by Get and by NewReader, whichever goroutine hashes that part;
// the intact object reads back, which it would not if the part digests
// were put together out of order.
func TestMultipartETagCatchesDamageInEveryPart(t *testing.T) {
	data := randomBytes(5<<20+77, 51) // six parts, the last short
	flip := -1
	d, _ := etagPartsDest(t, data, &flip)
	reads := map[string]func(io.Writer) error{
		"Get": func(w io.Writer) error { return d.Get(t.Context(), "vol", w) },
		"NewReader": func(w io.Writer) error {
			r, err := d.NewReader(t.Context(), "vol")
			if err != nil {
				return err
			}
			b, err := readAll(r)
			w.Write(b)
			return err
		},
	}
	for name, read := range reads {
		flip = -1
		var b bytes.Buffer
		if err := read(&b); err != nil || !bytes.Equal(b.Bytes(), data) {
			t.Fatalf("%s of the intact object: %v (%d bytes of %d)", name, err, b.Len(), len(data))
		}
		for _, at := range []int{0, 1<<20 + 3, 2<<20 - 1, 3<<20 + 1000, 5 << 20, len(data) - 1} {
			flip = at
			err := read(io.Discard)
			var e *s3dest.Error
			if !errors.Is(err, s3dest.ErrCorrupt) || !errors.As(err, &e) || !strings.Contains(e.Err.Error(), "MD5 of the part MD5s") {
				t.Errorf("%s with byte %d damaged (part %d) = %v, want ErrCorrupt from the multipart ETag", name, at, at>>20+1, err)
			}
		}
	}
}

// A Get of a multipart object checked by its ETag whose writer panics
// passes the panic on, and one whose body breaks off fails; neither leaves
// a hashing goroutine behind.
func TestMultipartETagGetLeavesNoGoroutine(t *testing.T) {
	data := randomBytes(4<<20+9, 52)
	flip := -1
	d, ft := etagPartsDest(t, data, &flip)
	get(t, d, "vol") // the connection pool is warm
	before := runtime.NumGoroutine()
	getIntoPanic(t, d, "vol")
	ft.Add(faults.Fault{Match: faults.Op("GetObject"), Times: 1, CutBody: 2<<20 + 5})
	if err := d.Get(t.Context(), "vol", io.Discard); err == nil {
		t.Error("Get of a body cut short succeeded")
	}
	assertGoroutinesBack(t, before, "the failed Gets")
}

// assertGoroutinesBack fails unless, within 5 s, the goroutines are back
// to before (and 2 of the HTTP client's) after what was done.
func assertGoroutinesBack(t *testing.T, before int, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting, not asserting
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines after %s, %d before", n, after, before)
	}
}
