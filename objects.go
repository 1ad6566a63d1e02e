package s3dest

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// FileInfo describes one object of the destination.
type FileInfo struct {
	Name         string    // relative to the prefix
	Size         int64     // bytes
	ModTime      time.Time // last modified, as the server reports it
	ETag         string    // without quotes
	StorageClass string    // as the server reports it; "STANDARD" when it reports none
	Archived     bool      // in an archive class: reading it now would fail

	Restoring     bool      // a restore has been requested and is not finished
	RestoredUntil time.Time // zero unless a restored copy is readable until then

	// Checksum is the object's whole-object checksum as "ALGORITHM:base64"
	// (for example "CRC32C:mnG7TA=="), from Stat; "" when the server keeps
	// none. Listings do not carry it.
	Checksum string

	// Metadata is the object's user metadata (PutMetadata), keys
	// lower-case, from Stat; nil when it has none. Listings do not carry
	// it.
	Metadata map[string]string
}

// maxSinglePut is the largest object S3 takes in one PutObject or CopyObject.
const maxSinglePut = 5 << 30

// List yields the destination's objects in the server's order (key order on
// S3), with names relative to the prefix: those directly under it, or all
// below it with s3-recursive-list. A key outside the prefix (from a server
// that ignored it) is no object of the destination and is not yielded. It
// pages through ListObjectsV2 (ListObjects with s3-list-api-version=v1),
// reading storage classes from the listing. After an error it yields the
// error and stops.
func (d *Destination) List(ctx context.Context) iter.Seq2[FileInfo, error] {
	if d.viewing() {
		return d.listAt(ctx) // versions.go
	}
	return func(yield func(FileInfo, error) bool) {
		var token *string
		tokens := map[string]bool{} // a server going round in circles ends the listing
		// Names of the previous page and this one: some servers repeat
		// entries across a page boundary. Only repeats are dropped, never an
		// entry out of order.
		var prev, seen map[string]bool
		for {
			var page []types.Object
			var next *string
			err := d.do(ctx, "list", "", d.cfg.timeouts.List, func(ctx context.Context, c *s3.Client) error {
				var err error
				page, next, err = d.listPage(ctx, c, token)
				return err
			})
			if err != nil {
				yield(FileInfo{}, err)
				return
			}
			prev, seen = seen, make(map[string]bool, len(page))
			for _, o := range page {
				fi := d.fileInfo(o)
				if fi.Name == "" || prev[fi.Name] || seen[fi.Name] { // the folder marker, a key outside the prefix, or a repeat
					continue
				}
				seen[fi.Name] = true
				if !yield(fi, nil) {
					return
				}
			}
			if next == nil || *next == "" {
				return
			}
			if tokens[*next] {
				yield(FileInfo{}, d.wrap("list", "", errors.New("the server repeated a continuation token: listing stopped")))
				return
			}
			tokens[*next] = true
			token = next
		}
	}
}

// listPage fetches one page; next is the token (or marker) of the following
// page, nil at the end. It asks for each object's RestoreStatus, and falls
// back to a plain listing, once for the destination's life, on a server that
// refuses the attribute.
func (d *Destination) listPage(ctx context.Context, c *s3.Client, token *string) ([]types.Object, *string, error) {
	var delim *string
	if !d.cfg.recursiveList {
		delim = aws.String("/")
	}
	var attrs []types.OptionalObjectAttributes
	if !d.noRestoreStatus.Load() {
		attrs = []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}
	}
	page, next, err := d.listOnce(ctx, c, token, delim, attrs)
	if err != nil && attrs != nil && rejectsRestoreStatus(err) {
		if page, next, err2 := d.listOnce(ctx, c, token, delim, nil); err2 == nil {
			d.noteNoRestoreStatus(err)
			return page, next, nil
		}
	}
	return page, next, err
}

func (d *Destination) listOnce(ctx context.Context, c *s3.Client, token, delim *string, attrs []types.OptionalObjectAttributes) ([]types.Object, *string, error) {
	if d.cfg.listV1 {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &d.bucket, Prefix: &d.prefix, Delimiter: delim,
			Marker: token, OptionalObjectAttributes: attrs})
		if err != nil {
			return nil, nil, err
		}
		if !aws.ToBool(out.IsTruncated) {
			return out.Contents, nil, nil
		}
		next := nextMarker(out)
		if next == nil {
			return nil, nil, errTruncatedListing
		}
		return out.Contents, next, nil
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: &d.prefix, Delimiter: delim,
		ContinuationToken: token, OptionalObjectAttributes: attrs})
	if err != nil {
		return nil, nil, err
	}
	if !aws.ToBool(out.IsTruncated) {
		return out.Contents, nil, nil
	}
	if aws.ToString(out.NextContinuationToken) == "" {
		return nil, nil, errTruncatedListing
	}
	return out.Contents, out.NextContinuationToken, nil
}

// errTruncatedListing: a listing page says more follow but not where from.
// Ending the listing there would pass a partial inventory off as complete.
var errTruncatedListing = errors.New("the server answered a truncated listing page without the token or marker of the next page: the listing would be incomplete")

// nextMarker returns where a truncated ListObjects (v1) page continues: its
// NextMarker, else, as S3 specifies, the last key or common prefix of the
// page, whichever sorts last. nil (with no entries to continue from) makes
// List fail.
func nextMarker(out *s3.ListObjectsOutput) *string {
	if m := aws.ToString(out.NextMarker); m != "" {
		return &m
	}
	var last string
	if n := len(out.Contents); n > 0 {
		last = aws.ToString(out.Contents[n-1].Key)
	}
	if n := len(out.CommonPrefixes); n > 0 {
		last = max(last, aws.ToString(out.CommonPrefixes[n-1].Prefix))
	}
	if last == "" {
		return nil
	}
	return &last
}

// fileInfo is the FileInfo of a listing entry. A key outside the prefix
// (a server that ignored it) is no object of the destination: its Name is
// "", which listings skip as they skip the folder marker.
func (d *Destination) fileInfo(o types.Object) FileInfo {
	name, ok := strings.CutPrefix(aws.ToString(o.Key), d.prefix)
	if !ok {
		name = ""
	}
	fi := FileInfo{
		Name:    name,
		Size:    aws.ToInt64(o.Size),
		ModTime: aws.ToTime(o.LastModified),
		ETag:    strings.Trim(aws.ToString(o.ETag), `"`),
	}
	d.apply(&fi, listState(o))
	return fi
}

func storageClass(s string) string {
	if s == "" {
		return "STANDARD"
	}
	return s
}

// headObject is a HEAD that asks for the object's checksum. Some servers
// (B2) refuse x-amz-checksum-mode, and a HEAD answer has no body to say so:
// a 400 or 501 is asked once more without it, and a different answer then
// means the mode was refused: it is not asked for again.
func (d *Destination) headObject(ctx context.Context, c *s3.Client, key string) (*s3.HeadObjectOutput, error) {
	return d.headVersion(ctx, c, key, nil)
}

// headVersion is headObject of one version (nil: the current one).
func (d *Destination) headVersion(ctx context.Context, c *s3.Client, key string, version *string) (*s3.HeadObjectOutput, error) {
	in := &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key, VersionId: version}
	d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	if d.noChecksumMode.Load() {
		return d.headObjectCall(ctx, c, in)
	}
	in.ChecksumMode = types.ChecksumModeEnabled
	out, err := d.headObjectCall(ctx, c, in)
	if refusesChecksumMode(err) {
		in.ChecksumMode = ""
		if out, err = d.headObjectCall(ctx, c, in); !refusesChecksumMode(err) {
			d.noChecksumMode.Store(true)
		}
	}
	return out, err
}

// head is one headObject with do's recovery and the short timeout.
func (d *Destination) head(ctx context.Context, op, key string) (*s3.HeadObjectOutput, error) {
	var head *s3.HeadObjectOutput
	err := d.do(ctx, op, key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		var err error
		head, err = d.headObject(ctx, c, key)
		return err
	})
	return head, err
}

// refusesChecksumMode reports an answer that may refuse x-amz-checksum-mode:
// InvalidArgument or NotImplemented, or a bare 400 (a HEAD answer has no
// body, and the SDK names its status).
func refusesChecksumMode(err error) bool {
	code, _ := errorCode(err)
	return code == "InvalidArgument" || code == "NotImplemented" || code == "BadRequest"
}

// isRangeError reports a 416 InvalidRange: the object exists (it is empty).
func isRangeError(err error) bool {
	code, status := errorCode(err)
	return status == http.StatusRequestedRangeNotSatisfiable || code == "InvalidRange"
}

// Stat returns the object's FileInfo from one HEAD request. A HEAD answer
// has no body, so a missing bucket reads as ErrObjectNotFound here; Test
// tells the two apart. A bare 404 is asked again with a one-byte GET,
// whose answer has a code: an unknown access key is ErrAccessDenied, not
// "not found".
func (d *Destination) Stat(ctx context.Context, name string) (FileInfo, error) {
	key, err := validateName("stat", d.bucket, d.prefix, name)
	if err != nil {
		return FileInfo{}, err
	}
	if d.viewing() {
		return d.statAt(ctx, name, key) // versions.go
	}
	var out *s3.HeadObjectOutput
	err = d.do(ctx, "stat", key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		out, err = d.headObject(ctx, c, key)
		if code, status := errorCode(err); status == http.StatusNotFound && (code == "" || code == "NotFound") {
			// A HEAD answer has no body, so no code: a bare 404 may be an
			// unknown access key (versitygw). One byte of a GET says.
			in := &s3.GetObjectInput{Bucket: &d.bucket, Key: &key, Range: aws.String("bytes=0-0")}
			d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
			got, gerr := d.getObjectCall(ctx, c, in)
			if gerr == nil {
				got.Body.Close() // created meanwhile: the HEAD's answer stands
			}
			if kind, _ := classify(gerr, false); gerr != nil && kind != ErrObjectNotFound && kind != ErrObjectArchived && !isRangeError(gerr) {
				return gerr
			}
		}
		return err
	})
	if err != nil {
		return FileInfo{}, err
	}
	return d.headInfo(name, out), nil
}

// headInfo is the FileInfo of a HEAD answer.
func (d *Destination) headInfo(name string, out *s3.HeadObjectOutput) FileInfo {
	fi := FileInfo{
		Name:     name,
		Size:     aws.ToInt64(out.ContentLength),
		ModTime:  aws.ToTime(out.LastModified),
		ETag:     strings.Trim(aws.ToString(out.ETag), `"`),
		Checksum: headChecksum(out),
		Metadata: userMetadata(out.Metadata),
	}
	s := archiveState{class: storageClass(string(out.StorageClass)), tierStatus: string(out.ArchiveStatus)}
	s.restoring, s.restoredUntil = parseRestoreHeader(aws.ToString(out.Restore))
	d.apply(&fi, s)
	return fi
}

// Delete removes the object. Deleting an object that does not exist succeeds.
func (d *Destination) Delete(ctx context.Context, name string) error {
	key, err := validateName("delete", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	if err := d.readOnly("delete", key); err != nil {
		return err
	}
	err = d.do(ctx, "delete", key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		_, err := d.deleteObjectCall(ctx, c, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key})
		return err
	})
	if errors.Is(err, ErrObjectNotFound) {
		return nil
	}
	return err
}

// userMetadata is the caller's part of an object's metadata: keys
// lower-case, without s3dest's own.
func userMetadata(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if k = strings.ToLower(k); strings.HasPrefix(k, "s3dest-") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}
