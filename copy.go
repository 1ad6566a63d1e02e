package s3dest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Rename moves an object: a server-side copy that keeps its storage class and
// metadata, then a delete of the original. An archived object is refused
// with ErrObjectArchived before anything is copied.
func (d *Destination) Rename(ctx context.Context, from, to string) error {
	src, err := validateName("rename", d.bucket, d.prefix, from)
	if err != nil {
		return err
	}
	dst, err := validateName("rename", d.bucket, d.prefix, to)
	if err != nil {
		return err
	}
	if err := d.readOnly("rename", src); err != nil {
		return err
	}
	if src == dst {
		// Copy then delete would delete the only copy.
		_, err := d.Stat(ctx, from)
		return err
	}
	fi, err := d.Stat(ctx, from)
	if err != nil {
		return err
	}
	if fi.Archived {
		return &Error{Op: "rename", Bucket: d.bucket, Key: src, kind: ErrObjectArchived,
			Err: fmt.Errorf("storage class %s", fi.StorageClass), Hint: hints[ErrObjectArchived]}
	}
	if fi.Size > d.cfg.limits.maxCopy {
		return d.renameLarge(ctx, from, src, dst, fi) // copy.go
	}
	in := &s3.CopyObjectInput{
		Bucket:            &d.bucket,
		Key:               &dst,
		CopySource:        aws.String(copySource(d.bucket, src)),
		MetadataDirective: types.MetadataDirectiveCopy,
	}
	if fi.ETag != "" {
		// The object Stat saw, or none: a source that is not it (replaced
		// meanwhile, or read by the server as another name) fails the copy
		// instead of being copied, and the source is then not deleted.
		in.CopySourceIfMatch = aws.String(`"` + fi.ETag + `"`)
	}
	if fi.StorageClass != "STANDARD" {
		in.StorageClass = types.StorageClass(fi.StorageClass)
	}
	// The copy is a new object: it gets the lock and the encryption an
	// upload would.
	in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	d.encryptNew(&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	d.withCustomerKey(&in.CopySourceSSECustomerAlgorithm, &in.CopySourceSSECustomerKey, &in.CopySourceSSECustomerKeyMD5)
	// No short timeout: a server-side copy of gigabytes takes minutes.
	err = d.do(ctx, "rename", src, NoTimeout, func(ctx context.Context, c *s3.Client) error {
		_, err := c.CopyObject(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	return d.Delete(ctx, from)
}

// copySource is the x-amz-copy-source value: bucket/key with every byte of
// the key percent-encoded but the unreserved characters and '/'. S3 decodes
// the header as a query string, '+' as a space: a key sent with its '+' as is
// would name another object.
func copySource(bucket, key string) string {
	return bucket + "/" + escapePath(key)
}

// renameLarge renames an object too large for CopyObject: a multipart copy
// (UploadPartCopy, concurrently) that keeps its storage class, content type
// and metadata, then a delete of the original. When the source has a
// full-object CRC32C, the copy is created with one and completed with the
// source's value, so the server checks that the copy assembled the same
// bytes. Part copies name the source's ETag: a source overwritten during the
// copy fails it instead of mixing versions.
func (d *Destination) renameLarge(ctx context.Context, from, src, dst string, fi FileInfo) error {
	head, err := d.head(ctx, "rename", src)
	if err != nil {
		return err
	}
	for {
		err := d.copyOnce(ctx, src, dst, fi, head)
		if !errors.Is(err, errBogusPartSums) || d.copyNoSums.Swap(true) {
			if err != nil {
				return err
			}
			return d.Delete(ctx, from)
		}
		// versitygw (v1.8.0) answers each UploadPartCopy with the source's
		// whole-object CRC32C: the checksum it would assemble from them
		// would fail. Its copies go without checksums.
		d.log.Warn("s3dest: the server answers wrong part checksums for multipart copies; copying without checksums", "key", dst)
	}
}

// errBogusPartSums: every part of a multipart copy came back with the
// source's whole-object checksum.
var errBogusPartSums = errors.New("the server answered the whole object's CRC32C for every part of the copy")

// copyOnce makes the multipart copy of src to dst, in the strongest checksum
// mode the source and the server allow.
func (d *Destination) copyOnce(ctx context.Context, src, dst string, fi FileInfo, head *s3.HeadObjectOutput) error {
	meta := maps.Clone(head.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[partsMeta] = d.layoutMeta(d.copyPartSize(aws.ToInt64(head.ContentLength)), 0, true)
	putID := newPutID() // the copy's own, not the source's
	meta[putIDMeta] = putID
	in := &s3.CreateMultipartUploadInput{
		Bucket: &d.bucket, Key: &dst, Metadata: meta, ContentType: head.ContentType,
		ContentEncoding: head.ContentEncoding, ContentDisposition: head.ContentDisposition,
		ContentLanguage: head.ContentLanguage, CacheControl: head.CacheControl,
	}
	if fi.StorageClass != "STANDARD" {
		in.StorageClass = types.StorageClass(fi.StorageClass)
	}
	in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	d.encryptNew(&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	m := &mpu{d: d, op: "rename", key: dst, putID: putID}
	strongest := sumComposite
	if sum := aws.ToString(head.ChecksumCRC32C); sum != "" && !strings.Contains(sum, "-") {
		// The server checks that the copy assembled the source's bytes.
		m.full, strongest = sum, sumFull
	}
	if d.copyNoSums.Load() {
		m.full, strongest = "", sumNone
	}
	if err := m.create(ctx, in, strongest); err != nil {
		return err
	}
	// Size, ETag and checksum all from the one HEAD: the part copies
	// name its ETag, so a source replaced since fails them all.
	size := aws.ToInt64(head.ContentLength)
	if err := d.copyParts(ctx, m, src, head.ETag, size); err != nil {
		m.abort(ctx)
		return d.wrap("rename", src, err)
	}
	if m.bogusCopySums() {
		m.abort(ctx)
		return d.wrap("rename", src, errBogusPartSums)
	}
	return m.complete(ctx, size)
}

// copyParts copies the source into the upload's parts, concurrently; the
// first failure cancels the others.
func (d *Destination) copyParts(ctx context.Context, m *mpu, src string, etag *string, size int64) error {
	partSize := d.copyPartSize(size)
	n := int((size + partSize - 1) / partSize)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.concurrency())
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			part := int32(i + 1)
			start := int64(i) * partSize
			end := min(start+partSize, size)
			in := &s3.UploadPartCopyInput{
				Bucket: &d.bucket, Key: &m.key, UploadId: &m.id, PartNumber: aws.Int32(part),
				CopySource:        aws.String(copySource(d.bucket, src)),
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", start, end-1)),
				CopySourceIfMatch: etag,
			}
			d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
			d.withCustomerKey(&in.CopySourceSSECustomerAlgorithm, &in.CopySourceSSECustomerKey, &in.CopySourceSSECustomerKeyMD5)
			err := d.do(gctx, "rename", m.key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
				out, err := c.UploadPartCopy(ctx, in)
				if err == nil && out.CopyPartResult == nil {
					err = errors.New("the server answered no CopyPartResult")
				}
				if err != nil {
					return err
				}
				r := out.CopyPartResult
				m.addPart(part, r.ETag, decodeCRC(aws.ToString(r.ChecksumCRC32C)), end-start)
				return nil
			})
			if err != nil {
				return partError(part, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return context.Cause(ctx) // the caller's, when it ended before all parts started
}

// decodeCRC reads a base64 CRC32C; nil when there is none.
func decodeCRC(s string) *uint32 {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 4 {
		return nil
	}
	v := binary.BigEndian.Uint32(raw)
	return &v
}

// copyPartSize is the part size of a multipart copy of size bytes.
func (d *Destination) copyPartSize(size int64) int64 {
	return max(d.cfg.limits.copyPart, (size+maxParts-1)/maxParts)
}

// bogusCopySums reports whether every part of a multipart copy of more than
// one part came back with the source's whole-object CRC32C.
func (m *mpu) bogusCopySums() bool {
	full := decodeCRC(m.full)
	if full == nil || m.sums == sumNone || len(m.crcs) < 2 {
		return false
	}
	for i, c := range m.crcs {
		if !m.known[i] || c != *full {
			return false
		}
	}
	return true
}
