package s3dest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// More of the wire's signer against the SDK's (from a review): shapes
// TestWireSignerIsTheSDKs does not draw (multi-valued headers, repeated
// query keys, header names not in canonical form, Unicode white space,
// empty Host, odd schemes and hosts, local times across midnight, secrets
// rotating under one access key id), one signer shared by goroutines, and
// a retry signed with credentials that changed.

func sdkSigner() *v4.Signer {
	// A fresh SDK signer each time: its key cache is keyed on the access
	// key id alone, so a shared one signs a rotated secret with the old key.
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

type sigCase struct {
	method  string
	u       *url.URL
	q       url.Values
	h       http.Header
	host    string // req.Host
	length  int64
	creds   aws.Credentials
	region  string
	now     time.Time
	payload string
}

func randomSigCase(rng *rand.Rand) sigCase {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	chars := []rune("aZ09-._~/ !\"#$%&'()*+,:;<=>?@[\\]^`{|}é\t\u00a0\u0085\v\f\u3000=&")
	randStr := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteRune(chars[rng.IntN(len(chars))])
		}
		return b.String()
	}
	scheme := pick("http", "https", "HTTPS", "Http")
	host := pick("s3.example.test", "S3.Example.Test:443", "s3.example.test:80", "127.0.0.1:7070",
		"[::1]:9000", "[::1]:443", "[::1]:80", "[::1]", "s3.example.test:", "a  b:443", " s3.example.test ")
	key := randStr(20) + "x"
	u := &url.URL{Scheme: scheme, Host: host, Path: "/bucket/" + key, RawPath: "/bucket/" + escapePath(key)}
	if rng.IntN(8) == 0 {
		u.Path, u.RawPath = "", ""
	}
	var q url.Values
	if rng.IntN(2) == 0 {
		q = url.Values{}
		for range rng.IntN(5) + 1 {
			q.Add(pick("versionId", "partNumber", "uploadId", "x y", "a+b", "", "uploads", "é"), randStr(6))
		}
		if rng.IntN(4) == 0 {
			q[pick("empty", "versionId")] = nil
		}
		u.RawQuery = q.Encode()
	}
	h := http.Header{}
	names := []string{"X-Amz-Meta-Color", "X-Amz-Meta-Size", "X-Amz-Checksum-Crc32c", "Content-Type", "If-None-Match",
		"X-Amz-Storage-Class", "Range", "Content-Md5", "Expect", "User-Agent", "Accept-Encoding",
		"X-Amzn-Trace-Id", "Transfer-Encoding", "Host", "Content-Length", "X-Amz-Date", "Authorization",
		"X-Amz-Security-Token", "x-amz-meta-lower", "authorization", "user-agent", "X-Amz-Meta-Σίσυφος", "İ-Header", "a"}
	for range rng.IntN(10) {
		name := names[rng.IntN(len(names))]
		// No two names equal but for case: the SDK joins their values in
		// map order.
		dup := false
		for k := range h {
			if k != name && strings.EqualFold(k, name) {
				dup = true
			}
		}
		if dup {
			continue
		}
		var vs []string
		switch rng.IntN(6) {
		case 0:
			vs = nil
		case 1:
			vs = []string{}
		default:
			for range rng.IntN(3) + 1 {
				vs = append(vs, pick("", " a  b ", "\tx\t", "v1", "a,b", " ", "é  é", "\u00a0a\u00a0", "\u0085 b  \u0085",
					" \t  a  \t  b  \t ", "\v\f x \r", "\u3000 y \u3000", randStr(10)))
			}
		}
		h[name] = vs
	}
	h.Set("X-Amz-Content-Sha256", pick(emptySHA256, "UNSIGNED-PAYLOAD"))
	id := "AKID" + pick("1", "2")
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: pick("s1", "s2", "s/+3 "), SessionToken: pick("", "", "T  t", "\tT")}
	loc := time.FixedZone("x", pick2(rng, -12, -1, 0, 5, 14)*3600)
	// Around midnight UTC, in a zone whose day is another.
	now := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC).Add(time.Duration(rng.IntN(4000)) * time.Millisecond).In(loc)
	return sigCase{
		method: pick("GET", "PUT", "HEAD", "DELETE"), u: u, q: q, h: h,
		host:   pick(host, host, ""),
		length: int64(pick2(rng, -1, 0, 0, 16384, 1)), creds: creds,
		region: pick("us-east-1", "eu-west-1", "auto"), now: now, payload: h.Get("X-Amz-Content-Sha256"),
	}
}

// compareSigners signs c both ways (with s, the wire's signer, which may be
// shared) and returns the differences.
func compareSigners(s *signer, c sigCase) string {
	a := &http.Request{Method: c.method, URL: cloneURL(c.u), Header: c.h.Clone(), Host: c.host, ContentLength: c.length}
	b := &http.Request{Method: c.method, URL: cloneURL(c.u), Header: c.h.Clone(), Host: c.host, ContentLength: c.length}
	if err := sdkSigner().SignHTTP(context.Background(), c.creds, a, c.payload, "s3", c.region, c.now); err != nil {
		return err.Error()
	}
	s.sign(b, c.q, c.creds, c.payload, "s3", c.region, c.now)
	var d []string
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if fmt.Sprint(a.Header[k]) != fmt.Sprint(b.Header[k]) {
			d = append(d, fmt.Sprintf("%s: SDK %q, wire %q", k, a.Header[k], b.Header[k]))
		}
	}
	if a.Host != b.Host {
		d = append(d, fmt.Sprintf("Host: SDK %q, wire %q", a.Host, b.Host))
	}
	if a.URL.RawQuery != b.URL.RawQuery {
		d = append(d, fmt.Sprintf("RawQuery: SDK %q, wire %q", a.URL.RawQuery, b.URL.RawQuery))
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s host %q len %d query %q headers %q creds %s/%q: %s",
		c.method, c.u, c.host, c.length, c.q, c.h, c.creds.AccessKeyID, c.creds.SecretAccessKey, strings.Join(d, "; "))
}

func TestWireSignerMoreShapes(t *testing.T) {
	var s signer
	rng := rand.New(rand.NewPCG(7, 9))
	fails := 0
	for i := range 20000 {
		if d := compareSigners(&s, randomSigCase(rng)); d != "" {
			t.Errorf("case %d: %s", i, d)
			if fails++; fails > 5 {
				t.FailNow()
			}
		}
	}
}

// One signer shared by goroutines, with secrets rotating under one access
// key id, regions and days changing under it.
func TestWireSignerConcurrent(t *testing.T) {
	var s signer
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 1500 {
				if d := compareSigners(&s, randomSigCase(rng)); d != "" {
					errs <- d
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Error(d)
	}
}

// A lower-case content-length header on a request of no body is left
// unsigned, as the SDK leaves it (the wire itself never sets one).
func TestWireSignerLowerContentLength(t *testing.T) {
	var s signer
	c := sigCase{method: "PUT", u: &url.URL{Scheme: "https", Host: "h", Path: "/b/k"}, host: "h",
		h:     http.Header{"content-length": {"0"}, "X-Amz-Content-Sha256": {emptySHA256}},
		creds: aws.Credentials{AccessKeyID: "A", SecretAccessKey: "S"}, region: "us-east-1",
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), payload: emptySHA256}
	if d := compareSigners(&s, c); d != "" {
		t.Error(d)
	}
}

type rotatingCreds struct{ n atomic.Int32 }

func (c *rotatingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	if c.n.Add(1) == 1 {
		return aws.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "s1", SessionToken: "TOKEN1"}, nil
	}
	return aws.Credentials{AccessKeyID: "AKIALONG", SecretAccessKey: "s2"}, nil
}

// Credentials that change between attempts, from session credentials to
// long-term ones: the retry carries no X-Amz-Security-Token, as the SDK
// signs every attempt on the unsigned request.
func TestWireRetrySignsWithTodaysCredentials(t *testing.T) {
	var tokens []string
	var n int
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n++
		tokens = append(tokens, strings.Join(r.Header["X-Amz-Security-Token"], ","))
		if n == 1 {
			return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(xmlErrorBody("InternalError", "x")))}, nil
		}
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	})
	w := &wire{bucket: "b", http: &http.Client{Transport: tr}, creds: &rotatingCreds{}, signer: &signer{}, service: "s3",
		region: "us-east-1", scheme: "http", host: "h", path: "/b", rawPath: "/b",
		retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})}
	r := &wireReq{op: "DeleteObject", method: "DELETE", key: "k", header: http.Header{}}
	if _, err := w.do(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 || tokens[1] != "" {
		t.Errorf("security tokens sent per attempt: %q; the retry, signed with long-term keys, should carry none", tokens)
	}
}
