package s3dest_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestCreateBucket(t *testing.T) {
	for _, tc := range []struct {
		region string
		want   string // LocationConstraint sent, "" for none
	}{
		{"us-east-1", ""},
		{"eu-west-1", "eu-west-1"},
		{"EU", "EU"},
		{"ap-southeast-2", "ap-southeast-2"},
		// The region is read in any case, and so is what CreateBucket
		// sends: S3 takes only lower-case location constraints, and none
		// for us-east-1.
		{"US-EAST-1", ""},
		{"Eu-West-1", "eu-west-1"},
		{"eu", "EU"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			srv := s3test.New(t)
			var body []byte
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut && r.URL.Path == "/backups" {
					body, _ = io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				return false
			})
			d := newDest(t, srv, s3dest.WithRegion(tc.region))
			if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
				t.Fatalf("Test before create: %v, want ErrBucketNotFound", err)
			}
			if err := d.CreateBucket(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := ""
			if i := bytes.Index(body, []byte("<LocationConstraint>")); i >= 0 {
				got = string(body[i+len("<LocationConstraint>"):])
				got = got[:strings.Index(got, "<")]
			}
			if got != tc.want {
				t.Errorf("LocationConstraint = %q, want %q (body %s)", got, tc.want, body)
			}
			if err := d.Test(t.Context()); err != nil {
				t.Errorf("Test after create: %v", err)
			}
			// Creating it again is success: the bucket is ours.
			if err := d.CreateBucket(t.Context()); err != nil {
				t.Errorf("second CreateBucket: %v", err)
			}
		})
	}
}

func TestCreateBucketAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		code       string
		headStatus int // answer to the HEAD that checks ownership
		want       error
	}{
		{"owned by you", http.StatusConflict, "BucketAlreadyOwnedByYou", 0, nil},
		{"taken", http.StatusConflict, "BucketAlreadyExists", http.StatusForbidden, s3dest.ErrBucketNameTaken},
		// Older MinIO answers its owner BucketAlreadyExists too; a bucket
		// we can HEAD is ours.
		{"ours, said taken", http.StatusConflict, "BucketAlreadyExists", http.StatusOK, nil},
		{"denied", http.StatusForbidden, "AccessDenied", 0, s3dest.ErrAccessDenied},
		{"bad region", http.StatusBadRequest, "InvalidLocationConstraint", 0, s3dest.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3test.New(t)
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.Method == http.MethodPut && r.URL.Path == "/backups":
					s3test.WriteError(w, r, tc.status, tc.code, "no")
				case r.Method == http.MethodHead && r.URL.Path == "/backups" && tc.headStatus != 0:
					w.WriteHeader(tc.headStatus)
				default:
					return false
				}
				return true
			})
			err := newDest(t, srv).CreateBucket(t.Context())
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CreateBucket: %v, want %v", err, tc.want)
			}
			if err != nil {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Errorf("CreateBucket: %v does not unwrap to the API error %s", err, tc.code)
				}
			}
		})
	}
}

func TestCreateBucketOnFirstUse(t *testing.T) {
	srv := s3test.New(t)
	var logs bytes.Buffer
	d := newDest(t, srv, s3dest.WithCreateBucket(true), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	put(t, d, "vol", "data")
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get = %q", got)
	}
	if !strings.Contains(logs.String(), "created bucket") {
		t.Errorf("no log line about the created bucket: %q", logs.String())
	}
	// Reads, listings and deletes do not create it.
	other := s3test.New(t)
	lazy := newDest(t, other, s3dest.WithCreateBucket(true))
	for op, err := range map[string]error{
		"Test":       lazy.Test(t.Context()),
		"Delete":     lazy.Delete(t.Context(), "vol"),
		"DeleteMany": lazy.DeleteMany(t.Context(), []string{"vol"}),
		"Get":        lazy.Get(t.Context(), "vol", io.Discard),
	} {
		if err == nil {
			t.Errorf("%s on a missing bucket with WithCreateBucket = nil, want an error", op)
		}
	}
	listed := 0
	for _, err := range lazy.List(t.Context()) {
		listed++
		if !errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Errorf("List on a missing bucket with WithCreateBucket = %v, want ErrBucketNotFound", err)
		}
	}
	if listed == 0 {
		t.Error("List on a missing bucket with WithCreateBucket yielded nothing, want ErrBucketNotFound")
	}
	for _, r := range other.Requests() {
		if r.Method == http.MethodPut {
			t.Errorf("a read or delete sent %s %s: it created the bucket", r.Method, r.Path)
		}
	}
	without := newDest(t, s3test.New(t))
	if err := without.Put(t.Context(), "vol", strings.NewReader("x")); !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Errorf("Put without WithCreateBucket: %v, want ErrBucketNotFound", err)
	}
}

func TestBareNotFoundIsMissingBucket(t *testing.T) {
	srv := s3test.New(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusNotFound) // no body, no code
		return true
	})
	err := newDest(t, srv).Test(t.Context())
	if !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Errorf("Test on a bare 404: %v, want ErrBucketNotFound", err)
	}
}

// A server that returns other bytes than it stored fails TestWrite, which
// still removes its probe (TestTestAndTestWrite covers the good case).
func TestTestWriteCatchesWrongBytes(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, ".s3dest-probe-") {
			w.Header().Set("Content-Length", "1024")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(make([]byte, 1024))
			return true
		}
		return false
	})
	if err := d.TestWrite(t.Context()); err == nil {
		t.Error("TestWrite passed on a server that returns the wrong bytes")
	}
	if got := list(t, d); len(got) != 0 {
		t.Errorf("failed TestWrite left %v behind", got)
	}
}

// TestWrite's probe goes up in the server's default class and unlocked,
// whatever the uploads' class and lock options say: in an archive class it
// could not be read back, locked it could not be deleted.
func TestTestWriteProbeIsStandardAndUnlocked(t *testing.T) {
	for name, opt := range map[string]s3dest.Option{
		"storage class": s3dest.WithStorageClass("DEEP_ARCHIVE"),
		"class func":    s3dest.WithStorageClassFunc(func(string, int64) string { return "GLACIER" }),
		"lock":          s3dest.WithLockOnUpload(24 * time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv, opt)
			if err := d.TestWrite(t.Context()); err != nil {
				t.Fatalf("TestWrite: %v", err)
			}
			probes := 0
			for _, r := range srv.Requests() {
				if r.Method != http.MethodPut {
					continue
				}
				probes++
				if c, m := r.Header.Get("X-Amz-Storage-Class"), r.Header.Get("X-Amz-Object-Lock-Mode"); c != "" || m != "" {
					t.Errorf("the probe went up with storage class %q, lock mode %q; want neither", c, m)
				}
			}
			if probes == 0 {
				t.Error("no PUT of the probe was seen: nothing was checked")
			}
		})
	}
}

// Test lists with the API the destination is configured for.
func TestTestHonoursListV1(t *testing.T) {
	srv := withBucket(t)
	d := openFake(t, srv, "s3-list-api-version=v1")
	srv.ResetRequests()
	if err := d.Test(t.Context()); err != nil {
		t.Fatal(err)
	}
	listings := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/"+bucket {
			listings++
		}
		if r.Query.Get("list-type") == "2" {
			t.Errorf("Test sent ListObjectsV2 (%v) with s3-list-api-version=v1", r.Query)
		}
	}
	if listings == 0 {
		t.Error("Test sent no listing: want one in ListObjects (v1)")
	}
}
