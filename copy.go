package s3dest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// renameLarge renames an object too large for CopyObject: a multipart copy
// (UploadPartCopy, concurrently) that keeps its storage class, content type
// and metadata, then a delete of the original. When the source has a
// full-object CRC32C, the copy is created with one and completed with the
// source's value, so the server checks that the copy assembled the same
// bytes. Part copies name the source's ETag: a source overwritten during the
// copy fails it instead of mixing versions.
func (d *Destination) renameLarge(ctx context.Context, from, src, dst string, fi FileInfo) error {
	var head *s3.HeadObjectOutput
	err := d.do(ctx, "rename", src, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		var err error
		head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &src, ChecksumMode: types.ChecksumModeEnabled})
		return err
	})
	if err != nil {
		return err
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket: &d.bucket, Key: &dst, Metadata: head.Metadata, ContentType: head.ContentType,
		ContentEncoding: head.ContentEncoding, ContentDisposition: head.ContentDisposition,
		ContentLanguage: head.ContentLanguage, CacheControl: head.CacheControl,
	}
	if fi.StorageClass != "STANDARD" {
		in.StorageClass = types.StorageClass(fi.StorageClass)
	}
	in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	sum := aws.ToString(head.ChecksumCRC32C)
	if sum != "" && !strings.Contains(sum, "-") {
		in.ChecksumAlgorithm, in.ChecksumType = types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject
	} else {
		sum = ""
	}
	var created *s3.CreateMultipartUploadOutput
	err = d.do(ctx, "rename", dst, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		var err error
		created, err = c.CreateMultipartUpload(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	u := &upload{d: d, key: dst, id: aws.ToString(created.UploadId)}
	parts, err := d.copyParts(ctx, u, src, head.ETag, fi.Size)
	if err != nil {
		u.abort(ctx)
		return d.wrap("rename", src, err)
	}
	done := &s3.CompleteMultipartUploadInput{
		Bucket: &d.bucket, Key: &dst, UploadId: &u.id, MpuObjectSize: aws.Int64(fi.Size),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	if sum != "" {
		done.ChecksumCRC32C, done.ChecksumType = aws.String(sum), types.ChecksumTypeFullObject
	}
	err = d.do(ctx, "rename", dst, 0, func(ctx context.Context, c *s3.Client) error {
		_, err := c.CompleteMultipartUpload(ctx, done)
		return err
	})
	if err != nil {
		u.abort(ctx)
		return err
	}
	return d.Delete(ctx, from)
}

// copyParts copies the source into the upload's parts, concurrently.
func (d *Destination) copyParts(ctx context.Context, u *upload, src string, etag *string, size int64) ([]types.CompletedPart, error) {
	partSize := max(d.cfg.limits.copyPart, (size+maxParts-1)/maxParts)
	parts := make([]types.CompletedPart, (size+partSize-1)/partSize)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sem := make(chan struct{}, d.concurrency())
	for i := range parts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n := int32(i + 1)
			start := int64(i) * partSize
			in := &s3.UploadPartCopyInput{
				Bucket: &d.bucket, Key: &u.key, UploadId: &u.id, PartNumber: aws.Int32(n),
				CopySource:        aws.String(copySource(d.bucket, src)),
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", start, min(start+partSize, size)-1)),
				CopySourceIfMatch: etag,
			}
			err := d.do(ctx, "rename", u.key, 0, func(ctx context.Context, c *s3.Client) error {
				out, err := c.UploadPartCopy(ctx, in)
				if err == nil && out.CopyPartResult == nil {
					err = errors.New("the server answered no CopyPartResult")
				}
				if err == nil {
					r := out.CopyPartResult
					parts[i] = types.CompletedPart{PartNumber: aws.Int32(n), ETag: r.ETag, ChecksumCRC32C: r.ChecksumCRC32C}
				}
				return err
			})
			if err != nil {
				once.Do(func() { first = partError(n, err) })
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return parts, nil
}
