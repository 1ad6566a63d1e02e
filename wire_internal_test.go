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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

// describe is what callers and s3dest read of an error.
func describe(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Error(): %v\n", err)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Fprintf(&b, "api error %T %q %q %v\n", ae, ae.ErrorCode(), ae.ErrorMessage(), ae.ErrorFault())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		fmt.Fprintf(&b, "status %d request id %q\n", re.HTTPStatusCode(), re.ServiceRequestID())
	}
	var host interface{ ServiceHostID() string }
	if errors.As(err, &host) {
		fmt.Fprintf(&b, "host id %q\n", host.ServiceHostID())
	}
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		fmt.Fprintf(&b, "attempts %d\n", mae.Attempt)
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		b.WriteString("send error\n")
	}
	var ios *types.InvalidObjectState
	if errors.As(err, &ios) {
		fmt.Fprintf(&b, "archived %s %s\n", ios.StorageClass, ios.AccessTier)
	}
	kind, code := classify(err, false)
	text, id := shortCause(err)
	fmt.Fprintf(&b, "kind %v code %q\nshort %s [%s]\n", kind, code, text, id)
	// The SDK's x-id query parameter shows in the URL of a failed send.
	return regexp.MustCompile(`[?&]x-id=[A-Za-z]+`).ReplaceAllString(b.String(), "")
}

func TestWireErrorsAreTheSDKs(t *testing.T) {
	xmlError := func(code, msg, extra string) string {
		return "<Error><Code>" + code + "</Code><Message>" + msg + "</Message>" + extra +
			"<RequestId>BODYREQ</RequestId><HostId>BODYHOST</HostId></Error>"
	}
	answers := map[string]struct {
		status int
		body   string
		err    error // a transport failure instead of an answer
	}{
		"NoSuchKey":           {404, xmlError("NoSuchKey", "The specified key does not exist.", ""), nil},
		"lower-case code":     {404, xmlError("nosuchkey", "no", ""), nil},
		"InvalidObjectState":  {403, xmlError("InvalidObjectState", "archived", "<StorageClass>GLACIER</StorageClass><AccessTier>ARCHIVE_ACCESS</AccessTier>"), nil},
		"bare 404":            {404, "", nil},
		"bare 403":            {403, "", nil},
		"InvalidRequest":      {400, xmlError("InvalidRequest", "Bucket is missing Object Lock Configuration", ""), nil},
		"code without words":  {400, "<Error><Code>InvalidArgument</Code></Error>", nil},
		"InternalError":       {500, xmlError("InternalError", "try again", ""), nil},
		"SlowDown":            {503, xmlError("SlowDown", "Please reduce your request rate.", ""), nil},
		"bare 500":            {500, "", nil},
		"PermanentRedirect":   {301, xmlError("PermanentRedirect", "use the other endpoint", "<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>"), nil},
		"broken XML":          {400, "<Error><Code>Broken", nil},
		"connection reset":    {0, "", errors.New("connection reset by peer")},
		"RequestTimeout":      {400, xmlError("RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.", ""), nil},
		"AccessDenied":        {403, xmlError("AccessDenied", "Access Denied", ""), nil},
		"XAdminUserNotFound":  {404, xmlError("XAdminUserNotFound", "unknown user", ""), nil},
		"NotImplemented":      {501, xmlError("NotImplemented", "A header you provided implies functionality that is not implemented", ""), nil},
		"PreconditionFailed":  {412, xmlError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", ""), nil},
		"bare 412 (HEAD)":     {412, "", nil},
		"InvalidRange (bare)": {416, "", nil},
	}
	for name, a := range answers {
		rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
			if a.err != nil {
				return nil, a.err
			}
			h := http.Header{"X-Amz-Request-Id": {"HDRREQ"}, "X-Amz-Id-2": {"HDRHOST"}, "Content-Type": {"application/xml"}}
			body := a.body
			if r.Method == http.MethodHead {
				body = "" // S3 answers a HEAD without a body
			}
			return &http.Response{StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
				Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
		}}
		_, c, w := wireDest(t, "backups", wireModes["custom http"], rec)
		for _, tc := range wireCases("backups") {
			_, sdkErr := tc.sdk(t.Context(), c)
			sdkTries := len(rec.take())
			_, wireErr := tc.wire(t.Context(), w)
			wireTries := len(rec.take())
			if sdkErr == nil || wireErr == nil {
				t.Fatalf("%s/%s: SDK %v, wire %v: want errors", name, tc.name, sdkErr, wireErr)
			}
			if diff := cmp.Diff(describe(sdkErr), describe(wireErr)); diff != "" {
				t.Errorf("%s/%s: errors differ (-SDK +wire):\n%s", name, tc.name, diff)
			}
			if sdkTries != wireTries {
				t.Errorf("%s/%s: the SDK tried %d times, the wire %d", name, tc.name, sdkTries, wireTries)
			}
		}
	}
}

// A server whose clock is an hour ahead refuses the first request
// (RequestTimeTooSkewed, its time in Date); the wire signs the retry with
// the server's time, as the SDK does, and every later request too.
func TestWireCorrectsClockSkew(t *testing.T) {
	ahead := time.Now().Add(time.Hour).UTC()
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		signed, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil || signed.Sub(ahead).Abs() > 5*time.Minute {
			body := xmlErrorBody("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
			return &http.Response{StatusCode: 403, Header: http.Header{"Date": {ahead.Format(http.TimeFormat)}},
				Body: io.NopCloser(strings.NewReader(body))}, nil
		}
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	d, _, _ := wireDest(t, "backups", wireModes["custom http"], rec)
	if err := d.Delete(t.Context(), "a"); err != nil {
		t.Fatalf("Delete with a skewed server clock: %v", err)
	}
	if got := len(rec.take()); got != 2 {
		t.Errorf("%d requests, want the refused one and its retry", got)
	}
	if err := d.Delete(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Errorf("the next call took %d requests, want 1: the skew is kept", got)
	}
}

func xmlErrorBody(code, msg string) string {
	return "<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>"
}

// The wire steps aside for what it cannot send as the SDK would: a client
// changed by WithS3Options, an input field it does not serialize.
func TestWireStepsAside(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	rec2 := &recorder{answer: rec.answer}
	d, err := New(t.Context(), "backups", append(wireModes["custom http"], WithHTTPClient(&http.Client{Transport: rec2}),
		WithS3Options(func(o *s3.Options) { o.UsePathStyle = true }))...)
	if err != nil {
		t.Fatal(err)
	}
	if d.state.Load().wire != nil {
		t.Error("WithS3Options given, and the destination still has a wire")
	}
	_, c, w := wireDest(t, "backups", wireModes["custom http"], rec)
	in := &s3.DeleteObjectInput{Bucket: aws.String("backups"), Key: aws.String("a"), MFA: aws.String("123 456")}
	if err := w.call(t.Context(), "DeleteObject", http.MethodDelete, in, in.Bucket, in.Key, &s3.DeleteObjectOutput{}, nil); err != errWireUnsupported {
		t.Errorf("the wire sent an input with a field it does not serialize (MFA): %v", err)
	}
	d2 := &Destination{}
	d2.state.Store(&clientState{client: c, wire: w})
	if _, err := d2.deleteObjectCall(t.Context(), c, in); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if len(got) != 1 || got[0].Header.Get("X-Amz-Mfa") != "123 456" {
		t.Errorf("the call with MFA sent %+v, want it sent by the SDK with its MFA header", got)
	}
	other := &s3.DeleteObjectInput{Bucket: aws.String("other-bucket"), Key: aws.String("a")}
	if err := w.call(t.Context(), "DeleteObject", http.MethodDelete, other, other.Bucket, other.Key, &s3.DeleteObjectOutput{}, nil); err != errWireUnsupported {
		t.Errorf("the wire of bucket backups sent a request for other-bucket: %v", err)
	}
}

// A call cancelled while the wire waits to retry ends at once, with the
// context's error.
func TestWireCancelDuringBackoff(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(xmlErrorBody("SlowDown", "slow")))}, nil
	}}
	d, err := New(t.Context(), "backups", append(wireModes["custom http"], WithHTTPClient(&http.Client{Transport: rec}),
		WithMaxBackoffForTest(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = d.Delete(ctx, "a")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("Delete = %v after %v, want the context's deadline at once", err, time.Since(start))
	}
}

// staleReader is a transport that fails the first attempt at once but, as
// net/http may, goes on reading that attempt's body after RoundTrip has
// returned; the retry's body must be whole.
type staleReader struct {
	attempts  int
	abandoned io.ReadCloser
	got       []byte
}

func (s *staleReader) RoundTrip(r *http.Request) (*http.Response, error) {
	s.attempts++
	if s.attempts == 1 {
		s.abandoned = r.Body
		return nil, errors.New("connection reset by peer")
	}
	// The first attempt's writer wakes up now, while the retry is sent.
	_, _ = io.Copy(io.Discard, s.abandoned)
	s.got, _ = io.ReadAll(r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`"x"`}}, Body: http.NoBody, Request: r}, nil
}

func TestWireRetryBodyIsItsOwn(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 1000))
	for _, mode := range []string{"custom http", "custom https"} {
		tr := &staleReader{}
		d, err := New(t.Context(), "backups", append(wireModes[mode], WithHTTPClient(&http.Client{Transport: tr}),
			WithMaxBackoffForTest(time.Millisecond))...)
		if err != nil {
			t.Fatal(err)
		}
		st := d.state.Load()
		in := &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("k"), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: aws.String("crc==")}
		if _, err := d.putObjectCall(t.Context(), st.client, in, nil); err != nil {
			t.Fatal(err)
		}
		if tr.attempts != 2 || !bytes.Equal(tr.got, data) {
			t.Errorf("%s: %d attempts; the retry sent %d bytes of %d (the abandoned attempt read the rest)",
				mode, tr.attempts, len(tr.got), len(data))
		}
	}
}
