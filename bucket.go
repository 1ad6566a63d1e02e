package s3dest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const opCreateBucket = "create-bucket"

// CreateBucket creates the bucket in the destination's region (no
// LocationConstraint for us-east-1). A bucket that already exists and is
// yours is success; one owned by another account is ErrBucketNameTaken.
func (d *Destination) CreateBucket(ctx context.Context) error {
	if err := d.readOnly(opCreateBucket, ""); err != nil {
		return err
	}
	in := &s3.CreateBucketInput{Bucket: &d.bucket}
	lc := firstNonEmpty(d.plan.lc, d.plan.region)
	if lc != "" && lc != defaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(lc),
		}
	}
	err := d.do(ctx, opCreateBucket, "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		_, err := c.CreateBucket(ctx, in)
		return err
	})
	if err == nil {
		d.log.Info("s3dest: created bucket", "bucket", d.bucket, "region", firstNonEmpty(lc, defaultRegion))
		return nil
	}
	code, _ := errorCode(err)
	if code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if code == "BucketAlreadyExists" {
		// Some servers (older MinIO) answer this to the owner too: a
		// bucket we can HEAD is ours to use.
		herr := d.do(ctx, opCreateBucket, "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &d.bucket})
			return err
		})
		if herr == nil {
			return nil
		}
	}
	return err
}

// Test checks that the bucket exists and can be listed, with one request in
// the listing API the destination uses (s3-list-api-version).
func (d *Destination) Test(ctx context.Context) error {
	return d.do(ctx, "test", "", d.cfg.timeouts.List, func(ctx context.Context, c *s3.Client) error {
		var err error
		if d.cfg.listV1 {
			_, err = c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &d.bucket, Prefix: &d.prefix, MaxKeys: aws.Int32(1)})
		} else {
			_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: &d.prefix, MaxKeys: aws.Int32(1)})
		}
		return err
	})
}

// TestWrite checks that the destination can be written, read back and
// deleted: it puts a small random probe object, reads and compares it, and
// deletes it. The probe goes up in the server's default class and unlocked,
// whatever the storage class and lock options say: an archived probe could
// not be read back (and would bill the class's minimum duration), a locked
// one could not be deleted.
func (d *Destination) TestWrite(ctx context.Context) error {
	if err := d.readOnly("test-write", ""); err != nil {
		return err
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	name := ".s3dest-probe-" + hex.EncodeToString(id[:])
	data := make([]byte, 1024)
	_, _ = rand.Read(data)
	body := bytes.NewReader(data)
	if err := d.put(ctx, &putReq{key: d.prefix + name, name: name}, body, body.Size(), io.NewSectionReader(body, 0, body.Size())); err != nil {
		return err
	}
	var got bytes.Buffer
	err := d.Get(ctx, name, &got)
	if err == nil && !bytes.Equal(got.Bytes(), data) {
		err = d.wrap("test-write", d.prefix+name, fmt.Errorf("read back %d bytes that differ from the %d written", got.Len(), len(data)))
	}
	if derr := d.Delete(ctx, name); err == nil {
		err = derr
	}
	return err
}
