package s3dest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The wire (wire.go) must be the SDK, cheaper: these tests send every
// operation both ways through a transport that records what would go on
// the network and answers with canned responses, and compare the requests,
// the outputs and the errors.

// recorder is an HTTP transport that records requests and answers them.
type recorder struct {
	mu     sync.Mutex
	got    []recorded
	answer func(r *http.Request, body []byte) (*http.Response, error)
}

// recorded is a request as it would go on the network, without what
// differs from one request to the next (dates, signatures, ids) or
// between the SDK and the wire on purpose (the SDK's user agent and
// attempt headers, its x-id query parameter, which servers ignore).
type recorded struct {
	Method, Host, URI string
	Length            int64
	Header            http.Header
	Body              string
	Signed            bool // an Authorization header was sent
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	q := r.URL.Query()
	q.Del("x-id")
	uri := r.URL.EscapedPath()
	if len(q) != 0 {
		uri += "?" + q.Encode()
	}
	h := r.Header.Clone()
	// Both user agents name the SDK and its version; only the SDK's lists
	// the features of the call.
	if ua := h.Get("User-Agent"); !strings.HasPrefix(ua, "aws-sdk-go-v2/"+aws.SDKVersion+" ") || !strings.Contains(ua, " api/s3#") {
		return nil, fmt.Errorf("user agent %q", ua)
	}
	for _, k := range []string{"Authorization", "X-Amz-Date", "User-Agent", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request"} {
		h.Del(k)
	}
	rec.mu.Lock()
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	rec.got = append(rec.got, recorded{Method: r.Method, Host: host, URI: uri, Length: r.ContentLength, Header: h,
		Body: string(body), Signed: r.Header.Get("Authorization") != ""})
	rec.mu.Unlock()
	if p := r.Header.Get("X-Amz-Content-Sha256"); p != "UNSIGNED-PAYLOAD" && p != emptySHA256 {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != p {
			return nil, fmt.Errorf("payload hash %s is not the body's", p)
		}
	}
	resp, err := rec.answer(r, body)
	if resp != nil {
		resp.Request = r
	}
	return resp, err
}

func (rec *recorder) take() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got
	rec.got = nil
	return got
}

// everyHeader is an answer that carries every header the SDK reads into
// an object output.
func everyHeader(expires string) http.Header {
	h := http.Header{}
	for _, f := range responseHeaders {
		v := " value-of-" + f.field + " "
		switch f.kind {
		case hBool:
			v = "true"
		case hInt64, hInt32:
			v = "7"
		case hHTTPDate:
			v = "Mon, 30 Nov 2026 08:00:00 GMT"
		case hISODate:
			v = "2026-12-01T10:11:12.345Z"
		case hExpires:
			v = expires
		}
		h.Set(f.header, v)
	}
	h.Set("X-Amz-Meta-Color", " blue ")
	h.Set("X-Amz-Meta-Mixed-Case", "x")
	h.Set("X-Amz-Request-Id", "REQ1")
	h.Set("X-Amz-Id-2", "HOST1")
	return h
}

// wireModes are destinations whose requests differ in form: path or
// virtual-host style, plain HTTP (signed bodies) or TLS, the SDK's own
// checksums (AWS) or not, unsigned payloads, anonymous, session tokens.
var wireModes = map[string][]Option{
	"custom http":  {WithServerName("http://s3.example.test:9000"), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1")},
	"custom https": {WithServerName("https://s3.example.test"), WithSessionCredentials("AKID", "SECRET", "TOKEN"), WithRegion("eu-central-1")},
	"aws":          {WithRegion("eu-west-1"), WithCredentials("AKID", "SECRET")},
	"aws path":     {WithRegion("us-west-2"), WithCredentials("AKID", "SECRET"), WithPathStyle(true)},
	"anonymous":    {WithServerName("http://s3.example.test:9000"), WithAnonymous(true), WithRegion("us-east-1")},
	"unsigned": {WithServerName("http://s3.example.test:9000"), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1"),
		func(c *config) { c.disablePayloadSigning = true }},
}

// wireDest is a destination of mode whose requests rec answers.
func wireDest(t *testing.T, bucket string, mode []Option, rec *recorder) (*Destination, *s3.Client, *wire) {
	t.Helper()
	d, err := New(t.Context(), bucket, append(mode, WithHTTPClient(&http.Client{Transport: rec}),
		WithMaxBackoffForTest(time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	st := d.state.Load()
	if st.wire == nil {
		t.Fatal("the destination has no wire")
	}
	return d, st.client, st.wire
}

// wireCase is one operation sent both ways.
type wireCase struct {
	name string
	sdk  func(ctx context.Context, c *s3.Client) (any, error)
	wire func(ctx context.Context, w *wire) (any, error)
}

func wireCases(bucket string) []wireCase {
	key := "dir/a b+c%d~é!'()*&=?#[]@$,;:\x7f.txt"
	data := []byte("the body of the object")
	date := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func() *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			ContentMD5: aws.String("md5=="), ContentType: aws.String("application/octet-stream"),
			ChecksumCRC32C: aws.String("crc=="), StorageClass: "STANDARD_IA",
			Metadata:             map[string]string{"s3dest-put": "id", "Mixed-Case": "v", "empty": ""},
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("kms-key"),
			IfNoneMatch: aws.String("*"), ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &date,
			ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn}
	}
	ssec := func() (*string, *string, *string) {
		return aws.String("AES256"), aws.String("a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U="), aws.String("bWQ1bWQ1bWQ1bWQ1bWQ1bQ==")
	}
	get := func() *s3.GetObjectInput {
		in := &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: aws.String("v+1/2="), Range: aws.String("bytes=0-9"),
			ChecksumMode: types.ChecksumModeEnabled, PartNumber: aws.Int32(2)}
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec()
		return in
	}
	head := func() *s3.HeadObjectInput {
		in := &s3.HeadObjectInput{Bucket: &bucket, Key: &key, VersionId: aws.String("v 1"), ChecksumMode: types.ChecksumModeEnabled}
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec()
		return in
	}
	part := func() *s3.UploadPartInput {
		in := &s3.UploadPartInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			PartNumber: aws.Int32(3), UploadId: aws.String("up+load/id="), ChecksumCRC32C: aws.String("crc==")}
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec()
		return in
	}
	del := func() *s3.DeleteObjectInput {
		return &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, VersionId: aws.String("v1")}
	}
	call := func(w *wire, op, method string, in any, b, k *string, out any) (any, error) {
		err := w.call(context.Background(), op, method, in, b, k, out, nil)
		if err == errWireUnsupported {
			return nil, errors.New("the wire refused the input")
		}
		return out, err
	}
	return []wireCase{
		{"PutObject", func(ctx context.Context, c *s3.Client) (any, error) { return c.PutObject(ctx, put()) },
			func(ctx context.Context, w *wire) (any, error) {
				in := put()
				return call(w, "PutObject", http.MethodPut, in, in.Bucket, in.Key, &s3.PutObjectOutput{})
			}},
		{"UploadPart", func(ctx context.Context, c *s3.Client) (any, error) { return c.UploadPart(ctx, part()) },
			func(ctx context.Context, w *wire) (any, error) {
				in := part()
				return call(w, "UploadPart", http.MethodPut, in, in.Bucket, in.Key, &s3.UploadPartOutput{})
			}},
		{"GetObject", func(ctx context.Context, c *s3.Client) (any, error) { return c.GetObject(ctx, get(), noSDKValidation) },
			func(ctx context.Context, w *wire) (any, error) {
				in := get()
				return call(w, "GetObject", http.MethodGet, in, in.Bucket, in.Key, &s3.GetObjectOutput{})
			}},
		{"HeadObject", func(ctx context.Context, c *s3.Client) (any, error) { return c.HeadObject(ctx, head()) },
			func(ctx context.Context, w *wire) (any, error) {
				in := head()
				return call(w, "HeadObject", http.MethodHead, in, in.Bucket, in.Key, &s3.HeadObjectOutput{})
			}},
		{"DeleteObject", func(ctx context.Context, c *s3.Client) (any, error) { return c.DeleteObject(ctx, del()) },
			func(ctx context.Context, w *wire) (any, error) {
				in := del()
				return call(w, "DeleteObject", http.MethodDelete, in, in.Bucket, in.Key, &s3.DeleteObjectOutput{})
			}},
	}
}

// outputOpts compare outputs field by field, bodies apart.
var outputOpts = cmp.Options{
	cmpopts.IgnoreUnexported(s3.PutObjectOutput{}, s3.UploadPartOutput{}, s3.GetObjectOutput{}, s3.HeadObjectOutput{}, s3.DeleteObjectOutput{}),
	cmpopts.IgnoreFields(s3.GetObjectOutput{}, "Body"),
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ResultMetadata" }, cmp.Ignore()),
}

func TestWireSendsWhatTheSDKSends(t *testing.T) {
	for modeName, mode := range wireModes {
		for _, expires := range []string{"Tue, 01 Dec 2026 00:00:00 GMT", "not a date"} {
			rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
				body := "hello"
				if r.Method == http.MethodHead {
					body = ""
				}
				return &http.Response{StatusCode: 200, Header: everyHeader(expires), Body: io.NopCloser(strings.NewReader(body)),
					ContentLength: int64(len(body))}, nil
			}}
			for _, bucket := range []string{"backups", "my.backups"} {
				_, c, w := wireDest(t, bucket, mode, rec)
				for _, tc := range wireCases(bucket) {
					name := modeName + "/" + bucket + "/" + tc.name
					sdkOut, err := tc.sdk(t.Context(), c)
					if err != nil {
						t.Fatalf("%s: SDK: %v", name, err)
					}
					sdkReq := rec.take()
					wireOut, err := tc.wire(t.Context(), w)
					if err != nil {
						t.Fatalf("%s: wire: %v", name, err)
					}
					wireReq := rec.take()
					if diff := cmp.Diff(sdkReq, wireReq); diff != "" {
						t.Errorf("%s: requests differ (-SDK +wire):\n%s", name, diff)
					}
					if diff := cmp.Diff(sdkOut, wireOut, outputOpts); diff != "" {
						t.Errorf("%s: outputs differ (-SDK +wire):\n%s", name, diff)
					}
					if g, ok := wireOut.(*s3.GetObjectOutput); ok {
						if b, _ := io.ReadAll(g.Body); string(b) != "hello" {
							t.Errorf("%s: wire body %q", name, b)
						}
					}
				}
			}
		}
	}
}

// Requests match in the other endpoint forms (FIPS, dual-stack,
// accelerate, an auth region, explicit ports, IPv6, other partitions) for
// odd keys and nil, empty and one-byte bodies.
func TestWireSendsWhatTheSDKSendsEverywhere(t *testing.T) {
	modes := map[string][]Option{
		"fips":         {WithRegion("us-east-1"), WithCredentials("AKID", "SECRET"), func(c *config) { c.fips = true }},
		"dualstack":    {WithRegion("eu-west-1"), WithCredentials("AKID", "SECRET"), func(c *config) { c.dualStack = true }},
		"accelerate":   {WithRegion("eu-west-1"), WithCredentials("AKID", "SECRET"), func(c *config) { c.accelerate = true }},
		"authregion":   {WithServerName("https://s3.example.test"), WithCredentials("AKID", "SECRET"), WithAuthRegion("auto")},
		"port443":      {WithServerName("https://s3.example.test:443"), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1")},
		"ipv6":         {WithServerName("http://[::1]:9000"), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1")},
		"aws http":     {WithServerName("http://s3.amazonaws.com"), WithCredentials("AKID", "SECRET"), WithRegion("eu-west-1")},
		"gov":          {WithRegion("us-gov-west-1"), WithCredentials("AKID", "SECRET")},
		"cn":           {WithRegion("cn-north-1"), WithCredentials("AKID", "SECRET")},
		"custom vhost": {WithServerName("https://s3.example.test"), WithCredentials("AKID", "SECRET"), WithPathStyle(false)},
	}
	keys := []string{"/leading", "a//b", "../up", "./x", "a/./b/../c", "sp ace", "%2F", "é", "tab\tx", "~q"}
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`"x"`}}, Body: io.NopCloser(strings.NewReader(""))}, nil
	}}
	compared := 0
	for name, mode := range modes {
		for _, bucket := range []string{"backups", "my.backups", "Legacy_Bucket"} {
			d, err := New(t.Context(), bucket, append(mode, WithHTTPClient(&http.Client{Transport: rec}))...)
			if err != nil {
				t.Logf("%s/%s: New: %v", name, bucket, err)
				continue
			}
			st := d.state.Load()
			if st.wire == nil {
				t.Logf("%s/%s: no wire", name, bucket)
				continue
			}
			compared++
			c, w := st.client, st.wire
			for _, key := range keys {
				for _, data := range [][]byte{nil, {}, []byte("x")} {
					mk := func() *s3.PutObjectInput {
						in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ContentLength: aws.Int64(int64(len(data))),
							ChecksumCRC32C: aws.String("crc=="), ContentType: aws.String("application/octet-stream")}
						if data != nil {
							in.Body = bytes.NewReader(data)
						}
						return in
					}
					_, sdkErr := c.PutObject(context.Background(), mk())
					sdk := rec.take()
					in := mk()
					wireErr := w.call(context.Background(), "PutObject", http.MethodPut, in, in.Bucket, in.Key, &s3.PutObjectOutput{}, nil)
					wr := rec.take()
					if (sdkErr == nil) != (wireErr == nil) {
						t.Errorf("%s/%s/%q/%v: sdk %v wire %v", name, bucket, key, data, sdkErr, wireErr)
						continue
					}
					if diff := cmp.Diff(sdk, wr); diff != "" {
						t.Errorf("%s/%s/%q body=%v: requests differ (-SDK +wire):\n%s", name, bucket, key, data, diff)
					}
				}
				gin := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
				_, _ = c.GetObject(context.Background(), gin, noSDKValidation)
				sdk := rec.take()
				gout := &s3.GetObjectOutput{}
				_ = w.call(context.Background(), "GetObject", http.MethodGet, gin, gin.Bucket, gin.Key, gout, nil)
				wr := rec.take()
				if diff := cmp.Diff(sdk, wr); diff != "" {
					t.Errorf("%s/%s/%q GET: requests differ (-SDK +wire):\n%s", name, bucket, key, diff)
				}
			}
		}
	}
	// Accelerate takes no bucket that is not a DNS label (my.backups,
	// Legacy_Bucket): the SDK sends those; every other form has a wire.
	if want := len(modes)*3 - 2; compared != want {
		t.Errorf("%d endpoint forms compared, want %d: a form lost its wire", compared, want)
	}
}
