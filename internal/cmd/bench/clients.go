package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3dest/s3dest"
)

// The contestant families. Each has its own client (or clients) and its
// own transport, whose new connections are counted.
const (
	famS3dest = "s3dest"
	famSDK    = "sdk"   // the raw aws-sdk-go-v2 S3 client
	famTM     = "tm"    // the SDK's transfer manager (feature/s3/transfermanager)
	famMinio  = "minio" // minio-go
)

var families = []string{famS3dest, famSDK, famTM, famMinio}

// fleet holds every contestant's clients.
type fleet struct {
	server, bucket string
	conns          map[string]*dialCounter

	opts []s3dest.Option // s3dest's common options (server, credentials, HTTP client)

	// s3dest: parts of -part × -concurrency, and its defaults.
	large, largeDefault *s3dest.Destination
	sdk, tmS3           *s3.Client // the raw SDK's; the transfer manager's
	tm, tmDefault       *transfermanager.Client
	mc                  *minio.Client
	// minioUnsigned: minio-go sends UNSIGNED-PAYLOAD instead of its
	// streaming signature (aws-chunked) over plain HTTP, which the
	// in-process fake does not decode.
	minioUnsigned bool
}

func newFleet(ctx context.Context, server string, roots *x509.CertPool) (*fleet, error) {
	f := &fleet{server: server, bucket: *bucket, conns: map[string]*dialCounter{}}
	for _, fam := range families {
		f.conns[fam] = &dialCounter{}
	}
	u, err := url.Parse(server)
	if err != nil {
		return nil, err
	}
	if (u.Scheme == "https") != (roots != nil) {
		return nil, fmt.Errorf("%s: an https endpoint needs -cacert, and -cacert an https endpoint", server)
	}

	// s3dest. With -transport lib it keeps the SDK's default client (as
	// with AWS_CA_BUNDLE) and only gets the roots and the counter.
	hc := sdkHTTPClient(roots, f.conns[famS3dest])
	f.opts = []s3dest.Option{s3dest.WithServerName(server), s3dest.WithCredentials(*access, *secret), s3dest.WithRegion(*region)}
	if *unsigned {
		// The URL option a user would give; its other fields are empty,
		// and the options after it set them.
		u, err := s3dest.ParseURL("s3://" + *bucket + "/?s3-disable-payload-signing=true")
		if err != nil {
			return nil, err
		}
		f.opts = append(u.Options(), f.opts...)
	}
	// WithHTTPClient, not WithS3Options, which would turn s3dest's wire off.
	if c, ok := hc.(*http.Client); ok {
		f.opts = append(f.opts, s3dest.WithHTTPClient(c))
	} else {
		f.opts = append(f.opts, s3dest.WithHTTPClient(&http.Client{Transport: hc.(*awshttp.BuildableClient).GetTransport()}))
	}
	if f.large, err = f.dest(ctx, "bench/large", s3dest.WithPartSize(*partMiB*mib), s3dest.WithConcurrency(*conc)); err != nil {
		return nil, err
	}
	if f.largeDefault, err = f.dest(ctx, "bench/large"); err != nil {
		return nil, err
	}

	// The raw SDK client: s3.New with the SDK's defaults (checksums when
	// supported), path-style, static credentials, no config loader (which
	// would read AWS_CA_BUNDLE and the environment's credentials).
	newS3 := func(fam string) *s3.Client {
		o := s3.Options{
			Region: *region, BaseEndpoint: aws.String(server), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(*access, *secret, ""),
			HTTPClient:  sdkHTTPClient(roots, f.conns[fam]),
		}
		if *unsigned {
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
		return s3.New(o)
	}
	f.sdk = newS3(famSDK)
	f.tmS3 = newS3(famTM)
	f.tm = transfermanager.New(f.tmS3, func(o *transfermanager.Options) {
		o.PartSizeBytes, o.Concurrency = *partMiB*mib, *conc
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32c
	})
	f.tmDefault = transfermanager.New(f.tmS3, func(o *transfermanager.Options) {
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32c
	})

	// minio-go: path-style, the region given (no location lookup), and
	// trailing headers on, so that its uploads can carry CRC32C.
	rt, err := minioTransport(roots, f.conns[famMinio])
	if err != nil {
		return nil, err
	}
	f.mc, err = minio.New(u.Host, &minio.Options{
		Creds: miniocreds.NewStaticV4(*access, *secret, ""), Secure: u.Scheme == "https", Transport: rt,
		Region: *region, BucketLookup: minio.BucketLookupPath, TrailingHeaders: true,
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// dest is an s3dest Destination under prefix with the common options.
func (f *fleet) dest(ctx context.Context, prefix string, opts ...s3dest.Option) (*s3dest.Destination, error) {
	all := append(append(append([]s3dest.Option{}, f.opts...), opts...), s3dest.WithPrefix(prefix))
	return s3dest.New(ctx, f.bucket, all...)
}

// wanted reports whether -contestants asks for the family.
func wanted(fam string) bool {
	if *contestantsFlag == "" {
		return true
	}
	for _, f := range strings.Split(*contestantsFlag, ",") {
		if strings.TrimSpace(f) == fam {
			return true
		}
	}
	return false
}

// warm has every family send 8 × -workers HEAD bucket requests, -workers
// at a time, so that no contestant's first phase pays for the connections
// its pool opens once (with -transport lib, a pool that keeps fewer idle
// connections than -workers still opens new ones in every phase).
func (f *fleet) warm(ctx context.Context) error {
	names := make([]string, 8**workers)
	bkt := aws.String(f.bucket)
	for _, head := range []func() error{
		func() error { _, err := f.large.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bkt}); return err },
		func() error { _, err := f.sdk.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bkt}); return err },
		func() error { _, err := f.tmS3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bkt}); return err },
		func() error { _, err := f.mc.BucketExists(ctx, f.bucket); return err },
	} {
		if err := parallel(names, func(string) error { return head() }); err != nil {
			return err
		}
	}
	return nil
}
