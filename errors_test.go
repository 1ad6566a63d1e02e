package s3dest_test

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// A 404 whose code s3dest does not know is no "not found": versitygw
// answers an unknown access key so. Taking it for a missing object made
// Delete succeed while the object stayed, and a missing bucket offered to
// create it.
func TestUnknownKeyCodeIsAccessDenied(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "vol", "data")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusNotFound, "XAdminUserNotFound", "No user exists with the provided access key ID.")
		return true
	})
	_, statErr := d.Stat(t.Context(), "vol")
	for op, err := range map[string]error{
		"Test":       d.Test(t.Context()),
		"Get":        d.Get(t.Context(), "vol", io.Discard),
		"Delete":     d.Delete(t.Context(), "vol"),
		"DeleteMany": d.DeleteMany(t.Context(), []string{"vol"}),
		"Put":        d.Put(t.Context(), "new", strings.NewReader("x")),
		"Stat":       statErr, // the HEAD's bare 404, asked again with a GET
		"Rename":     d.Rename(t.Context(), "vol", "other"),
	} {
		if !errors.Is(err, s3dest.ErrAccessDenied) {
			t.Errorf("%s with an unknown access key = %v, want ErrAccessDenied", op, err)
		}
	}
}

func TestNotFoundWithUnknownCodeHasNoCategory(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusNotFound, "XSomethingElse", "a proxy lost its way")
		return true
	})
	_, statErr := d.Stat(t.Context(), "vol") // a bare 404 to HEAD, then a GET with the code
	for op, err := range map[string]error{
		"Test":   d.Test(t.Context()),
		"Get":    d.Get(t.Context(), "vol", io.Discard),
		"Delete": d.Delete(t.Context(), "vol"),
		"Stat":   statErr,
	} {
		if err == nil || errors.Is(err, s3dest.ErrObjectNotFound) || errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Errorf("%s answered 404 XSomethingElse = %v, want an error of no not-found category", op, err)
		}
	}
}

// countingTransport counts round trips.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TLS to a plain-HTTP server fails at once, naming the fix, instead of
// three tries that end in a transport message.
func TestTLSToPlainHTTPFailsAtOnce(t *testing.T) {
	srv := withBucket(t)
	ct := &countingTransport{base: &http.Transport{}}
	d, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithRegion("us-east-1"),
		s3dest.WithServerName("https://"+srv.Addr), s3dest.WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Test(t.Context())
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || !strings.Contains(e.Hint, "use-ssl=false") {
		t.Errorf("Test over TLS to a plain-HTTP server = %v, want ErrInvalid with a hint naming use-ssl=false", err)
	}
	if n := ct.n.Load(); n != 1 {
		t.Errorf("%d round trips, want 1: a scheme mismatch is not retried", n)
	}
}

// tlsFake serves the fake over TLS with a self-signed certificate, counting
// connections, and returns it with the PEM file of its certificate.
func tlsFake(t *testing.T, srv *s3test.Server) (*httptest.Server, string, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(srv.ServeFake))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests fail on purpose
	ts.StartTLS()
	t.Cleanup(ts.Close)
	path := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(path, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	return ts, path, &conns
}

// A certificate from an unknown authority fails at once with a hint;
// AWS_CA_BUNDLE naming it makes it trusted.
func TestUnknownAuthority(t *testing.T) {
	srv := withBucket(t)
	ts, caFile, conns := tlsFake(t, srv)
	open := func() *s3dest.Destination {
		d, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithRegion("us-east-1"), s3dest.WithServerName(ts.URL))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Setenv("AWS_CA_BUNDLE", "")
	err := open().Test(t.Context())
	var e *s3dest.Error
	if err == nil || !errors.As(err, &e) || !strings.Contains(e.Hint, "AWS_CA_BUNDLE") || !strings.Contains(e.Hint, "WithHTTPClient") {
		t.Errorf("Test against an untrusted certificate = %v, want a hint naming AWS_CA_BUNDLE and WithHTTPClient", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: an unknown authority is not retried", n)
	}
	t.Setenv("AWS_CA_BUNDLE", caFile)
	if err := open().Test(t.Context()); err != nil {
		t.Errorf("Test with AWS_CA_BUNDLE naming the certificate: %v", err)
	}
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithServerName(ts.URL)); !errors.Is(err, s3dest.ErrInvalid) ||
		!strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("New with AWS_CA_BUNDLE naming a missing file = %v, want ErrInvalid naming it", err)
	}
}

// Plain HTTP to a server that speaks only HTTPS says so.
func TestPlainHTTPToTLSServerHint(t *testing.T) {
	srv := withBucket(t)
	ts, _, _ := tlsFake(t, srv)
	d, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithRegion("us-east-1"), s3dest.WithRetryMaxAttempts(1),
		s3dest.WithServerName("http://"+strings.TrimPrefix(ts.URL, "https://")))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Test(t.Context())
	var e *s3dest.Error
	if err == nil || !errors.As(err, &e) || !strings.Contains(e.Hint, "speaks HTTPS") {
		t.Errorf("Test in plain HTTP to a TLS server = %v, want a hint that it speaks HTTPS", err)
	}
}

// Operations a server lacks are ErrNotSupported with a hint that says what
// to do instead.
func TestNotSupportedOperations(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, newDest(t, srv, s3dest.WithStorageClass("GLACIER")), "cold", "x")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch q := r.URL.Query(); {
		case r.Method == http.MethodPost && q.Has("restore"):
			s3test.WriteError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		case r.Method == http.MethodGet && q.Has("uploads"):
			s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "not implemented")
		default:
			return false
		}
		return true
	})
	for op, tc := range map[string]struct {
		err  error
		hint string
	}{
		"Restore":        {d.Restore(t.Context(), "cold", s3dest.RestoreOptions{}), "s3-archive-classes="},
		"CleanupUploads": {func() error { _, err := d.CleanupUploads(t.Context(), time.Hour); return err }(), "server's own tools"},
	} {
		var e *s3dest.Error
		if !errors.Is(tc.err, s3dest.ErrNotSupported) || !errors.As(tc.err, &e) || !strings.Contains(e.Hint, tc.hint) {
			t.Errorf("%s on a server without it = %v, want ErrNotSupported with a hint naming %q", op, tc.err, tc.hint)
		}
	}
	// The hint's way out works: with no archive class, nothing is archived.
	none, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1"+
		"&aws-access-key-id="+s3test.AccessKey+"&aws-secret-access-key="+s3test.SecretKey+"&s3-archive-classes=")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := none.Stat(t.Context(), "cold"); err != nil || fi.Archived {
		t.Errorf("Stat with s3-archive-classes= (none) = %+v, %v; want not archived", fi, err)
	}
}

// A 301 from a custom endpoint names another endpoint: switching the
// signing region cannot reach it, so the explicit region stays and the hint
// names s3-server-name.
func TestRedirectFromCustomEndpoint(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
		s3test.WriteError(w, r, http.StatusMovedPermanently, "PermanentRedirect", "use the other endpoint")
		return true
	})
	d := newDest(t, srv) // s3-location-constraint=us-east-1, given
	err := d.Test(t.Context())
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrWrongRegion) || !errors.As(err, &e) || !strings.Contains(e.Hint, "s3-server-name") {
		t.Errorf("Test answered 301 by a custom endpoint = %v, want ErrWrongRegion with a hint naming s3-server-name", err)
	}
	if d.Region() != "us-east-1" {
		t.Errorf("Region() = %q after a redirect from a custom endpoint, want the given us-east-1", d.Region())
	}
}

func TestAccessDenied(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match")
		return true
	})
	d := newDest(t, srv)
	err := d.Test(t.Context())
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Fatalf("Test: %v, want ErrAccessDenied", err)
	}
	var e *s3dest.Error
	if !errors.As(err, &e) || !strings.Contains(e.Hint, "aws-secret-access-key") {
		t.Errorf("hint %q does not say what to check", e.Hint)
	}
	_, err = d.Stat(t.Context(), "x")
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Errorf("Stat: %v, want ErrAccessDenied", err)
	}
}

// The errors users see first lead with what happened, the S3 code and what
// to do, not the SDK's chain (status line, host id, "api error"); %+v and
// errors.As still reach the whole cause.
func TestErrorsLeadWithWhatHappened(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	err := d.Get(t.Context(), "missing", io.Discard)
	msg := err.Error()
	for _, noise := range []string{"operation error", "https response error", "HostID", "api error", "StatusCode:"} {
		if strings.Contains(msg, noise) {
			t.Errorf("Error() holds the SDK's %q: %s", noise, msg)
		}
	}
	for _, want := range []string{"s3dest: get s3://" + bucket + "/missing: object not found", "404 NoSuchKey", "[request id "} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %s, want it to hold %q", msg, want)
		}
	}
	if full := fmt.Sprintf("%+v", err); !strings.Contains(full, "HostID") || !strings.HasPrefix(full, msg) {
		t.Errorf("%%+v = %s, want Error() then the SDK's whole cause", full)
	}
	if fmt.Sprintf("%v", err) != msg || fmt.Sprintf("%s", err) != msg {
		t.Error("formatting with v and s differs from Error()")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
		t.Errorf("errors.As(smithy.APIError) = %v", ae)
	}
	// A wrapper around the SDK's error keeps its words: the part number.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("partNumber") {
			s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
			return true
		}
		return false
	})
	d = newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(64<<10))
	err = d.Put(t.Context(), "big", noise(1, 200<<10))
	if msg := fmt.Sprint(err); !regexp.MustCompile(`part \d+: UploadPart answered 403 AccessDenied: Access Denied`).MatchString(msg) {
		t.Errorf("Put with a refused part: %s", msg)
	}
}

// A '+' written raw in a secret in the URL reads as a space, as in every
// query string: the server then refuses the signature. The hint says to
// percent-encode it, and shows no part of the secret. A '+' at either end
// (one AWS secret in 32 starts or ends with one) too: dropped as padding,
// it would leave a secret one character short and the usual hint, which
// names no cause.
func TestSignatureMismatchHintForPlusInSecret(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return true
	})
	const raw = "Zq7Rw9Xk+2Pv4Lm8N" // urlSecret with a '+'
	open := func(secret string) *s3dest.Destination {
		return mustOpen(t, "s3://"+bucket+"/?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1"+
			"&aws-access-key-id="+s3test.AccessKey+"&aws-secret-access-key="+secret)
	}
	for _, secret := range []string{raw, urlSecret + "+", "+" + urlSecret, "+" + urlSecret + "++"} {
		err := open(secret).Test(t.Context())
		if !errors.Is(err, s3dest.ErrAccessDenied) || !strings.Contains(err.Error(), "%2B") {
			t.Errorf("Test with secret %q (its '+' read as a space): %v, want ErrAccessDenied whose hint says to write '+' as %%2B", secret, err)
		}
		for _, s := range []string{secret, strings.ReplaceAll(secret, "+", " "), strings.Trim(secret, "+")} {
			if leak := urlLeak(err.Error(), s); leak != "" {
				t.Errorf("the error shows part of the secret (%q): %v", leak, err)
			}
		}
	}
	// A secret without a space: the usual hint, no talk of '+'.
	err := open(urlSecret).Test(t.Context())
	if !errors.Is(err, s3dest.ErrAccessDenied) || strings.Contains(err.Error(), "%2B") || !strings.Contains(err.Error(), "aws-secret-access-key") {
		t.Errorf("Test with a wrong secret: %v, want ErrAccessDenied with the usual hint", err)
	}
}

// The same on a server that checks signatures, with the test secret's
// fourth character written as a raw '+'.
func TestSignatureMismatchHintForPlusInSecretOnServer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		secret := os.Getenv("S3DEST_TEST_SECRET")
		if !tg.real() || len(secret) < 8 || !strings.Contains(tg.rawURL, "aws-secret-access-key="+secret) {
			t.Skip("needs a real server and its secret (TestSignatureMismatchHintForPlusInSecret covers the fake)")
		}
		mangled := secret[:3] + "+" + secret[4:]
		d := mustOpen(t, strings.Replace(tg.rawURL, "aws-secret-access-key="+secret, "aws-secret-access-key="+mangled, 1))
		err := d.Test(t.Context())
		if !errors.Is(err, s3dest.ErrAccessDenied) || !strings.Contains(err.Error(), "%2B") {
			t.Errorf("Test with a '+' read as a space in the secret: %v, want ErrAccessDenied whose hint says to write '+' as %%2B", err)
		}
		// The CI secret is made of words messages use too ("secret"):
		// look for it whole, and for its tail.
		for _, s := range []string{secret, mangled, strings.ReplaceAll(mangled, "+", " "), secret[len(secret)-6:]} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the error shows the secret or a part of it (%q): %v", s, err)
			}
		}
	})
}

// Duplicati 1.x wrote s3://HOST/BUCKET/FOLDER; Duplicati reads that now,
// as s3dest does, as a bucket named HOST. When that bucket is not found,
// the hint names the old form and the URL to write instead.
func TestBucketNamedLikeS3HostHint(t *testing.T) {
	srv := withBucket(t)
	keys := "aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey
	for _, tc := range []struct {
		name string
		d    func() *s3dest.Destination
		want []string
	}{
		{"AWS's global host", func() *s3dest.Destination {
			return mustOpen(t, "s3://s3.amazonaws.com/backups/my+folder?use-ssl=false&"+keys, s3dest.WithHTTPClient(srv.HTTPClient()))
		}, []string{"Duplicati 1.x", "s3://backups/my%20folder?s3-server-name=s3.amazonaws.com", "s3://backups/my%20folder without"}},
		{"AWS's regional host", func() *s3dest.Destination {
			return mustOpen(t, "s3://s3-eu-west-1.amazonaws.com/backups?use-ssl=false&"+keys, s3dest.WithHTTPClient(srv.HTTPClient()))
		}, []string{"Duplicati 1.x", "s3://backups/?s3-server-name=s3-eu-west-1.amazonaws.com", "s3://backups/?s3-location-constraint=eu-west-1"}},
		{"a provider's host", func() *s3dest.Destination {
			return mustOpen(t, "s3://s3.eu-central-1.wasabisys.com/backups/pc1?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1&"+keys)
		}, []string{"Duplicati 1.x", "s3://backups/pc1?s3-server-name=s3.eu-central-1.wasabisys.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d().Test(t.Context())
			if !errors.Is(err, s3dest.ErrBucketNotFound) {
				t.Fatalf("Test: %v, want ErrBucketNotFound", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Test: %v\nwant a hint with %q", err, w)
				}
			}
		})
	}
	// Any other missing bucket keeps the usual hint.
	err := mustOpen(t, "s3://missing-bucket/backups?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1&"+keys).Test(t.Context())
	if !errors.Is(err, s3dest.ErrBucketNotFound) || strings.Contains(err.Error(), "Duplicati 1.x") || !strings.Contains(err.Error(), "CreateBucket") {
		t.Errorf("Test of a missing bucket: %v, want the usual hint", err)
	}
}
