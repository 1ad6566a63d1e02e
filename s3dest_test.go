package s3dest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
)

// The fixtures shared by the package's tests: a fake server with the test
// bucket, destinations on it, and the helpers that tests of more than one
// concept use. A helper of one concept stays with it: in its only file, or
// in the concept's main file when its tests span several (url_test.go,
// credentials_test.go, and suite_test.go for the behavioural suite).

const bucket = "backups"

// newDest opens a destination on the fake server with the test credentials.
func newDest(t *testing.T, srv *s3test.Server, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	base := []s3dest.Option{
		s3dest.WithServerName(srv.Endpoint),
		s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey),
		s3dest.WithRegion("us-east-1"),
	}
	d, err := s3dest.New(t.Context(), bucket, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	lowerMinPart(srv, d)
	return d
}

// lowerMinPart has the fake take the parts d cuts when a test made them
// smaller than S3's 5 MiB (WithLimitsForTest), and no smaller ones: the
// fake refuses a part under its minimum but for the last, as S3 does.
func lowerMinPart(srv *s3test.Server, d *s3dest.Destination) {
	if m := s3dest.MinPartForTest(d); m < 5<<20 {
		srv.SetMinPartSize(m)
	}
}

// withBucket starts a fake server that has the test bucket.
func withBucket(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.New(t)
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return srv
}

func put(t *testing.T, d *s3dest.Destination, name, content string) {
	t.Helper()
	if err := d.Put(t.Context(), name, strings.NewReader(content)); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func get(t *testing.T, d *s3dest.Destination, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.Get(t.Context(), name, &b); err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return b.String()
}

func list(t *testing.T, d *s3dest.Destination) []s3dest.FileInfo {
	t.Helper()
	var out []s3dest.FileInfo
	for fi, err := range d.List(t.Context()) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, fi)
	}
	return out
}

// crc32c is the base64 CRC32C of s, as S3 writes it.
func crc32c(s string) string {
	sum := crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

// openFake opens the fake's test bucket from a URL with the extra query
// options given.
func openFake(t *testing.T, srv *s3test.Server, query string) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1"+
		"&aws-access-key-id="+s3test.AccessKey+"&aws-secret-access-key="+s3test.SecretKey+"&"+query)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustOpen(t *testing.T, raw string, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), raw, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", raw, err)
	}
	return d
}

var creds = s3dest.WithCredentials("AKIAEXAMPLE", "secret-for-tests")

// noise is n random bytes from seed, as a reader of unknown length.
func noise(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// unknownLength hides Len, Seek and ReadAt: a stream whose length Put
// cannot know in advance.
type unknownLength struct{ r io.Reader }

func (u unknownLength) Read(p []byte) (int, error) { return u.r.Read(p) }

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// uploadsLeft lists the bucket's multipart uploads in progress.
func uploadsLeft(t *testing.T, d *s3dest.Destination) []string {
	t.Helper()
	s3dest.WaitCleanupsForTest(d)
	out, err := d.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{
		Bucket: aws.String(d.Bucket()), Prefix: aws.String(d.Prefix())})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}

// faultDest opens a destination on the fake whose HTTP goes through ft,
// with retry backoff shortened so that tests stay fast; the retry policy
// itself is s3dest's.
func faultDest(t *testing.T, srv *s3test.Server, ft *faults.Transport, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	fast := s3dest.WithMaxBackoffForTest(time.Millisecond)
	return newDest(t, srv, append([]s3dest.Option{s3dest.WithHTTPClient(ft.Client()), fast}, opts...)...)
}

// assertNoUploads fails when a multipart upload is left in the bucket.
func assertNoUploads(t *testing.T, d *s3dest.Destination) {
	t.Helper()
	s3dest.WaitCleanupsForTest(d)
	out, err := d.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: ptr(d.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind", len(out.Uploads))
	}
}

func ptr[T any](v T) *T { return &v }

// relay sends a recorded answer on.
func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// urlSecret is a distinctive secret access key: no fragment of it occurs in
// any message s3dest writes, so finding one in an error or a string is a leak.
const urlSecret = "Zq7Rw9Xk2Pv4Lm8N"

var ignoreURLSecret = cmpopts.IgnoreUnexported(s3dest.URL{})

// urlLeak returns a fragment of secret (6 bytes or more, compared without
// case) found in s, or "".
func urlLeak(s, secret string) string {
	ls, lsec := strings.ToLower(s), strings.ToLower(secret)
	for i := 0; i+6 <= len(lsec); i++ {
		if strings.Contains(ls, lsec[i:i+6]) {
			return secret[i : i+6]
		}
	}
	return ""
}

func checkURLRoundTrip(t *testing.T, u *s3dest.URL) {
	t.Helper()
	s := u.String()
	u2, err := s3dest.ParseURL(s)
	if err != nil {
		t.Fatalf("ParseURL(String() = %q): %v", s, err)
	}
	if diff := cmp.Diff(u, u2, ignoreURLSecret); diff != "" {
		t.Errorf("ParseURL(%q) differs from the URL it came from (-before +after):\n%s", s, diff)
	}
	if s2 := u2.String(); s2 != s {
		t.Errorf("String is not a fixed point:\n first  %q\n second %q", s, s2)
	}
	if u2.HasSecret() {
		t.Errorf("ParseURL(String() = %q) has a secret: String must leave it out", s)
	}
}

// checksumModes are the servers s3dest meets: full-object CRC32C (AWS,
// versitygw), composite only (R2, some MinIO), none (B2, older servers).
var checksumModes = map[string]s3test.Hook{
	"full-object": nil,
	"composite": func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("uploads") && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Type"), "FULL_OBJECT") {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "full-object checksums are not supported")
			return true
		}
		return false
	},
	"none": func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("uploads") && r.Header.Get("X-Amz-Checksum-Algorithm") != "" {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "checksums are not supported")
			return true
		}
		return false
	},
}

// noChecksums makes the fake a server without flexible checksums (B2,
// older MinIO): it refuses every x-amz-checksum-* header, so objects keep
// only their ETag.
func noChecksums(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Has("uploads") && r.Header.Get("X-Amz-Checksum-Algorithm") != "" {
		s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "checksums are not supported")
		return true
	}
	for k := range r.Header {
		if r.Method == http.MethodPut && strings.HasPrefix(k, "X-Amz-Checksum-") {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "checksums are not supported")
			return true
		}
	}
	return false
}

// endless delivers zeros until its context ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// discardUploads answers multipart uploads itself and drops the parts, so
// that the test's heap holds only what the client allocates.
func discardUploads(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	_, _ = io.Copy(io.Discard, r.Body)
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		// Checksums are answered back, as S3 does.
		w.Header().Set("X-Amz-Checksum-Algorithm", r.Header.Get("X-Amz-Checksum-Algorithm"))
		w.Header().Set("X-Amz-Checksum-Type", r.Header.Get("X-Amz-Checksum-Type"))
		fmt.Fprint(w, `<InitiateMultipartUploadResult><Bucket>backups</Bucket><Key>vol</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		w.Header().Set("ETag", `"0123"`)
		w.Header().Set("X-Amz-Checksum-Crc32c", r.Header.Get("X-Amz-Checksum-Crc32c"))
	case r.Method == http.MethodPost && q.Has("uploadId"):
		// The full-object checksum asked for, answered back as S3 does.
		fmt.Fprintf(w, `<CompleteMultipartUploadResult><Bucket>backups</Bucket><Key>vol</Key><ETag>"0123-1"</ETag>`+
			`<ChecksumCRC32C>%s</ChecksumCRC32C></CompleteMultipartUploadResult>`, r.Header.Get("X-Amz-Checksum-Crc32c"))
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		w.WriteHeader(http.StatusNoContent)
	default:
		return false
	}
	return true
}

// pattern delivers n bytes copied from a fixed block, allocating nothing.
type pattern struct {
	block []byte
	n     int64
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	m := copy(b[:min(int64(len(b)), p.n)], p.block)
	p.n -= int64(m)
	return m, nil
}
