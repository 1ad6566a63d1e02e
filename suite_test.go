package s3dest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// The behavioural suite: tests that use only the public API run against
// every target: the in-process fake always, and the real S3-compatible
// server named by S3DEST_TEST_URL when it is set (see .ci/run). This file
// is the harness; the cases are in suite_*_test.go, by concept.

// A target is one server the suite runs against, with a prefix of its own
// for the test, and the quirks of that server pinned by name (what it does
// that AWS S3 does not), so that the suite states the contract everywhere.
type target struct {
	fake    *s3test.Server // nil on a real server
	server  string         // "fake", or S3DEST_TEST_SERVER: versitygw, seaweedfs, rclone
	rawURL  string         // destination URL with credentials, without prefix
	bucket  string
	prefix  string // unique to the test on a real server, "suite/" on the fake
	classes bool   // the server reports storage classes back
}

// checksRegion: the server refuses a request signed for another region
// (AuthorizationHeaderMalformed). SeaweedFS and rclone take any region.
func (tg *target) checksRegion() bool { return tg.server == "versitygw" }

// multipartChecksums: the server keeps a checksum for multipart objects.
// rclone serve s3 keeps none, and ignores x-amz-checksum-* on parts.
func (tg *target) multipartChecksums() bool { return tg.server != "rclone" }

// filesNotFolders: the server stores objects as files, so "x" and "x/y"
// cannot both exist (versitygw, rclone; SeaweedFS keeps both).
func (tg *target) filesNotFolders() bool { return tg.server == "versitygw" || tg.server == "rclone" }

// backslashIsSlash: the server rewrites '\' in keys to '/' (SeaweedFS
// unless started with -s3.allowBackslashInKey): "a\b" and "a/b" are one
// object there.
func (tg *target) backslashIsSlash() bool { return tg.server == "seaweedfs" }

// lifecycleReads: the server answers GetBucketLifecycleConfiguration.
// versitygw answers NotImplemented to every lifecycle request.
func (tg *target) lifecycleReads() bool { return tg.server != "versitygw" }

// expirationRules: the server keeps lifecycle rules that only expire
// objects. rclone answers NotImplemented to PutBucketLifecycleConfiguration
// (and NoSuchLifecycleConfiguration to every read).
func (tg *target) expirationRules() bool { return tg.lifecycleReads() && tg.server != "rclone" }

// transitionRules: the server keeps lifecycle rules that move objects to
// another storage class (SetArchiveAfter). SeaweedFS keeps expiration
// rules only and answers NotImplemented to a rule with a transition.
func (tg *target) transitionRules() bool { return tg.expirationRules() && tg.server != "seaweedfs" }

// ownBucketTaken: the server answers its owner's CreateBucket of an
// existing bucket with BucketAlreadyExists, as older MinIO does (rclone
// serve s3, built on gofakes3), where S3 answers BucketAlreadyOwnedByYou.
func (tg *target) ownBucketTaken() bool { return tg.server == "rclone" }

func (tg *target) real() bool { return tg.fake == nil }

// dest opens the test's destination; opts come after the target's.
func (tg *target) dest(t *testing.T, opts ...s3dest.Option) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), tg.rawURL, append([]s3dest.Option{s3dest.WithPrefix(tg.prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sub is the option for a folder inside the test's prefix.
func (tg *target) sub(folder string) s3dest.Option { return s3dest.WithPrefix(tg.prefix + folder) }

// rawClient is an SDK client for the target, made without s3dest: the
// independent reader and writer of the interoperability tests.
func (tg *target) rawClient(t *testing.T) *s3.Client {
	u, err := s3dest.ParseURL(tg.rawURL)
	if err != nil {
		t.Fatal(err)
	}
	key, secret := s3test.AccessKey, s3test.SecretKey
	if tg.real() {
		key, secret = os.Getenv("S3DEST_TEST_KEY"), os.Getenv("S3DEST_TEST_SECRET")
	}
	endpoint := u.ServerName
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

var realBucketOnce sync.Once

// forEachTarget runs fn as a subtest per target.
func forEachTarget(t *testing.T, fn func(t *testing.T, tg *target)) {
	t.Run("fake", func(t *testing.T) {
		srv := withBucket(t)
		fn(t, &target{
			fake: srv, server: "fake", bucket: bucket, classes: true, prefix: "suite/",
			rawURL: "s3://" + bucket + "/?s3-server-name=" + srv.Endpoint + "&s3-location-constraint=us-east-1" +
				"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey,
		})
	})
	raw := os.Getenv("S3DEST_TEST_URL")
	if raw == "" {
		return
	}
	t.Run("real", func(t *testing.T) {
		u, err := s3dest.ParseURL(raw)
		if err != nil {
			t.Fatalf("S3DEST_TEST_URL: %v", err)
		}
		realBucketOnce.Do(func() {
			d, err := s3dest.Open(context.Background(), raw)
			if err == nil {
				err = d.CreateBucket(context.Background())
			}
			if err != nil {
				t.Fatalf("creating the test bucket: %v", err)
			}
		})
		var id [4]byte
		_, _ = rand.Read(id[:])
		tg := &target{rawURL: raw, bucket: u.Bucket, server: os.Getenv("S3DEST_TEST_SERVER"),
			prefix:  u.Prefix + testSlug.ReplaceAllString(t.Name(), "-") + "-" + hex.EncodeToString(id[:]) + "/",
			classes: os.Getenv("S3DEST_TEST_SERVER") != "versitygw"}
		t.Cleanup(func() { removeAll(tg) })
		fn(t, tg)
	})
}

var testSlug = regexp.MustCompile(`[^A-Za-z0-9]+`)

// removeAll deletes what a test left under its prefix on a real server.
func removeAll(tg *target) {
	ctx := context.Background()
	d, err := s3dest.Open(ctx, tg.rawURL, s3dest.WithPrefix(tg.prefix), s3dest.WithRecursiveList(true))
	if err != nil {
		return
	}
	for fi, err := range d.List(ctx) {
		if err != nil {
			return
		}
		_ = d.Delete(ctx, fi.Name)
	}
}
