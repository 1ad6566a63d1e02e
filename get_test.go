package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// mangleGets answers GETs of path with the headers of serve's answer and
// the body mangle makes of it; serve answers the other requests.
func mangleGets(serve http.HandlerFunc, path string, mangle func(h http.Header, body []byte) []byte) s3test.Hook {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != path {
			serve(w, r)
			return true
		}
		rec := httptest.NewRecorder()
		serve(rec, r)
		body := mangle(rec.Header(), rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
		return true
	}
}

func TestGetDetectsCorruptAndTruncatedBodies(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	data := randomBytes(3<<20, 7)
	for _, tc := range []struct {
		name    string
		mangle  func(h http.Header, body []byte) []byte
		corrupt bool // errors.Is ErrCorrupt; else any error
	}{
		{"one bit flipped", func(h http.Header, b []byte) []byte { b[len(b)/2] ^= 1; return b }, true},
		{"cut short, Content-Length adjusted", func(h http.Header, b []byte) []byte {
			h.Set("Content-Length", strconv.Itoa(len(b)-100))
			return b[:len(b)-100]
		}, true},
		{"cut short, Content-Length kept", func(h http.Header, b []byte) []byte { return b[:len(b)/3] }, true},
		{"cut short, no checksum", func(h http.Header, b []byte) []byte {
			h.Del("X-Amz-Checksum-Crc32c")
			return b[:len(b)/3]
		}, false},
	} {
		for _, multipart := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/multipart=%v", tc.name, multipart), func(t *testing.T) {
				srv := withBucket(t)
				srv.SetHook(mangleGets(srv.ServeFake, "/backups/vol", tc.mangle))
				partSize := int64(4 << 20) // one PutObject
				if multipart {
					partSize = 1 << 20
				}
				d := newDest(t, srv, limits, s3dest.WithPartSize(partSize))
				if err := d.Put(t.Context(), "vol", bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				err := d.Get(t.Context(), "vol", io.Discard)
				if err == nil || tc.corrupt && !errors.Is(err, s3dest.ErrCorrupt) {
					t.Errorf("Get = %v, want an error (ErrCorrupt: %v)", err, tc.corrupt)
				}
			})
		}
	}
}

func TestGetChecksumsOnce(t *testing.T) {
	// The SDK's own response validation is off for Get: a body hashed twice
	// costs CPU, and the SDK would fail ranged reads of objects that have
	// a whole-object checksum.
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithS3Options(func(o *s3.Options) {
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	}))
	put(t, d, "vol", "0123456789")
	srv.SetHook(mangleGets(srv.ServeFake, "/backups/vol", func(h http.Header, b []byte) []byte { b[0] = 'x'; return b }))
	err := d.Get(t.Context(), "vol", io.Discard)
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrCorrupt) || !errors.As(err, &e) || !strings.Contains(e.Err.Error(), "CRC32C of the 10 bytes") {
		t.Errorf("Get = %v, want s3dest's own ErrCorrupt (not the SDK's checksum error)", err)
	}
}

// An archived object fails at once with ErrObjectArchived, without a
// retry: Get, and NewReader before any byte.
func TestGetArchivedFailsFast(t *testing.T) {
	for op, read := range map[string]func(d *s3dest.Destination) error{
		"Get": func(d *s3dest.Destination) error { return d.Get(t.Context(), "vol", io.Discard) },
		"NewReader": func(d *s3dest.Destination) error {
			r, err := d.NewReader(t.Context(), "vol")
			if r != nil {
				r.Close()
				return errors.New("NewReader returned a reader")
			}
			return err
		},
	} {
		srv := withBucket(t)
		d := newDest(t, srv)
		put(t, d, "vol", "data")
		srv.ResetRequests()
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && r.URL.Path == "/backups/vol" {
				s3test.WriteError(w, r, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class")
				return true
			}
			return false
		})
		err := read(d)
		if !errors.Is(err, s3dest.ErrObjectArchived) {
			t.Fatalf("%s: %v, want ErrObjectArchived", op, err)
		}
		var ios *types.InvalidObjectState
		if !errors.As(err, &ios) {
			t.Errorf("%s: %v does not unwrap to *types.InvalidObjectState", op, err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%s of an archived object sent %d requests, want 1 (no retry)", op, n)
		}
	}
}

func TestGetDetectsCorruption(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	const content = "the real content"
	put(t, d, "vol", content)
	for name, mangle := range map[string]func([]byte) []byte{
		"wrong bytes": func(b []byte) []byte { return bytes.Replace(b, []byte("real"), []byte("fake"), 1) },
		"cut short":   func(b []byte) []byte { return b[:8] },
	} {
		t.Run(name, func(t *testing.T) {
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || r.URL.Path != "/backups/vol" {
					return false
				}
				rec := httptest.NewRecorder()
				srv.ServeFake(rec, r) // the real answer, headers and checksum included
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(mangle(rec.Body.Bytes()))
				return true
			})
			var got bytes.Buffer
			if err := d.Get(t.Context(), "vol", &got); err == nil {
				t.Errorf("Get of a %s body returned no error and %q", name, got.String())
			}
		})
	}
}

func TestGetRange(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	data := randomBytes(1<<20, 8)
	if err := d.Put(t.Context(), "vol", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ offset, length, wantEnd int64 }{
		{0, 10, 10},
		{100, 1000, 1100},
		{1<<20 - 5, -1, 1 << 20},
		{0, -1, 1 << 20},
		{7, 0, 7},
	} {
		var got bytes.Buffer
		if err := d.GetRange(t.Context(), "vol", tc.offset, tc.length, &got); err != nil {
			t.Errorf("GetRange(%d, %d): %v", tc.offset, tc.length, err)
			continue
		}
		if !bytes.Equal(got.Bytes(), data[tc.offset:tc.wantEnd]) {
			t.Errorf("GetRange(%d, %d) = %d bytes, want bytes %d to %d", tc.offset, tc.length, got.Len(), tc.offset, tc.wantEnd)
		}
	}
	for _, bad := range [][2]int64{{-1, 10}, {0, -2}} {
		if err := d.GetRange(t.Context(), "vol", bad[0], bad[1], io.Discard); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("GetRange(%d, %d) = %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
	if err := d.GetRange(t.Context(), "vol", 2<<20, 10, io.Discard); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("GetRange beyond the end = %v, want ErrInvalid", err)
	}
	// A server that ignores Range must not pass the whole object off as
	// the range.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		r.Header.Del("Range")
		return false
	})
	if err := d.GetRange(t.Context(), "vol", 100, 10, io.Discard); err == nil {
		t.Error("GetRange accepted a whole object sent for a range")
	}
}

// GetRange writes every byte asked for or fails: a range past the end, an
// overflowing one, or a shortened answer never returns nil with fewer bytes.
func TestGetRangeNeverShort(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	data := randomBytes(100, 9)
	put(t, d, "vol", string(data))
	put(t, d, "empty", "")
	for _, tc := range []struct {
		name           string
		offset, length int64
	}{
		{"vol", 90, 20},
		{"vol", 99, 2},
		{"vol", 100, 1},
		{"vol", 100, -1},
		{"empty", 0, 1},
		{"empty", 1, -1},
	} {
		var got bytes.Buffer
		err := d.GetRange(t.Context(), tc.name, tc.offset, tc.length, &got)
		if !errors.Is(err, s3dest.ErrInvalid) || got.Len() != 0 {
			t.Errorf("GetRange(%s, %d, %d) = %v after %d bytes; want ErrInvalid and nothing written",
				tc.name, tc.offset, tc.length, err, got.Len())
		}
	}
	var got bytes.Buffer
	if err := d.GetRange(t.Context(), "empty", 0, -1, &got); err != nil || got.Len() != 0 {
		t.Errorf("GetRange(empty, 0, -1) = %v, %d bytes; want nil and none", err, got.Len())
	}
	srv.ResetRequests()
	if err := d.GetRange(t.Context(), "vol", math.MaxInt64-5, 10, io.Discard); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("GetRange with an overflowing range = %v, want ErrInvalid", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("an overflowing range sent %d requests, want none", n)
	}
	// A shortened answer that is consistent in itself: Content-Range,
	// Content-Length and body all say 5 bytes where 10 were asked for.
	srv.SetHook(mangleGets(srv.ServeFake, "/"+bucket+"/vol", func(h http.Header, b []byte) []byte {
		h.Set("Content-Range", "bytes 10-14/100")
		h.Set("Content-Length", "5")
		return b[:5]
	}))
	got.Reset()
	if err := d.GetRange(t.Context(), "vol", 10, 10, &got); err == nil || got.Len() != 0 {
		t.Errorf("GetRange(10, 10) answered with 5 bytes: %v after %d bytes written; want an error and none", err, got.Len())
	}
	// A chunked answer (no Content-Length): the Content-Range length holds.
	for _, body := range []string{"abc", "abcdefghijklmnopqrstuvwxyz"} {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || r.Header.Get("Range") == "" {
				return false
			}
			w.Header().Set("Content-Range", "bytes 10-19/100")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = io.WriteString(w, body)
			w.(http.Flusher).Flush()
			return true
		})
		got.Reset()
		if err := d.GetRange(t.Context(), "vol", 10, 10, &got); !errors.Is(err, s3dest.ErrCorrupt) {
			t.Errorf("GetRange(10, 10) answered %d bytes, chunked: %v, want ErrCorrupt", len(body), err)
		}
	}
}

func TestTransferOptionsAreValidated(t *testing.T) {
	for _, opt := range []s3dest.Option{
		s3dest.WithPartSize(1 << 20), s3dest.WithPartSize(6 << 30), s3dest.WithPartSize(-1),
		s3dest.WithConcurrency(-1), s3dest.WithConcurrency(65),
	} {
		_, err := s3dest.New(t.Context(), bucket, s3dest.WithCredentials("AKID", "secret"), s3dest.WithRegion("us-east-1"), opt)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("New with a bad transfer option: %v, want ErrInvalid", err)
		}
	}
}

// onlyLength strips what a whole-object Get could check a body against
// beyond its length: the checksums, and the ETag's MD5 (as for SSE-KMS).
func onlyLength(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, "X-Amz-Checksum-") {
			h.Del(k)
		}
	}
	h.Set("X-Amz-Server-Side-Encryption", "aws:kms")
}

// withObject is a Destination on a fake holding "vol", 1000 bytes of
// randomBytes(seed).
func withObject(t *testing.T, seed uint64) (*s3test.Server, *s3dest.Destination, []byte) {
	t.Helper()
	srv := withBucket(t)
	d := newDest(t, srv)
	data := randomBytes(1000, seed)
	put(t, d, "vol", string(data))
	return srv, d, data
}

// answerWithoutLength answers 200 with body and neither Content-Length nor
// a checksum, ending it by closing the connection (HTTP/1.1 allows it);
// the SSE-KMS header says that the ETag is no MD5 of the data.
func answerWithoutLength(t *testing.T, w http.ResponseWriter, body []byte) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	_, _ = io.WriteString(buf, "HTTP/1.1 200 OK\r\nConnection: close\r\nX-Amz-Server-Side-Encryption: aws:kms\r\n\r\n")
	_, _ = buf.Write(body)
	_ = buf.Flush()
}

// A whole-object Get answered with part of the object (206, as a cache or
// proxy may send) must fail, even where only the length can be checked:
// Content-Length is then the part's, not the object's.
func TestGetRefusesPartOfTheObject(t *testing.T) {
	srv, d, data := withObject(t, 12)
	// answer sends bytes first to last with Content-Range cr.
	answer := func(first, last int, cr string) {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || r.URL.Path != "/"+bucket+"/vol" {
				return false
			}
			onlyLength(w.Header())
			w.Header().Set("Content-Range", cr)
			w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write(data[first : last+1])
			return true
		})
	}
	for _, tc := range []struct {
		first, last int
		cr          string
	}{
		{0, 499, "bytes 0-499/1000"},
		{500, 999, "bytes 500-999/1000"},
		{0, 499, "bytes 0-999/1000"}, // Content-Length 500 says otherwise
	} {
		answer(tc.first, tc.last, tc.cr)
		var got bytes.Buffer
		if err := d.Get(t.Context(), "vol", &got); !errors.Is(err, s3dest.ErrCorrupt) {
			t.Errorf("Get answered with bytes %d-%d as %q: %v after %d bytes, want ErrCorrupt", tc.first, tc.last, tc.cr, err, got.Len())
		}
		r, err := d.NewReader(t.Context(), "vol")
		if err == nil {
			_, err = readAll(r)
		}
		if !errors.Is(err, s3dest.ErrCorrupt) {
			t.Errorf("NewReader answered with bytes %d-%d as %q: %v, want ErrCorrupt", tc.first, tc.last, tc.cr, err)
		}
	}
	// A 206 of every byte is the object.
	answer(0, len(data)-1, "bytes 0-999/1000")
	var got bytes.Buffer
	if err := d.Get(t.Context(), "vol", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Errorf("Get answered with every byte in a 206: %v, %d bytes", err, got.Len())
	}
}

// A range to the end answered with a Content-Range of unknown total
// ("bytes 100-199/*") does not show that it reaches the end: GetRange must
// not return nil with fewer bytes than the object has from the offset.
func TestGetRangeToEndOfUnknownTotal(t *testing.T) {
	srv, d, data := withObject(t, 13)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.Header.Get("Range") == "" {
			return false
		}
		w.Header().Set("Content-Range", "bytes 100-199/*")
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[100:200])
		return true
	})
	var got bytes.Buffer
	if err := d.GetRange(t.Context(), "vol", 100, -1, &got); err == nil {
		t.Errorf("GetRange(100, -1) of a 1000-byte object answered with bytes 100-199/*: nil after %d bytes", got.Len())
	}
	r, err := d.NewRangeReader(t.Context(), "vol", 100, -1)
	if err == nil {
		var b []byte
		b, err = readAll(r)
		if err == nil {
			t.Errorf("NewRangeReader(100, -1) answered with bytes 100-199/*: io.EOF after %d bytes", len(b))
		}
	}
	// A range of known length is checked by its end: "*" does not matter.
	got.Reset()
	if err := d.GetRange(t.Context(), "vol", 100, 100, &got); err != nil || !bytes.Equal(got.Bytes(), data[100:200]) {
		t.Errorf("GetRange(100, 100) answered bytes 100-199/*: %v, %d bytes", err, got.Len())
	}
}

// An answer without Content-Length, whose end is the connection's close
// (HTTP/1.1 allows it), reads a cut connection as a clean end: a Get that
// can check nothing else must learn the length elsewhere, not return nil.
func TestGetOfAnswerWithoutLength(t *testing.T) {
	srv, d, data := withObject(t, 14)
	answer := func(body []byte) {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || r.URL.Path != "/"+bucket+"/vol" {
				return false
			}
			answerWithoutLength(t, w, body)
			return true
		})
	}
	answer(data[:400])
	var got bytes.Buffer
	if err := d.Get(t.Context(), "vol", &got); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Get of a body cut after %d of %d bytes, no length: %v, want ErrCorrupt", got.Len(), len(data), err)
	}
	r, err := d.NewReader(t.Context(), "vol")
	if err == nil {
		_, err = readAll(r)
	}
	if !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("NewReader of a body cut short, no length: %v, want ErrCorrupt", err)
	}
	answer(data)
	got.Reset()
	if err := d.Get(t.Context(), "vol", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Errorf("Get of a whole body without length: %v, %d bytes", err, got.Len())
	}
}

// The HEAD that learns the length of an answer without one may fail with
// an answer that reads as a wrong region: that must not make the Get run
// again, writing the object a second time after the first.
func TestGetLengthHeadFailureIsNoSecondRun(t *testing.T) {
	srv, d, data := withObject(t, 15)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/"+bucket+"/vol" {
			return false
		}
		if r.Method == http.MethodHead {
			w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
			w.WriteHeader(http.StatusBadRequest)
			return true
		}
		if r.Method != http.MethodGet {
			return false
		}
		answerWithoutLength(t, w, data)
		return true
	})
	var got bytes.Buffer
	err := d.Get(t.Context(), "vol", &got)
	if got.Len() > len(data) {
		t.Errorf("Get wrote %d bytes of a %d-byte object (%v): it ran twice", got.Len(), len(data), err)
	}
	if err == nil {
		t.Error("Get whose length could not be learned returned nil")
	}
}

// failOnceWriter fails its second Write with err, and takes every other.
type failOnceWriter struct {
	bytes.Buffer
	writes int
	err    error
}

func (w *failOnceWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes == 2 {
		return 0, w.err
	}
	return w.Buffer.Write(p)
}

// The caller's writer failing is no answer of the server: an error of its
// own that reads as a wrong region (a pipe to a Put into another bucket)
// must neither move the Destination to that region nor run the Get again,
// writing the object once more after the bytes already written.
func TestGetWriterErrorIsNotTheServers(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	data := randomBytes(1<<20, 16)
	put(t, d, "vol", string(data))
	errCopy := errors.New("the copy failed")
	w := &failOnceWriter{err: fmt.Errorf("%w: %w", errCopy, &smithy.GenericAPIError{Code: "AuthorizationHeaderMalformed",
		Message: "the region 'us-east-1' is wrong; expecting 'eu-west-1'"})}
	err := d.Get(t.Context(), "vol", w)
	if err == nil || !errors.Is(err, errCopy) {
		t.Errorf("Get into a writer that failed: %v after %d bytes of %d; want the writer's error", err, w.Len(), len(data))
	}
	if errors.Is(err, s3dest.ErrWrongRegion) {
		t.Errorf("Get into a writer that failed: %v is ErrWrongRegion", err)
	}
	if r := d.Client().Options().Region; r != "us-east-1" {
		t.Errorf("a writer's error moved the Destination to region %s", r)
	}
}

// A checksum a server spells without base64's padding is the same checksum:
// Get reads the object, and still catches a damaged body.
func TestGetReadsChecksumsInAnySpelling(t *testing.T) {
	srv, d, data := withObject(t, 17)
	unpad := func(h http.Header) {
		if v := h.Get("X-Amz-Checksum-Crc32c"); v != "" {
			h.Set("X-Amz-Checksum-Crc32c", strings.TrimRight(v, "="))
		}
	}
	srv.SetHook(mangleGets(srv.ServeFake, "/backups/vol", func(h http.Header, b []byte) []byte { unpad(h); return b }))
	var got bytes.Buffer
	if err := d.Get(t.Context(), "vol", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Errorf("Get with an unpadded CRC32C: %v, %d bytes", err, got.Len())
	}
	srv.SetHook(mangleGets(srv.ServeFake, "/backups/vol", func(h http.Header, b []byte) []byte { unpad(h); b[3] ^= 1; return b }))
	if err := d.Get(t.Context(), "vol", io.Discard); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Get of a damaged body with an unpadded CRC32C = %v, want ErrCorrupt", err)
	}
}

// eofWriter fails its second Write with io.ErrUnexpectedEOF (a pipe whose
// reader was closed with it).
type eofWriter struct{ n int }

func (w *eofWriter) Write(p []byte) (int, error) {
	if w.n++; w.n == 2 {
		return 0, io.ErrUnexpectedEOF
	}
	return len(p), nil
}

// The caller's writer failing with io.ErrUnexpectedEOF is no body cut short
// by the server: it must not be ErrCorrupt.
func TestGetWriterUnexpectedEOFIsNotCorrupt(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "vol", string(randomBytes(1<<20, 3)))
	err := d.Get(t.Context(), "vol", &eofWriter{})
	if errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Get into a writer failing with io.ErrUnexpectedEOF: %v is ErrCorrupt", err)
	}
}

// A HEAD answered without Content-Length either (Transfer-Encoding:
// chunked) tells nothing of the length: a whole read is no ErrCorrupt for
// it.
func TestGetLengthHeadWithoutLength(t *testing.T) {
	srv, d, data := withObject(t, 21)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/"+bucket+"/vol" {
			return false
		}
		switch r.Method {
		case http.MethodHead:
			w.Header().Set("Transfer-Encoding", "chunked")
			w.Header().Set("X-Amz-Server-Side-Encryption", "aws:kms")
			w.WriteHeader(http.StatusOK)
			return true
		case http.MethodGet:
			answerWithoutLength(t, w, data)
			return true
		}
		return false
	})
	var got bytes.Buffer
	if err := d.Get(t.Context(), "vol", &got); err != nil {
		t.Errorf("Get of every byte, HEAD without Content-Length: %v (%d of %d bytes)", err, got.Len(), len(data))
	}
}

// The caller cancelling ctx just as the body ended makes the length HEAD
// fail: that is the caller's cancellation, not ErrCorrupt.
func TestGetLengthHeadCancelledIsNotCorrupt(t *testing.T) {
	srv, d, data := withObject(t, 22)
	ctx, cancel := context.WithCancel(t.Context())
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/"+bucket+"/vol" {
			return false
		}
		switch r.Method {
		case http.MethodHead:
			cancel()
			time.Sleep(100 * time.Millisecond)
			return false
		case http.MethodGet:
			answerWithoutLength(t, w, data)
			return true
		}
		return false
	})
	err := d.Get(ctx, "vol", io.Discard)
	if errors.Is(err, s3dest.ErrCorrupt) || !errors.Is(err, context.Canceled) {
		t.Errorf("Get cancelled during the length HEAD: %v; want context.Canceled, not ErrCorrupt", err)
	}
}
