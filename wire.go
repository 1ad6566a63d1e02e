package s3dest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The wire is s3dest's own request path for the calls a backup makes by
// the thousand: PutObject, GetObject, HeadObject, DeleteObject and
// UploadPart. The SDK builds a middleware stack of some forty steps for
// every call, about 450 allocations and 55 to 80 µs of the client's own
// time for a 16 KiB object; the wire sends the same request with 35 to 60
// allocations in 6 to 22 µs (BenchmarkSmallOps, docs/BENCHMARKS.md):
//   - the same URL, from the SDK's own endpoint rules, resolved once per
//     region (newWire);
//   - the same headers, from the same input structs (wireops.go), and the
//     same output structs, parsed from the same headers (wireheaders.go);
//   - signed with SigV4 as the SDK's signer signs, with the client's
//     credentials (wiresign.go);
//   - retried by the client's retryer, with the SDK's error types, so that
//     errors.As, classify and the hints see no difference.
//
// A call the wire cannot send exactly as the SDK would goes through the
// SDK: an input field the wire does not serialize, a client changed by
// WithS3Options, an endpoint that wants another signature (S3 Express,
// SigV4a). wire_internal_test.go, wire_errors_test.go and
// wire_retry_test.go send every operation both ways and compare what the
// server receives, and what the caller gets back.
type wire struct {
	bucket      string
	http        aws.HTTPClient
	creds       aws.CredentialsProvider // nil: anonymous, unsigned
	signer      *signer                 // nil: anonymous
	service     string                  // signing name: "s3"
	region      string                  // signing region
	scheme      string
	host        string
	path        string // the bucket's path on the host, "" or "/bucket"
	rawPath     string // path escaped
	retryer     aws.Retryer
	unsigned    bool // bodies are sent as UNSIGNED-PAYLOAD: over TLS, as the SDK does
	unsignedAll bool // every request is: s3-disable-payload-signing
	// sdkSums: the client computes request checksums where S3 supports
	// them; a body without a checksum of ours then goes through the SDK.
	sdkSums   bool
	userAgent string
	// skew is the server's clock minus ours, learned from an answer that
	// refused our signing time; signing times add it.
	skew atomic.Int64
}

// newWire returns the wire of client for bucket, or nil when the bucket's
// endpoint wants something the wire does not do.
func newWire(ctx context.Context, client *s3.Client, bucket string, unsignedAll bool) *wire {
	o := client.Options()
	if o.EndpointResolverV2 == nil || o.HTTPClient == nil || o.Retryer == nil {
		return nil
	}
	params := s3.EndpointParameters{
		Bucket:                         &bucket,
		Region:                         &o.Region,
		UseFIPS:                        aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack:                   aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		Endpoint:                       o.BaseEndpoint,
		ForcePathStyle:                 aws.Bool(o.UsePathStyle),
		Accelerate:                     aws.Bool(o.UseAccelerate),
		DisableMultiRegionAccessPoints: aws.Bool(o.DisableMultiRegionAccessPoints),
		UseArnRegion:                   aws.Bool(o.UseARNRegion),
		DisableS3ExpressSessionAuth:    o.DisableS3ExpressSessionAuth,
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, params)
	if err != nil || len(ep.Headers) != 0 || ep.URI.Host == "" {
		return nil
	}
	w := &wire{bucket: bucket, http: o.HTTPClient, service: "s3", region: o.Region, scheme: ep.URI.Scheme, host: ep.URI.Host,
		path: strings.TrimSuffix(ep.URI.Path, "/"), retryer: o.Retryer,
		unsigned: unsignedAll || ep.URI.Scheme == "https", unsignedAll: unsignedAll,
		sdkSums: o.RequestChecksumCalculation == aws.RequestChecksumCalculationWhenSupported}
	w.userAgent = sdkUserAgent
	if o.AppID != "" {
		w.userAgent += " app/" + o.AppID
	}
	w.rawPath = escapePath(w.path)
	if ep.URI.RawPath != "" {
		w.rawPath = strings.TrimSuffix(ep.URI.RawPath, "/")
	}
	if opts, ok := smithyauth.GetAuthOptions(&ep.Properties); ok && len(opts) > 0 {
		// The endpoint rules name the scheme "sigv4" ("sigv4a",
		// "sigv4-s3express" for the others).
		if id := opts[0].SchemeID; id != "sigv4" && id != smithyauth.SchemeIDSigV4 {
			return nil
		}
		if name, ok := smithyhttp.GetSigV4SigningName(&opts[0].SignerProperties); ok && name != "" {
			w.service = name
		}
		if region, ok := smithyhttp.GetSigV4SigningRegion(&opts[0].SignerProperties); ok && region != "" {
			w.region = region
		}
	}
	if o.Credentials != nil && !aws.IsCredentialsProvider(o.Credentials, (*aws.AnonymousCredentials)(nil)) {
		w.creds = o.Credentials
		w.signer = &signer{}
	}
	return w
}

// wireFor returns the wire of client when it is the current state's, else
// nil: the call goes through the SDK.
func (d *Destination) wireFor(c *s3.Client) *wire {
	if st := d.state.Load(); st != nil && st.client == c {
		return st.wire
	}
	return nil
}

// wireReq is one request of the wire.
type wireReq struct {
	op       string // the SDK's operation name, for errors
	method   string
	key      string
	query    url.Values // nil: none
	header   http.Header
	body     io.ReadSeeker // nil: none
	length   int64
	attempts *atomic.Int32 // counts every attempt when not nil
}

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// do sends r, retrying as the client's retryer says, and returns the
// answer of a 2xx status; any other status is an SDK error, its body read
// and closed.
func (w *wire) do(ctx context.Context, r *wireReq) (*http.Response, error) {
	u := &url.URL{Scheme: w.scheme, Host: w.host, Path: w.path + "/" + r.key}
	if esc := escapePath(r.key); esc != r.key || w.rawPath != w.path {
		u.RawPath = w.rawPath + "/" + esc
	}
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	payload := emptySHA256
	if w.unsignedAll {
		payload = "UNSIGNED-PAYLOAD"
	} else if r.body != nil {
		payload = "UNSIGNED-PAYLOAD"
		if !w.unsigned {
			sum, err := hashBody(r.body)
			if err != nil {
				return nil, w.opError(r.op, err)
			}
			payload = sum
		}
	}
	r.header.Set("X-Amz-Content-Sha256", payload)
	r.header["User-Agent"] = []string{w.userAgent}
	if r.body != nil && r.length >= 2<<20 {
		r.header.Set("Expect", "100-continue") // as the SDK: a refusal costs no body
	}
	maxAttempts := w.retryer.MaxAttempts()
	for attempt := 1; ; attempt++ {
		if r.attempts != nil {
			r.attempts.Add(1)
		}
		resp, err := w.send(ctx, r, u, payload, attempt > 1)
		if err == nil {
			return resp, nil
		}
		if !w.retryer.IsErrorRetryable(err) && !w.skewed(err) {
			return nil, w.opError(r.op, err)
		}
		if attempt >= maxAttempts {
			return nil, w.opError(r.op, &retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		// The retryer has no retry quota (newRetryer): no token to take.
		delay, derr := w.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, w.opError(r.op, err)
		}
		if serr := sleepCtx(ctx, retryAfter(delay, err)); serr != nil {
			return nil, w.opError(r.op, &aws.RequestCanceledError{Err: serr})
		}
		if r.body != nil {
			if _, serr := r.body.Seek(0, io.SeekStart); serr != nil {
				return nil, w.opError(r.op, err)
			}
		}
	}
}

// send makes one attempt. A retry sends a copy of the headers (the
// transport may still hold the first attempt's) without what the first
// attempt's signature added: it is signed afresh, as the SDK signs every
// attempt on the unsigned request, with the credentials of its time.
func (w *wire) send(ctx context.Context, r *wireReq, u *url.URL, payload string, retry bool) (*http.Response, error) {
	header := r.header
	if retry {
		header = header.Clone()
		for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			delete(header, k)
		}
	}
	req := &http.Request{Method: r.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Host: u.Host, ContentLength: r.length}
	var body *attemptBody
	if r.body != nil {
		req.Body = http.NoBody
		if r.length > 0 {
			body = &attemptBody{r: r.body}
			req.Body = body
		}
	}
	req = req.WithContext(ctx)
	if w.signer != nil {
		// The SDK's words for this failure.
		creds, err := w.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("get identity: get credentials: %w", err)
		}
		now := time.Now().Add(time.Duration(w.skew.Load()))
		w.signer.sign(req, r.query, creds, payload, w.service, w.region, now)
	}
	resp, err := w.http.Do(req)
	if body != nil {
		// The transport may go on reading the body after Do returns (an
		// answer came before the whole body went out, or none came): from
		// now on that reads nothing, so that a retry's body is whole.
		body.Close()
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		err = &smithyhttp.RequestSendError{Err: err}
		if ctx.Err() != nil {
			err = &smithy.CanceledError{Err: ctx.Err()}
		}
		// The SDK wraps a request that got no answer in a response error
		// of status 0.
		return nil, &s3ResponseError{ResponseError: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{}}, Err: err}}}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, w.responseError(r.op, resp)
}

// responseError is the SDK's error for an answer that is no success: an
// API error (typed where the SDK types it for the operation) inside an
// *awshttp.ResponseError.
func (w *wire) responseError(op string, resp *http.Response) error {
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(nil))
	re := &s3ResponseError{ResponseError: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}},
		RequestID:     resp.Header.Get("X-Amz-Request-Id")}, HostID: resp.Header.Get("X-Amz-Id-2")}
	if rerr != nil {
		re.Err = &smithy.DeserializationError{Err: rerr}
		return re
	}
	// As the SDK's S3 deserializers: the code and message of the body's
	// root element, else of the status; a typed error where the SDK has
	// one for the operation.
	var e struct {
		Code, RequestId, HostId  string
		Message                  *string
		StorageClass, AccessTier string
	}
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&e); err != nil && err != io.EOF {
		re.Err = fmt.Errorf("error while deserializing xml error response : %w", err)
		return re
	}
	// The headers' ids win over the body's, as in the SDK.
	if re.RequestID == "" {
		re.RequestID = e.RequestId
	}
	if re.HostID == "" {
		re.HostID = e.HostId
	}
	code, msg := e.Code, aws.ToString(e.Message)
	if code == "" && msg == "" {
		text := http.StatusText(resp.StatusCode)
		code, msg = strings.ReplaceAll(text, " ", ""), text
	}
	if code == "" {
		code = "UnknownError"
	}
	if msg == "" {
		msg = "UnknownError"
	}
	re.Err = typedError(op, code, msg, e.Message, e.StorageClass, e.AccessTier)
	if isSkewCode(code) {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			w.skew.Store(int64(time.Until(t)))
		}
	}
	return re
}

// s3ResponseError is the SDK's S3 response error: its HTTP error with the
// host id S3 gives for support requests.
type s3ResponseError struct {
	*awshttp.ResponseError
	HostID string
}

// ServiceHostID returns the host id of the answer.
func (e *s3ResponseError) ServiceHostID() string { return e.HostID }

func (e *s3ResponseError) Error() string {
	return fmt.Sprintf("https response error StatusCode: %d, RequestID: %s, HostID: %s, %v",
		e.Response.StatusCode, e.RequestID, e.HostID, e.Err)
}

// As lets errors.As find the *awshttp.ResponseError inside.
func (e *s3ResponseError) As(target any) bool { return errors.As(e.ResponseError, target) }

// skewed reports an answer that refused our clock, whose skew was learned:
// worth one more attempt however the retryer sees it.
func (w *wire) skewed(err error) bool {
	code, _ := errorCode(err)
	return isSkewCode(code) && w.skew.Load() != 0
}

// isSkewCode reports the codes of an answer that refused our clock.
func isSkewCode(code string) bool { return code == "RequestTimeTooSkewed" || code == "RequestExpired" }

// opError is the SDK's operation error around err.
func (w *wire) opError(op string, err error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err}
}

// retryAfter is the SDK's wait before a retry: the backoff, or what the
// answer's x-amz-retry-after asks (milliseconds), kept between the backoff
// and 5 s more.
func retryAfter(backoff time.Duration, err error) time.Duration {
	v := responseHeader(err, "X-Amz-Retry-After")
	ms, perr := strconv.ParseInt(v, 10, 64)
	if v == "" || perr != nil || ms < 0 {
		return backoff
	}
	return min(max(time.Duration(ms)*time.Millisecond, backoff), backoff+5*time.Second)
}

// hashBody is the hex SHA-256 of body, which it then rewinds.
func hashBody(body io.ReadSeeker) (string, error) {
	h := sha256.New()
	bp := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(h, body, *bp)
	copyBufs.Put(bp)
	if err != nil {
		return "", err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// attemptBody is one attempt's view of a request body: once closed, it
// reads nothing more, whatever goroutine still holds it (smithy-go's
// SafeReadCloser does the same for the SDK).
type attemptBody struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func (b *attemptBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *attemptBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// escapePath escapes a key as the SDK does in a URL path: everything but
// unreserved characters and '/'. A key with nothing to escape is returned
// as it is, without allocating.
func escapePath(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreservedOrSlash(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreservedOrSlash(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreservedOrSlash(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/'
}

// sdkUserAgent is the SDK's user agent, without its per-call feature
// list: servers that count or gate clients by it see the same SDK.
var sdkUserAgent = func() string {
	api := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/aws/aws-sdk-go-v2/service/s3" {
				api = strings.TrimPrefix(m.Version, "v")
			}
		}
	}
	return "aws-sdk-go-v2/" + aws.SDKVersion + " ua/2.1 os/" + runtime.GOOS + " lang/go#" +
		strings.TrimPrefix(runtime.Version(), "go") + " md/GOOS#" + runtime.GOOS + " md/GOARCH#" + runtime.GOARCH + " api/s3#" + api
}()

// errWireUnsupported: the wire cannot send this input as the SDK would.
var errWireUnsupported = errors.New("s3dest: the wire does not send this input")
