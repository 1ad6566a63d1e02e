package s3dest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestSetLockAndLockedUntil(t *testing.T) {
	f := newLockFake(t, true)
	d := newDest(t, f.srv)
	put(t, d, "vol", "data")
	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := d.SetLock(t.Context(), "vol", until); err != nil {
		t.Fatalf("SetLock: %v", err)
	}
	set := f.lastSet(t)
	if set.path != "/backups/vol" {
		t.Errorf("PUT ?retention on %s", set.path)
	}
	if got := set.header.Get("Content-Md5"); got != md5b64(set.body) {
		t.Errorf("PUT ?retention Content-MD5 %q, want the body's %q", got, md5b64(set.body))
	}
	if set.header.Get("X-Amz-Checksum-Crc32") == "" {
		t.Errorf("PUT ?retention has no x-amz-checksum-crc32 (headers %v)", set.header)
	}
	var ret lockRetention
	if err := xml.Unmarshal(set.body, &ret); err != nil {
		t.Fatal(err)
	}
	if ret.Mode != "GOVERNANCE" || !ret.RetainUntilDate.Equal(until) {
		t.Errorf("retention sent: %+v, want GOVERNANCE until %v", ret, until)
	}
	got, err := d.LockedUntil(t.Context(), "vol")
	if err != nil || !got.Equal(until) {
		t.Errorf("LockedUntil = %v, %v; want %v", got, err, until)
	}
}

func TestLockMode(t *testing.T) {
	f := newLockFake(t, true)
	for _, d := range []*s3dest.Destination{
		newDest(t, f.srv, s3dest.WithLockMode("compliance")),
		mustOpen(t, "s3://"+bucket+"/?s3-lock-mode=Compliance&s3-server-name="+f.srv.Endpoint+"&aws-access-key-id=K&aws-secret-access-key=S"),
	} {
		put(t, d, "vol", "data")
		if err := d.SetLock(t.Context(), "vol", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if body := string(f.lastSet(t).body); !strings.Contains(body, "<Mode>COMPLIANCE</Mode>") {
			t.Errorf("retention sent %s, want mode COMPLIANCE", body)
		}
	}
	if _, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithLockMode("strict")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("WithLockMode(strict): %v, want ErrInvalid", err)
	}
}

func TestLockedUntilNotLocked(t *testing.T) {
	f := newLockFake(t, true)
	d := newDest(t, f.srv)
	put(t, d, "plain", "data")
	put(t, d, "expired", "data")
	f.retention["/backups/expired"] = lockRetention{"GOVERNANCE", time.Now().Add(-time.Hour)}
	for _, name := range []string{"plain", "expired"} {
		got, err := d.LockedUntil(t.Context(), name)
		if err != nil || !got.IsZero() {
			t.Errorf("LockedUntil(%q) = %v, %v; want the zero time", name, got, err)
		}
	}
	if _, err := d.LockedUntil(t.Context(), "missing"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("LockedUntil(missing): %v, want ErrObjectNotFound", err)
	}
}

// TestLockWithoutLockConfiguration: a bucket without object lock gives
// ErrInvalid with S3's code, its message and a hint, for each lock request.
func TestLockWithoutLockConfiguration(t *testing.T) {
	f := newLockFake(t, false)
	d := newDest(t, f.srv, s3dest.WithLockOnUpload(time.Hour), s3dest.WithPartSize(5<<20))
	put(t, newDest(t, f.srv), "vol", "data")
	f.srv.ResetRequests()
	_, lockedErr := d.LockedUntil(t.Context(), "vol")
	for name, err := range map[string]error{
		"SetLock":         d.SetLock(t.Context(), "vol", time.Now().Add(time.Hour)),
		"LockedUntil":     lockedErr,
		"Put":             d.Put(t.Context(), "new", strings.NewReader("data")),
		"Put (multipart)": d.Put(t.Context(), "big", noise(1, 11<<20)),
	} {
		var e *s3dest.Error
		var ae smithy.APIError
		if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || !errors.As(err, &ae) {
			t.Errorf("%s: %v, want an *Error that is ErrInvalid and a smithy.APIError", name, err)
			continue
		}
		if e.Code != "InvalidRequest" || !strings.Contains(err.Error(), missingLockConfig) || !strings.Contains(e.Hint, "object lock enabled") {
			t.Errorf("%s: code %q, hint %q, error %q", name, e.Code, e.Hint, err)
		}
	}
	// The refusal is about the lock: no weaker checksum is tried after it.
	uploads := 0
	for _, r := range f.srv.Requests() {
		if r.Method == http.MethodPut && !r.Query.Has("retention") || r.Method == http.MethodPost && r.Query.Has("uploads") {
			uploads++
		}
	}
	if uploads != 2 {
		t.Errorf("%d upload requests for one Put and one multipart Put refused for the lock, want 2", uploads)
	}
}

// TestRenameLocksTheCopy: a renamed object is a new object, locked like an
// upload.
func TestRenameLocksTheCopy(t *testing.T) {
	f := newLockFake(t, true)
	d := newDest(t, f.srv, s3dest.WithLockOnUpload(time.Hour))
	put(t, d, "vol", "data")
	f.srv.ResetRequests()
	if err := d.Rename(t.Context(), "vol", "vol2"); err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, r := range f.srv.Requests() {
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
			copies++
			if mode := r.Header.Get("X-Amz-Object-Lock-Mode"); mode != "GOVERNANCE" {
				t.Errorf("the copy carries lock mode %q, want GOVERNANCE", mode)
			}
		}
	}
	if copies != 1 {
		t.Errorf("%d copy requests, want 1", copies)
	}
}

// TestLockOnUpload: with a lock duration every upload carries the lock
// headers, and Content-MD5 besides its CRC32C, single or multipart.
func TestLockOnUpload(t *testing.T) {
	f := newLockFake(t, true)
	c := newFakeClock()
	c.now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	now, clock := c.now, c.option()
	want := now.Add(30 * 24 * time.Hour)
	for _, d := range []*s3dest.Destination{
		newDest(t, f.srv, clock, s3dest.WithLockOnUpload(30*24*time.Hour), s3dest.WithPartSize(5<<20)),
		mustOpen(t, "s3://"+bucket+"/?remote-file-lock-duration=30D&s3-server-name="+f.srv.Endpoint+"&aws-access-key-id=K&aws-secret-access-key=S",
			clock, s3dest.WithPartSize(5<<20)),
	} {
		f.srv.ResetRequests()
		put(t, d, "small", "data")
		var big bytes.Buffer
		if err := d.Put(t.Context(), "big", io.TeeReader(noise(2, 11<<20), &big)); err != nil {
			t.Fatalf("Put big: %v", err)
		}
		var creates, bodies int
		for _, r := range f.srv.Requests() {
			switch {
			case r.Method == http.MethodPut:
				bodies++
				if r.Header.Get("Content-Md5") == "" || r.Header.Get("X-Amz-Checksum-Crc32c") == "" {
					t.Errorf("PUT %s %v: Content-MD5 %q, CRC32C %q", r.Path, r.Query, r.Header.Get("Content-Md5"), r.Header.Get("X-Amz-Checksum-Crc32c"))
				}
			case r.Method == http.MethodPost && r.Query.Has("uploads"):
				creates++
			default:
				continue
			}
			if r.Query.Has("partNumber") {
				continue // the lock travels with the create
			}
			until, err := time.Parse(time.RFC3339Nano, r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date"))
			if mode := r.Header.Get("X-Amz-Object-Lock-Mode"); mode != "GOVERNANCE" || err != nil || !until.Equal(want) {
				t.Errorf("%s %s: lock mode %q until %q, want GOVERNANCE until %v", r.Method, r.Path, mode,
					r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date"), want)
			}
		}
		if creates != 1 || bodies != 4 {
			t.Errorf("%d multipart creates and %d bodies, want 1 and 4 (one PUT, three parts)", creates, bodies)
		}
		if get(t, d, "small") != "data" || get(t, d, "big") != big.String() {
			t.Error("a locked upload reads back wrong")
		}
		for _, name := range []string{"small", "big"} {
			f.mu.Lock()
			ret := f.retention["/backups/"+name]
			f.mu.Unlock()
			if !ret.RetainUntilDate.Equal(want) {
				t.Errorf("%s: the server recorded %+v", name, ret)
			}
		}
	}
}

func TestURLLockDuration(t *testing.T) {
	valid := []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"30D", 30 * 24 * time.Hour, "30D"},
		{"2W", 14 * 24 * time.Hour, "14D"},
		{"1Y", 365 * 24 * time.Hour, "365D"},
		{"1M15D", 45 * 24 * time.Hour, "45D"},
		{"36h", 36 * time.Hour, "36h0m0s"},
		{"1D12h", 36 * time.Hour, "36h0m0s"},
		{"3600", time.Hour, "1h0m0s"},
		{"0", 0, ""},
	}
	for _, tc := range valid {
		u, err := s3dest.ParseURL("s3://bkt/?remote-file-lock-duration=" + tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		want := "s3://bkt/"
		if tc.str != "" {
			want += "?remote-file-lock-duration=" + tc.str
		}
		if u.LockDuration != tc.want || u.String() != want {
			t.Errorf("%s: LockDuration %v, String %q; want %v, %q", tc.in, u.LockDuration, u, tc.want, want)
		}
		checkURLRoundTrip(t, u)
	}
	for _, bad := range []string{"-1", "30X", "D", "101Y", "99999999999999999999D", "1.5D"} {
		if _, err := s3dest.ParseURL("s3://bkt/?remote-file-lock-duration=" + bad); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("remote-file-lock-duration=%s: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithLockOnUpload(-time.Hour)); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("WithLockOnUpload(-1h): %v, want ErrInvalid", err)
	}
}

// A lock bucket on a server that predates flexible checksums refuses the
// SDK's checksum header on PUT ?retention: SetLock sends Content-MD5 alone.
func TestSetLockWithoutFlexibleChecksums(t *testing.T) {
	f := newLockFake(t, true)
	d := newDest(t, f.srv)
	put(t, d, "vol", "data")
	f.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "x-amz-checksum-* is not supported")
				return true
			}
		}
		return f.hook(w, r)
	})
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if err := d.SetLock(t.Context(), "vol", until); err != nil {
		t.Fatalf("SetLock: %v", err)
	}
	if got, err := d.LockedUntil(t.Context(), "vol"); err != nil || !got.Equal(until) {
		t.Errorf("LockedUntil = %v, %v; want %v", got, err, until)
	}
}

// TestVersionAtLockedUntil: LockedUntil in a view asks the retention of
// the version the view sees.
func TestVersionAtLockedUntil(t *testing.T) {
	c := newFakeClock()
	srv := versionedFake(t, c)
	d := newDest(t, srv)
	put(t, d, "k", "locked once")
	at := c.Now()
	c.Advance(time.Hour)
	put(t, d, "k", "now")
	until := c.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	var asked []string
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !r.URL.Query().Has("retention") {
			return false
		}
		asked = append(asked, r.URL.Query().Get("versionId"))
		_, _ = io.WriteString(w, `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>`+until.Format(time.RFC3339)+`</RetainUntilDate></Retention>`)
		return true
	})
	view := newDest(t, srv, s3dest.WithVersionAt(at), c.option())
	got, err := view.LockedUntil(t.Context(), "k")
	if err != nil || !got.Equal(until) {
		t.Errorf("view LockedUntil = %v, %v; want %v", got, err, until)
	}
	if want := versionsOf(t, d, "k")[1].VersionID; !slices.Equal(asked, []string{want}) {
		t.Errorf("retention asked of versions %q, want [%s]", asked, want)
	}
}
