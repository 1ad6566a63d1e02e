package s3dest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
)

// The operations of the wire (wire.go), and the Destination's calls that
// use the wire when it can send the input and the SDK otherwise.

// putObjectCall sends a PutObject, counting its attempts in attempts (nil:
// not counted).
func (d *Destination) putObjectCall(ctx context.Context, c *s3.Client, in *s3.PutObjectInput, attempts *atomic.Int32) (*s3.PutObjectOutput, error) {
	return viaWire(ctx, d, c, "PutObject", http.MethodPut, in, in.Bucket, in.Key, attempts, func() (*s3.PutObjectOutput, error) {
		if attempts != nil {
			return c.PutObject(ctx, in, countAttempts(attempts))
		}
		return c.PutObject(ctx, in)
	})
}

// uploadPartCall sends an UploadPart.
func (d *Destination) uploadPartCall(ctx context.Context, c *s3.Client, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	return viaWire(ctx, d, c, "UploadPart", http.MethodPut, in, in.Bucket, in.Key, nil, func() (*s3.UploadPartOutput, error) {
		return c.UploadPart(ctx, in)
	})
}

// getObjectCall sends a GetObject; the SDK's path does not validate the
// body (s3dest does: get.go).
func (d *Destination) getObjectCall(ctx context.Context, c *s3.Client, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	return viaWire(ctx, d, c, "GetObject", http.MethodGet, in, in.Bucket, in.Key, nil, func() (*s3.GetObjectOutput, error) {
		return c.GetObject(ctx, in, noSDKValidation)
	})
}

// headObjectCall sends a HeadObject.
func (d *Destination) headObjectCall(ctx context.Context, c *s3.Client, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	return viaWire(ctx, d, c, "HeadObject", http.MethodHead, in, in.Bucket, in.Key, nil, func() (*s3.HeadObjectOutput, error) {
		return c.HeadObject(ctx, in)
	})
}

// deleteObjectCall sends a DeleteObject.
func (d *Destination) deleteObjectCall(ctx context.Context, c *s3.Client, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	return viaWire(ctx, d, c, "DeleteObject", http.MethodDelete, in, in.Bucket, in.Key, nil, func() (*s3.DeleteObjectOutput, error) {
		return c.DeleteObject(ctx, in)
	})
}

// viaWire sends in on c's wire when it has one that can send it, else
// through the SDK (sdk).
func viaWire[O any](ctx context.Context, d *Destination, c *s3.Client, op, method string, in any, bucket, key *string,
	attempts *atomic.Int32, sdk func() (*O, error)) (*O, error) {
	if w := d.wireFor(c); w != nil {
		out := new(O)
		switch err := w.call(ctx, op, method, in, bucket, key, out, attempts); err {
		case nil:
			return out, nil
		case errWireUnsupported:
		default:
			return nil, err // as the SDK: no output with an error
		}
	}
	return sdk()
}

// call sends one operation: in, an input struct whose fields are all in
// wireInputs, as the SDK serializes it; out, parsed from the answer's
// headers as the SDK parses them (a GetObject's body stays open in out).
// errWireUnsupported means nothing was sent.
func (w *wire) call(ctx context.Context, op, method string, in any, bucket, key *string, out any, attempts *atomic.Int32) error {
	iv := reflect.ValueOf(in).Elem()
	plan := wireInputs[iv.Type()]
	if plan == nil || bucket == nil || *bucket != w.bucket || key == nil || *key == "" || !plan.fits(iv) {
		return errWireUnsupported
	}
	r := &wireReq{op: op, method: method, key: *key, header: make(http.Header, 8), attempts: attempts}
	for _, f := range plan.headers {
		switch fv := iv.Field(f.index); {
		case fv.Kind() == reflect.Pointer && !fv.IsNil():
			r.header[f.header] = []string{fv.Elem().String()}
		case fv.Kind() == reflect.String && fv.Len() > 0:
			r.header[f.header] = []string{fv.String()}
		}
	}
	if !plan.encode(iv, r, w) {
		return errWireUnsupported
	}
	// As the SDK: no transparent gzip (its decoded length would not be
	// the object's), and bodies typed as bytes unless a type is given.
	r.header["Accept-Encoding"] = []string{"identity"}
	if r.body != nil && len(r.header["Content-Type"]) == 0 {
		r.header["Content-Type"] = []string{"application/octet-stream"}
	}
	resp, err := w.do(ctx, r)
	if err != nil {
		return err
	}
	ov := reflect.ValueOf(out).Elem()
	if err := wireOutputs[ov.Type()].decode(resp.Header, ov); err != nil {
		resp.Body.Close()
		return w.opError(op, &smithy.DeserializationError{Err: err})
	}
	if g, ok := out.(*s3.GetObjectOutput); ok {
		g.Body = resp.Body
		return nil
	}
	// Read to its end, as the SDK does, so that the connection is reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 1<<20)
	resp.Body.Close()
	return nil
}

// An inputPlan serializes one input type: the fields it knows, the
// headers of those that are headers (strings, string pointers and string
// enums, sent when set, as the SDK does), and encode for the others.
type inputPlan struct {
	known   []bool // by field index: serialized (or Bucket and Key)
	headers []fieldHeader
	encode  func(v reflect.Value, r *wireReq, w *wire) bool
}

type fieldHeader struct {
	index  int
	header string
}

// fits reports whether every field v sets is one the plan serializes.
func (p *inputPlan) fits(v reflect.Value) bool {
	for i := range p.known {
		if !p.known[i] && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// newInputPlan is the plan of the type of zero: headers as the fields
// named in headers, the fields named in others serialized by encode.
func newInputPlan(zero any, headers, others []string, encode func(v reflect.Value, r *wireReq, w *wire) bool) *inputPlan {
	t := reflect.TypeOf(zero)
	p := &inputPlan{known: make([]bool, t.NumField()), encode: encode}
	index := func(name string) int {
		sf, ok := t.FieldByName(name)
		if !ok {
			panic("s3dest: no field " + name + " in " + t.Name())
		}
		p.known[sf.Index[0]] = true
		return sf.Index[0]
	}
	for _, name := range headers {
		p.headers = append(p.headers, fieldHeader{index(name), requestHeaders[name]})
	}
	for _, name := range append(others, "Bucket", "Key") {
		index(name)
	}
	return p
}

// Headers of requests, canonical, by input field.
var requestHeaders = map[string]string{
	"ContentType":               "Content-Type",
	"ContentMD5":                "Content-Md5",
	"ChecksumCRC32":             "X-Amz-Checksum-Crc32",
	"ChecksumCRC32C":            "X-Amz-Checksum-Crc32c",
	"ChecksumCRC64NVME":         "X-Amz-Checksum-Crc64nvme",
	"ChecksumSHA1":              "X-Amz-Checksum-Sha1",
	"ChecksumSHA256":            "X-Amz-Checksum-Sha256",
	"ChecksumMode":              "X-Amz-Checksum-Mode",
	"StorageClass":              "X-Amz-Storage-Class",
	"ServerSideEncryption":      "X-Amz-Server-Side-Encryption",
	"SSEKMSKeyId":               "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
	"SSECustomerAlgorithm":      "X-Amz-Server-Side-Encryption-Customer-Algorithm",
	"SSECustomerKey":            "X-Amz-Server-Side-Encryption-Customer-Key",
	"SSECustomerKeyMD5":         "X-Amz-Server-Side-Encryption-Customer-Key-Md5",
	"IfNoneMatch":               "If-None-Match",
	"IfMatch":                   "If-Match",
	"ObjectLockMode":            "X-Amz-Object-Lock-Mode",
	"ObjectLockLegalHoldStatus": "X-Amz-Object-Lock-Legal-Hold",
	"Range":                     "Range",
}

// headerFields are the input fields each operation sends as headers.
var (
	putHeaderFields = []string{"ContentType", "ContentMD5", "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME",
		"ChecksumSHA1", "ChecksumSHA256", "StorageClass", "ServerSideEncryption", "SSEKMSKeyId",
		"SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "IfNoneMatch", "IfMatch",
		"ObjectLockMode", "ObjectLockLegalHoldStatus"}
	partHeaderFields = []string{"ContentMD5", "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME",
		"ChecksumSHA1", "ChecksumSHA256", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5"}
	readHeaderFields = []string{"Range", "ChecksumMode", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5"}
)

// setQuery sets the query parameter name to s, when s is set.
func setQuery(r *wireReq, name string, s *string) {
	if s == nil {
		return
	}
	if r.query == nil {
		r.query = url.Values{}
	}
	r.query.Set(name, *s)
}

func setPartNumber(r *wireReq, n *int32) {
	if n != nil {
		s := strconv.FormatInt(int64(*n), 10)
		setQuery(r, "partNumber", &s)
	}
}

// setBody sets a request's body: a seekable one of known length (a retry
// rewinds it), else false.
func setBody(r *wireReq, body any, length *int64) bool {
	rs, ok := body.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if body != nil && !ok || body != nil && length == nil {
		return false
	}
	r.length = aws.ToInt64(length)
	if ok {
		r.body = rs
	} else {
		r.body = strings.NewReader("")
	}
	return r.length >= 0
}

// hasSum reports whether a body carries a flexible checksum of its own
// (Content-MD5 is none: the SDK adds its own to such a body).
func hasSum(h http.Header) bool {
	for _, k := range []string{"X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c",
		"X-Amz-Checksum-Crc64nvme", "X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256"} {
		if len(h[k]) != 0 {
			return true
		}
	}
	return false
}

// wireInputs are the inputs the wire sends, by type.
var wireInputs = map[reflect.Type]*inputPlan{
	reflect.TypeFor[s3.PutObjectInput](): newInputPlan(s3.PutObjectInput{}, putHeaderFields,
		[]string{"Body", "ContentLength", "Metadata", "ObjectLockRetainUntilDate"},
		func(v reflect.Value, r *wireReq, w *wire) bool {
			in := v.Addr().Interface().(*s3.PutObjectInput)
			for k, m := range in.Metadata {
				r.header["X-Amz-Meta-"+http.CanonicalHeaderKey(k)] = []string{m}
			}
			if in.ObjectLockRetainUntilDate != nil {
				r.header["X-Amz-Object-Lock-Retain-Until-Date"] = []string{smithytime.FormatDateTime(*in.ObjectLockRetainUntilDate)}
			}
			// Where the SDK would add a checksum of its own, the SDK sends.
			return setBody(r, in.Body, in.ContentLength) && (!w.sdkSums || hasSum(r.header))
		}),
	reflect.TypeFor[s3.UploadPartInput](): newInputPlan(s3.UploadPartInput{}, partHeaderFields,
		[]string{"Body", "ContentLength", "PartNumber", "UploadId"},
		func(v reflect.Value, r *wireReq, w *wire) bool {
			in := v.Addr().Interface().(*s3.UploadPartInput)
			setPartNumber(r, in.PartNumber)
			setQuery(r, "uploadId", in.UploadId)
			return setBody(r, in.Body, in.ContentLength) && (!w.sdkSums || hasSum(r.header))
		}),
	reflect.TypeFor[s3.GetObjectInput](): newInputPlan(s3.GetObjectInput{}, readHeaderFields, []string{"VersionId", "PartNumber"},
		func(v reflect.Value, r *wireReq, _ *wire) bool {
			in := v.Addr().Interface().(*s3.GetObjectInput)
			setPartNumber(r, in.PartNumber)
			setQuery(r, "versionId", in.VersionId)
			return true
		}),
	reflect.TypeFor[s3.HeadObjectInput](): newInputPlan(s3.HeadObjectInput{}, readHeaderFields, []string{"VersionId", "PartNumber"},
		func(v reflect.Value, r *wireReq, _ *wire) bool {
			in := v.Addr().Interface().(*s3.HeadObjectInput)
			setPartNumber(r, in.PartNumber)
			setQuery(r, "versionId", in.VersionId)
			return true
		}),
	reflect.TypeFor[s3.DeleteObjectInput](): newInputPlan(s3.DeleteObjectInput{}, nil, []string{"VersionId"},
		func(v reflect.Value, r *wireReq, _ *wire) bool {
			setQuery(r, "versionId", v.Addr().Interface().(*s3.DeleteObjectInput).VersionId)
			return true
		}),
}

// typedErrors are the error codes the SDK's deserializer of an operation
// answers with a type of its own, rather than a smithy.GenericAPIError.
var typedErrors = map[string]map[string]func(msg *string, class, tier string) error{
	"GetObject": {
		"InvalidObjectState": func(m *string, c, t string) error {
			return &types.InvalidObjectState{Message: m, StorageClass: types.StorageClass(c), AccessTier: types.IntelligentTieringAccessTier(t)}
		},
		"NoSuchKey": func(m *string, _, _ string) error { return &types.NoSuchKey{Message: m} },
	},
	"HeadObject": {"NotFound": func(m *string, _, _ string) error { return &types.NotFound{Message: m} }},
	"PutObject": {
		"EncryptionTypeMismatch": func(m *string, _, _ string) error { return &types.EncryptionTypeMismatch{Message: m} },
		"InvalidRequest":         func(m *string, _, _ string) error { return &types.InvalidRequest{Message: m} },
		"InvalidWriteOffset":     func(m *string, _, _ string) error { return &types.InvalidWriteOffset{Message: m} },
		"TooManyParts":           func(m *string, _, _ string) error { return &types.TooManyParts{Message: m} },
	},
}

// typedError is the SDK's error for code answered to op.
func typedError(op, code, msg string, bodyMsg *string, class, tier string) error {
	for name, mk := range typedErrors[op] {
		if strings.EqualFold(name, code) {
			return mk(bodyMsg, class, tier)
		}
	}
	return &smithy.GenericAPIError{Code: code, Message: msg}
}
