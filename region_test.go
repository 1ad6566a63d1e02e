package s3dest_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestEndpointAndRegion(t *testing.T) {
	type result struct {
		Endpoint, Region string
		PathStyle        bool
	}
	for _, tc := range []struct {
		name string
		opts []s3dest.Option
		want result
	}{
		{"nothing given: us-east-1 until discovered", nil,
			result{"https://s3.us-east-1.amazonaws.com", "us-east-1", false}},
		{"region picks the AWS host", []s3dest.Option{s3dest.WithRegion("eu-west-1")},
			result{"https://s3.eu-west-1.amazonaws.com", "eu-west-1", false}},
		{"EU is eu-west-1", []s3dest.Option{s3dest.WithRegion("EU")},
			result{"https://s3.eu-west-1.amazonaws.com", "eu-west-1", false}},
		{"China partition", []s3dest.Option{s3dest.WithRegion("cn-north-1")},
			result{"https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1", false}},
		{"GovCloud", []s3dest.Option{s3dest.WithRegion("us-gov-west-1")},
			result{"https://s3.us-gov-west-1.amazonaws.com", "us-gov-west-1", false}},
		{"use-ssl=false on AWS", []s3dest.Option{s3dest.WithRegion("ap-south-1"), s3dest.WithUseSSL(false)},
			result{"http://s3.ap-south-1.amazonaws.com", "ap-south-1", false}},
		{"AWS host as server name", []s3dest.Option{s3dest.WithServerName("s3.eu-central-1.amazonaws.com")},
			result{"https://s3.eu-central-1.amazonaws.com", "eu-central-1", false}},
		{"legacy dash host", []s3dest.Option{s3dest.WithServerName("s3-us-west-2.amazonaws.com")},
			result{"https://s3.us-west-2.amazonaws.com", "us-west-2", false}},
		{"global host with a region", []s3dest.Option{s3dest.WithServerName("s3.amazonaws.com"), s3dest.WithRegion("sa-east-1")},
			result{"https://s3.sa-east-1.amazonaws.com", "sa-east-1", false}},
		{"auth region signs, location constraint picks the host", []s3dest.Option{s3dest.WithRegion("eu-west-1"), s3dest.WithAuthRegion("eu-west-3")},
			result{"https://s3.eu-west-1.amazonaws.com", "eu-west-3", false}},
		{"auth region alone picks the host too", []s3dest.Option{s3dest.WithAuthRegion("eu-west-3")},
			result{"https://s3.eu-west-3.amazonaws.com", "eu-west-3", false}},
		{"auth region for a provider", []s3dest.Option{s3dest.WithServerName("s3.fr-par.scw.cloud"), s3dest.WithAuthRegion("us-east-1")},
			result{"https://s3.fr-par.scw.cloud", "us-east-1", true}},
		{"dotted bucket over TLS is path-style", nil, result{"https://s3.us-east-1.amazonaws.com", "us-east-1", true}},
		{"local server with scheme", []s3dest.Option{s3dest.WithServerName("http://127.0.0.1:9000")},
			result{"http://127.0.0.1:9000", "us-east-1", true}},
		{"host:port defaults to TLS", []s3dest.Option{s3dest.WithServerName("minio.lan:9000")},
			result{"https://minio.lan:9000", "us-east-1", true}},
		{"use-ssl=false for host:port", []s3dest.Option{s3dest.WithServerName("minio.lan:9000"), s3dest.WithUseSSL(false)},
			result{"http://minio.lan:9000", "us-east-1", true}},
		{"Wasabi", []s3dest.Option{s3dest.WithServerName("s3.eu-central-2.wasabisys.com")},
			result{"https://s3.eu-central-2.wasabisys.com", "eu-central-2", true}},
		{"Backblaze B2", []s3dest.Option{s3dest.WithServerName("s3.us-west-004.backblazeb2.com")},
			result{"https://s3.us-west-004.backblazeb2.com", "us-west-004", true}},
		{"Scaleway", []s3dest.Option{s3dest.WithServerName("s3.fr-par.scw.cloud")},
			result{"https://s3.fr-par.scw.cloud", "fr-par", true}},
		{"DigitalOcean", []s3dest.Option{s3dest.WithServerName("ams3.digitaloceanspaces.com")},
			result{"https://ams3.digitaloceanspaces.com", "ams3", true}},
		{"Cloudflare R2", []s3dest.Option{s3dest.WithServerName("0123abcd.r2.cloudflarestorage.com")},
			result{"https://0123abcd.r2.cloudflarestorage.com", "auto", true}},
		{"Seagate Lyve", []s3dest.Option{s3dest.WithServerName("s3.us-east-1.lyvecloud.seagate.com")},
			result{"https://s3.us-east-1.lyvecloud.seagate.com", "us-east-1", true}},
		{"location constraint beats the host", []s3dest.Option{s3dest.WithServerName("s3.fr-par.scw.cloud"), s3dest.WithRegion("nl-ams")},
			result{"https://s3.fr-par.scw.cloud", "nl-ams", true}},
		{"forced virtual-host on a custom server", []s3dest.Option{s3dest.WithServerName("minio.lan"), s3dest.WithPathStyle(false)},
			result{"https://minio.lan", "us-east-1", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := "backups"
			if strings.Contains(tc.name, "dotted") {
				b = "my.backups"
			}
			d, err := s3dest.New(t.Context(), b, append([]s3dest.Option{creds}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			got := result{d.Endpoint(), d.Region(), d.Client().Options().UsePathStyle}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadServerAndRegion(t *testing.T) {
	for _, opt := range []s3dest.Option{
		s3dest.WithServerName("minio.lan:9000/path"),
		s3dest.WithServerName("https://minio.lan/s3"),
		s3dest.WithServerName("ftp://minio.lan"),
		s3dest.WithServerName("minio.lan:99999"),
		s3dest.WithServerName("https://user:pw@minio.lan"),
		s3dest.WithServerName("[::1"),
		s3dest.WithServerName("::1"),
		s3dest.WithServerName("http://[::1:9000"),
		s3dest.WithServerName("host:"),
		s3dest.WithServerName("http://host:/"),
		s3dest.WithServerName(strings.Repeat("a", 5000)),
		s3dest.WithServerName(strings.Repeat("a", 64) + ".example.com"),
		s3dest.WithServerName("-minio.lan"),
		s3dest.WithServerName("minio..lan"),
		s3dest.WithServerName("mi nio.lan"),
		s3dest.WithRegion("eu west 1"),
		s3dest.WithRegion("eu-west-1/"),
		s3dest.WithAuthRegion("Ω"),
	} {
		_, err := s3dest.New(t.Context(), "backups", creds, opt)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("New: %v, want ErrInvalid", err)
			continue
		}
		if !strings.Contains(err.Error(), "s3-server-name") && !strings.Contains(err.Error(), "region") {
			t.Errorf("error %q names neither the server name nor the region", err)
		}
	}
}

// TLS settings that contradict each other are an error, never a silent
// downgrade to plain HTTP.
func TestContradictoryTLSSettings(t *testing.T) {
	for name, opts := range map[string][]s3dest.Option{
		"https server, use-ssl=false": {s3dest.WithServerName("https://minio.lan"), s3dest.WithUseSSL(false)},
		"http server, use-ssl=true":   {s3dest.WithServerName("http://minio.lan"), s3dest.WithUseSSL(true)},
	} {
		if _, err := s3dest.New(t.Context(), "backups", append(opts, creds)...); !errors.Is(err, s3dest.ErrInvalid) ||
			!strings.Contains(err.Error(), "use-ssl") {
			t.Errorf("%s: %v, want ErrInvalid naming use-ssl", name, err)
		}
	}
	for _, raw := range []string{"s3s://backups/?s3-server-name=http://minio.lan", "s3s://backups/?use-ssl=false",
		"s3://backups/?s3-server-name=https://minio.lan&use-ssl=false"} {
		if _, err := s3dest.Open(t.Context(), raw+"&aws-access-key-id=A&aws-secret-access-key=B"); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", raw, err)
		}
	}
}

func TestGoodServerNames(t *testing.T) {
	for _, name := range []string{"minio.lan", "minio.lan:9000", "127.0.0.1", "http://127.0.0.1:9000", "[::1]", "[::1]:9000",
		"https://[2001:db8::1]:443/", "S3.EU-West-1.Wasabisys.com", "storage.example.com.", "http://localhost", "http://minio_1:9000"} {
		if _, err := s3dest.New(t.Context(), "backups", creds, s3dest.WithServerName(name)); err != nil {
			t.Errorf("New with s3-server-name %q: %v", name, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for name, tc := range map[string]struct {
		bucket string
		opts   []s3dest.Option
		want   string // in the error
	}{
		"token without keys": {"backups", []s3dest.Option{s3dest.WithSessionCredentials("", "", "token")}, "aws-access-key-id"},
		"key without secret": {"backups", []s3dest.Option{s3dest.WithCredentials("AKIA", "")}, "aws-secret-access-key"},
		"empty bucket":       {"", []s3dest.Option{creds}, "empty"},
		"bucket with slash":  {"a/b", []s3dest.Option{creds}, "'/'"},
		"IP bucket":          {"10.0.0.1", []s3dest.Option{creds}, "IP address"},
		"class with space":   {"backups", []s3dest.Option{creds, s3dest.WithStorageClass("DEEP ARCHIVE")}, "storage class"},
		"prefix with ..":     {"backups", []s3dest.Option{creds, s3dest.WithPrefix("a/../b")}, "prefix"},
		"prefix with //":     {"backups", []s3dest.Option{creds, s3dest.WithPrefix("a//b")}, "prefix"},
		"retry attempts":     {"backups", []s3dest.Option{creds, s3dest.WithRetryMaxAttempts(-1)}, "retry"},
	} {
		_, err := s3dest.New(t.Context(), tc.bucket, tc.opts...)
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid mentioning %q", name, err, tc.want)
		}
	}
}

// awsDest opens a destination addressed to AWS whose connections all go to
// the fake server, over plain HTTP.
func awsDest(t *testing.T, srv *s3test.Server, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	base := []s3dest.Option{creds, s3dest.WithUseSSL(false), s3dest.WithHTTPClient(srv.HTTPClient())}
	d, err := s3dest.New(t.Context(), bucket, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// regionBucket makes the fake behave like AWS for a bucket in region: HEAD
// bucket answers x-amz-bucket-region, and requests signed for another region
// get 301 PermanentRedirect with the header, as S3 does.
func regionBucket(srv *s3test.Server, region string) {
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-Amz-Bucket-Region", region)
		if s3test.SigningRegion(r.Header) != region {
			s3test.WriteError(w, r, http.StatusMovedPermanently, "PermanentRedirect",
				"The bucket you are attempting to access must be addressed using the specified endpoint.")
			return true
		}
		return false
	})
}

func TestRegionDiscovered(t *testing.T) {
	srv := withBucket(t)
	regionBucket(srv, "eu-central-1")
	var logs bytes.Buffer
	d := awsDest(t, srv, s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if d.Region() != "us-east-1" {
		t.Fatalf("before first use Region() = %q, want us-east-1", d.Region())
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("New did network I/O")
	}
	// Many goroutines race to the first operation: one discovery, all succeed.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := d.Test(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d.Region() != "eu-central-1" || d.Endpoint() != "http://s3.eu-central-1.amazonaws.com" {
		t.Errorf("after discovery: region %q endpoint %q", d.Region(), d.Endpoint())
	}
	heads := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodHead {
			heads++
		}
		if r.Method == http.MethodGet && (r.Host != "backups.s3.eu-central-1.amazonaws.com" || s3test.SigningRegion(r.Header) != "eu-central-1") {
			t.Errorf("listing went to %s signed for %s", r.Host, s3test.SigningRegion(r.Header))
		}
	}
	if heads != 1 {
		t.Errorf("%d HEAD requests to discover the region, want 1", heads)
	}
	if !strings.Contains(logs.String(), "discovered") || !strings.Contains(logs.String(), "eu-central-1") {
		t.Errorf("discovery not logged: %q", logs.String())
	}
}

func TestWrongRegionHealed(t *testing.T) {
	srv := withBucket(t)
	regionBucket(srv, "ap-northeast-1")
	var logs bytes.Buffer
	d := awsDest(t, srv, s3dest.WithRegion("us-west-2"), s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := d.Put(t.Context(), "vol", strings.NewReader("data")); err != nil {
		t.Fatalf("Put to a bucket in another region: %v", err)
	}
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get = %q", got)
	}
	if d.Region() != "ap-northeast-1" {
		t.Errorf("Region() = %q after healing", d.Region())
	}
	if !strings.Contains(logs.String(), "another region") {
		t.Errorf("healing not logged: %q", logs.String())
	}
}

func TestWrongRegionReported(t *testing.T) {
	srv := withBucket(t)
	// A server that refuses the signing region and never says the right one.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusBadRequest, "AuthorizationHeaderMalformed",
			"the region 'us-east-1' is wrong; expecting 'eu-north-1'")
		return true
	})
	d := newDest(t, srv)
	err := d.Test(t.Context())
	if !errors.Is(err, s3dest.ErrWrongRegion) || !strings.Contains(err.Error(), "s3-location-constraint") {
		t.Errorf("Test: %v, want ErrWrongRegion with a hint", err)
	}
	// With the header, the error names the region to set.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-Amz-Bucket-Region", "eu-north-1")
		s3test.WriteError(w, r, http.StatusBadRequest, "AuthorizationHeaderMalformed", "wrong region")
		return true
	})
	err = d.Test(t.Context())
	if !errors.Is(err, s3dest.ErrWrongRegion) || !strings.Contains(err.Error(), "s3-location-constraint=eu-north-1") {
		t.Errorf("Test: %v, want the region named", err)
	}
}

func TestVirtualHostedAddressing(t *testing.T) {
	srv := withBucket(t)
	d := awsDest(t, srv, s3dest.WithRegion("eu-west-2"), s3dest.WithPrefix("p"))
	put(t, d, "vol", "x")
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Host != "backups.s3.eu-west-2.amazonaws.com" || last.Path != "/backups/p/vol" {
		t.Errorf("PUT went to host %q path %q", last.Host, last.Path)
	}
}

// The SDK's default checksums (a CRC32 on every upload, aws-chunked
// trailers over TLS) break many S3-compatible servers: Client() users get
// them on AWS only.
func TestChecksumDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		aws     bool
		wantCRC bool
	}{{"S3-compatible", false, false}, {"AWS", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv)
			if tc.aws {
				d = awsDest(t, srv, s3dest.WithRegion("eu-west-1"))
			}
			srv.ResetRequests()
			_, err := d.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("raw"),
				Body: strings.NewReader("data")})
			if err != nil {
				t.Fatal(err)
			}
			h := srv.Requests()[0].Header
			if got := h.Get("X-Amz-Checksum-Crc32") != "" || h.Get("X-Amz-Sdk-Checksum-Algorithm") != ""; got != tc.wantCRC {
				t.Errorf("raw PutObject sent an SDK checksum: %v, want %v (headers %v)", got, tc.wantCRC, h)
			}
			if strings.Contains(h.Get("Content-Encoding"), "aws-chunked") {
				t.Error("raw PutObject used aws-chunked")
			}
		})
	}
}

func TestDisablePayloadSigning(t *testing.T) {
	srv := withBucket(t)
	d, err := s3dest.Open(t.Context(), "s3://backups/?s3-disable-payload-signing=true&aws-access-key-id=k&aws-secret-access-key=s&s3-server-name="+srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	put(t, d, "vol", "x")
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" {
			t.Errorf("x-amz-content-sha256 = %q, want UNSIGNED-PAYLOAD", r.Header.Get("X-Amz-Content-Sha256"))
		}
	}
}

// S3-compatible servers name the region they expect only in the message of
// AuthorizationHeaderMalformed, with no x-amz-bucket-region header.
func TestWrongRegionHealedFromMessage(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if got := s3test.SigningRegion(r.Header); got != "eu-north-1" {
			s3test.WriteError(w, r, http.StatusBadRequest, "AuthorizationHeaderMalformed",
				`The authorization header is malformed; the region "`+got+`" is wrong; expecting "eu-north-1"`)
			return true
		}
		return false
	})
	d := newDest(t, srv, s3dest.WithRegion("us-west-1"))
	put(t, d, "vol", "data")
	if got := get(t, d, "vol"); got != "data" {
		t.Errorf("Get = %q", got)
	}
	if d.Region() != "eu-north-1" || d.Endpoint() != srv.Endpoint {
		t.Errorf("after healing: region %q endpoint %q, want eu-north-1 on the same server", d.Region(), d.Endpoint())
	}
}

// serverInRegion makes the fake answer as versitygw started for region
// does: a request signed for another region is 400
// AuthorizationHeaderMalformed naming the region it expects (no
// x-amz-bucket-region header), and CreateBucket with another
// LocationConstraint is 400 InvalidLocationConstraint, naming none.
func serverInRegion(srv *s3test.Server, region string) {
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if got := s3test.SigningRegion(r.Header); got != region {
			s3test.WriteError(w, r, http.StatusBadRequest, "AuthorizationHeaderMalformed",
				`The authorization header is malformed; the region "`+got+`" is wrong; expecting "`+region+`"`)
			return true
		}
		if r.Method == http.MethodPut && !strings.Contains(strings.Trim(r.URL.Path, "/"), "/") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if m := regexp.MustCompile(`<LocationConstraint>([^<]*)<`).FindSubmatch(body); m != nil && string(m[1]) != region {
				s3test.WriteError(w, r, http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid")
				return true
			}
		}
		return false
	})
}

// A missing bucket with a wrong s3-location-constraint, on a server in
// us-east-1 (s3dest test --create -v): the region the server asks
// requests to be signed for is not the bucket's region, which has none,
// and the log must not say it is; the failed create names the region to
// set.
func TestMissingBucketWrongRegion(t *testing.T) {
	srv := s3test.New(t)
	serverInRegion(srv, "us-east-1")
	raw := "s3://missing-bucket/p?s3-server-name=" + srv.Endpoint + "&s3-location-constraint=eu-west-1" +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey
	var logs bytes.Buffer
	d := mustOpen(t, raw, s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
		t.Fatalf("Test: %v, want ErrBucketNotFound", err)
	}
	if strings.Contains(logs.String(), "the bucket is in") {
		t.Errorf("the log says where a bucket that does not exist is:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "us-east-1") {
		t.Errorf("the log does not name the region it switched to:\n%s", logs.String())
	}
	err := d.CreateBucket(t.Context())
	if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "s3-location-constraint=us-east-1") {
		t.Errorf("CreateBucket: %v, want ErrInvalid with a hint naming s3-location-constraint=us-east-1", err)
	}
	// CreateBucket first, without a Test before it.
	err = mustOpen(t, raw).CreateBucket(t.Context())
	if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "s3-location-constraint=us-east-1") {
		t.Errorf("CreateBucket alone: %v, want ErrInvalid with a hint naming s3-location-constraint=us-east-1", err)
	}
}

// The same on a real server that checks the signing region (versitygw in
// us-east-1).
func TestMissingBucketWrongRegionOnServer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() || !tg.checksRegion() {
			t.Skip("needs a server that checks the signing region (TestMissingBucketWrongRegion covers the fake)")
		}
		var id [4]byte
		_, _ = rand.Read(id[:])
		missing := "s3dest-missing-" + hex.EncodeToString(id[:])
		raw := strings.Replace(tg.rawURL, "s3://"+tg.bucket+"/", "s3://"+missing+"/", 1) + "&s3-location-constraint=eu-west-1"
		var logs bytes.Buffer
		d := mustOpen(t, raw, s3dest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Fatalf("Test: %v, want ErrBucketNotFound", err)
		}
		if strings.Contains(logs.String(), "the bucket is in") {
			t.Errorf("the log says where a bucket that does not exist is:\n%s", logs.String())
		}
		err := d.CreateBucket(t.Context())
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "s3-location-constraint=us-east-1") {
			t.Errorf("CreateBucket: %v, want ErrInvalid with a hint naming s3-location-constraint=us-east-1", err)
		}
	})
}
