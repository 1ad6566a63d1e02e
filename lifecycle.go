package s3dest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The cold-storage rule (Duplicati's documentation: keep the backup in S3
// and let a lifecycle rule move the data files to Glacier): one rule of the
// bucket's lifecycle configuration, scoped to the destination's prefix,
// that moves objects to an archive class some days after their upload.
// s3dest finds its rule again by its ID and leaves every other rule of the
// bucket as it found it. See the package doc, "Archive rule".

const (
	opSetArchiveAfter = "set-archive-after"
	opArchiveAfter    = "archive-after"

	// maxArchiveDays bounds the days of the rule: a hundred years.
	maxArchiveDays = 36500
	// archiveRuleID starts the ID of s3dest's rules; the filter prefix
	// follows it, or its SHA-256 when the ID would pass S3's 255
	// characters.
	archiveRuleID = "s3dest-archive-after:"
	maxRuleID     = 255
)

// SetArchiveAfter sets the bucket's lifecycle rule that moves the objects
// under the destination's prefix to class, the given number of days after
// their upload (a transition, as S3 calls it); days 0 removes the rule,
// whatever the class. The class is passed through as given: S3 knows
// GLACIER, DEEP_ARCHIVE, GLACIER_IR, STANDARD_IA, ONEZONE_IA and
// INTELLIGENT_TIERING, in upper case. To archive at once, upload in the
// class instead (WithStorageClass, WithStorageClassFunc).
//
// The rule's ID is "s3dest-archive-after:" and the prefix (its SHA-256
// where that would pass S3's 255 characters), so that s3dest finds it
// again; the bucket's other rules, those of other prefixes and of other
// tools, are read and written back as they were, and so is the bucket's
// minimum object size for transitions. Removing the last
// rule deletes the bucket's lifecycle configuration, as S3 has no empty
// one. A rule that is already as asked costs one read and no write.
//
// Input is checked before any request: days from 0 to 36500, and a class
// of printable ASCII (ErrInvalid). A server without lifecycle rules, or
// without transitions, answers NotImplemented: ErrNotSupported. S3 itself
// refuses fewer than 30 days for STANDARD_IA and ONEZONE_IA (ErrInvalid,
// with a hint). The write carries Content-MD5 and the SDK's CRC32, as S3
// requires (Content-MD5 alone where a server refuses the CRC32). S3 has
// no conditional write of a lifecycle configuration: a change another
// client makes between s3dest's read and write is lost.
func (d *Destination) SetArchiveAfter(ctx context.Context, days int, class string) error {
	return d.setArchiveAfter(ctx, "", days, class)
}

// ArchiveAfter returns the days and the storage class of the rule
// SetArchiveAfter sets, or 0 and "" when there is none: no rule of
// s3dest's for this prefix, a disabled one, or no lifecycle configuration
// at all. A server without lifecycle rules answers NotImplemented:
// ErrNotSupported.
func (d *Destination) ArchiveAfter(ctx context.Context) (days int, class string, err error) {
	return d.archiveAfter(ctx, "")
}

// SetArchiveAfterPrefix is SetArchiveAfter for the objects whose names
// start with namePrefix (relative to the destination's prefix), such as
// "duplicati-b": Duplicati's documentation moves only the dblock files,
// which hold the data, and keeps the dindex and dlist files readable.
// Each name prefix has a rule of its own; "" is SetArchiveAfter's.
func (d *Destination) SetArchiveAfterPrefix(ctx context.Context, namePrefix string, days int, class string) error {
	return d.setArchiveAfter(ctx, namePrefix, days, class)
}

// ArchiveAfterPrefix returns the rule SetArchiveAfterPrefix sets for
// namePrefix, as ArchiveAfter does.
func (d *Destination) ArchiveAfterPrefix(ctx context.Context, namePrefix string) (days int, class string, err error) {
	return d.archiveAfter(ctx, namePrefix)
}

func (d *Destination) setArchiveAfter(ctx context.Context, namePrefix string, days int, class string) error {
	if err := d.readOnly(opSetArchiveAfter, ""); err != nil {
		return err
	}
	filter, err := d.rulePrefix(opSetArchiveAfter, namePrefix)
	if err != nil {
		return err
	}
	if days < 0 || days > maxArchiveDays {
		return invalid(opSetArchiveAfter, d.bucket, "", "archive after %d days: give 1 to %d days (0 removes the rule)", days, maxArchiveDays)
	}
	if days > 0 && class == "" {
		return invalid(opSetArchiveAfter, d.bucket, "", "no storage class: give the class objects move to, such as GLACIER or DEEP_ARCHIVE")
	}
	if err := checkHeaderValue("storage class", class); days > 0 && err != nil {
		return invalid(opSetArchiveAfter, d.bucket, "", "%v", err)
	}
	id := ruleID(filter)
	return d.do(ctx, opSetArchiveAfter, "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		cur, err := d.lifecycle(ctx, c)
		if err != nil {
			return err
		}
		rules := slices.Clone(cur.Rules)
		i := slices.IndexFunc(rules, func(r types.LifecycleRule) bool { return aws.ToString(r.ID) == id })
		switch {
		case days == 0 && i < 0:
			return nil // no rule to remove
		case days == 0:
			rules = slices.Delete(rules, i, i+1)
		case i >= 0 && isArchiveRule(rules[i], filter, days, class):
			return nil // as asked already
		case i >= 0:
			rules[i] = archiveRule(id, filter, days, class, legacyStyle(rules, i))
		default:
			rules = append(rules, archiveRule(id, filter, days, class, legacyStyle(rules, -1)))
		}
		if len(rules) == 0 {
			_, err := c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: &d.bucket})
			return err
		}
		in := &s3.PutBucketLifecycleConfigurationInput{
			Bucket:                             &d.bucket,
			LifecycleConfiguration:             &types.BucketLifecycleConfiguration{Rules: rules},
			TransitionDefaultMinimumObjectSize: cur.TransitionDefaultMinimumObjectSize,
		}
		err = d.withBodySums(true, func(sums func(*s3.Options)) error {
			_, err := c.PutBucketLifecycleConfiguration(ctx, in, sums)
			return err
		})
		if code, _ := errorCode(err); code == "BucketAlreadyExists" || code == "BucketAlreadyOwnedByYou" {
			// A server that takes PUT ?lifecycle for a CreateBucket
			// (gofakes3, which some servers are built on) has no
			// lifecycle rules: the bucket is no one else's.
			return &Error{Op: opSetArchiveAfter, Bucket: d.bucket, Code: code, Err: err, kind: ErrNotSupported,
				Hint: d.lifecycleHint(opSetArchiveAfter, ErrNotSupported, code), secret: d.scrub}
		}
		return err
	})
}

func (d *Destination) archiveAfter(ctx context.Context, namePrefix string) (days int, class string, err error) {
	filter, err := d.rulePrefix(opArchiveAfter, namePrefix)
	if err != nil {
		return 0, "", err
	}
	id := ruleID(filter)
	err = d.do(ctx, opArchiveAfter, "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		days, class = 0, ""
		cur, err := d.lifecycle(ctx, c)
		if err != nil {
			return err
		}
		for _, r := range cur.Rules {
			if aws.ToString(r.ID) != id || r.Status != types.ExpirationStatusEnabled {
				continue
			}
			for _, t := range r.Transitions {
				if t.Days != nil {
					days, class = int(*t.Days), string(t.StorageClass)
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	return days, class, nil
}

// lifecycle reads the bucket's lifecycle configuration. A bucket without
// one answers 404 NoSuchLifecycleConfiguration: no rules.
func (d *Destination) lifecycle(ctx context.Context, c *s3.Client) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	out, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &d.bucket})
	if code, _ := errorCode(err); code == "NoSuchLifecycleConfiguration" {
		return &s3.GetBucketLifecycleConfigurationOutput{}, nil
	}
	return out, err
}

// rulePrefix is the key prefix a rule for namePrefix filters on.
func (d *Destination) rulePrefix(op, namePrefix string) (string, error) {
	if err := checkKeyText(namePrefix); err != nil {
		return "", invalid(op, d.bucket, "", "name prefix %q %v", truncate(namePrefix, 70), err)
	}
	if strings.HasPrefix(namePrefix, "/") {
		return "", invalid(op, d.bucket, "", "name prefix %q starts with '/': names are relative to the prefix", truncate(namePrefix, 70))
	}
	p := d.prefix + namePrefix
	if len(p) > 1024 {
		return "", invalid(op, d.bucket, "", "the rule's key prefix is %d bytes long: S3 keys have at most 1024", len(p))
	}
	return p, nil
}

// ruleID is the ID of s3dest's rule for a key prefix: readable where it
// fits in S3's 255 characters, else the prefix's SHA-256.
func ruleID(prefix string) string {
	if id := archiveRuleID + prefix; len(id) <= maxRuleID {
		return id
	}
	sum := sha256.Sum256([]byte(prefix))
	return archiveRuleID + "sha256:" + hex.EncodeToString(sum[:])
}

// archiveRule is s3dest's rule: enabled, for the prefix, one transition.
// legacy writes the prefix as the rule's own Prefix element, the style of
// lifecycle configurations older than Filter, when the bucket's other
// rules are written so.
func archiveRule(id, prefix string, days int, class string, legacy bool) types.LifecycleRule {
	r := types.LifecycleRule{
		ID:          aws.String(id),
		Status:      types.ExpirationStatusEnabled,
		Transitions: []types.Transition{{Days: aws.Int32(int32(days)), StorageClass: types.TransitionStorageClass(class)}},
	}
	if legacy {
		r.Prefix = aws.String(prefix)
	} else {
		r.Filter = &types.LifecycleRuleFilter{Prefix: aws.String(prefix)}
	}
	return r
}

// isArchiveRule reports whether r is the rule archiveRule would write, in
// either style.
func isArchiveRule(r types.LifecycleRule, prefix string, days int, class string) bool {
	f := r.Filter
	scoped := f == nil && aws.ToString(r.Prefix) == prefix ||
		f != nil && r.Prefix == nil && f.And == nil && f.Tag == nil && f.ObjectSizeGreaterThan == nil &&
			f.ObjectSizeLessThan == nil && aws.ToString(f.Prefix) == prefix
	onlyTransition := r.Expiration == nil && r.NoncurrentVersionExpiration == nil &&
		len(r.NoncurrentVersionTransitions) == 0 && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 1 && r.Transitions[0].Date == nil && aws.ToInt32(r.Transitions[0].Days) == int32(days) &&
		r.Transitions[0].Days != nil && string(r.Transitions[0].StorageClass) == class
	return scoped && onlyTransition && r.Status == types.ExpirationStatusEnabled
}

// legacyStyle reports whether the rules other than rules[skip] are written
// in the old style, with a Prefix and no Filter.
func legacyStyle(rules []types.LifecycleRule, skip int) bool {
	for i, r := range rules {
		if i != skip && r.Filter == nil && r.Prefix != nil {
			return true
		}
	}
	return false
}

// lifecycleHint explains the refusals of the archive rule's requests.
func (d *Destination) lifecycleHint(op string, kind error, code string) string {
	if op != opSetArchiveAfter && op != opArchiveAfter {
		return ""
	}
	switch {
	case kind == ErrNotSupported:
		return "the server has no lifecycle rules that move objects to another storage class: " +
			"upload in the archive class instead (s3-storage-class, WithStorageClass or WithStorageClassFunc), " +
			"or set the rule with the provider's own tools"
	case kind == ErrAccessDenied:
		return "reading and changing lifecycle rules needs the bucket permissions s3:GetLifecycleConfiguration " +
			"and s3:PutLifecycleConfiguration, which keys made for backups often lack"
	case op == opSetArchiveAfter && kind == ErrInvalid && code != "":
		return "the server refused the rule: give a storage class it can move objects to (on AWS, in upper case: " +
			"GLACIER, DEEP_ARCHIVE, GLACIER_IR, STANDARD_IA, ONEZONE_IA or INTELLIGENT_TIERING); " +
			"AWS moves objects to STANDARD_IA and ONEZONE_IA only after 30 days or more"
	}
	return ""
}
