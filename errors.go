package s3dest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
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
	if e.Err != nil && e.Err != e.kind {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	msg := b.String()
	if e.secret != nil {
		for _, s := range []string{e.secret.secretAccessKey, e.secret.sessionToken} {
			if len(s) >= 4 {
				msg = strings.ReplaceAll(msg, s, "REDACTED")
			}
		}
	}
	return msg
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

// classify maps an S3 error to its category: the one place that reads error
// codes. bucketOp says the request named no object, so that a bare 404 (HEAD
// answers have no body, hence no code) means the bucket is missing.
func classify(err error, bucketOp bool) (kind error, code string) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, ""
	}
	var ce *credentialsError
	if errors.As(err, &ce) {
		return ErrAccessDenied, "" // the default chain found no credentials
	}
	code, status := errorCode(err)
	switch code {
	case "NoSuchBucket":
		return ErrBucketNotFound, code
	case "NoSuchKey":
		return ErrObjectNotFound, code
	case "InvalidObjectState":
		return ErrObjectArchived, code
	case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId",
		"SignatureDoesNotMatch", "AccountProblem", "InvalidToken", "ExpiredToken":
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
		"InvalidDigest", "InvalidRange":
		return ErrInvalid, code
	}
	switch status {
	case http.StatusNotFound:
		if bucketOp {
			return ErrBucketNotFound, code
		}
		return ErrObjectNotFound, code
	case http.StatusForbidden:
		return ErrAccessDenied, code
	case http.StatusMovedPermanently:
		return ErrWrongRegion, code
	}
	return nil, code
}

// hints say how to fix the common failures, by category.
var hints = map[error]string{
	ErrBucketNotFound:  "create it with CreateBucket, or let WithCreateBucket(true) create it on first use",
	ErrObjectArchived:  "restore it first",
	ErrAccessDenied:    "check aws-access-key-id, aws-secret-access-key and the bucket policy",
	ErrBucketNameTaken: "bucket names are global: choose another name",
}

func hintFor(kind error, code string) string {
	switch code {
	case "InvalidStorageClass":
		return "the server refused the storage class: choose one it supports, or leave s3-storage-class empty"
	case "InvalidLocationConstraint", "IllegalLocationConstraintException":
		return "the server cannot create the bucket in that region: set s3-location-constraint to the server's region"
	case "SignatureDoesNotMatch":
		return "check aws-secret-access-key, and s3-authentication-region for providers that sign for a fixed region"
	}
	return hints[kind]
}

// invalid returns an ErrInvalid error for input refused before any request.
func invalid(op, bucket, key, format string, args ...any) error {
	return &Error{Op: op, Bucket: bucket, Key: key, kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
}
