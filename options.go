package s3dest

import (
	"fmt"
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

// config is what the options recorded, in the groups the options below
// come in. Zero values mean "not given"; pointers distinguish "not given"
// from an explicit false where the default depends on other settings.
// Fields without a With function are set from a URL (urloptions.go).
type config struct {
	// Where the objects are (region.go, client.go).
	prefix     string
	region     string // location constraint: picks the AWS host, bucket creation region
	serverName string // host, host:port or scheme://host[:port]
	authRegion string // signing region override
	useSSL     *bool
	pathStyle  *bool
	dualStack  bool
	fips       bool
	accelerate bool

	// Who signs (credentials.go): one source at most; none means the AWS
	// default chain.
	creds         *secret
	credsProvider aws.CredentialsProvider
	profile       string
	anonymous     bool

	// How objects are stored (glacier.go, bucket.go, lock.go).
	sse            SSE          // WithServerSideEncryption
	customerKey    *customerKey // WithCustomerKey's SSE-C key: a secret
	customerKeyErr string       // why it was refused
	storageClass   string
	classFunc      func(name string, size int64) string // nil: storageClass for all
	archiveClasses []string                             // nil: defaultArchiveClasses
	createBucket   bool
	lockMode       string
	lockFor        time.Duration // lock every upload this long; 0: no lock

	// How data moves (upload.go, multipart.go, get.go, objects.go,
	// timeouts.go).
	partSize              int64          // 0: default
	maxPartSize           int64          // 0: S3's 5 GiB
	concurrency           int            // 0: default
	memoryLimit           int64          // 0: defaultMemoryLimit
	progress              func(Progress) // nil: no reports
	listV1                bool
	recursiveList         bool
	retryAttempts         int           // attempts per request; 0: SDK default (3)
	maxBackoff            time.Duration // longest wait between attempts; 0: the SDK's (20 s); tests only
	timeouts              Timeouts
	disableChunkEncoding  bool
	disablePayloadSigning bool
	requestChecksum       string // "", "when_supported", "when_required"
	responseChecksum      string

	// What is read (versions.go): a point-in-time view; zero: the latest.
	versionAt time.Time

	// The SDK underneath (client.go) and logging.
	s3Options  []func(*s3.Options)
	httpClient *http.Client
	logger     *slog.Logger

	// From a URL's s3-ext-* options (urlext.go): the HTTP transport
	// (client.go's httpClient) and what New logs as having no effect.
	proxy           string        // host:port of an HTTP proxy; "": the environment's (HTTPS_PROXY)
	maxConnsPerHost int           // 0: the SDK transport's (2048)
	connectTimeout  time.Duration // 0: the SDK's dialer default
	ignoredOptions  []string

	// Set by tests (export_test.go).
	limits sizeLimits // S3's, unless a test lowers them
	clock  clock      // nil: the real one
}

// secret holds credentials behind a pointer, so that printing a config or a
// URL with %v or %+v shows an address instead of the key.
type secret struct {
	accessKeyID     string
	secretAccessKey string
	sessionToken    string
	customerKey     string // base64 SSE-C key (WithCustomerKey), scrubbed from errors too
}

// Where the objects are: the server, the bucket's region and the folder in
// it.

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

// WithUseSSL chooses https (true) or plain http (false).
// Default: true, unless the server name starts with "http://".
func WithUseSSL(on bool) Option {
	return func(c *config) { c.useSSL = &on }
}

// WithPathStyle forces path-style (true: https://host/bucket/key) or
// virtual-hosted-style (false: https://bucket.host/key) requests.
// Default: virtual-hosted on AWS, except for bucket names that are not valid
// host names (dots over TLS, upper case, underscores); path-style elsewhere.
func WithPathStyle(on bool) Option {
	return func(c *config) { c.pathStyle = &on }
}

// WithVersionAt makes the Destination a read-only view of the bucket as it
// stood at t. List, Stat, Get, GetRange, NewReader, NewRangeReader and
// LockedUntil see, for each name, the version that was current at t: an
// object deleted after t is there, one created after t is not, and one
// overwritten after t reads its old bytes, verified as Get verifies any
// object. The bucket must be versioned (Enabled or Suspended; object lock
// buckets are): an unversioned one is ErrInvalid, with a hint, never an
// empty view.
//
// The version current at t is the newest whose LastModified is at or
// before t; when that is a delete marker, or no version is that old, the
// name is absent. S3 keeps LastModified to the second, so what was written
// within the second of t counts as written before it: choose t at least a
// second after the last write you trust (the end of the last good backup)
// and before the first you do not.
//
// The view never changes the bucket: Put, Delete, DeleteMany, Rename,
// SetLock, CreateBucket, TestWrite and CleanupUploads fail with
// ErrInvalid before any request. Restore restores the version the view
// shows, and WaitRestored waits for it. Versions and GetVersion are not
// limited to t.
//
// List reads ListObjectVersions, one request per page of up to 1,000
// versions and delete markers (all of them under the prefix, so a bucket
// with many old versions takes more pages than List without the view), and
// holds one page at a time. Stat and the reads first find the name's
// version with one ListObjectVersions of that name.
//
// The URL's s3-version-at (RFC 3339). Default: the zero time, no view (the
// latest versions, writable).
func WithVersionAt(t time.Time) Option {
	return func(c *config) { c.versionAt = t }
}

// Who signs: one credential source at most (credentials.go); none means the
// AWS default chain.

// WithCredentials sets a static access key. The secret is never printed,
// logged or included in an error. Like every credential option
// (WithSessionCredentials, WithCredentialsProvider, WithProfile,
// WithAnonymous) it replaces the ones given before it.
// Default: none (the AWS default chain, see WithProfile).
func WithCredentials(accessKeyID, secretAccessKey string) Option {
	return WithSessionCredentials(accessKeyID, secretAccessKey, "")
}

// WithSessionCredentials sets temporary keys: an access key id, its secret
// and the session token that STS, SSO or an assumed role issued with them
// (sent as X-Amz-Security-Token). The URL's session-token option. The secret
// and the token are never printed, logged or included in an error.
// Like every credential option it replaces the ones given before it.
// Default: none (the AWS default chain).
func WithSessionCredentials(accessKeyID, secretAccessKey, sessionToken string) Option {
	return func(c *config) {
		clearCredentials(c)
		if accessKeyID != "" || secretAccessKey != "" || sessionToken != "" {
			c.creds = &secret{accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken}
		}
	}
}

// WithCredentialsProvider signs requests with credentials from p, any
// aws-sdk-go-v2 provider (stscreds, ssocreds, a custom one). s3dest caches
// them (aws.CredentialsCache) unless p is a cache already. A nil p means the
// AWS default chain. Like every credential option it replaces the ones given
// before it.
// Default: none (the AWS default chain).
func WithCredentialsProvider(p aws.CredentialsProvider) Option {
	return func(c *config) {
		clearCredentials(c)
		c.credsProvider = p
	}
}

// WithProfile uses the AWS default chain with the named profile of the
// shared config and credentials files (~/.aws/config, ~/.aws/credentials,
// or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE): static keys, SSO,
// an assumed role, a credential_process. The URL's profile option. "" uses
// AWS_PROFILE, else the default profile. Like every credential option it
// replaces the ones given before it.
// Default: "" (the default chain, AWS_PROFILE or "default").
func WithProfile(name string) Option {
	return func(c *config) {
		clearCredentials(c)
		c.profile = name
	}
}

// WithAnonymous sends requests unsigned, without credentials, when on: for
// public buckets. The URL's anonymous option. On replaces the credential
// options given before it; off only undoes an earlier on.
// Default: false.
func WithAnonymous(on bool) Option {
	return func(c *config) {
		if on {
			clearCredentials(c)
		}
		c.anonymous = on
	}
}

// How objects are stored: storage classes and archive tiers (glacier.go),
// the bucket's creation (bucket.go), object lock (lock.go).

// WithServerSideEncryption encrypts every object s3dest writes (Put,
// Rename's copy) with keys the server manages: SSE-S3 (Type "AES256"),
// SSE-KMS ("aws:kms", with KMSKeyID or the account's default key) or
// DSSE-KMS ("aws:kms:dsse"). Reads need nothing. With KMS the ETag is no
// MD5 of the data, so s3dest checks objects by their CRC32C only.
// URL options s3-server-side-encryption and s3-sse-kms-key-id.
// Default: none (the bucket's default encryption applies).
func WithServerSideEncryption(sse SSE) Option {
	return func(c *config) { c.sse = sse }
}

// WithCustomerKey encrypts every object s3dest writes with this 32-byte
// key (SSE-C), and sends it with every request that reads or copies one:
// the server keeps no copy, and an object cannot be read without it. The
// key is a secret: never printed, logged or in an error; keep it safe, as
// a lost key is lost data. The ETag of such objects is no MD5, so s3dest
// checks them by their CRC32C only. URL option s3-sse-customer-key
// (base64). It excludes WithServerSideEncryption.
// Default: none.
func WithCustomerKey(key []byte) Option {
	return func(c *config) {
		c.customerKeyErr = ""
		if len(key) != 32 {
			c.customerKeyErr = fmt.Sprintf("it has %d bytes; SSE-C takes a 256-bit key (32 bytes)", len(key))
		}
		c.customerKey = newCustomerKey(key)
	}
}

// WithStorageClass sets the storage class sent with every upload
// (x-amz-storage-class). Any string is passed through unchanged, so provider
// specific classes work.
// Default: "" (the server's default, STANDARD on AWS).
func WithStorageClass(class string) Option {
	return func(c *config) { c.storageClass = class }
}

// WithStorageClassFunc chooses the storage class of each upload from its
// name and size (-1 when unknown), so that a backup program can send data
// volumes to an archive class while index and list files stay readable. An
// empty result means the server's default. It overrides WithStorageClass.
// Default: nil (WithStorageClass for every upload).
func WithStorageClassFunc(fn func(name string, size int64) string) Option {
	return func(c *config) { c.classFunc = fn }
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

// WithLockMode sets the object-lock retention mode of SetLock and of locks
// on upload: "GOVERNANCE" or "COMPLIANCE", in any case (sent upper-case).
// Duplicati's s3-lock-mode.
// Default: GOVERNANCE.
func WithLockMode(mode string) Option {
	return func(c *config) { c.lockMode = mode }
}

// WithLockOnUpload locks every object Put uploads, single or multipart,
// until d after the upload starts, in the lock mode (WithLockMode): the
// x-amz-object-lock-mode and x-amz-object-lock-retain-until-date headers,
// with Content-MD5 on every body, which lock buckets require. The URL's
// remote-file-lock-duration (Duplicati's name). Rename locks its copy the
// same way: the copy is a new object. 0 turns it off.
// Default: 0 (uploads are not locked, unless the bucket has a default
// retention).
func WithLockOnUpload(d time.Duration) Option {
	return func(c *config) { c.lockFor = d }
}

// How data moves: parts and concurrency (upload.go, multipart.go), progress
// (progress.go), listings (objects.go), retries and timeouts (timeouts.go).

// WithPartSize sets the size of the parts large uploads are cut into, and
// the largest object sent in a single PUT. It must be between 5 MiB and
// 5 GiB. A Put holds at most (concurrency + 1) parts in memory: part size ×
// (concurrency + 1) for objects up to 10,000 parts of the part size (160
// GiB at the default). S3 takes at most 10,000 parts, so beyond that a
// known length is cut into larger equal parts (size / 10,000), and a stream
// of unknown length doubles its parts after every 900: at the defaults
// 32 MiB parts after 14 GiB streamed, 64 MiB after 42 GiB, 1 GiB (5 GiB of
// buffers) after 886 GiB. WithMaxPartSize caps that growth.
// Default: 16 MiB.
func WithPartSize(bytes int64) Option {
	return func(c *config) { c.partSize = bytes }
}

// WithMaxPartSize caps the parts a Put cuts, and so its memory: at most
// max part size × (concurrency + 1). It must be at least the part size.
// The price is the largest object: a stream of unknown length longer than
// 10,000 growing parts hold, or a known length over 10,000 × the cap,
// fails (ErrInvalid) instead of growing its parts; at a cap of 64 MiB with
// the defaults, streams up to 554 GiB and known lengths up to 625 GiB.
// Default: 5 GiB, S3's largest part (no cap).
func WithMaxPartSize(bytes int64) Option {
	return func(c *config) { c.maxPartSize = bytes }
}

// WithConcurrency sets how many parts of one upload (or one multipart copy)
// are sent at the same time, between 1 and 64.
// Default: 4.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithMemoryLimit caps the part buffers that all Puts of the Destination
// hold together, in bytes. A Put that would pass it waits until another
// Put, or a part of its own, gives buffers back: Puts slow down rather
// than fail, and none waits forever, since a Put that holds one buffer can
// always go on with it. The cap covers part buffers, the memory that grows
// with the number of Puts; it must be at least 5 MiB (S3's smallest part).
// A part larger than the cap is taken alone.
// Default: 256 MiB, or part size × (concurrency + 1) when that is more:
// 8 parallel Puts at the default part size keep two buffers each, and one
// Put alone always gets its concurrency + 1.
func WithMemoryLimit(bytes int64) Option {
	return func(c *config) { c.memoryLimit = bytes }
}

// WithProgress sets a function that Put and Get call as data moves: after
// each part is stored, about every MiB read, and once at the end of a
// successful transfer with Done == Total. Calls for one transfer never
// overlap; fn must return quickly. It may be called on s3dest's own
// goroutines (those that send a Put's parts), where a panic of fn is not
// recovered: it ends the program, as in any goroutine.
// Default: nil (no reports, no cost).
func WithProgress(fn func(Progress)) Option {
	return func(c *config) { c.progress = fn }
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
// Duplicati's s3-ext-maxerrorretry is this minus one; n is from 1 to 101.
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

// The SDK underneath (client.go) and logging.

// WithS3Options adds functions that adjust the SDK client's options after
// s3dest has set them: the escape hatch for every SDK setting s3dest does not
// name. Since such a function may change anything the SDK does, every
// request then goes through the SDK's middleware: s3dest's lean path for
// Put, Get, Stat and Delete (the wire, doc.go's Layout) is off, and those
// calls cost the client 4 to 8 times the time and 8 to 11 times the
// allocations (BenchmarkSmallOps).
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
