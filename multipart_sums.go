package s3dest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// How a multipart upload is checked: the checksum mode it is created with,
// stepping down on servers that refuse one, and the full-object checksum it
// is completed with.

// sumMode is how a multipart upload is checked.
type sumMode int

const (
	sumFull      sumMode = iota // CRC32C parts and a FULL_OBJECT CRC32C (AWS, versitygw)
	sumComposite                // CRC32C parts, a checksum of checksums (R2's only CRC32C type)
	sumNone                     // Content-MD5 parts: no flexible checksums (B2)
)

// create starts the upload, asking for a full-object CRC32C. A server that
// refuses it gets a composite CRC32C upload, and one that refuses that too
// an upload without flexible checksums, with Content-MD5 on every part.
func (u *upload) create(ctx context.Context) error {
	d := u.d
	in := &s3.CreateMultipartUploadInput{
		Bucket: &d.bucket, Key: &u.key, ContentType: aws.String("application/octet-stream"),
	}
	in.StorageClass = u.class
	if u.lock {
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	}
	if u.lock || d.putSums.Load() != putCRC {
		// Lock buckets on servers without flexible checksums want
		// Content-MD5 on parts, as do servers that asked for it before.
		u.addMD5.Store(true)
	}
	// Start from the strongest mode this server took before: a refusal
	// costs one request per Destination, not one per upload.
	for u.sums = sumMode(d.multipartSums.Load()); ; u.sums++ {
		in.ChecksumAlgorithm, in.ChecksumType = types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject
		switch u.sums {
		case sumComposite:
			in.ChecksumType = ""
		case sumNone:
			in.ChecksumAlgorithm, in.ChecksumType = "", ""
		}
		var out *s3.CreateMultipartUploadOutput
		err := d.do(ctx, "put", u.key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
			var err error
			out, err = c.CreateMultipartUpload(ctx, in)
			return err
		})
		if err == nil {
			u.id = aws.ToString(out.UploadId)
			d.multipartSums.Store(int32(u.sums))
			return nil
		}
		if _, refused := checksumFallback(err); !refused || u.sums == sumNone || d.lockRefused(err) {
			return err
		}
		d.log.Info("s3dest: the server refused a multipart checksum mode; trying a weaker one", "key", u.key,
			"mode", []string{"full-object CRC32C", "composite CRC32C"}[u.sums], "error", err)
	}
}

// complete assembles the parts, giving the server the full-object CRC32C to
// check them against. A server that accepted a full-object upload but
// refuses to complete it so (some MinIO versions answer InvalidPart) gets
// one more try without the full-object checksum: each part was verified.
func (u *upload) complete(ctx context.Context, total int64) error {
	d := u.d
	full := u.crcs[0]
	for i := 1; i < len(u.crcs); i++ {
		full = crc32cCombine(full, u.crcs[i], u.sizes[i])
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket: &d.bucket, Key: &u.key, UploadId: &u.id, MpuObjectSize: aws.Int64(total),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	}
	if u.sums == sumFull {
		in.ChecksumCRC32C, in.ChecksumType = aws.String(crcBase64(full)), types.ChecksumTypeFullObject
	}
	var out *s3.CompleteMultipartUploadOutput
	send := func() error {
		return d.do(ctx, "put", u.key, 0, func(ctx context.Context, c *s3.Client) error {
			var err error
			out, err = c.CompleteMultipartUpload(ctx, in)
			return err
		})
	}
	err := send()
	if code, _ := errorCode(err); in.ChecksumType != "" && (code == "InvalidPart" || code == "InvalidArgument" ||
		code == "InvalidRequest" || code == "NotImplemented") {
		d.log.Info("s3dest: the server refused to complete with a full-object checksum; completing without", "key", u.key, "error", err)
		in.ChecksumCRC32C, in.ChecksumType = nil, ""
		if err = send(); err == nil {
			// Later uploads ask for composite checksums from the start.
			d.multipartSums.CompareAndSwap(int32(sumFull), int32(sumComposite))
		}
	}
	if err != nil {
		u.abort(ctx)
		return err
	}
	if got := aws.ToString(out.ChecksumCRC32C); got != "" && in.ChecksumCRC32C != nil && got != *in.ChecksumCRC32C {
		return d.discardCorrupt(ctx, "put", u.key, fmt.Errorf("the server assembled CRC32C %s, we sent %s", got, *in.ChecksumCRC32C))
	}
	return nil
}
