package s3dest

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
		Retryer: newRetryer(c.retryAttempts),
	}
	if !d.plan.aws {
		// S3-compatible servers often reject the SDK's default checksums
		// (REFERENCE §4): send them only where an operation requires one.
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
	if c.httpClient != nil {
		o.HTTPClient = c.httpClient
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
	return &clientState{client: s3.New(o), region: sign, home: region, endpoint: endpoint, settled: settled}, nil
}

// newRetryer is the SDK's standard retryer (exponential backoff with jitter;
// throttling, 5xx and broken connections retried; 4xx never) with two
// changes for long unattended backups: 429 Too Many Requests, which
// S3-compatible servers send for throttling, is retried too, and there is
// no client-side retry quota, which would otherwise fail a backup after a
// burst of throttling instead of backing off.
func newRetryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		if attempts > 0 {
			o.MaxAttempts = attempts
		}
		o.RateLimiter = ratelimit.None
		o.Retryables = append(slices.Clone(o.Retryables),
			retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{http.StatusTooManyRequests: {}}})
	})
}
