package s3dest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object lock (S3's WORM retention; Duplicati's remote file locking): an
// object whose retention date lies ahead cannot be deleted or overwritten
// until then, in GOVERNANCE mode except by principals allowed to bypass it,
// in COMPLIANCE mode by no one. The bucket must have object lock enabled.
// See the package doc, "Object lock".

const (
	opSetLock     = "set-lock"
	opLockedUntil = "locked-until"

	defaultLockMode = "GOVERNANCE"
	// maxLockDuration bounds remote-file-lock-duration, far beyond any
	// sensible retention, so that no spelling can overflow.
	maxLockDuration = 100 * 365 * 24 * time.Hour
)

// validateLock checks the lock options; validateConfig calls it.
func validateLock(c *config) error {
	if c.lockFor < 0 || c.lockFor > maxLockDuration {
		return fmt.Errorf("lock on upload for %v: give a duration from 1s to 100 years (0 for no lock)", c.lockFor)
	}
	return nil
}

// lockMode is the retention mode to send, upper case.
func (d *Destination) lockMode() string {
	if m, err := parseLockMode(d.cfg.lockMode); err == nil {
		return m
	}
	return defaultLockMode
}

// SetLock sets the object's retention: it cannot be deleted or overwritten
// before until, in the destination's lock mode (WithLockMode). Extending a
// lock always works; shortening one is refused (AccessDenied): s3dest never
// asks to bypass governance retention.
// A bucket without object lock answers InvalidRequest ("Bucket is missing
// Object Lock Configuration"): ErrInvalid, with a hint. The request carries
// Content-MD5 and the SDK's CRC32, as S3 requires (Content-MD5 alone where
// a server refuses the CRC32).
func (d *Destination) SetLock(ctx context.Context, name string, until time.Time) error {
	key, err := validateName(opSetLock, d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	if err := d.readOnly(opSetLock, key); err != nil {
		return err
	}
	if until.IsZero() {
		return invalid(opSetLock, d.bucket, key, "no retain-until time: give the time the lock ends")
	}
	in := &s3.PutObjectRetentionInput{
		Bucket: &d.bucket, Key: &key,
		Retention: &types.ObjectLockRetention{
			Mode:            types.ObjectLockRetentionMode(d.lockMode()),
			RetainUntilDate: aws.Time(until.UTC()),
		},
	}
	return d.do(ctx, opSetLock, key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		return d.withBodySums(true, func(sums func(*s3.Options)) error {
			_, err := c.PutObjectRetention(ctx, in, sums)
			return err
		})
	})
}

// LockedUntil returns the time until which the object is locked, or the
// zero time when it is not: no retention, or one that has expired. A
// missing object is ErrObjectNotFound.
func (d *Destination) LockedUntil(ctx context.Context, name string) (time.Time, error) {
	key, err := validateName(opLockedUntil, d.bucket, d.prefix, name)
	if err != nil {
		return time.Time{}, err
	}
	version, err := d.viewVersion(ctx, opLockedUntil, key) // nil outside a view
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	err = d.do(ctx, opLockedUntil, key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		out, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &d.bucket, Key: &key, VersionId: version})
		until = time.Time{}
		if code, _ := errorCode(err); code == "NoSuchObjectLockConfiguration" {
			return nil // an object in a lock bucket, without retention
		}
		if err != nil {
			return err
		}
		if r := out.Retention; r != nil && r.RetainUntilDate != nil {
			until = *r.RetainUntilDate
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	if !until.After(d.clock.Now()) {
		return time.Time{}, nil
	}
	return until, nil
}

// uploadLock returns the lock fields of an upload that starts now: none
// unless WithLockOnUpload asks for them.
func (d *Destination) uploadLock() (types.ObjectLockMode, *time.Time) {
	if d.cfg.lockFor <= 0 {
		return "", nil
	}
	return types.ObjectLockMode(d.lockMode()), aws.Time(d.clock.Now().Add(d.cfg.lockFor).UTC())
}

// lockPut adds the upload lock to a PutObject, with the Content-MD5 of its
// body: S3 requires Content-MD5 or a flexible checksum on object-lock
// uploads, and servers without flexible checksums the MD5.
func (d *Destination) lockPut(in *s3.PutObjectInput, lock bool, body func() io.ReadSeeker) error {
	if !lock {
		return nil
	}
	in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	sum, err := contentMD5(body())
	in.ContentMD5 = &sum
	return err
}

// lockRefused reports whether an upload that asked for a lock was refused
// for it (InvalidRequest: the bucket has no object lock), which is no reason
// to try weaker checksums.
func (d *Destination) lockRefused(err error) bool {
	code, _ := errorCode(err)
	return d.cfg.lockFor > 0 && code == "InvalidRequest"
}

// lockHint explains an InvalidRequest answer to a request that used object
// lock: almost always a bucket without it.
func (d *Destination) lockHint(op, code string) string {
	if code != "InvalidRequest" {
		return ""
	}
	switch {
	case op == opSetLock || op == opLockedUntil:
		return "object lock works only in a bucket created with object lock enabled (or versioned and given an object lock configuration)"
	case op == "put" && d.cfg.lockFor > 0:
		return "object lock works only in a bucket created with object lock enabled; " +
			"for another bucket leave remote-file-lock-duration (WithLockOnUpload) unset"
	}
	return ""
}

// parseLockDuration reads remote-file-lock-duration as Duplicati writes time
// spans: a number of seconds, a Go duration ("36h"), or numbers with units
// s, m, h, D (day), W (week), M (30 days) and Y (365 days), as in "30D" or
// "1Y6M". 0 means no lock.
func parseLockDuration(v string, dst *time.Duration) error {
	d, err := parseSpan(v, maxLockDuration)
	if err == nil {
		*dst = d
	}
	return err
}

// fmtLockDuration writes a lock duration so that parseLockDuration reads it
// back: whole days as "30D", else a Go duration.
func fmtLockDuration(d time.Duration) (string, bool) {
	switch {
	case d <= 0:
		return "", false
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "D", true
	}
	return d.String(), true
}
