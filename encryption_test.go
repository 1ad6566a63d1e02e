package s3dest_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

var customerKey = bytes.Repeat([]byte{7}, 32)

// tlsDest is a Destination on a fake served over HTTPS, as SSE-C needs.
func tlsDest(t *testing.T, opts ...s3dest.Option) (*s3test.Server, *s3dest.Destination) {
	t.Helper()
	srv := s3test.NewTLSServer()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	base := []s3dest.Option{s3dest.WithServerName(srv.Endpoint), s3dest.WithHTTPClient(srv.HTTPClient()),
		s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey), s3dest.WithRegion("us-east-1"),
		s3dest.WithLimitsForTest(64<<10, 100<<10, 64<<10), s3dest.WithPartSize(64 << 10)}
	d, err := s3dest.New(t.Context(), bucket, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	lowerMinPart(srv, d)
	return srv, d
}

// Every request that writes, reads or copies an object's data carries the
// customer key (SSE-C): Put single and multipart, Get, GetRange, the
// readers, Stat, and Rename (small copy and multipart copy, source and
// destination). Without the key the object cannot be read.
func TestCustomerKeyOnEveryRequest(t *testing.T) {
	srv, d := tlsDest(t, s3dest.WithCustomerKey(customerKey))
	small, large := randomBytes(1000, 1), randomBytes(300<<10, 2) // a multipart Put; Rename copies it in parts
	srv.ResetRequests()
	if err := d.Put(t.Context(), "small", bytes.NewReader(small)); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(t.Context(), "large", noSize(large)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"small": small, "large": large} {
		if got := get(t, d, name); got != string(want) {
			t.Errorf("Get %s differs", name)
		}
		r, err := d.NewReader(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(r); err != nil || !bytes.Equal(got, want) {
			t.Errorf("NewReader %s: %v", name, err)
		}
		var part bytes.Buffer
		if err := d.GetRange(t.Context(), name, 10, 20, &part); err != nil || !bytes.Equal(part.Bytes(), want[10:30]) {
			t.Errorf("GetRange %s: %v", name, err)
		}
		if _, err := d.Stat(t.Context(), name); err != nil {
			t.Errorf("Stat %s: %v", name, err)
		}
		if err := d.Rename(t.Context(), name, name+"-moved"); err != nil {
			t.Errorf("Rename %s: %v", name, err)
		}
		if got := get(t, d, name+"-moved"); got != string(want) {
			t.Errorf("Get of the renamed %s differs", name)
		}
	}
	sum := md5b64(customerKey)
	for _, r := range srv.Requests() {
		reads := r.Method == http.MethodGet || r.Method == http.MethodHead
		writes := r.Method == http.MethodPut || r.Method == http.MethodPost && (r.Query.Has("uploads") || r.Query.Has("uploadId"))
		if r.Query.Has("list-type") || r.Path == "/"+bucket || r.Method == http.MethodDelete || !reads && !writes {
			continue
		}
		if r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != sum {
			t.Errorf("%s %s %v carried no customer key", r.Method, r.Path, r.Query)
		}
		if r.Header.Get("X-Amz-Copy-Source") != "" && r.Header.Get("X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key-Md5") != sum {
			t.Errorf("%s %s: a copy without the source's customer key", r.Method, r.Path)
		}
	}
	// Without the key, or with another, the object cannot be read.
	plain := newTLSPeer(t, srv)
	if err := plain.Get(t.Context(), "small-moved", io.Discard); err == nil {
		t.Error("Get without the customer key succeeded")
	}
	other := newTLSPeer(t, srv, s3dest.WithCustomerKey(bytes.Repeat([]byte{8}, 32)))
	if err := other.Get(t.Context(), "small-moved", io.Discard); !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Errorf("Get with another customer key: %v, want ErrAccessDenied", err)
	}
}

func newTLSPeer(t *testing.T, srv *s3test.Server, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.New(t.Context(), bucket, append([]s3dest.Option{s3dest.WithServerName(srv.Endpoint),
		s3dest.WithHTTPClient(srv.HTTPClient()), s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey),
		s3dest.WithRegion("us-east-1")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	lowerMinPart(srv, d)
	return d
}

// SSE-S3 and SSE-KMS headers go on every write (Put single and multipart,
// Rename's copy), none on reads, which need nothing.
func TestServerSideEncryptionHeaders(t *testing.T) {
	for _, sse := range []s3dest.SSE{{Type: "AES256"}, {Type: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/1234"}, {Type: "aws:kms:dsse"}} {
		t.Run(sse.Type, func(t *testing.T) {
			srv, d := tlsDest(t, s3dest.WithServerSideEncryption(sse))
			data := randomBytes(300<<10, 3)
			srv.ResetRequests()
			if err := d.Put(t.Context(), "large", noSize(data)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if err := d.Put(t.Context(), "small", strings.NewReader("small")); err != nil {
				t.Fatalf("Put small: %v", err)
			}
			for _, r := range srv.Requests() {
				newObject := r.Method == http.MethodPut && !r.Query.Has("partNumber") || r.Method == http.MethodPost && r.Query.Has("uploads")
				got := r.Header.Get("X-Amz-Server-Side-Encryption")
				if newObject && got != sse.Type || !newObject && got != "" {
					t.Errorf("%s %s %v: x-amz-server-side-encryption %q", r.Method, r.Path, r.Query, got)
				}
				if kms := r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); newObject && kms != sse.KMSKeyID {
					t.Errorf("%s %s: KMS key id %q, want %q", r.Method, r.Path, kms, sse.KMSKeyID)
				}
			}
			if got := get(t, d, "large"); got != string(data) {
				t.Error("Get differs")
			}
			if err := d.Rename(t.Context(), "large", "moved"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEncryptionOptionsValidated(t *testing.T) {
	for name, opts := range map[string][]s3dest.Option{
		"short key":         {s3dest.WithCustomerKey(make([]byte, 16))},
		"unknown type":      {s3dest.WithServerSideEncryption(s3dest.SSE{Type: "aes256"})},
		"KMS key with AES":  {s3dest.WithServerSideEncryption(s3dest.SSE{Type: "AES256", KMSKeyID: "k"})},
		"SSE-C and SSE-KMS": {s3dest.WithCustomerKey(customerKey), s3dest.WithServerSideEncryption(s3dest.SSE{Type: "aws:kms"})},
	} {
		_, err := s3dest.New(t.Context(), bucket, append([]s3dest.Option{s3dest.WithServerName("http://127.0.0.1:1")}, opts...)...)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("%s: New = %v, want ErrInvalid", name, err)
		}
	}
}

// The customer key is a secret: no String, URL or error shows it.
func TestCustomerKeyNeverShown(t *testing.T) {
	raw := "s3://" + bucket + "/p?s3-sse-customer-key=" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(customerKey), "+", "%2B") +
		"&s3-server-name=https://127.0.0.1:1&aws-access-key-id=k&aws-secret-access-key=s"
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(customerKey)
	d, err := s3dest.Open(t.Context(), raw, s3dest.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Put(t.Context(), "x", strings.NewReader("x")) // to nowhere: an error
	for what, s := range map[string]string{"URL.String": u.String(), "Destination.String": d.String(), "error": err.Error()} {
		if strings.Contains(s, b64) || strings.Contains(s, "s3-sse-customer-key") {
			t.Errorf("%s shows the customer key: %s", what, s)
		}
	}
	if !u.HasCustomerKey() {
		t.Error("HasCustomerKey = false")
	}
	if _, err := s3dest.ParseURL("s3://b/?s3-sse-customer-key=" + base64.StdEncoding.EncodeToString(customerKey[:16])); err == nil ||
		strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(customerKey[:16])) {
		t.Errorf("a 16-byte key: %v, want an error that does not echo it", err)
	}
}

func TestEncryptionURLOptions(t *testing.T) {
	raw := "s3://" + bucket + "/p/?s3-server-side-encryption=aws:kms&s3-sse-kms-key-id=alias/backups&s3-server-name=http://127.0.0.1:1"
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.ServerSideEncryption != "aws:kms" || u.SSEKMSKeyID != "alias/backups" {
		t.Errorf("ParseURL: encryption %q, key %q", u.ServerSideEncryption, u.SSEKMSKeyID)
	}
	d, err := s3dest.Open(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{u.String(), d.String()} {
		if !strings.Contains(s, "s3-server-side-encryption=aws%3Akms") || !strings.Contains(s, "s3-sse-kms-key-id=alias%2Fbackups") {
			t.Errorf("String() = %s, want both encryption options", s)
		}
	}
	for _, bad := range []string{"s3-server-side-encryption=aes", "s3-sse-customer-key=notbase64!"} {
		if _, err := s3dest.ParseURL("s3://b/?" + bad); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("ParseURL(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}

// A customer key never crosses the network in clear: over plain HTTP the
// Destination is refused before any request.
func TestCustomerKeyNeedsHTTPS(t *testing.T) {
	srv := withBucket(t)
	_, err := s3dest.New(t.Context(), bucket, s3dest.WithServerName(srv.Endpoint), s3dest.WithCustomerKey(customerKey))
	if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "HTTPS") {
		t.Errorf("New with a customer key over plain HTTP = %v, want ErrInvalid naming HTTPS", err)
	}
	if strings.Contains(fmt.Sprint(err), base64.StdEncoding.EncodeToString(customerKey)) {
		t.Error("the error shows the key")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestVersionAtCustomerKey: the view reads versions written under SSE-C
// with the key on every request, as every read carries it.
func TestVersionAtCustomerKey(t *testing.T) {
	c := newFakeClock()
	srv, d := tlsDest(t, s3dest.WithCustomerKey(customerKey))
	srv.Now = c.Now
	if err := srv.EnableVersioning(bucket); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(200<<10, 4) // multipart
	if err := d.Put(t.Context(), "secret", noSize(data)); err != nil {
		t.Fatal(err)
	}
	at := c.Now()
	c.Advance(time.Hour)
	put(t, d, "secret", "replaced")
	view := newTLSPeer(t, srv, s3dest.WithCustomerKey(customerKey), s3dest.WithVersionAt(at))
	if got := get(t, view, "secret"); got != string(data) {
		t.Errorf("view Get under SSE-C: %d bytes, want the old %d", len(got), len(data))
	}
	if fi, err := view.Stat(t.Context(), "secret"); err != nil || fi.Size != int64(len(data)) {
		t.Errorf("view Stat under SSE-C: %+v, %v", fi, err)
	}
	nokey := newTLSPeer(t, srv, s3dest.WithVersionAt(at))
	if err := nokey.Get(t.Context(), "secret", io.Discard); err == nil {
		t.Error("the view read an SSE-C version without the key")
	}
}
