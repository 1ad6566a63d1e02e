package s3dest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// maxDeleteBatch is the most keys one DeleteObjects request takes.
const maxDeleteBatch = 1000

// DeleteMany removes the named objects, in DeleteObjects requests of up to
// 1,000 names; names that do not exist count as deleted. Invalid names fail
// the call before any request.
//
// It returns nil when every object is gone. Otherwise the error joins (see
// errors.Join) one *Error per name that could not be deleted, its Key the
// object's and its Code the server's, so errors.Is(err, ErrAccessDenied)
// tells whether any failed for that reason and errors.As reaches each. A
// request that fails as a whole ends DeleteMany: its *Error, with no Key, is
// joined as well, and later names are not attempted. A server that wants
// Content-MD5 on DeleteObjects (MissingContentMD5) or refuses the SDK's
// checksum header gets Content-MD5 instead; one that has no DeleteObjects
// (NotImplemented), or answers it with no DeleteResult (which says nothing
// of what it deleted), gets one DeleteObject per name.
func (d *Destination) DeleteMany(ctx context.Context, names []string) error {
	keys := make([]string, len(names))
	var errs []error
	for i, name := range names {
		key, err := validateName("delete", d.bucket, d.prefix, name)
		if err != nil {
			errs = append(errs, err)
		}
		keys[i] = key
	}
	if errs != nil {
		return errors.Join(errs...)
	}
	if err := d.readOnly("delete-many", ""); err != nil {
		return err
	}
	for start := 0; start < len(keys); start += maxDeleteBatch {
		failed, err := d.deleteBatch(ctx, keys[start:min(start+maxDeleteBatch, len(keys))])
		errs = append(errs, failed...)
		if err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// deleteBatch deletes up to 1,000 keys; failed holds one *Error per key the
// server could not delete, err the failure of the whole request.
func (d *Destination) deleteBatch(ctx context.Context, keys []string) (failed []error, err error) {
	objs := make([]types.ObjectIdentifier, len(keys))
	for i := range keys {
		objs[i].Key = &keys[i]
	}
	var out *s3.DeleteObjectsOutput
	err = d.do(ctx, "delete-many", "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		return d.withBodySums(false, func(sums func(*s3.Options)) error {
			// Quiet: the answer names only the keys not deleted, so it
			// must be a DeleteResult to say that the others were.
			var doc docOrder
			var err error
			out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &d.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}},
				sums, doc.record)
			if err == nil && doc.root() != "DeleteResult" {
				err = errNoDeleteResult
			}
			return err
		})
	})
	if code, _ := errorCode(err); code == "NotImplemented" || code == "InvalidArgument" {
		// No DeleteObjects (GCS), even with Content-MD5: one DeleteObject
		// per key needs no body.
		return d.deleteEach(ctx, keys), nil
	}
	if errors.Is(err, errNoDeleteResult) {
		// Which keys it deleted is unknown: one DeleteObject per key says
		// (deleting a missing one is no error).
		d.log.Warn("s3dest: the server answered DeleteObjects with no DeleteResult; deleting one object at a time", "keys", len(keys))
		return d.deleteEach(ctx, keys), nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range out.Errors {
		code := aws.ToString(e.Code)
		if code == "NoSuchKey" {
			continue
		}
		failed = append(failed, d.wrap("delete", aws.ToString(e.Key), &smithy.GenericAPIError{Code: code, Message: aws.ToString(e.Message)}))
	}
	return failed, nil
}

// errNoDeleteResult: a DeleteObjects answer that is no DeleteResult (an
// empty body, another document) says nothing of which keys were deleted.
var errNoDeleteResult = errors.New("the server answered DeleteObjects with no DeleteResult: which objects it deleted is unknown")

// deleteEach deletes keys one request each, concurrently; it tries every
// key and returns one error per key that failed.
func (d *Destination) deleteEach(ctx context.Context, keys []string) []error {
	var mu sync.Mutex
	var failed []error
	var g errgroup.Group
	g.SetLimit(d.concurrency())
	for _, key := range keys {
		g.Go(func() error {
			err := d.do(ctx, "delete", key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
				_, err := d.deleteObjectCall(ctx, c, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key})
				return err
			})
			if err != nil && !errors.Is(err, ErrObjectNotFound) {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
			return nil // one failed key does not stop the others
		})
	}
	_ = g.Wait()
	return failed
}

// CleanupUploads aborts the multipart uploads under the prefix that started
// more than olderThan ago, such as those a crashed process left behind
// (their parts are stored, and billed, until then). It returns how many it
// aborted. Uploads in progress elsewhere are younger than a sensible
// olderThan (a day, say); an olderThan of 0 aborts them all.
func (d *Destination) CleanupUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	if err := d.readOnly("cleanup-uploads", ""); err != nil {
		return 0, err
	}
	cutoff := d.clock.Now().Add(-olderThan)
	var keyMarker, idMarker *string
	aborted := 0
	for {
		var out *s3.ListMultipartUploadsOutput
		err := d.do(ctx, "cleanup-uploads", "", d.cfg.timeouts.List, func(ctx context.Context, c *s3.Client) error {
			var err error
			out, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
				Bucket: &d.bucket, Prefix: &d.prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker})
			return err
		})
		if err != nil {
			return aborted, err
		}
		for _, up := range out.Uploads {
			if up.Initiated != nil && up.Initiated.After(cutoff) {
				continue
			}
			err := d.do(ctx, "cleanup-uploads", aws.ToString(up.Key), d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
				_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: up.Key, UploadId: up.UploadId})
				return err
			})
			if code, _ := errorCode(err); code == "NoSuchUpload" || errors.Is(err, ErrObjectNotFound) {
				continue // finished or aborted meanwhile
			}
			if err != nil {
				return aborted, err
			}
			aborted++
			d.log.Info("s3dest: aborted a stale multipart upload", "key", aws.ToString(up.Key), "initiated", aws.ToTime(up.Initiated))
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		if aws.ToString(out.NextKeyMarker) == "" && aws.ToString(out.NextUploadIdMarker) == "" {
			return aborted, d.wrap("cleanup-uploads", "", errTruncatedListing)
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
