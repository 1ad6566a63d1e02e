package s3dest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// newClientState builds the SDK client for a bucket in region ("" means
// us-east-1 until the region is discovered); it signs for the auth region
// when one is given.
func (d *Destination) newClientState(ctx context.Context, region string, settled bool) (*clientState, error) {
	c := &d.cfg
	region = firstNonEmpty(region, defaultRegion)
	sign := firstNonEmpty(d.plan.auth, region)
	o := s3.Options{
		Region:                     sign,
		Credentials:                d.creds,
		UsePathStyle:               d.plan.pathStyle,
		UseAccelerate:              c.accelerate,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		DisableLogOutputChecksumValidationSkipped: true,
		Retryer: newRetryer(c.retryAttempts, c.maxBackoff),
	}
	if !d.plan.aws {
		// S3-compatible servers often reject the SDK's default checksums
		// (B2, R2 and others reject or mangle them): send them only where
		// an operation requires one.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	if c.disableChunkEncoding {
		// aws-chunked bodies only carry trailing checksums; s3dest's own
		// uploads send their checksum as a header already, so this keeps
		// Client() users off the trailer path too.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}
	switch c.requestChecksum {
	case "when_supported":
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	case "when_required":
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}
	switch c.responseChecksum {
	case "when_supported":
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	case "when_required":
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	if c.dualStack {
		o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
	}
	if c.fips {
		o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
	}
	if d.httpClient != nil {
		o.HTTPClient = d.httpClient
	}
	if c.disablePayloadSigning {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	}
	var endpoint string
	if d.plan.aws {
		ep, err := awsEndpoint(ctx, region, c)
		if err != nil {
			return nil, err
		}
		endpoint = ep
		if !d.plan.tls {
			endpoint = "http://" + strings.TrimPrefix(ep, "https://")
			o.BaseEndpoint = aws.String(endpoint)
		}
	} else {
		endpoint = "https://" + d.plan.host
		if !d.plan.tls {
			endpoint = "http://" + d.plan.host
		}
		o.BaseEndpoint = aws.String(endpoint)
	}
	for _, fn := range c.s3Options {
		fn(&o)
	}
	if o.BaseEndpoint != nil {
		endpoint = *o.BaseEndpoint
	}
	st := &clientState{client: s3.New(o), region: sign, home: region, endpoint: endpoint, settled: settled}
	if len(c.s3Options) == 0 {
		// WithS3Options may change anything the SDK does: the SDK then
		// sends every request.
		st.wire = newWire(ctx, st.client, d.bucket, c.disablePayloadSigning)
	}
	return st, nil
}

// newRetryer is the SDK's standard retryer (exponential backoff with jitter;
// throttling, 5xx and broken connections retried; 4xx never) with two
// changes for long unattended backups: 429 Too Many Requests, which
// S3-compatible servers send for throttling, is retried too, and there is
// no client-side retry quota, which would otherwise fail a backup after a
// burst of throttling instead of backing off.
func newRetryer(attempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		if attempts > 0 {
			o.MaxAttempts = attempts
		}
		if maxBackoff > 0 {
			o.MaxBackoff = maxBackoff // tests only
		}
		o.RateLimiter = ratelimit.None
		// The first check with an answer decides: TLS set up wrongly fails
		// the same way every time, where the SDK takes any failure to send
		// for a passing one.
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if schemeMismatch(err) || unknownAuthority(err) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
		o.Retryables = append(o.Retryables,
			retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{http.StatusTooManyRequests: {}}})
	})
}

// maxIdleConnsPerHost is how many idle connections to the server the
// transport keeps for reuse. The SDK's default, 10, is below what backup
// programs run at once (16 goroutines sharing a Destination, say): past
// it, a finished request's connection is closed and the next request opens
// a new one, a TLS handshake each, so 2,000 small Puts from 16 goroutines
// opened 126 connections where 16 do.
const maxIdleConnsPerHost = 100

// httpClient is the client New gives the SDK: WithHTTPClient's, else the
// SDK's default transport keeping maxIdleConnsPerHost idle connections and
// trusting the certificates of AWS_CA_BUNDLE when it is set (as the AWS
// SDKs and CLI do).
func httpClient(c *config) (aws.HTTPClient, error) {
	if c.httpClient != nil {
		return c.httpClient, nil
	}
	var pool *x509.CertPool
	if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("AWS_CA_BUNDLE %s holds no PEM certificate", path)
		}
	}
	var proxy *url.URL
	if c.proxy != "" {
		p, err := url.Parse("http://" + c.proxy)
		if err != nil || p.Host == "" {
			return nil, fmt.Errorf("s3-ext-proxyhost and s3-ext-proxyport %q: not a host and port", truncate(c.proxy, 70))
		}
		proxy = p
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(t.MaxIdleConns, maxIdleConnsPerHost)
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		if pool != nil {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			t.TLSClientConfig.RootCAs = pool
		}
		if proxy != nil {
			t.Proxy = http.ProxyURL(proxy)
		}
		if c.maxConnsPerHost > 0 {
			t.MaxConnsPerHost = c.maxConnsPerHost
		}
	}).WithDialerOptions(func(d *net.Dialer) {
		if c.connectTimeout > 0 {
			d.Timeout = c.connectTimeout
		}
	}), nil
}

// plainHTTPToTLS reports whether a request over plain HTTP failed because
// the server speaks only HTTPS: a failure with no S3 answer (a dropped
// connection, or a bare 400 such as Go's "client sent an HTTP request to an
// HTTPS server") from a custom endpoint, which then completes a TLS
// handshake. The handshake is tried once per Destination.
func (d *Destination) plainHTTPToTLS(err error) bool {
	if d.plan.tls || d.plan.host == "" || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	code, status := errorCode(err)
	if status != 0 && !(status == http.StatusBadRequest && (code == "" || code == "BadRequest")) {
		return false
	}
	if status == 0 && code != "" {
		return false
	}
	if v := d.speaksTLS.Load(); v != 0 {
		return v == 1
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second},
		Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} // only: does it speak TLS?
	host := d.plan.host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(strings.Trim(host, "[]"), "80")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, derr := dialer.DialContext(ctx, "tcp", host)
	if derr == nil {
		conn.Close()
		d.speaksTLS.Store(1)
		return true
	}
	d.speaksTLS.Store(2)
	return false
}
