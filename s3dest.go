package s3dest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A Destination is one bucket and prefix on an S3 server. It is safe for
// concurrent use. New does no network I/O: the bucket's region, when no
// option fixes it, is discovered by the first operation.
type Destination struct {
	bucket  string
	prefix  string
	cfg     config
	plan    endpointPlan
	archive []string // upper-case archive classes
	// givenTimeouts are the timeouts as the options gave them, for String;
	// cfg.timeouts holds the effective ones (a limit, or NoTimeout).
	givenTimeouts Timeouts
	scrub         *secret // every secret of the config, scrubbed from errors
	log           *slog.Logger
	creds         aws.CredentialsProvider // from credentialsProvider, shared by every clientState

	clock clock

	mu    sync.Mutex // serialises region changes
	state atomic.Pointer[clientState]

	// What the server refused, learned once (see noteNoRestoreStatus,
	// putObject, upload.create and headObject).
	noRestoreStatus atomic.Bool  // RestoreStatus in listings
	putSums         atomic.Int32 // putCRC, putCRCAndMD5 or putMD5Only
	multipartSums   atomic.Int32 // sumFull, sumComposite or sumNone
	md5Bodies       atomic.Bool  // Content-MD5 alone on bodies the SDK serializes (withBodySums)
	copyNoSums      atomic.Bool  // multipart copies without checksums: the server's part checksums are wrong
	etagRule        atomic.Int32 // the server's multipart ETags: etagRuleUnknown, etagRuleHolds or etagRuleFails
	noChecksumMode  atomic.Bool  // x-amz-checksum-mode on HEAD and GET (headObject, get)
	versioned       atomic.Bool  // the bucket keeps versions: GetBucketVersioning said so (checkVersioned)

	parts sync.Pool  // *[]byte part buffers of finished uploads, for the next ones
	mem   *memBudget // the part buffers all Puts hold (WithMemoryLimit)

	cleanups   sync.WaitGroup // background cleanups under way (cleanup)
	httpClient aws.HTTPClient // WithHTTPClient's, else httpClient's
	speaksTLS  atomic.Int32   // plainHTTPToTLS's finding: 0 not probed, 1 yes, 2 no
}

// clientState is the SDK client for one region; it is replaced, never
// changed, when the region is discovered or healed.
type clientState struct {
	client   *s3.Client
	wire     *wire  // the lean path for object calls; nil: the SDK sends them
	region   string // signing region
	home     string // the bucket's region as known: picks the AWS host
	endpoint string // scheme://host[:port]
	settled  bool   // the region is known: given, derived, or discovered
	// serverRegion is the region the server named when a request went to,
	// or was signed for, another (heal): the bucket's, or with no bucket
	// the server's own. "" when none did.
	serverRegion string
}

// New returns a Destination for the bucket, configured by opts. It validates
// every option and returns one clear error (errors.Is ErrInvalid) for the
// first that is wrong. It does no network I/O.
func New(ctx context.Context, bucket string, opts ...Option) (*Destination, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	fail := func(err error) (*Destination, error) {
		return nil, &Error{Op: "new", Bucket: bucket, kind: ErrInvalid, Err: err, secret: secretsOf(&c)}
	}
	if err := validateBucket(bucket); err != nil {
		return fail(err)
	}
	prefix, err := normalizePrefix(c.prefix)
	if err != nil {
		return fail(err)
	}
	plan, err := planEndpoint(bucket, &c)
	if err != nil {
		return fail(err)
	}
	if err := validateConfig(&c); err != nil {
		return fail(err)
	}
	if c.customerKey != nil && !plan.tls {
		return fail(errors.New("a customer key (SSE-C) needs HTTPS: over plain HTTP it would cross the network in clear, and S3 refuses it there"))
	}
	d := &Destination{bucket: bucket, prefix: prefix, cfg: c, plan: plan, log: c.logger, givenTimeouts: c.timeouts}
	d.scrub = secretsOf(&c)
	d.cfg.timeouts = effectiveTimeouts(c.timeouts)
	d.mem = newMemBudget(d.memoryLimit())
	d.clock = c.clock
	if d.clock == nil {
		d.clock = realClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.archive = defaultArchiveClasses
	if c.archiveClasses != nil {
		d.archive = nil
		for _, a := range c.archiveClasses {
			d.archive = append(d.archive, strings.ToUpper(a))
		}
	}
	if d.httpClient, err = httpClient(&c); err != nil {
		return fail(err)
	}
	if d.creds, err = d.credentialsProvider(ctx); err != nil {
		return fail(err)
	}
	st, err := d.newClientState(ctx, plan.region, plan.region != "")
	if err != nil {
		return fail(err)
	}
	d.state.Store(st)
	if names := c.noEffectLog(); len(names) > 0 {
		d.log.Info("s3dest: options accepted for Duplicati that have no effect here", "options", strings.Join(names, ","))
	}
	return d, nil
}

// Open parses rawURL (see ParseURL) and returns New(ctx, bucket, the URL's
// options, then opts): explicit options override the URL's.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Destination, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(ctx, u.Bucket, append(u.Options(), opts...)...)
}

func validateConfig(c *config) error {
	if err := validateCredentials(c); err != nil {
		return err
	}
	if err := checkHeaderValue("storage class", c.storageClass); err != nil {
		return err
	}
	for _, a := range c.archiveClasses {
		if err := checkHeaderValue("archive class", a); err != nil {
			return err
		}
	}
	if c.lockMode != "" {
		if _, err := parseLockMode(c.lockMode); err != nil {
			return fmt.Errorf("s3-lock-mode %q %v", c.lockMode, err)
		}
	}
	if err := validateLock(c); err != nil {
		return err
	}
	if err := validateEncryption(c); err != nil {
		return err
	}
	// 101: the URL's s3-ext-maxerrorretry takes up to 100 retries after the first try.
	if c.retryAttempts < 0 || c.retryAttempts > 101 {
		return fmt.Errorf("retry attempts %d: give a number from 1 to 101 (0 for the default)", c.retryAttempts)
	}
	return validateTransfer(c)
}

// checkHeaderValue refuses values that cannot travel in an HTTP header.
func checkHeaderValue(what, v string) error {
	for _, r := range v {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%s %q may hold only printable ASCII without spaces", what, truncate(v, 40))
		}
	}
	return nil
}

// Bucket returns the bucket name.
func (d *Destination) Bucket() string { return d.bucket }

// Prefix returns the folder inside the bucket: "" or ending in "/".
func (d *Destination) Prefix() string { return d.prefix }

// Region returns the region requests are signed for: the configured one, or
// the bucket's real region once discovered.
func (d *Destination) Region() string { return d.state.Load().region }

// Endpoint returns the server's base URL, without the bucket, such as
// "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000".
func (d *Destination) Endpoint() string { return d.state.Load().endpoint }

// StorageClass returns the storage class sent with uploads, "" for the
// server's default.
func (d *Destination) StorageClass() string { return d.cfg.storageClass }

// Client returns the SDK client for the current region: the escape hatch for
// what s3dest does not wrap. It changes when the region is discovered or
// healed: call Client for each use rather than keeping it.
func (d *Destination) Client() *s3.Client { return d.state.Load().client }

// String returns the destination as a URL that Open accepts, without the
// secret access key.
func (d *Destination) String() string {
	c := &d.cfg
	u := URL{
		Bucket: d.bucket, Prefix: d.prefix, Region: c.region, ServerName: c.serverName,
		AuthRegion: c.authRegion, UseSSL: c.useSSL, StorageClass: c.storageClass,
		ArchiveClasses: c.archiveClasses, PathStyle: c.pathStyle, ListV1: c.listV1,
		RecursiveList: c.recursiveList, LockMode: c.lockMode, Timeouts: d.givenTimeouts,
		DisableChunkEncoding: c.disableChunkEncoding, DisablePayloadSigning: c.disablePayloadSigning,
		DualStack: c.dualStack, FIPS: c.fips, Accelerate: c.accelerate,
		RequestChecksum: c.requestChecksum, ResponseChecksum: c.responseChecksum,
		ServerSideEncryption: c.sse.Type, SSEKMSKeyID: c.sse.KMSKeyID,
		Profile: c.profile, Anonymous: c.anonymous, LockDuration: c.lockFor,
		VersionAt: c.versionAt,
	}
	c.setTransportURL(&u)
	if c.creds != nil {
		u.AccessKeyID = c.creds.accessKeyID
	}
	if c.retryAttempts > 0 {
		n := c.retryAttempts - 1
		u.MaxErrorRetry = &n
	}
	return u.String()
}

// do runs one S3 call with the destination's recovery around it: it settles
// the region first, heals a wrong region once, creates a missing bucket once
// for an upload when WithCreateBucket asks for it, and wraps the error. fn may run twice,
// so it must not have consumed anything irreplaceable when it fails.
func (d *Destination) do(ctx context.Context, op, key string, timeout time.Duration, fn func(context.Context, *s3.Client) error) error {
	if timeout != NoTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, &errTimeout{name: d.timeoutName(timeout), d: timeout})
		defer cancel()
	}
	// Without a timeout, fn's context is the caller's: a body it opens
	// (NewReader) outlives do.
	st, err := d.discover(ctx)
	if err != nil {
		return d.wrap(op, key, timedOut(ctx, err))
	}
	err = fn(ctx, st.client)
	if err == nil {
		return nil
	}
	kind, _ := classify(err, key == "")
	if isWrongRegion(err, kind, st) && !(d.plan.host != "" && redirected(err)) {
		// A redirect from a custom endpoint names another endpoint, which
		// a region change cannot reach: only a wrong signing region heals.
		if healed, ok := d.heal(ctx, st, err); ok {
			if err = fn(ctx, healed.client); err == nil {
				return nil
			}
			kind, _ = classify(err, key == "")
		}
	}
	if kind == ErrBucketNotFound && d.cfg.createBucket && op == "put" {
		// Only a write creates the bucket: a mistyped bucket name must not
		// be created by a listing or a delete.
		if cerr := d.CreateBucket(ctx); cerr != nil {
			return cerr
		}
		if err = fn(ctx, d.state.Load().client); err == nil {
			return nil
		}
	}
	return d.wrap(op, key, timedOut(ctx, err))
}

// wrap turns any error into an *Error with its category and hint.
func (d *Destination) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	kind, code := classify(err, key == "")
	e := &Error{Op: op, Bucket: d.bucket, Key: key, Code: code, Err: err, kind: kind, secret: d.scrub}
	e.Hint = d.hint(op, kind, code, err)
	return e
}
