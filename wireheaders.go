package s3dest

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithytime "github.com/aws/smithy-go/time"
)

// How the wire (wire.go) reads an answer's headers into the SDK's output
// structs: the same headers, parsed the same way, as the SDK's REST-XML
// deserializers. wire_test.go compares the two on answers that carry every
// header.

// headerKind says how a header's value becomes its field.
type headerKind int

const (
	hString   headerKind = iota // *string
	hEnum                       // a string type
	hBool                       // *bool
	hInt64                      // *int64
	hInt32                      // *int32
	hHTTPDate                   // *time.Time, an HTTP date
	hISODate                    // *time.Time, an ISO 8601 date-time
	hExpires                    // *time.Time, an HTTP date, nil when it is none
)

// responseHeaders are the headers of S3's object answers: header
// (canonical), field, kind. An output type takes those it has a field for.
var responseHeaders = []struct {
	header, field string
	kind          headerKind
}{
	{"Accept-Ranges", "AcceptRanges", hString},
	{"X-Amz-Archive-Status", "ArchiveStatus", hEnum},
	{"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "BucketKeyEnabled", hBool},
	{"Cache-Control", "CacheControl", hString},
	{"X-Amz-Checksum-Crc32", "ChecksumCRC32", hString},
	{"X-Amz-Checksum-Crc32c", "ChecksumCRC32C", hString},
	{"X-Amz-Checksum-Crc64nvme", "ChecksumCRC64NVME", hString},
	{"X-Amz-Checksum-Md5", "ChecksumMD5", hString},
	{"X-Amz-Checksum-Sha1", "ChecksumSHA1", hString},
	{"X-Amz-Checksum-Sha256", "ChecksumSHA256", hString},
	{"X-Amz-Checksum-Sha512", "ChecksumSHA512", hString},
	{"X-Amz-Checksum-Type", "ChecksumType", hEnum},
	{"X-Amz-Checksum-Xxhash128", "ChecksumXXHASH128", hString},
	{"X-Amz-Checksum-Xxhash3", "ChecksumXXHASH3", hString},
	{"X-Amz-Checksum-Xxhash64", "ChecksumXXHASH64", hString},
	{"Content-Disposition", "ContentDisposition", hString},
	{"Content-Encoding", "ContentEncoding", hString},
	{"Content-Language", "ContentLanguage", hString},
	{"Content-Length", "ContentLength", hInt64},
	{"Content-Range", "ContentRange", hString},
	{"Content-Type", "ContentType", hString},
	{"X-Amz-Delete-Marker", "DeleteMarker", hBool},
	{"Etag", "ETag", hString},
	{"X-Amz-Expiration", "Expiration", hString},
	{"Expires", "Expires", hExpires},
	{"Expires", "ExpiresString", hString},
	{"Last-Modified", "LastModified", hHTTPDate},
	{"X-Amz-Missing-Meta", "MissingMeta", hInt32},
	{"X-Amz-Object-Lock-Event-Hold", "ObjectLockEventHold", hEnum},
	{"X-Amz-Object-Lock-Event-Hold-Duration-Days", "ObjectLockEventHoldDurationDays", hInt32},
	{"X-Amz-Object-Lock-Event-Hold-Duration-Years", "ObjectLockEventHoldDurationYears", hInt32},
	{"X-Amz-Object-Lock-Legal-Hold", "ObjectLockLegalHoldStatus", hEnum},
	{"X-Amz-Object-Lock-Mode", "ObjectLockMode", hEnum},
	{"X-Amz-Object-Lock-Retain-Until-Date", "ObjectLockRetainUntilDate", hISODate},
	{"X-Amz-Mp-Parts-Count", "PartsCount", hInt32},
	{"X-Amz-Replication-Status", "ReplicationStatus", hEnum},
	{"X-Amz-Request-Charged", "RequestCharged", hEnum},
	{"X-Amz-Restore", "Restore", hString},
	{"X-Amz-Server-Side-Encryption", "ServerSideEncryption", hEnum},
	{"X-Amz-Server-Side-Encryption-Customer-Algorithm", "SSECustomerAlgorithm", hString},
	{"X-Amz-Server-Side-Encryption-Customer-Key-Md5", "SSECustomerKeyMD5", hString},
	{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "SSEKMSKeyId", hString},
	{"X-Amz-Server-Side-Encryption-Context", "SSEKMSEncryptionContext", hString},
	{"X-Amz-Storage-Class", "StorageClass", hEnum},
	{"X-Amz-Tagging-Count", "TagCount", hInt32},
	{"X-Amz-Version-Id", "VersionId", hString},
	{"X-Amz-Website-Redirect-Location", "WebsiteRedirectLocation", hString},
	{"X-Amz-Object-Size", "Size", hInt64},
}

// An outputPlan reads the headers of one output type.
type outputPlan struct {
	fields   []outputField
	metadata int // index of Metadata (X-Amz-Meta-*), -1 when none
}

type outputField struct {
	index  int
	header string
	kind   headerKind
}

// newOutputPlan is the plan of the type of zero. Which headers each type
// takes is the SDK's: a type gets those of responseHeaders it has a field
// for, except the ones the SDK leaves out of it (skip).
func newOutputPlan(zero any, skip ...string) *outputPlan {
	t := reflect.TypeOf(zero)
	p := &outputPlan{metadata: -1}
	for _, h := range responseHeaders {
		if sf, ok := t.FieldByName(h.field); ok && !strings.Contains(" "+strings.Join(skip, " ")+" ", " "+h.field+" ") {
			p.fields = append(p.fields, outputField{sf.Index[0], h.header, h.kind})
		}
	}
	if sf, ok := t.FieldByName("Metadata"); ok {
		p.metadata = sf.Index[0]
	}
	return p
}

// wireOutputs are the outputs the wire reads, by type.
var wireOutputs = map[reflect.Type]*outputPlan{
	reflect.TypeFor[s3.PutObjectOutput]():    newOutputPlan(s3.PutObjectOutput{}),
	reflect.TypeFor[s3.UploadPartOutput]():   newOutputPlan(s3.UploadPartOutput{}),
	reflect.TypeFor[s3.GetObjectOutput]():    newOutputPlan(s3.GetObjectOutput{}),
	reflect.TypeFor[s3.HeadObjectOutput]():   newOutputPlan(s3.HeadObjectOutput{}),
	reflect.TypeFor[s3.DeleteObjectOutput](): newOutputPlan(s3.DeleteObjectOutput{}),
}

// decode sets the fields of v from h: the first value of each header,
// trimmed, as the SDK reads them.
func (p *outputPlan) decode(h http.Header, v reflect.Value) error {
	for _, f := range p.fields {
		vals := h[f.header]
		if len(vals) == 0 {
			continue
		}
		s := strings.TrimSpace(vals[0])
		fv := v.Field(f.index)
		switch f.kind {
		case hString:
			fv.Set(reflect.ValueOf(&s))
		case hEnum:
			fv.SetString(s)
		case hBool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return badHeader(f.header, err)
			}
			fv.Set(reflect.ValueOf(&b))
		case hInt64:
			n, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				return badHeader(f.header, err)
			}
			fv.Set(reflect.ValueOf(&n))
		case hInt32:
			n, err := strconv.ParseInt(s, 0, 32)
			if err != nil {
				return badHeader(f.header, err)
			}
			n32 := int32(n)
			fv.Set(reflect.ValueOf(&n32))
		case hHTTPDate, hISODate, hExpires:
			parse := smithytime.ParseHTTPDate
			if f.kind == hISODate {
				parse = smithytime.ParseDateTime
			}
			t, err := parse(s)
			if err != nil && f.kind == hExpires {
				continue // the SDK keeps an Expires that is no date in ExpiresString only
			}
			if err != nil {
				return badHeader(f.header, err)
			}
			fv.Set(reflect.ValueOf(&t))
		}
	}
	if p.metadata >= 0 {
		var meta map[string]string
		for k, vals := range h {
			if len(k) > len("X-Amz-Meta-") && strings.EqualFold(k[:len("X-Amz-Meta-")], "X-Amz-Meta-") {
				if meta == nil {
					meta = map[string]string{}
				}
				meta[strings.ToLower(k[len("X-Amz-Meta-"):])] = strings.TrimSpace(vals[0])
			}
		}
		if meta != nil {
			v.Field(p.metadata).Set(reflect.ValueOf(meta))
		}
	}
	return nil
}

// badHeader is the SDK's words for a header it cannot parse.
func badHeader(name string, err error) error {
	return fmt.Errorf("failed to decode response with invalid Http bindings, %s: %w", name, err)
}
