package s3dest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Sentinel errors name the categories a caller acts on. Every error s3dest
// returns is an *Error (DeleteMany joins one per failed name); test its
// category with errors.Is and reach the SDK's cause (smithy.APIError,
// *types.NoSuchKey, ...) with errors.As.
var (
	// ErrBucketNotFound: the bucket does not exist (or the server answered
	// a bare 404 to a bucket request). CreateBucket or WithCreateBucket make it.
	ErrBucketNotFound = errors.New("bucket not found")
	// ErrObjectNotFound: no object has that name.
	ErrObjectNotFound = errors.New("object not found")
	// ErrObjectArchived: the object is in an archive tier (Glacier, Deep
	// Archive, ...) and must be restored before it can be read.
	ErrObjectArchived = errors.New("object is archived")
	// ErrAccessDenied: the credentials were refused, or lack a permission.
	ErrAccessDenied = errors.New("access denied")
	// ErrBucketNameTaken: creating the bucket failed because another account
	// owns a bucket of that name. Bucket names are global: choose another.
	ErrBucketNameTaken = errors.New("bucket name is taken by another account")
	// ErrInvalid: an argument, option, URL or name was refused, by s3dest
	// before any request or by the server.
	ErrInvalid = errors.New("invalid argument")
	// ErrWrongRegion: the bucket is in another region than the one requests
	// were sent to, and s3dest could not heal it by itself.
	ErrWrongRegion = errors.New("wrong region")
	// ErrCorrupt: data read or written does not match its checksum or length.
	ErrCorrupt = errors.New("data corrupt or truncated")
	// ErrObjectExists: a Put with IfAbsent found an object of that name;
	// it was left as it was.
	ErrObjectExists = errors.New("object already exists")
	// ErrNotSupported: the server does not implement the operation (501
	// NotImplemented, 405 MethodNotAllowed), such as RestoreObject on
	// servers without archive tiers. The hint says what to do instead.
	ErrNotSupported = errors.New("not supported by the server")
)

// Error describes a failed operation, in the shape of io/fs.PathError. It
// unwraps to its category (one of the Err* sentinels, when one applies) and
// to its cause, so both errors.Is(err, ErrObjectNotFound) and
// errors.As(err, &apiErr) work.
type Error struct {
	Op     string // what was attempted: "get", "put", "list", "create-bucket", ...
	Bucket string // the bucket, "" when the error is about the configuration
	Key    string // the full object key, "" for bucket-level operations
	Code   string // the S3 error code ("NoSuchKey", "SlowDown", ...), "" when there is none
	Hint   string // how to fix it, when s3dest knows, else ""
	Err    error  // the cause: an SDK error, a context error or a description

	kind   error   // category sentinel, nil when none applies
	secret *secret // scrubbed from the message, defensively
}

// Error reports the operation, the object, the category, the cause and a hint.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("s3dest: ")
	b.WriteString(e.Op)
	if e.Bucket != "" {
		b.WriteString(" s3://")
		b.WriteString(e.Bucket)
		if e.Key != "" {
			b.WriteString("/")
			b.WriteString(e.Key)
		}
	}
	if e.kind != nil {
		b.WriteString(": ")
		b.WriteString(e.kind.Error())
	}
	var requestID string
	if e.Err != nil && e.Err != e.kind {
		var cause string
		cause, requestID = shortCause(e.Err)
		b.WriteString(": ")
		b.WriteString(cause)
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	if requestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(requestID)
		b.WriteString("]")
	}
	return e.scrub(b.String())
}

// Format prints Error for %v and %s; %+v adds the cause as the SDK wrote
// it, with the host id and every retry, for a support ticket.
func (e *Error) Format(f fmt.State, verb rune) {
	msg := e.Error()
	if verb == 'v' && f.Flag('+') && e.Err != nil && e.Err != e.kind {
		msg += "\ncause: " + e.scrub(e.Err.Error())
	}
	_, _ = io.WriteString(f, msg)
}

// scrub replaces every secret of the configuration in msg.
func (e *Error) scrub(msg string) string {
	if e.secret != nil {
		for _, s := range []string{e.secret.secretAccessKey, e.secret.sessionToken, e.secret.customerKey} {
			if len(s) >= 4 {
				msg = strings.ReplaceAll(msg, s, "REDACTED")
			}
		}
	}
	return msg
}

// shortCause is the cause's text with the SDK's long operation error
// ("operation error S3: GetObject, https response error StatusCode: 404,
// RequestID: ..., HostID: ..., api error NoSuchKey: ...") cut to what
// happened ("GetObject answered 404 NoSuchKey: ..."), and the request id
// S3 gave, for a support ticket. Wrappers around it ("part 3: ...") stay.
func shortCause(err error) (text, requestID string) {
	full := err.Error()
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return full, ""
	}
	var re *awshttp.ResponseError
	if errors.As(oe.Err, &re) {
		requestID = re.ServiceRequestID()
	}
	var short string
	var ae smithy.APIError
	switch {
	case errors.As(oe.Err, &ae) && re != nil:
		short = fmt.Sprintf("%s answered %d %s", oe.OperationName, re.HTTPStatusCode(), ae.ErrorCode())
		if m := ae.ErrorMessage(); m != "" {
			short += ": " + m
		}
	case re != nil && re.HTTPStatusCode() != 0:
		// No S3 error: what went wrong with the answer (a body that could
		// not be read, say) is the news.
		short = fmt.Sprintf("%s answered %d %s: %v", oe.OperationName, re.HTTPStatusCode(), http.StatusText(re.HTTPStatusCode()), re.Err)
	default:
		// No answer (the SDK's response error of status 0 around it): the
		// network's words.
		var se *smithyhttp.RequestSendError
		if errors.As(oe.Err, &se) {
			short = oe.OperationName + ": " + se.Error()
		} else {
			short = oe.OperationName + ": " + oe.Err.Error()
		}
	}
	var mae *retry.MaxAttemptsError
	if errors.As(oe.Err, &mae) {
		short += fmt.Sprintf(" (after %d attempts)", mae.Attempt)
	}
	return strings.Replace(full, oe.Error(), short, 1), requestID
}

// Unwrap returns the category and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.Err != nil && e.Err != e.kind {
		errs = append(errs, e.Err)
	}
	return errs
}

// errorCode returns the S3 error code and HTTP status of an SDK error; both
// are zero for errors that carry no response (network, context).
func errorCode(err error) (code string, status int) {
	if err == nil {
		return "", 0 // the common case, without errors.As's allocations
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// responseHeader returns a header of the HTTP response behind an SDK error.
func responseHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

// callerError is a failure of the caller's reader or writer, which is no
// answer of the server: errors.As does not look inside, so that an API
// error in it (a pipe from or to another bucket's object) is not
// classified as this Destination's, to heal a region or retry by;
// errors.Is still finds the caller's error.
type callerError struct{ err error }

func (e *callerError) Error() string        { return e.err.Error() }
func (e *callerError) Is(target error) bool { return errors.Is(e.err, target) }

// classify maps an S3 error to its category: the one place that reads error
// codes. Categories come from the S3 error code; the HTTP status decides
// only where the answer carries no code of its own (a HEAD answer has no
// body, and the SDK then names the status: "NotFound", "Forbidden"). A 404
// with a code s3dest does not know is no "not found": versitygw answers an
// unknown access key with 404 XAdminUserNotFound. bucketOp says the request
// named no object, so that a bare 404 means the bucket is missing.
func classify(err error, bucketOp bool) (kind error, code string) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, ""
	}
	var ce *credentialsError
	if errors.As(err, &ce) {
		return ErrAccessDenied, "" // the default chain found no credentials
	}
	if schemeMismatch(err) {
		return ErrInvalid, "" // https to a plain-HTTP server: use-ssl is wrong
	}
	code, status := errorCode(err)
	if slices.Contains(folderClash, code) {
		return ErrInvalid, code
	}
	switch code {
	case "NoSuchBucket":
		return ErrBucketNotFound, code
	case "NoSuchKey", "NoSuchVersion":
		return ErrObjectNotFound, code
	case "InvalidObjectState":
		return ErrObjectArchived, code
	case "AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidSecurity", "Unauthorized",
		"AccessForbidden", "XAdminUserNotFound", "XAdminAccessDenied":
		// AWS's codes (MinIO, Ceph, SeaweedFS and most others use them
		// too), and those of GCS (InvalidSecurity), R2 (Unauthorized) and
		// versitygw (its 404 XAdminUserNotFound is an unknown access key).
		return ErrAccessDenied, code
	case "BucketAlreadyExists":
		return ErrBucketNameTaken, code
	case "BadDigest", "XAmzContentSHA256Mismatch":
		// The server received other bytes than the checksum we computed:
		// corrupted in transit (or by a proxy).
		return ErrCorrupt, code
	case "PermanentRedirect", "AuthorizationHeaderMalformed":
		return ErrWrongRegion, code
	case "InvalidBucketName", "InvalidStorageClass", "InvalidArgument", "InvalidRequest",
		"InvalidLocationConstraint", "IllegalLocationConstraintException", "KeyTooLongError",
		"InvalidDigest", "InvalidRange", "MalformedXML":
		return ErrInvalid, code
	case "NotImplemented", "MethodNotAllowed", "XAdminMethodNotSupported":
		return ErrNotSupported, code
	}
	bare := code == "" || code == strings.ReplaceAll(http.StatusText(status), " ", "")
	switch {
	case status == http.StatusNotFound && bare && bucketOp:
		return ErrBucketNotFound, code
	case status == http.StatusNotFound && bare:
		return ErrObjectNotFound, code
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return ErrAccessDenied, code
	case status == http.StatusMovedPermanently:
		return ErrWrongRegion, code
	case status == http.StatusNotImplemented || status == http.StatusMethodNotAllowed:
		return ErrNotSupported, code
	case status == http.StatusRequestedRangeNotSatisfiable:
		return ErrInvalid, code // InvalidRange, its body lost
	}
	return nil, code
}

// folderClash are the codes of servers that store objects as files
// (versitygw, MinIO) for a name that is also the folder of others.
var folderClash = []string{"ExistingObjectIsDirectory", "ObjectParentIsFile", "DirectoryObjectContainsData",
	"XMinioParentIsObject", "XMinioObjectExistsAsDirectory"}

// schemeMismatch reports an https request answered in plain HTTP.
func schemeMismatch(err error) bool {
	var rh tls.RecordHeaderError
	return errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/"
}

// unknownAuthority reports a server certificate no trusted authority signed.
func unknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &cv)
}

// hints say how to fix the common failures, by category.
var hints = map[error]string{
	ErrBucketNotFound:  "create it with CreateBucket, or let WithCreateBucket(true) create it on first use",
	ErrObjectArchived:  "restore it first",
	ErrAccessDenied:    "check aws-access-key-id, aws-secret-access-key and the bucket policy",
	ErrBucketNameTaken: "bucket names are global: choose another name",
	ErrNotSupported:    "the server does not implement this S3 operation",
}

// hint says how to fix a failure of op, when s3dest knows.
func (d *Destination) hint(op string, kind error, code string, err error) string {
	var te *errTimeout
	switch {
	case schemeMismatch(err):
		return "the server answered in plain HTTP: set use-ssl=false, or give s3-server-name as http://host:port"
	case unknownAuthority(err):
		return "the server's TLS certificate is signed by an authority this machine does not trust: " +
			"name a PEM file of it in AWS_CA_BUNDLE, or give WithHTTPClient a client whose TLS config trusts it"
	case errors.As(err, &te):
		return fmt.Sprintf("the server did not answer in time: check that s3-server-name names a server that is up "+
			"and reachable, or raise %s", te.name)
	case d.plainHTTPToTLS(err):
		return "the server speaks HTTPS: drop use-ssl=false, or give s3-server-name as https://host:port"
	case kind == ErrWrongRegion:
		return d.regionHint(err, code)
	case kind == ErrNotSupported && op == "restore":
		return "the server cannot restore archived objects; if it serves objects of archive classes as they are " +
			"(SeaweedFS does), set s3-archive-classes= (empty, WithArchiveClasses()) so they are not treated as archived"
	case kind == ErrNotSupported && op == "cleanup-uploads":
		return "the server cannot list multipart uploads: abort stale ones with the server's own tools"
	}
	if h := d.lockHint(op, code); h != "" {
		return h
	}
	if h := d.lifecycleHint(op, kind, code); h != "" {
		return h
	}
	if kind == ErrBucketNotFound {
		if h := d.oldHostFormHint(); h != "" {
			return h
		}
	}
	if slices.Contains(folderClash, code) {
		return "the server stores objects as files, so a name cannot also be the folder of other names " +
			"(\"x\" and \"x/y\"): choose names that keep them apart"
	}
	switch code {
	case "RequestTimeTooSkewed":
		return "the clocks of this machine and the server differ by more than S3 allows (15 minutes): set the system clock"
	case "InvalidStorageClass":
		return "the server refused the storage class: choose one it supports, or leave s3-storage-class empty"
	case "InvalidLocationConstraint", "IllegalLocationConstraintException":
		return d.locationHint(err)
	case "SignatureDoesNotMatch":
		if d.secretHasSpace() {
			return "the secret access key holds a space, which is what a raw '+' in a URL's " +
				"aws-secret-access-key= or auth-password= reads as: percent-encode each '+' of the secret as %2B"
		}
		return "check aws-secret-access-key, and s3-authentication-region for providers that sign for a fixed region"
	}
	return hints[kind]
}

// oldHostFormHint explains a missing bucket named like an S3 host: the URL
// form of Duplicati 1.x, s3://HOST/BUCKET/FOLDER, which Duplicati removed
// in 2024 and now reads, as s3dest does, as the bucket HOST with the
// folder BUCKET/FOLDER. It names the URL to write instead, or returns ""
// when the bucket is no S3 host or the folder starts with no bucket name.
func (d *Destination) oldHostFormHint() string {
	host := strings.ToLower(d.bucket)
	region, isAWS := awsHostRegion(host)
	if !isAWS && providerRegion(host) == "" &&
		!((strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-")) && strings.Count(host, ".") >= 2) {
		return ""
	}
	bucket, folder, _ := strings.Cut(strings.TrimSuffix(d.prefix, "/"), "/")
	if validateBucket(bucket) != nil {
		return ""
	}
	to := "s3://" + bucket + "/" + escapePrefix(folder)
	hint := fmt.Sprintf("the bucket name %s is an S3 host: Duplicati 1.x wrote s3://HOST/BUCKET/FOLDER, which now reads "+
		"as the bucket HOST; write %s?s3-server-name=%s", d.bucket, to, host)
	switch {
	case isAWS && region != "":
		hint += fmt.Sprintf(", or %s?s3-location-constraint=%s", to, region)
	case isAWS:
		hint += fmt.Sprintf(", or %s without a server name", to)
	}
	return hint
}

// secretHasSpace reports whether the secret access key holds a space: AWS
// secrets have none, but often a '+', which a URL query decodes to a space
// unless it is written %2B.
func (d *Destination) secretHasSpace() bool {
	return d.scrub != nil && strings.Contains(d.scrub.secretAccessKey, " ")
}

// regionHint says how to reach a bucket in another region: on AWS the
// location constraint picks the host; a custom endpoint that redirects
// serves not that bucket, and one that refuses the signing region wants
// another.
func (d *Destination) regionHint(err error, code string) string {
	r := responseHeader(err, "x-amz-bucket-region")
	switch {
	case d.plan.host != "" && redirected(err):
		where := ""
		if r != "" {
			where = " (the bucket is in region " + r + ")"
		}
		return "the server redirected the request to another endpoint" + where +
			": set s3-server-name to the endpoint that serves the bucket"
	case r != "":
		return fmt.Sprintf("the bucket is in region %s: set s3-location-constraint=%s", r, r)
	case d.plan.host != "" && code == "AuthorizationHeaderMalformed":
		return "the server expects requests signed for another region: set s3-authentication-region " +
			"(or s3-location-constraint) to the server's region"
	}
	return "set s3-location-constraint to the bucket's region"
}

// redirected reports a 301 answer (S3's PermanentRedirect).
func redirected(err error) bool {
	code, status := errorCode(err)
	return status == http.StatusMovedPermanently || code == "PermanentRedirect"
}

// invalid returns an ErrInvalid error for input refused before any request.
func invalid(op, bucket, key, format string, args ...any) error {
	return &Error{Op: op, Bucket: bucket, Key: key, kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
}
