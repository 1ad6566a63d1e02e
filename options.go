package s3dest

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// An Option configures a Destination. Options only record values: New
// validates them all at once and reports the first problem. When an option is
// given twice, the last one wins, so Open applies the URL's options first and
// the caller's after them.
type Option func(*config)

// config is what the options recorded. Zero values mean "not given"; pointers
// distinguish "not given" from an explicit false where the default depends on
// other settings.
type config struct {
	prefix         string
	region         string // location constraint: picks the AWS host, bucket creation region
	serverName     string // host, host:port or scheme://host[:port]
	authRegion     string // signing region override
	creds          *secret
	useSSL         *bool
	storageClass   string
	archiveClasses []string // nil: defaultArchiveClasses
	createBucket   bool
	pathStyle      *bool
	s3Options      []func(*s3.Options)
	httpClient     *http.Client
	logger         *slog.Logger

	listV1                bool
	recursiveList         bool
	disableChunkEncoding  bool
	disablePayloadSigning bool
	dualStack, fips       bool
	accelerate            bool
	retryAttempts         int    // attempts per request; 0: SDK default (3)
	requestChecksum       string // "", "when_supported", "when_required"
	responseChecksum      string
	lockMode              string
	timeouts              Timeouts

	// Credentials (credentials.go): one source at most; none means the AWS
	// default chain.
	credsProvider aws.CredentialsProvider
	profile       string
	anonymous     bool

	lockFor time.Duration // lock every upload this long (lock.go); 0: no lock

	// Transfers (transfer.go, multipart.go).
	partSize    int64          // 0: default
	maxPartSize int64          // 0: S3's 5 GiB
	concurrency int            // 0: default
	progress    func(Progress) // nil: no reports
	limits      sizeLimits     // S3's, unless a test lowers them

	// Archive tiers (glacier.go, restore.go).
	classFunc func(name string, size int64) string // nil: storageClass for all
	clock     clock                                // nil: the real one (tests replace it)
}

// secret holds credentials behind a pointer, so that printing a config or a
// URL with %v or %+v shows an address instead of the key.
type secret struct {
	accessKeyID     string
	secretAccessKey string
	sessionToken    string
}

// Timeouts bound how long a single call may take. A zero field keeps its
// default (Duplicati's: Short 30s, List 10m, ReadWrite 30s); a negative one
// removes that limit.
type Timeouts struct {
	// Short bounds calls that move no object data: HEAD, DELETE, restore
	// requests, bucket calls. Server-side copies (Rename) and completing a
	// multipart upload are not bounded: S3 may take minutes over them.
	// Duplicati's short-timeout.
	Short time.Duration
	// List bounds each listing page. Duplicati's list-timeout.
	List time.Duration
	// ReadWrite is an idle timeout on object bodies: a Put or Get fails when
	// a request that moves a body is under way and no byte of it moved for
	// this long (time spent in the caller's reader or writer does not
	// count). Duplicati's read-write-timeout.
	ReadWrite time.Duration
}

// WithPrefix sets the folder inside the bucket that holds the destination's
// objects. A trailing "/" is added when missing; leading slashes are dropped.
// Default: "" (the bucket root).
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithRegion sets the bucket's region (Duplicati's s3-location-constraint). It
// picks the AWS endpoint, is the signing region unless WithAuthRegion is
// given, and is the LocationConstraint when the bucket is created. "EU" is
// accepted as the old name of eu-west-1.
// Default: derived from the server name, else discovered from the bucket.
func WithRegion(region string) Option {
	return func(c *config) { c.region = region }
}

// WithServerName sets the S3 endpoint for S3-compatible providers and non-AWS
// hosts (Duplicati's s3-server-name): "host", "host:port" or
// "http(s)://host[:port]". A scheme chooses TLS or plain HTTP; WithUseSSL
// (use-ssl), when also given, must agree with it.
// Default: the AWS endpoint of the region.
func WithServerName(hostOrURL string) Option {
	return func(c *config) { c.serverName = hostOrURL }
}

// WithAuthRegion sets the region requests are signed for
// (Duplicati's s3-authentication-region), for providers whose signing region
// differs from their location constraint.
// Default: the region, else the one the server name implies, else us-east-1
// until the bucket's real region is discovered.
func WithAuthRegion(region string) Option {
	return func(c *config) { c.authRegion = region }
}

// WithCredentials sets a static access key. The secret is never printed,
// logged or included in an error. Like every credential option
// (WithSessionCredentials, WithCredentialsProvider, WithProfile,
// WithAnonymous) it replaces the ones given before it.
// Default: none (the AWS default chain, see WithProfile).
func WithCredentials(accessKeyID, secretAccessKey string) Option {
	return WithSessionCredentials(accessKeyID, secretAccessKey, "")
}

// WithUseSSL chooses https (true) or plain http (false).
// Default: true, unless the server name starts with "http://".
func WithUseSSL(on bool) Option {
	return func(c *config) { c.useSSL = &on }
}

// WithStorageClass sets the storage class sent with every upload
// (x-amz-storage-class). Any string is passed through unchanged, so provider
// specific classes work.
// Default: "" (the server's default, STANDARD on AWS).
func WithStorageClass(class string) Option {
	return func(c *config) { c.storageClass = class }
}

// WithArchiveClasses replaces the storage classes whose objects cannot be read
// without a restore (Duplicati's s3-archive-classes). Matching ignores case.
// Default: defaultArchiveClasses (GLACIER, DEEP_ARCHIVE).
func WithArchiveClasses(classes ...string) Option {
	return func(c *config) { c.archiveClasses = append([]string{}, classes...) }
}

// WithCreateBucket makes the first upload (Put) that finds the bucket
// missing create it in the destination's region, then carry on. Reads,
// listings and deletes never create it: a mistyped bucket name stays
// ErrBucketNotFound there.
// Default: false (a missing bucket is ErrBucketNotFound).
func WithCreateBucket(on bool) Option {
	return func(c *config) { c.createBucket = on }
}

// WithPathStyle forces path-style (true: https://host/bucket/key) or
// virtual-hosted-style (false: https://bucket.host/key) requests.
// Default: virtual-hosted on AWS, except for bucket names that are not valid
// host names (dots over TLS, upper case, underscores); path-style elsewhere.
func WithPathStyle(on bool) Option {
	return func(c *config) { c.pathStyle = &on }
}

// WithS3Options adds functions that adjust the SDK client's options after
// s3dest has set them: the escape hatch for every SDK setting s3dest does not
// name.
// Default: none.
func WithS3Options(fns ...func(*s3.Options)) Option {
	return func(c *config) { c.s3Options = append(c.s3Options, fns...) }
}

// WithHTTPClient sets the HTTP client for every request.
// Default: the SDK's default client (with its connection pooling and
// timeouts).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithLogger sets where s3dest reports the decisions it made on the caller's
// behalf: a discovered region, a created bucket, a healed redirect. Nothing
// secret is ever logged.
// Default: a logger that discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithRecursiveList makes List return every object below the prefix, with
// names that contain "/", instead of only the objects directly in it
// (Duplicati's s3-recursive-list).
// Default: false.
func WithRecursiveList(on bool) Option {
	return func(c *config) { c.recursiveList = on }
}

// WithRetryMaxAttempts sets how many times one request is tried before its
// error is returned, the first try included: 1 turns retries off. Throttling
// (503 SlowDown), 5xx answers and broken connections are retried with
// backoff; permanent errors (403, 404, archived objects) never are.
// Duplicati's s3-ext-maxerrorretry is this minus one.
// Default: 3 (the SDK's standard retryer).
func WithRetryMaxAttempts(n int) Option {
	return func(c *config) { c.retryAttempts = n }
}

// WithTimeouts bounds single calls so that a stalled server cannot hang a
// backup; see Timeouts. Duplicati's short-timeout, list-timeout and
// read-write-timeout.
// Default: Short 30s, List 10m, ReadWrite 30s.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) { c.timeouts = t }
}
