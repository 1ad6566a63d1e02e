package s3dest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
)

// Get catches one flipped byte whatever the server keeps: a full-object
// checksum, a composite one, or only an ETag; in a single-part object, a
// multipart one of known length, or a stream's (growing parts).
func TestGetVerifiesOnEveryServer(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	modes := map[string]s3test.Hook{"full-object": nil, "composite": checksumModes["composite"], "none": noChecksums}
	for mode, hook := range modes {
		for _, shape := range []string{"single", "multipart", "stream"} {
			t.Run(mode+"/"+shape, func(t *testing.T) {
				srv := withBucket(t)
				srv.SetHook(hook)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
				data := randomBytes(3<<20+11, 41)
				switch shape {
				case "single":
					data = data[:1000]
					put(t, d, "vol", string(data))
				case "multipart":
					if err := d.Put(t.Context(), "vol", bytes.NewReader(data)); err != nil {
						t.Fatal(err)
					}
				case "stream":
					if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(data)}); err != nil {
						t.Fatal(err)
					}
				}
				if got := get(t, d, "vol"); got != string(data) {
					t.Fatal("Get of the intact object differs")
				}
				ft.Add(faults.Fault{Match: faults.Op("GetObject"), Times: 1, Corrupt: true})
				var b bytes.Buffer
				if err := d.Get(t.Context(), "vol", &b); !errors.Is(err, s3dest.ErrCorrupt) {
					t.Errorf("Get of a body with one byte flipped = %v, want ErrCorrupt", err)
				}
			})
		}
	}
}

// Multipart objects without s3dest's part metadata (written before it
// existed, or by a tool that cuts parts as s3dest does) are checked too,
// with the part lengths asked of the server.
func TestGetVerifiesMultipartWithoutMetadata(t *testing.T) {
	for mode, hook := range map[string]s3test.Hook{"composite": checksumModes["composite"], "none": noChecksums} {
		t.Run(mode, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(hook)
			ft := &faults.Transport{}
			d := faultDest(t, srv, ft)
			data := randomBytes(12<<20+5, 42)
			rawMultipart(t, d, "vol", data, []int{5 << 20, 5 << 20, 2<<20 + 5}, mode == "composite")
			if got := get(t, d, "vol"); got != string(data) {
				t.Fatal("Get of the intact object differs")
			}
			ft.Add(faults.Fault{Match: faults.Op("GetObject"), Times: 1, Corrupt: true})
			if err := d.Get(t.Context(), "vol", &bytes.Buffer{}); !errors.Is(err, s3dest.ErrCorrupt) {
				t.Errorf("Get of a body with one byte flipped = %v, want ErrCorrupt", err)
			}
		})
	}
}

// An object another tool cut into parts of its own sizes cannot be checked
// part by part: Get reads it (its length checked) and never calls it
// corrupt for that.
func TestGetOfForeignMultipartIsNoFalseVerdict(t *testing.T) {
	for mode, hook := range map[string]s3test.Hook{"composite": checksumModes["composite"], "none": noChecksums} {
		t.Run(mode, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(hook)
			d := newDest(t, srv)
			data := randomBytes(19<<20, 43)
			// The layout s3dest infers from the first and last part (6 MiB
			// parts, the last 1 MiB) has their count and length but other
			// boundaries; every part but the last is 5 MiB or more, as S3
			// wants.
			rawMultipart(t, d, "vol", data, []int{6 << 20, 5 << 20, 7 << 20, 1 << 20}, mode == "composite")
			if got := get(t, d, "vol"); got != string(data) {
				t.Error("Get of another tool's intact multipart object failed or differs")
			}
		})
	}
	// SSE-KMS: the ETag is no MD5 of the data.
	srv := withBucket(t)
	srv.SetHook(noChecksums)
	d := newDest(t, srv)
	put(t, d, "vol", "data")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-Amz-Server-Side-Encryption", "aws:kms")
		srv.ServeFake(&headerSwap{w, "ETag", `"0123456789abcdef0123456789abcdef"`}, r)
		return true
	})
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get of an SSE-KMS object = %q", got)
	}
}

// headerSwap answers one header with another value: another ETag, as
// SSE-KMS objects have, or another version than asked for.
type headerSwap struct {
	http.ResponseWriter
	name, value string
}

func (h *headerSwap) WriteHeader(code int) {
	h.Header().Set(h.name, h.value)
	h.ResponseWriter.WriteHeader(code)
}

// rawMultipart uploads data in parts of the given sizes with the SDK alone,
// as another tool would: no s3dest metadata.
func rawMultipart(t *testing.T, d *s3dest.Destination, name string, data []byte, sizes []int, crc bool) {
	t.Helper()
	c, key := d.Client(), d.Prefix()+name
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key)}
	if crc {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	up, err := c.CreateMultipartUpload(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	off := 0
	for i, n := range sizes {
		pin := &s3.UploadPartInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data[off : off+n])}
		if crc {
			pin.ChecksumCRC32C = aws.String(crc32c(string(data[off : off+n])))
		}
		out, err := c.UploadPart(t.Context(), pin)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32C: pin.ChecksumCRC32C})
		off += n
	}
	if off != len(data) {
		panic(fmt.Sprintf("parts of %d bytes for %d", off, len(data)))
	}
	_, err = c.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
}

// ignoresChecksums makes the fake a server that takes x-amz-checksum-*
// headers without a word: it neither checks them nor answers them back
// (rclone serve s3 does so for multipart uploads).
func ignoresChecksums(w http.ResponseWriter, r *http.Request) bool {
	for k := range r.Header {
		if strings.HasPrefix(k, "X-Amz-Checksum-") || k == "X-Amz-Sdk-Checksum-Algorithm" {
			r.Header.Del(k)
		}
	}
	if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") { // and in Complete's list of parts
		body, _ := io.ReadAll(r.Body)
		body = regexp.MustCompile(`<ChecksumCRC32C>[^<]*</ChecksumCRC32C>`).ReplaceAll(body, nil)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	return false
}

// A server that ignores checksums is found out by its silence (S3 answers a
// checksum back) and gets Content-MD5, which it checks: a body damaged on
// the way is then refused and sent again, never stored.
func TestUploadsToServerThatIgnoresChecksums(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, tc := range []struct {
		name string
		size int
		op   string
	}{
		{"single", 1000, "PutObject"},
		{"multipart", 3<<20 + 9, "UploadPart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(ignoresChecksums)
			ft := &faults.Transport{}
			d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
			data := randomBytes(tc.size, 44)
			first := func(r *http.Request) bool { return faults.Op(tc.op)(r) && r.URL.Query().Get("partNumber") <= "1" }
			ft.Add(faults.Fault{Match: first, Times: 1, FlipRequest: true})
			if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(data)}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n := ft.Injected(); n != 1 {
				t.Errorf("%d requests damaged, want 1: the test tests nothing", n)
			}
			if got := get(t, newDest(t, srv), "vol"); got != string(data) {
				t.Fatal("a body damaged on the way was stored: the server ignored its CRC32C and s3dest did not notice")
			}
			// From now on Content-MD5 goes with the first request.
			srv.ResetRequests()
			if err := d.Put(t.Context(), "vol2", unknownLength{bytes.NewReader(data)}); err != nil {
				t.Fatal(err)
			}
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPut && r.Header.Get("Content-Md5") == "" {
					t.Errorf("%s %v went without Content-MD5 to a server that ignores checksums", r.Method, r.Query)
				}
			}
		})
	}
}

// Metadata that says the parts are cut otherwise than they are (an object
// re-cut by another tool, metadata and all): the part lengths are asked
// before the object is called corrupt, and it is read with its length
// checked.
func TestGetWithWrongLayoutMetadataIsNoFalseVerdict(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(noChecksums)
	d := newDest(t, srv)
	put(t, d, "seen", "x")
	data := randomBytes(30<<20, 45)
	// This Destination knows the server's multipart ETags follow S3's rule.
	if err := d.Put(t.Context(), "learn", bytes.NewReader(randomBytes(17<<20, 46))); err != nil {
		t.Fatal(err)
	}
	rawMultipartMeta(t, d, "vol", data, []int{15 << 20, 15 << 20}, map[string]string{"s3dest-parts": "fixed:16777216"})
	if got := get(t, d, "vol"); got != string(data) {
		t.Error("Get of an intact object whose metadata lies about its parts failed or differs")
	}
}

// A server whose multipart ETags are not the MD5 of the part MD5s (GCS,
// some MinIO versions): learned from Complete's answer, and no multipart
// object is ever called corrupt for it, by the writer or by a fresh
// Destination.
func TestOpaqueMultipartETags(t *testing.T) {
	srv := withBucket(t)
	opaque := regexp.MustCompile(`[0-9a-f]{32}-([0-9]+)`)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if noChecksums(w, r) {
			return true
		}
		rec := httptest.NewRecorder()
		srv.ServeFake(rec, r)
		body := opaque.ReplaceAll(rec.Body.Bytes(), []byte("0123456789abcdef0123456789abcdef-$1"))
		if etag := rec.Header().Get("ETag"); opaque.MatchString(etag) {
			rec.Header().Set("ETag", opaque.ReplaceAllString(etag, "0123456789abcdef0123456789abcdef-$1"))
		}
		if r.Method != http.MethodHead {
			rec.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		rec.Body = bytes.NewBuffer(body)
		relay(w, rec)
		return true
	})
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
	data := randomBytes(3<<20+1, 47)
	for _, name := range []string{"a", "b"} {
		if err := d.Put(t.Context(), name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	for _, reader := range []*s3dest.Destination{d, newDest(t, srv, limits)} {
		for _, name := range []string{"a", "b"} {
			if got := get(t, reader, name); got != string(data) {
				t.Errorf("Get(%s) differs", name)
			}
		}
	}
}

// A fresh Destination trusts the multipart ETag of an object whose writer
// saw the server follow S3's rule (its metadata says so), and catches a
// flipped byte.
func TestFreshReaderVerifiesMarkedMultipartETag(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(noChecksums)
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	w := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
	data := randomBytes(3<<20+1, 48)
	for _, name := range []string{"first", "second"} { // the first teaches the writer
		if err := w.Put(t.Context(), name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	ft := &faults.Transport{}
	r := faultDest(t, srv, ft, limits)
	ft.Add(faults.Fault{Match: faults.Op("GetObject"), Times: 1, Corrupt: true})
	if err := r.Get(t.Context(), "second", &bytes.Buffer{}); !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("a fresh Destination's Get of a flipped byte = %v, want ErrCorrupt", err)
	}
}

// rawMultipartMeta is rawMultipart with metadata.
func rawMultipartMeta(t *testing.T, d *s3dest.Destination, name string, data []byte, sizes []int, meta map[string]string) {
	t.Helper()
	c, key := d.Client(), d.Prefix()+name
	up, err := c.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key),
		Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	off := 0
	for i, n := range sizes {
		out, err := c.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data[off : off+n])})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
		off += n
	}
	if _, err := c.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(d.Bucket()), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
}
