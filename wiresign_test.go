package s3dest

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The wire's signer sets the headers the SDK's signer sets, to the byte,
// on random requests: methods, hosts with and without default ports, keys
// of every character, queries, header values with runs of spaces, tabs and
// commas, session tokens, bodies or none, and dates across days. (Header
// names that differ in case only are left out: the SDK joins their values
// in map order, so that its own signature varies.)
func TestWireSignerIsTheSDKs(t *testing.T) {
	sdk := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	var mine signer
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	chars := "aZ09-._~/ !\"#$%&'()*+,:;<=>?@[\\]^`{|}é\t"
	randStr := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) + 1 {
			b.WriteString(string([]rune(chars)[rng.IntN(len([]rune(chars)))]))
		}
		return b.String()
	}
	for i := range 3000 {
		scheme := pick("http", "https")
		host := pick("s3.example.test", "s3.example.test:443", "s3.example.test:80", "127.0.0.1:7070",
			"bucket.s3.eu-west-1.amazonaws.com", "[::1]:9000", "[::1]:443")
		key := randStr(20)
		u := &url.URL{Scheme: scheme, Host: host, Path: "/bucket/" + key, RawPath: "/bucket/" + escapePath(key)}
		var q url.Values
		if rng.IntN(2) == 0 {
			q = url.Values{}
			for range rng.IntN(3) + 1 {
				q.Add(pick("versionId", "partNumber", "uploadId", "x y", "a+b"), randStr(8))
			}
			u.RawQuery = q.Encode()
		}
		h := http.Header{}
		for range rng.IntN(8) {
			h[pick("X-Amz-Meta-Color", "X-Amz-Meta-Size", "X-Amz-Checksum-Crc32c", "Content-Type", "If-None-Match",
				"X-Amz-Storage-Class", "Range", "Content-Md5", "Expect", "User-Agent", "Accept-Encoding")] =
				[]string{pick("", " a  b ", "\tx\t", "v1", "a,b", " ", "é  é")}
		}
		h.Set("X-Amz-Content-Sha256", pick(emptySHA256, "UNSIGNED-PAYLOAD"))
		length := int64(pick2(rng, 0, 0, 16384, 1))
		// One secret per access key id: the SDK's signer keeps derived keys
		// by access key id, so another secret under the same id would be
		// signed with the old one (the wire's signer keys on the secret).
		id := "AKID" + randStr(3)
		creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: "secret/+of " + id, SessionToken: pick("", "", "TOKEN  with  spaces")}
		region, service := pick("us-east-1", "eu-west-1", "auto"), "s3"
		now := time.Date(2026, 11, 30, rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC).Add(time.Duration(rng.IntN(3)) * 24 * time.Hour)
		payload := h.Get("X-Amz-Content-Sha256")
		method := pick("GET", "PUT", "HEAD", "DELETE")

		a := &http.Request{Method: method, URL: u, Header: h.Clone(), Host: u.Host, ContentLength: length}
		b := &http.Request{Method: method, URL: cloneURL(u), Header: h.Clone(), Host: u.Host, ContentLength: length}
		if err := sdk.SignHTTP(t.Context(), creds, a, payload, service, region, now); err != nil {
			t.Fatal(err)
		}
		mine.sign(b, q, creds, payload, service, region, now)
		for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			if a.Header.Get(k) != b.Header.Get(k) {
				t.Fatalf("case %d: %s: SDK %q, wire %q\nrequest %s %s headers %q", i, k, a.Header.Get(k), b.Header.Get(k), method, u, h)
			}
		}
		if a.Host != b.Host || a.URL.RawQuery != b.URL.RawQuery {
			t.Fatalf("case %d: host %q/%q, query %q/%q", i, a.Host, b.Host, a.URL.RawQuery, b.URL.RawQuery)
		}
	}
}

func pick2(rng *rand.Rand, xs ...int) int { return xs[rng.IntN(len(xs))] }

func cloneURL(u *url.URL) *url.URL { c := *u; return &c }
