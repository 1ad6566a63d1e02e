package s3dest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// Servers that refuse some checksum headers, as found in the wild.
var (
	// B2 (before mid-2025): no x-amz-checksum-* header at all.
	refuseChecksums = func(method string, q url.Values, h http.Header) (int, string) {
		for k := range h {
			if strings.HasPrefix(k, "X-Amz-Checksum-") {
				return http.StatusBadRequest, "InvalidArgument"
			}
		}
		return 0, ""
	}
	// R2: CRC32C only as a COMPOSITE multipart checksum.
	refuseFullObject = func(method string, q url.Values, h http.Header) (int, string) {
		if method == http.MethodPost && q.Has("uploads") && h.Get("X-Amz-Checksum-Type") == "FULL_OBJECT" {
			return http.StatusNotImplemented, "NotImplemented"
		}
		return 0, ""
	}
	// Some MinIO versions: FULL_OBJECT accepted at create, refused at complete.
	refuseFullComplete = func(method string, q url.Values, h http.Header) (int, string) {
		if method == http.MethodPost && q.Has("uploadId") && h.Get("X-Amz-Checksum-Type") != "" {
			return http.StatusBadRequest, "InvalidPart"
		}
		return 0, ""
	}
	// A server that insists on Content-MD5 (object lock).
	requireMD5 = func(method string, q url.Values, h http.Header) (int, string) {
		if method == http.MethodPut && h.Get("Content-Md5") == "" {
			return http.StatusBadRequest, "MissingContentMD5"
		}
		return 0, ""
	}
)

func TestChecksumFallbacks(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, tc := range []struct {
		name             string
		refuse           func(method string, q url.Values, h http.Header) (int, string)
		size             int
		wantMD5, wantCRC bool // on every request that stored data
		wantFull         bool // the completed upload carries a full-object CRC32C
	}{
		{"no flexible checksums, PutObject", refuseChecksums, 1000, true, false, false},
		{"no flexible checksums, multipart", refuseChecksums, 3 << 20, true, false, false},
		{"composite only", refuseFullObject, 3 << 20, false, true, false},
		{"full object refused at complete", refuseFullComplete, 3 << 20, false, true, false},
		{"MD5 required, PutObject", requireMD5, 1000, true, true, false},
		{"MD5 required, parts", requireMD5, 3 << 20, true, true, true},
		{"all accepted", func(string, url.Values, http.Header) (int, string) { return 0, "" }, 3 << 20, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if status, code := tc.refuse(r.Method, r.URL.Query(), r.Header); status != 0 {
					_, _ = io.Copy(io.Discard, r.Body)
					s3test.WriteError(w, r, status, code, "refused by the test")
					return true
				}
				return false
			})
			d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
			data := randomBytes(tc.size, 10)
			if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(data)}); err != nil {
				t.Fatal(err)
			}
			if got := get(t, d, "vol"); got != string(data) {
				t.Fatal("the object differs from what was put")
			}
			stored, full := 0, false
			for _, r := range srv.Requests() {
				if status, _ := tc.refuse(r.Method, r.Query, r.Header); status != 0 {
					continue
				}
				if r.Method == http.MethodPost && r.Query.Has("uploadId") {
					full = r.Header.Get("X-Amz-Checksum-Type") == "FULL_OBJECT" && r.Header.Get("X-Amz-Checksum-Crc32c") != ""
				}
				if r.Method != http.MethodPut {
					continue
				}
				stored++
				if md5, crc := r.Header.Get("Content-Md5") != "", r.Header.Get("X-Amz-Checksum-Crc32c") != ""; md5 != tc.wantMD5 || crc != tc.wantCRC {
					t.Errorf("stored with Content-MD5 %v and CRC32C %v; want %v and %v", md5, crc, tc.wantMD5, tc.wantCRC)
				}
			}
			if want := (tc.size + 1<<20 - 1) >> 20; stored != want {
				t.Errorf("%d requests stored data, want %d", stored, want)
			}
			if full != tc.wantFull {
				t.Errorf("completed with a full-object CRC32C: %v, want %v", full, tc.wantFull)
			}
			// The destination remembers what the server refused: the next
			// upload sends no request that is refused.
			srv.ResetRequests()
			if err := d.Put(t.Context(), "vol2", unknownLength{bytes.NewReader(data)}); err != nil {
				t.Fatal(err)
			}
			for _, r := range srv.Requests() {
				if status, code := tc.refuse(r.Method, r.Query, r.Header); status != 0 {
					t.Errorf("second upload: %s %s refused again (%s)", r.Method, r.Path, code)
				}
			}
		})
	}
}

// Servers that refuse x-amz-checksum-mode (B2) still answer Get and Stat,
// and the destination stops asking for it once it was refused.
func TestChecksumModeRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(d *s3dest.Destination) error
	}{
		{"Get", func(d *s3dest.Destination) error {
			var buf bytes.Buffer
			if err := d.Get(t.Context(), "vol", &buf); err != nil || buf.String() != "content" {
				return fmt.Errorf("Get: %q, %v; want the content", buf.String(), err)
			}
			return nil
		}},
		{"Stat", func(d *s3dest.Destination) error {
			if fi, err := d.Stat(t.Context(), "vol"); err != nil || fi.Size != 7 {
				return fmt.Errorf("Stat: %+v, %v; want the object's size 7", fi, err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv)
			put(t, d, "vol", "content")
			var refused atomic.Int32
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Header.Get("X-Amz-Checksum-Mode") != "" {
					refused.Add(1)
					s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Unsupported header 'x-amz-checksum-mode'")
					return true
				}
				return false
			})
			for range 3 {
				if err := tc.call(d); err != nil {
					t.Fatal(err)
				}
			}
			if n := refused.Load(); n != 1 {
				t.Errorf("x-amz-checksum-mode was refused %d times, want once", n)
			}
		})
	}
}
